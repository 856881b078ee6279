// A WebSocket-shaped object over wx.connectSocket, the `realtime.transport` of supabase-js.
// Phoenix assigns onopen/onmessage/onerror/onclose after construction and reads readyState to
// decide whether it is connected, so the handlers are looked up when an event arrives and
// readyState follows the SocketTask's events.

export interface SocketCloseEvent {
  code: number;
  reason: string;
  wasClean: boolean;
}

/** WeChat accepts only 1000 and 3000–4999 in SocketTask.close. */
function allowedCloseCode(code: number | undefined): number {
  return code === 1000 || (code !== undefined && code >= 3000 && code <= 4999) ? code : 1000;
}

export class WxWebSocket {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;

  readyState = WxWebSocket.CONNECTING;
  /** Frames arrive as strings or ArrayBuffers from wx; there is no Blob to choose instead. */
  binaryType = 'arraybuffer';
  /** Nothing is buffered on this side: phoenix's drain wait reads a falsy value as "done". */
  readonly bufferedAmount = 0;
  readonly protocol = '';
  onopen: ((event: { type: 'open' }) => void) | null = null;
  onmessage: ((event: { type: 'message'; data: string | ArrayBuffer }) => void) | null = null;
  onerror: ((event: { type: 'error'; message: string }) => void) | null = null;
  onclose: ((event: SocketCloseEvent & { type: 'close' }) => void) | null = null;

  private readonly task: WechatMiniprogram.SocketTask;
  private closeRequested = false;

  constructor(
    readonly url: string,
    protocols?: string | string[],
  ) {
    this.task = wx.connectSocket({
      url,
      protocols: protocols === undefined ? undefined : ([] as string[]).concat(protocols),
      // A socket that cannot even be created (offline, too many sockets, bad domain) reports
      // only through `fail` on some clients; surface it as the error + close a browser gives.
      fail: (err) => {
        this.error(err.errMsg);
        this.closed({ code: 1006, reason: err.errMsg });
      },
    });
    this.task.onOpen(() => {
      if (this.readyState !== WxWebSocket.CONNECTING) return;
      this.readyState = WxWebSocket.OPEN;
      if (this.onopen) this.onopen({ type: 'open' });
    });
    this.task.onMessage((message) => {
      if (this.readyState !== WxWebSocket.CLOSED && this.onmessage) this.onmessage({ type: 'message', data: message.data });
    });
    this.task.onError((err) => this.error(err.errMsg));
    this.task.onClose((result) => this.closed(result));
  }

  send(data: string | ArrayBuffer): void {
    if (this.readyState !== WxWebSocket.OPEN) throw new Error(`WebSocket is not open (readyState ${this.readyState})`);
    this.task.send({ data, fail: (err) => this.error(err.errMsg) });
  }

  close(code?: number, reason?: string): void {
    if (this.readyState >= WxWebSocket.CLOSING) return;
    this.readyState = WxWebSocket.CLOSING;
    this.closeRequested = true;
    this.task.close({ code: allowedCloseCode(code), reason: reason ?? '' });
  }

  private error(message: string): void {
    if (this.readyState !== WxWebSocket.CLOSED && this.onerror) this.onerror({ type: 'error', message });
  }

  /** Emits close once, whichever of `fail` and onClose reports it (some clients send both). */
  private closed({ code, reason }: { code: number; reason: string }): void {
    if (this.readyState === WxWebSocket.CLOSED) return;
    this.readyState = WxWebSocket.CLOSED;
    if (this.onclose) this.onclose({ type: 'close', code, reason, wasClean: this.closeRequested && code === 1000 });
  }
}
