// A `wx` for Node, the only fake at the WeChat boundary: request, uploadFile and connectSocket go
// over real loopback HTTP and WebSocket, files are real files, storage is a map that can live in
// a JSON file (so an app "restart" finds what the last run stored). Behaviour follows WeChat's
// documentation: `success` for every HTTP status, `fail` with an errMsg such as
// "request:fail …", callbacks never synchronous, sockets closed with 1000 "interrupted" once the
// app is in the background, no network at all while offline. WeChat's privacy rules (base library
// ≥ 2.32.3) apply to the APIs WeChat guards: a call before the person agreed waits for the app's
// consent sheet, or fails with errno 104; an API missing from the privacy declaration fails with 112.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { types } from 'node:util';
import WebSocket from 'ws';
import { cropBitmap, decodePng, encodePng, readImageHeader, scaleBitmap } from './png';
import { multipart } from './multipart';

type Callback<R> = ((result: R) => void) | undefined;

/** What `fail` receives: errMsg always, errno where WeChat documents one (base library ≥ 2.24.0). */
interface Failure {
  errMsg: string;
  errno?: number;
}

interface CallbackOptions<R> {
  success?: Callback<R>;
  fail?: Callback<Failure>;
  complete?: Callback<R | Failure>;
}

export interface NodeWxOptions {
  /** Storage survives in this JSON file: a new NodeWx on the same file is the app restarted. */
  storageFile?: string;
  /** Where wx temp files (wxfile://tmp/…) live; a fresh directory by default. */
  tempDir?: string;
  /** Delay between the app going to the background and WeChat interrupting network (WeChat: 5 s). */
  interruptAfterMs?: number;
  /**
   * The WeChat account this phone is signed into: wx.login asks WeChat's server (local-supabase's
   * fake API at `apiBase`) for a code of the person `person`. Without it wx.login fails.
   */
  wechat?: { apiBase: string; person: string };
  /** WeChat's privacy rules for this phone; by default the person agreed long ago (PrivacyOptions). */
  privacy?: PrivacyOptions;
}

/**
 * The privacy state WeChat keeps per person and mini program
 * (developers.weixin.qq.com/miniprogram/dev/framework/user-privacy/PrivacyAuthorize.html).
 */
export interface PrivacyOptions {
  /** The person has agreed to the 隐私保护指引 (default true: the suites that came before privacy). */
  agreed?: boolean;
  /**
   * The APIs WeChat guards. Default: chooseMedia (选中的照片或视频信息) and setClipboardData (剪切板),
   * both in WeChat's list of privacy APIs. Add 'login' to play WeChat treating wx.login as one,
   * which no document read so far says it does.
   */
  guarded?: string[];
  /** APIs the mini program did not declare in its 用户隐私保护指引: they fail with errno 112. */
  undeclared?: string[];
  /** A base library before 2.32.3: the four privacy APIs do not exist. */
  unsupported?: boolean;
  /** wx.openPrivacyContract fails (WeChat documents a fail callback without naming its causes). */
  contractFails?: boolean;
}

/** errno values of WeChat's privacy failures (a staff answer: developers.weixin.qq.com/community/develop/doc/000eeafb418d88d523505d3556b400). */
export const PRIVACY_ERRNO = { notAuthorized: 104, notDeclared: 112 };
export const PRIVACY_CONTRACT_NAME = '《角色扮演聊天室小程序隐私保护指引》';
const DEFAULT_GUARDED = ['chooseMedia', 'setClipboardData'];

/** WeChat's network errors as its clients word them. */
export const ERR = {
  interrupted: 'interrupted',
  offline: 'net::ERR_INTERNET_DISCONNECTED',
  abort: 'abort',
  timeout: 'timeout',
};

const REQUEST_METHODS = ['OPTIONS', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'TRACE', 'CONNECT'];
const MAX_SOCKETS = 5;
/** WeChat limits one key to 1 MB and an app's storage to 10 MB (developers.weixin.qq.com/miniprogram/dev/api/storage/wx.setStorageSync.html). */
const MAX_STORAGE_ITEM = 1024 * 1024;
const MAX_STORAGE_TOTAL = 10 * 1024 * 1024;
const TEMP_PREFIX = 'wxfile://tmp/';
/** Saved files (FileSystemManager.saveFile): they outlive the launch, unlike temp files. */
const STORE_PREFIX = 'wxfile://store/';
const MIME_BY_EXTENSION: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
};
const UPLOAD_CHUNK = 16 * 1024;

/** Runs a wx callback the way WeChat does: later, never inside the call that started it. */
function later(run: () => void): void {
  setImmediate(run);
}

function succeed<R>(options: CallbackOptions<R>, result: R): void {
  later(() => {
    options.success?.(result);
    options.complete?.(result);
  });
}

function failWith(options: CallbackOptions<never>, errMsg: string, errno?: number): void {
  const failure: Failure = errno === undefined ? { errMsg } : { errMsg, errno };
  later(() => {
    options.fail?.(failure);
    options.complete?.(failure);
  });
}

function toBuffer(data: unknown): Buffer {
  // The caller may live in another realm (a vm context), where `instanceof ArrayBuffer` is false.
  if (types.isAnyArrayBuffer(data)) return Buffer.from(data as ArrayBuffer);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(String(data));
}

function toArrayBuffer(bytes: Buffer): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** Response headers with the server's own spelling, as WeChat hands them over. */
function rawHeaderRecord(raw: string[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) record[raw[i]] = record[raw[i]] === undefined ? raw[i + 1] : `${record[raw[i]]},${raw[i + 1]}`;
  return record;
}

interface Interruptible {
  /** Ends the transfer as WeChat does when the network goes away. */
  interrupt(reason: 'interrupted' | 'offline'): void;
}

export interface NodeWx {
  wx: WechatMiniprogram.Wx;
  /** Fires onAppHide; after `interruptAfterMs` requests fail and sockets close with "interrupted". */
  goBackground(): Promise<void>;
  /** Fires onAppShow; the network works again. */
  goForeground(): void;
  /** Offline: transfers in flight fail, new ones fail at once, sockets drop; fires onNetworkStatusChange. */
  setOffline(offline: boolean): void;
  /** What the user picks in the next chooseMedia (files are copied to temp paths); empty = cancel. */
  chooseNext(files: string[]): void;
  /** The person backs out of the next wx.cropImage instead of accepting its frame. */
  cancelNextCrop(): void;
  /** The storage map as stored (values as WeChat would return them). */
  storage(): Record<string, unknown>;
  /** Real path of a wx path (wxfile://tmp/… or a plain path). */
  realPath(wxPath: string): string;
  /** What the last successful setClipboardData put on the clipboard ('' before any). */
  clipboard(): string;
  privacy: PrivacyControls;
  openSockets(): number;
  /** Closes sockets and in-flight transfers and removes the temp directory. */
  close(): void;
}

/** What the app's listener answers WeChat with, and the listener itself (wx.onNeedPrivacyAuthorization). */
type PrivacyAnswer = { event?: string; buttonId?: string };
type PrivacyListener = (resolve: (answer: PrivacyAnswer) => void, info: { referrer: string }) => void;

export interface PrivacyControls {
  agreed(): boolean;
  /**
   * The person taps the app's `<button open-type="agreePrivacyAuthorization" id=…>`: WeChat records
   * the consent, and a later resolve({event: 'agree', buttonId}) naming this button goes through.
   */
  tapAgreeButton(buttonId: string): void;
  /** Guarded calls waiting for the app's answer. */
  pending(): string[];
  /** How often the app reported its sheet shown (resolve({event: 'exposureAuthorization'})). */
  exposures(): number;
  /** How often wx.openPrivacyContract opened WeChat's page of the 隐私保护指引. */
  contractsOpened(): number;
}

export function createNodeWx(options: NodeWxOptions = {}): NodeWx {
  const tempDir = options.tempDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'wx-node-'));
  const ownsTempDir = !options.tempDir;
  const interruptAfterMs = options.interruptAfterMs ?? 0;
  const store = new Map<string, string>();
  if (options.storageFile && fs.existsSync(options.storageFile)) {
    const saved = JSON.parse(fs.readFileSync(options.storageFile, 'utf8')) as Record<string, string>;
    for (const key of Object.keys(saved)) store.set(key, saved[key]);
  }
  const inFlight = new Set<Interruptible>();
  const sockets = new Set<Interruptible & { open(): boolean }>();
  const showListeners = new Set<(result: unknown) => void>();
  const hideListeners = new Set<(result: unknown) => void>();
  const networkListeners = new Set<(result: WechatMiniprogram.OnNetworkStatusChangeListenerResult) => void>();
  const chosen: string[][] = [];
  let cropCancels = 0;
  let offline = false;
  let interrupted = false;
  /** Settles the pending goBackground() when the interruption happens or the app returns first. */
  let backgroundSettled: (() => void) | null = null;
  let tempCounter = 0;
  let interruptTimer: NodeJS.Timeout | undefined;

  /** Why the network is unusable right now, or null. */
  const blocked = (): 'interrupted' | 'offline' | null => (offline ? 'offline' : interrupted ? 'interrupted' : null);
  const errorText = (reason: 'interrupted' | 'offline') => (reason === 'offline' ? ERR.offline : ERR.interrupted);

  const persist = () => {
    if (options.storageFile) fs.writeFileSync(options.storageFile, JSON.stringify(Object.fromEntries(store)));
  };

  const realPath = (wxPath: string) =>
    wxPath.startsWith(TEMP_PREFIX)
      ? path.join(tempDir, wxPath.slice(TEMP_PREFIX.length))
      : wxPath.startsWith(STORE_PREFIX)
        ? path.join(tempDir, `store_${wxPath.slice(STORE_PREFIX.length)}`)
        : wxPath;
  let savedCounter = 0;
  /** A relaunch on the same directory finds the files of earlier launches: never reuse their names. */
  const newSavedPath = (extension: string) => {
    let candidate: string;
    do candidate = `${STORE_PREFIX}saved_${++savedCounter}${extension}`;
    while (fs.existsSync(realPath(candidate)));
    return candidate;
  };

  const newTempPath = (extension: string) => `${TEMP_PREFIX}tmp_${++tempCounter}${extension}`;

  const interruptAll = (reason: 'interrupted' | 'offline') => {
    for (const transfer of [...inFlight, ...sockets]) transfer.interrupt(reason);
  };

  const privacyOptions = options.privacy ?? {};
  const guarded = privacyOptions.guarded ?? DEFAULT_GUARDED;
  const undeclared = privacyOptions.undeclared ?? [];
  let agreed = privacyOptions.agreed ?? true;
  const tappedButtons = new Set<string>();
  let privacyListener: PrivacyListener | null = null;
  const waiting: string[] = [];
  let exposures = 0;
  let contractsOpened = 0;

  /**
   * Runs a privacy API as WeChat does: undeclared → errno 112 at once; not agreed → the app's
   * listener gets a resolve and the call waits for its answer (agree with a tapped button's id
   * continues, disagree fails with 104); with no listener WeChat would show its own popup, which
   * here the person declines. Documented in wx.onNeedPrivacyAuthorization.md and PrivacyAuthorize.md
   * (developers.weixin.qq.com/miniprogram/dev/api/open-api/privacy/).
   */
  function guard(api: string, callbacks: CallbackOptions<never>, proceed: () => void): void {
    const denied = () => failWith(callbacks, `${api}:fail privacy permission is not authorized`, PRIVACY_ERRNO.notAuthorized);
    if (undeclared.indexOf(api) >= 0 && !privacyOptions.unsupported) {
      return failWith(callbacks, `${api}:fail api scope is not declared in the privacy agreement`, PRIVACY_ERRNO.notDeclared);
    }
    // Base libraries before 2.32.3 enforce nothing.
    if (privacyOptions.unsupported || agreed || (guarded.indexOf(api) < 0 && api !== 'requirePrivacyAuthorize')) return proceed();
    const listener = privacyListener;
    if (!listener) return denied();
    waiting.push(api);
    let answered = false;
    const resolve = (answer: PrivacyAnswer) => {
      if (answer.event === 'exposureAuthorization') {
        exposures++;
        return;
      }
      // One answer per event; a second resolve changes nothing.
      if (answered) return;
      answered = true;
      waiting.splice(waiting.indexOf(api), 1);
      // The base library checks that the named agree button was tapped; what it does when it was
      // not is undocumented: the call fails here, so a resolve that no tap preceded shows in tests.
      if (answer.event === 'agree' && answer.buttonId !== undefined && tappedButtons.has(answer.buttonId)) proceed();
      else denied();
    };
    later(() => listener(resolve, { referrer: api }));
  }

  function request(opts: WechatMiniprogram.RequestOption): WechatMiniprogram.RequestTask {
    const callbacks = opts as CallbackOptions<WechatMiniprogram.RequestSuccessCallbackResult>;
    let req: http.ClientRequest | null = null;
    let done = false;
    const transfer: Interruptible = { interrupt: (reason) => finish(`request:fail ${errorText(reason)}`) };
    const finish = (errMsg: string | null, result?: WechatMiniprogram.RequestSuccessCallbackResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      inFlight.delete(transfer);
      if (errMsg === null) succeed(callbacks, result!);
      else {
        req?.destroy();
        failWith(callbacks, errMsg);
      }
    };
    const timer = setTimeout(() => finish(`request:fail ${ERR.timeout}`), opts.timeout ?? 60000);
    const task = {
      abort: () => finish(`request:fail ${ERR.abort}`),
      onHeadersReceived: () => undefined,
      offHeadersReceived: () => undefined,
      onChunkReceived: () => undefined,
      offChunkReceived: () => undefined,
    } as unknown as WechatMiniprogram.RequestTask;

    const method = (opts.method ?? 'GET').toUpperCase();
    const reason = blocked();
    if (reason) {
      finish(`request:fail ${errorText(reason)}`);
      return task;
    }
    if (REQUEST_METHODS.indexOf(method) < 0) {
      finish(`request:fail invalid method ${method}`);
      return task;
    }
    let url: URL;
    try {
      url = new URL(opts.url);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('invalid url');
    } catch {
      finish(`request:fail invalid url "${opts.url}"`);
      return task;
    }
    const headers: Record<string, string> = {
      // WeChat's defaults: a JSON content type unless one is given, and a fixed Referer.
      'content-type': 'application/json',
      referer: 'https://servicewechat.com/touristappid/devtools/page-frame.html',
    };
    for (const name of Object.keys(opts.header ?? {})) headers[name.toLowerCase()] = String((opts.header as Record<string, unknown>)[name]);
    let body: Buffer | undefined;
    if (opts.data !== undefined && opts.data !== null) {
      if (typeof opts.data === 'object' && !types.isAnyArrayBuffer(opts.data) && !ArrayBuffer.isView(opts.data)) {
        // Documented: an object becomes the query string for GET, JSON for a JSON body.
        if (method === 'GET') {
          for (const [k, v] of Object.entries(opts.data)) url.searchParams.append(k, String(v));
        } else body = Buffer.from(JSON.stringify(opts.data));
      } else body = toBuffer(opts.data);
    }
    inFlight.add(transfer);
    req = http.request(url, { method, headers: { ...headers, ...(body ? { 'content-length': String(body.length) } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => finish(`request:fail ${err.message}`));
      res.on('end', () => {
        const bytes = Buffer.concat(chunks);
        let data: string | ArrayBuffer | unknown = opts.responseType === 'arraybuffer' ? toArrayBuffer(bytes) : bytes.toString('utf8');
        // dataType 'json' (the default) parses the text when it can and hands back the text otherwise.
        if ((opts.dataType ?? 'json') === 'json' && typeof data === 'string') {
          try {
            data = JSON.parse(data);
          } catch {
            // Keep the text, as WeChat does.
          }
        }
        finish(null, {
          data: data as string,
          statusCode: res.statusCode ?? 0,
          header: rawHeaderRecord(res.rawHeaders),
          cookies: [],
          errMsg: 'request:ok',
        } as unknown as WechatMiniprogram.RequestSuccessCallbackResult);
      });
    });
    req.on('error', (err) => finish(`request:fail ${err.message}`));
    req.end(body);
    return task;
  }

  function uploadFile(opts: WechatMiniprogram.UploadFileOption): WechatMiniprogram.UploadTask {
    const callbacks = opts as CallbackOptions<WechatMiniprogram.UploadFileSuccessCallbackResult>;
    const progressListeners = new Set<(r: WechatMiniprogram.UploadTaskOnProgressUpdateListenerResult) => void>();
    let req: http.ClientRequest | null = null;
    let done = false;
    const transfer: Interruptible = { interrupt: (reason) => finish(`uploadFile:fail ${errorText(reason)}`) };
    const finish = (errMsg: string | null, result?: WechatMiniprogram.UploadFileSuccessCallbackResult) => {
      if (done) return;
      done = true;
      inFlight.delete(transfer);
      if (errMsg === null) succeed(callbacks, result!);
      else {
        req?.destroy();
        failWith(callbacks, errMsg);
      }
    };
    const task = {
      abort: () => finish(`uploadFile:fail ${ERR.abort}`),
      onProgressUpdate: (listener: (r: WechatMiniprogram.UploadTaskOnProgressUpdateListenerResult) => void) =>
        progressListeners.add(listener),
      offProgressUpdate: (listener: (r: WechatMiniprogram.UploadTaskOnProgressUpdateListenerResult) => void) =>
        progressListeners.delete(listener),
      onHeadersReceived: () => undefined,
      offHeadersReceived: () => undefined,
    } as unknown as WechatMiniprogram.UploadTask;

    const reason = blocked();
    if (reason) {
      finish(`uploadFile:fail ${errorText(reason)}`);
      return task;
    }
    let file: Buffer;
    try {
      file = fs.readFileSync(realPath(opts.filePath));
    } catch {
      finish(`uploadFile:fail file not found: ${opts.filePath}`);
      return task;
    }
    const fileName = path.basename(realPath(opts.filePath));
    const fileType = MIME_BY_EXTENSION[path.extname(fileName).toLowerCase()] ?? 'application/octet-stream';
    const form = multipart([
      ...Object.entries(opts.formData ?? {}).map(([name, value]) => ({ name, value: String(value) })),
      { name: opts.name, filename: fileName, contentType: fileType, data: file },
    ]);
    const body = form.body;
    const headers: Record<string, string> = {};
    for (const name of Object.keys(opts.header ?? {})) headers[name.toLowerCase()] = String((opts.header as Record<string, unknown>)[name]);
    headers['content-type'] = form.contentType;
    headers['content-length'] = String(body.length);

    inFlight.add(transfer);
    req = http.request(opts.url, { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        finish(null, {
          data: Buffer.concat(chunks).toString('utf8'),
          statusCode: res.statusCode ?? 0,
          errMsg: 'uploadFile:ok',
        } as WechatMiniprogram.UploadFileSuccessCallbackResult),
      );
    });
    req.on('error', (err) => finish(`uploadFile:fail ${err.message}`));
    // Written in chunks, each reported once the socket has taken it, like WeChat's progress events.
    let sent = 0;
    const writeNext = () => {
      if (done || !req) return;
      if (sent >= body.length) {
        req.end();
        return;
      }
      const piece = body.subarray(sent, sent + UPLOAD_CHUNK);
      req.write(piece, () => {
        sent += piece.length;
        const event = { progress: Math.round((sent / body.length) * 100), totalBytesSent: sent, totalBytesExpectedToSend: body.length };
        for (const listener of progressListeners) listener(event);
        writeNext();
      });
    };
    later(writeNext);
    return task;
  }

  function connectSocket(opts: WechatMiniprogram.ConnectSocketOption): WechatMiniprogram.SocketTask {
    const listeners = {
      open: new Set<(r: unknown) => void>(),
      message: new Set<(r: WechatMiniprogram.SocketTaskOnMessageListenerResult) => void>(),
      error: new Set<(r: { errMsg: string }) => void>(),
      close: new Set<(r: WechatMiniprogram.SocketTaskOnCloseListenerResult) => void>(),
    };
    let ws: WebSocket | null = null;
    let closed = false;
    const emitClose = (code: number, reason: string) => {
      if (closed) return;
      closed = true;
      state.readyState = WebSocket.CLOSED;
      sockets.delete(entry);
      later(() => listeners.close.forEach((l) => l({ code, reason })));
    };
    const emitError = (errMsg: string) => later(() => listeners.error.forEach((l) => l({ errMsg })));
    const entry = {
      open: () => !closed,
      interrupt(reason: 'interrupted' | 'offline') {
        ws?.terminate();
        if (reason === 'offline') {
          emitError(ERR.offline);
          emitClose(1006, 'abnormal closure');
        } else emitClose(1000, 'interrupted');
      },
    };
    // WeChat's SocketTask carries a WebSocket-like readyState (0–3) that its typings leave out;
    // MemFire's SDK (realtime-js RealtimeClient.connectionState) reads it.
    const state = { readyState: WebSocket.CONNECTING as number };
    const task = {
      get readyState() {
        return state.readyState;
      },
      send(o: WechatMiniprogram.SocketTaskSendOption) {
        if (!ws || ws.readyState !== WebSocket.OPEN) return failWith(o, 'sendSocketMessage:fail WebSocket is not connected');
        ws.send(typeof o.data === 'string' ? o.data : toBuffer(o.data), (err) =>
          err ? failWith(o, `sendSocketMessage:fail ${err.message}`) : succeed(o, { errMsg: 'sendSocketMessage:ok' }),
        );
      },
      close(o: WechatMiniprogram.SocketTaskCloseOption = {}) {
        const code = o.code ?? 1000;
        if (code !== 1000 && (code < 3000 || code > 4999)) return failWith(o, `closeSocket:fail invalid code ${code}`);
        if (closed) return failWith(o, 'closeSocket:fail WebSocket is not connected');
        if (ws && ws.readyState === WebSocket.CONNECTING) {
          ws.terminate();
          emitClose(code, o.reason ?? '');
        } else {
          state.readyState = WebSocket.CLOSING;
          ws?.close(code, o.reason ?? '');
        }
        succeed(o, { errMsg: 'closeSocket:ok' });
      },
      onOpen: (l: (r: unknown) => void) => listeners.open.add(l),
      onMessage: (l: (r: WechatMiniprogram.SocketTaskOnMessageListenerResult) => void) => listeners.message.add(l),
      onError: (l: (r: { errMsg: string }) => void) => listeners.error.add(l),
      onClose: (l: (r: WechatMiniprogram.SocketTaskOnCloseListenerResult) => void) => listeners.close.add(l),
    } as unknown as WechatMiniprogram.SocketTask;

    const reason = blocked();
    if (reason) {
      // The task exists; the connection never comes up.
      succeed(opts as CallbackOptions<{ errMsg: string }>, { errMsg: 'connectSocket:ok' });
      emitError(errorText(reason));
      emitClose(1006, 'abnormal closure');
      return task;
    }
    if (sockets.size >= MAX_SOCKETS) {
      closed = true;
      failWith(opts as CallbackOptions<never>, 'connectSocket:fail exceed max task count');
      return task;
    }
    sockets.add(entry);
    ws = new WebSocket(opts.url, opts.protocols ?? [], { headers: opts.header as Record<string, string> | undefined });
    ws.binaryType = 'nodebuffer';
    ws.on('open', () => {
      state.readyState = WebSocket.OPEN;
      listeners.open.forEach((l) => l({ header: {}, profile: {} }));
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const message = isBinary ? toArrayBuffer(data) : data.toString('utf8');
      listeners.message.forEach((l) => l({ data: message }));
    });
    ws.on('error', (err) => emitError(err.message));
    ws.on('close', (code, reason) => emitClose(code, reason.toString('utf8')));
    succeed(opts as CallbackOptions<{ errMsg: string }>, { errMsg: 'connectSocket:ok' });
    return task;
  }

  function checkStorageKey(key: string, api: string) {
    if (typeof key !== 'string' || key === '')
      throw new Error(`${api}:fail parameter error: parameter.key should be String instead of ${typeof key};`);
  }

  /** What the stored keys and values take, leaving out `except` (a key about to be replaced). */
  const storageSize = (except?: string) => {
    let size = 0;
    store.forEach((text, key) => (size += key === except ? 0 : key.length + text.length));
    return size;
  };

  const storageApi = {
    setStorageSync(key: string, data: unknown) {
      checkStorageKey(key, 'setStorageSync');
      // WeChat stores values serialized: what comes back is a copy, and undefined is not storable.
      const text = JSON.stringify(data === undefined ? null : data);
      if (text.length > MAX_STORAGE_ITEM) throw new Error('setStorageSync:fail exceed storage item max length');
      if (storageSize(key) + key.length + text.length > MAX_STORAGE_TOTAL)
        throw new Error('setStorageSync:fail exceed storage max size 10M');
      store.set(key, text);
      persist();
    },
    getStorageSync(key: string): unknown {
      checkStorageKey(key, 'getStorageSync');
      const text = store.get(key);
      return text === undefined ? '' : JSON.parse(text);
    },
    removeStorageSync(key: string) {
      checkStorageKey(key, 'removeStorageSync');
      store.delete(key);
      persist();
    },
    clearStorageSync() {
      store.clear();
      persist();
    },
    getStorageInfoSync() {
      return { keys: [...store.keys()], currentSize: Math.ceil(storageSize() / 1024), limitSize: MAX_STORAGE_TOTAL / 1024 };
    },
  };

  function readImage(src: string) {
    const bytes = fs.readFileSync(realPath(src));
    return { bytes, header: readImageHeader(bytes) };
  }

  function pickMedia(opts: WechatMiniprogram.ChooseMediaOption) {
    const files = chosen.shift();
    if (!files || files.length === 0) return failWith(opts, 'chooseMedia:fail cancel');
    // Showing the picker sends the app to the background and back, as on a phone.
    hideListeners.forEach((l) => l({}));
    const tempFiles = files.slice(0, opts.count ?? 9).map((file) => {
      const tempFilePath = newTempPath(path.extname(file).toLowerCase());
      fs.copyFileSync(file, realPath(tempFilePath));
      const { bytes, header } = readImage(tempFilePath);
      return {
        tempFilePath,
        size: bytes.length,
        width: header.width,
        height: header.height,
        duration: 0,
        thumbTempFilePath: '',
        fileType: 'image',
      };
    });
    showListeners.forEach((l) => l({ path: 'pages/room/index', query: {}, scene: 1001 }));
    succeed(opts, { tempFiles, type: 'image', errMsg: 'chooseMedia:ok' } as unknown as WechatMiniprogram.ChooseMediaSuccessCallbackResult);
  }

  const mediaApi = {
    chooseMedia(opts: WechatMiniprogram.ChooseMediaOption) {
      guard('chooseMedia', opts as CallbackOptions<never>, () => pickMedia(opts));
    },
    getImageInfo(opts: WechatMiniprogram.GetImageInfoOption) {
      try {
        const { header } = readImage(opts.src);
        if (header.type === 'unknown') return failWith(opts, 'getImageInfo:fail invalid image');
        succeed(opts, {
          width: header.width,
          height: header.height,
          type: header.type,
          path: opts.src,
          orientation: 'up',
          errMsg: 'getImageInfo:ok',
        } as unknown as WechatMiniprogram.GetImageInfoSuccessCallbackResult);
      } catch {
        failWith(opts, `getImageInfo:fail file not found: ${opts.src}`);
      }
    },
    /**
     * WeChat's cropper opens with the largest frame of the asked ratio, centred; the person here
     * accepts it as it is (or backs out: cancelNextCrop). Only PNG is decoded, as in compressImage.
     */
    cropImage(opts: WechatMiniprogram.CropImageOption) {
      const ratio = /^(\d+):(\d+)$/.exec(opts.cropScale);
      if (!ratio) return failWith(opts, `cropImage:fail invalid cropScale ${opts.cropScale}`);
      let image: ReturnType<typeof readImage>;
      try {
        image = readImage(opts.src);
      } catch {
        return failWith(opts, `cropImage:fail file not found: ${opts.src}`);
      }
      if (cropCancels > 0) {
        cropCancels--;
        return failWith(opts, 'cropImage:fail cancel');
      }
      const { header, bytes } = image;
      if (header.type !== 'png') return failWith(opts, `cropImage:fail wx-node cannot crop ${header.type} images`);
      const [wide, high] = [Number(ratio[1]), Number(ratio[2])];
      const width = Math.min(header.width, Math.floor((header.height * wide) / high));
      const height = Math.floor((width * high) / wide);
      const frame = cropBitmap(
        decodePng(bytes),
        Math.floor((header.width - width) / 2),
        Math.floor((header.height - height) / 2),
        width,
        height,
      );
      const tempFilePath = newTempPath('.png');
      fs.writeFileSync(realPath(tempFilePath), encodePng(frame));
      succeed(opts, { tempFilePath, errMsg: 'cropImage:ok' });
    },
    compressImage(opts: WechatMiniprogram.CompressImageOption) {
      let image: ReturnType<typeof readImage>;
      try {
        image = readImage(opts.src);
      } catch {
        return failWith(opts, `compressImage:fail file not found: ${opts.src}`);
      }
      const { header, bytes } = image;
      const width =
        opts.compressedWidth ?? (opts.compressedHeight ? Math.round((header.width * opts.compressedHeight) / header.height) : header.width);
      const height = opts.compressedHeight ?? Math.round((header.height * width) / header.width);
      let output: Buffer;
      if (width === header.width && height === header.height) output = bytes;
      else if (header.type === 'png') output = encodePng(scaleBitmap(decodePng(bytes), width, height));
      // Only PNG is decoded here; scaling another format would need a real codec.
      else return failWith(opts, `compressImage:fail wx-node cannot scale ${header.type} images`);
      const tempFilePath = newTempPath(`.${header.type === 'jpeg' ? 'jpg' : header.type}`);
      fs.writeFileSync(realPath(tempFilePath), output);
      succeed(opts, { tempFilePath, errMsg: 'compressImage:ok' });
    },
  };

  const fileSystemManager = {
    readFile(opts: WechatMiniprogram.ReadFileOption & CallbackOptions<{ data: string | ArrayBuffer; errMsg: string }>) {
      fs.readFile(realPath(opts.filePath), (err, bytes) => {
        if (err) return failWith(opts, `readFile:fail no such file or directory, open ${opts.filePath}`);
        succeed(opts, {
          data: opts.encoding ? bytes.toString(opts.encoding as BufferEncoding) : toArrayBuffer(bytes),
          errMsg: 'readFile:ok',
        });
      });
    },
    readFileSync(filePath: string, encoding?: string) {
      const bytes = fs.readFileSync(realPath(filePath));
      return encoding ? bytes.toString(encoding as BufferEncoding) : toArrayBuffer(bytes);
    },
    /** WeChat moves the temp file into the saved files: tempFilePath is unusable afterwards. */
    saveFile(opts: { tempFilePath: string; filePath?: string } & CallbackOptions<{ savedFilePath: string; errMsg: string }>) {
      const source = realPath(opts.tempFilePath);
      if (!fs.existsSync(source)) return failWith(opts, `saveFile:fail no such file or directory ${opts.tempFilePath}`);
      const savedFilePath = opts.filePath ?? newSavedPath(path.extname(source));
      fs.renameSync(source, realPath(savedFilePath));
      succeed(opts, { savedFilePath, errMsg: 'saveFile:ok' });
    },
    /** createTime is in seconds, as WeChat documents it; here the file's modification time. */
    getSavedFileList(opts: CallbackOptions<{ fileList: WechatMiniprogram.FileItem[]; errMsg: string }> = {}) {
      const names = fs.readdirSync(tempDir).filter((name) => name.startsWith('store_'));
      const fileList = names.map((name) => {
        const stat = fs.statSync(path.join(tempDir, name));
        return { filePath: `${STORE_PREFIX}${name.slice('store_'.length)}`, size: stat.size, createTime: Math.floor(stat.mtimeMs / 1000) };
      });
      succeed(opts, { fileList, errMsg: 'getSavedFileList:ok' });
    },
    removeSavedFile(opts: { filePath: string } & CallbackOptions<{ errMsg: string }>) {
      fs.unlink(realPath(opts.filePath), (err) => {
        if (err) return failWith(opts, `removeSavedFile:fail file not exist`);
        succeed(opts, { errMsg: 'removeSavedFile:ok' });
      });
    },
    /** Throws when the path does not exist, like WeChat's. */
    accessSync(filePath: string) {
      if (!fs.existsSync(realPath(filePath))) throw new Error(`accessSync:fail no such file or directory, access ${filePath}`);
    },
    getFileInfo(opts: { filePath: string } & CallbackOptions<{ size: number; digest: string; errMsg: string }>) {
      fs.stat(realPath(opts.filePath), (err, stat) => {
        if (err) return failWith(opts, `getFileInfo:fail no such file or directory ${opts.filePath}`);
        succeed(opts, { size: stat.size, digest: '', errMsg: 'getFileInfo:ok' });
      });
    },
  };

  let clipboardText = '';

  /** wx.setClipboardData (developers.weixin.qq.com/miniprogram/dev/api/device/clipboard/wx.setClipboardData.html). */
  function setClipboardData(opts: { data: unknown } & CallbackOptions<{ errMsg: string }>) {
    if (typeof opts.data !== 'string') {
      return failWith(opts, `setClipboardData:fail parameter error: parameter.data should be String instead of ${typeof opts.data};`);
    }
    const text = opts.data;
    guard('setClipboardData', opts, () => {
      clipboardText = text;
      succeed(opts, { errMsg: 'setClipboardData:ok' });
    });
  }

  /** The four privacy APIs of base library 2.32.3 (developers.weixin.qq.com/miniprogram/dev/api/open-api/privacy/). */
  const privacyApi = {
    /** A second registration replaces the first ("覆盖式注册监听"). */
    onNeedPrivacyAuthorization(listener: PrivacyListener) {
      privacyListener = listener;
    },
    /** Plays a privacy API call: success at once when agreed, otherwise the listener decides. */
    requirePrivacyAuthorize(opts: CallbackOptions<{ errMsg: string }> = {}) {
      guard('requirePrivacyAuthorize', opts, () => succeed(opts, { errMsg: 'requirePrivacyAuthorize:ok' }));
    },
    getPrivacySetting(opts: CallbackOptions<WechatMiniprogram.GetPrivacySettingSuccessCallbackResult>) {
      succeed(opts, { needAuthorization: !agreed, privacyContractName: PRIVACY_CONTRACT_NAME, errMsg: 'getPrivacySetting:ok' });
    },
    openPrivacyContract(opts: CallbackOptions<{ errMsg: string }> = {}) {
      if (privacyOptions.contractFails) return failWith(opts, 'openPrivacyContract:fail');
      contractsOpened++;
      succeed(opts, { errMsg: 'openPrivacyContract:ok' });
    },
  };

  const appApi = {
    onAppShow: (l: (r: unknown) => void) => showListeners.add(l),
    offAppShow: (l: (r: unknown) => void) => showListeners.delete(l),
    onAppHide: (l: (r: unknown) => void) => hideListeners.add(l),
    offAppHide: (l: (r: unknown) => void) => hideListeners.delete(l),
    onNetworkStatusChange: (l: (r: WechatMiniprogram.OnNetworkStatusChangeListenerResult) => void) => networkListeners.add(l),
    offNetworkStatusChange: (l: (r: WechatMiniprogram.OnNetworkStatusChangeListenerResult) => void) => networkListeners.delete(l),
    getNetworkType(opts: WechatMiniprogram.GetNetworkTypeOption) {
      succeed(opts, {
        networkType: offline ? 'none' : 'wifi',
        signalStrength: 0,
        hasSystemProxy: false,
        errMsg: 'getNetworkType:ok',
      } as WechatMiniprogram.GetNetworkTypeSuccessCallbackResult);
    },
  };

  /** wx.login: WeChat's client gets a code from WeChat's server, here the fake one. */
  function login(opts: { timeout?: number } & CallbackOptions<{ code: string; errMsg: string }>) {
    guard('login', opts as CallbackOptions<never>, () => requestCode(opts));
  }

  function requestCode(opts: CallbackOptions<{ code: string; errMsg: string }>) {
    const reason = blocked();
    if (reason) return failWith(opts, `login:fail ${errorText(reason)}`);
    const account = options.wechat;
    if (!account) return failWith(opts, 'login:fail this phone is signed into no WeChat account (NodeWxOptions.wechat)');
    fetch(`${account.apiBase}/__fake/code`, { method: 'POST', body: JSON.stringify({ name: account.person }) })
      .then((response) => response.json() as Promise<{ code: string }>)
      .then(
        ({ code }) => succeed(opts, { code, errMsg: 'login:ok' }),
        (error: Error) => failWith(opts, `login:fail ${error.message}`),
      );
  }

  const wx = {
    request,
    uploadFile,
    connectSocket,
    login,
    setClipboardData,
    ...storageApi,
    ...mediaApi,
    ...appApi,
    ...(privacyOptions.unsupported ? {} : privacyApi),
    getFileSystemManager: () => fileSystemManager,
    // Only what the app calls is implemented; anything else is missing, not silently faked.
  } as unknown as WechatMiniprogram.Wx;

  return {
    wx,
    goBackground() {
      hideListeners.forEach((l) => l({}));
      return new Promise<void>((resolve) => {
        backgroundSettled = resolve;
        interruptTimer = setTimeout(() => {
          interrupted = true;
          interruptAll('interrupted');
          resolve();
        }, interruptAfterMs);
      });
    },
    goForeground() {
      clearTimeout(interruptTimer);
      backgroundSettled?.();
      backgroundSettled = null;
      interrupted = false;
      showListeners.forEach((l) => l({ path: 'pages/room/index', query: {}, scene: 1001 }));
    },
    setOffline(value: boolean) {
      if (value === offline) return;
      offline = value;
      if (offline) interruptAll('offline');
      const status = {
        isConnected: !offline,
        networkType: offline ? 'none' : 'wifi',
      } as WechatMiniprogram.OnNetworkStatusChangeListenerResult;
      networkListeners.forEach((l) => l(status));
    },
    chooseNext(files) {
      chosen.push(files);
    },
    cancelNextCrop() {
      cropCancels++;
    },
    storage() {
      const out: Record<string, unknown> = {};
      store.forEach((text, key) => (out[key] = JSON.parse(text)));
      return out;
    },
    realPath,
    clipboard: () => clipboardText,
    privacy: {
      agreed: () => agreed,
      tapAgreeButton(buttonId) {
        tappedButtons.add(buttonId);
        agreed = true;
      },
      pending: () => waiting.slice(),
      exposures: () => exposures,
      contractsOpened: () => contractsOpened,
    },
    openSockets: () => sockets.size,
    close() {
      clearTimeout(interruptTimer);
      backgroundSettled?.();
      for (const transfer of [...inFlight, ...sockets]) transfer.interrupt('interrupted');
      if (ownsTempDir) fs.rmSync(tempDir, { recursive: true, force: true });
    },
  };
}

/** Makes `nodeWx.wx` the global `wx` the platform code calls; returns the undo. */
export function installWx(nodeWx: NodeWx): () => void {
  const holder = globalThis as { wx?: unknown };
  const previous = holder.wx;
  holder.wx = nodeWx.wx;
  return () => {
    holder.wx = previous;
  };
}
