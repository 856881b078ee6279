// `fetch` over wx.request: the subset supabase-js calls (auth, PostgREST, Storage, Realtime's REST
// fallback), with the web semantics it relies on: every HTTP status resolves, only a transport
// failure rejects (with a TypeError, like fetch), an aborted signal rejects with an AbortError.
import { Headers } from '../vendor/supabase';

type WxMethod = NonNullable<WechatMiniprogram.RequestOption['method']>;

/** wx.request documents no PATCH; postgrest's update() would need it (use an RPC instead). */
const METHODS: WxMethod[] = ['OPTIONS', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'TRACE', 'CONNECT'];

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'No Content',
  206: 'Partial Content',
  300: 'Multiple Choices',
  304: 'Not Modified',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export const DEFAULT_REQUEST_TIMEOUT_MS = 30000;

interface HeaderSource {
  forEach(callback: (value: string, name: string) => void): void;
}

/** The parts of AbortSignal fetch reads; the bundle's polyfill and native signals both fit. */
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason?: unknown;
  addEventListener(type: 'abort', listener: () => void): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

export interface WxRequestInit {
  method?: string;
  headers?: HeaderSource | Record<string, string> | Array<[string, string]>;
  body?: string | ArrayBuffer | ArrayBufferView | null;
  signal?: AbortSignalLike | null;
}

export class WxResponse {
  readonly ok: boolean;
  readonly statusText: string;
  readonly headers: Headers;
  readonly redirected = false;
  readonly type = 'basic';
  /** No stream: realtime calls `response.body?.cancel()`, and text() is the only reader. */
  readonly body = null;
  bodyUsed = false;

  constructor(
    private readonly content: string,
    readonly status: number,
    header: Record<string, string>,
    readonly url: string,
  ) {
    this.ok = status >= 200 && status < 300;
    this.statusText = STATUS_TEXT[status] ?? '';
    this.headers = new Headers(header);
  }

  async text(): Promise<string> {
    if (this.bodyUsed) throw new TypeError('Body has already been consumed.');
    this.bodyUsed = true;
    return this.content;
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  clone(): WxResponse {
    if (this.bodyUsed) throw new TypeError('Response body is already used');
    const copy: Record<string, string> = {};
    this.headers.forEach((value, name) => (copy[name] = value));
    return new WxResponse(this.content, this.status, copy, this.url);
  }
}

function headerRecord(headers: WxRequestInit['headers']): Record<string, string> {
  const record: Record<string, string> = {};
  if (!headers) return record;
  if (Array.isArray(headers)) for (const [name, value] of headers) record[name] = String(value);
  else if (typeof (headers as HeaderSource).forEach === 'function')
    (headers as HeaderSource).forEach((value, name) => (record[name] = value));
  else for (const name of Object.keys(headers)) record[name] = String((headers as Record<string, string>)[name]);
  return record;
}

function requestBody(body: WxRequestInit['body']): string | ArrayBuffer | undefined {
  if (body == null) return undefined;
  if (typeof body === 'string') return body;
  // Tagged rather than instanceof: a buffer from another realm (wx's native side) is one too.
  if (Object.prototype.toString.call(body) === '[object ArrayBuffer]') return body as ArrayBuffer;
  if (ArrayBuffer.isView(body)) return body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer;
  throw new TypeError('wx.request bodies must be a string or an ArrayBuffer (no Blob, FormData or stream)');
}

function abortError(): Error {
  const error = new Error('The operation was aborted.');
  error.name = 'AbortError';
  return error;
}

export interface WxFetchOptions {
  /** A request that has not answered by then fails like a dropped connection. */
  timeoutMs?: number;
}

export function createWxFetch(options: WxFetchOptions = {}) {
  const timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;

  return function wxFetch(input: string | { url: string } | { href: string }, init: WxRequestInit = {}): Promise<WxResponse> {
    return new Promise<WxResponse>((resolve, reject) => {
      const url = typeof input === 'string' ? input : 'href' in input ? input.href : input.url;
      const method = (init.method ?? 'GET').toUpperCase() as WxMethod;
      if (METHODS.indexOf(method) < 0) throw new TypeError(`wx.request does not support the ${method} method`);
      const { signal } = init;
      if (signal?.aborted) throw signal.reason ?? abortError();
      const header = headerRecord(init.headers);
      const data = requestBody(init.body);

      let settled = false;
      let task: WechatMiniprogram.RequestTask | null = null;
      const finish = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (signal) signal.removeEventListener('abort', onAbort);
        outcome();
      };
      const cancel = (error: unknown) => {
        finish(() => reject(error));
        if (task) task.abort();
      };
      const onAbort = () => cancel(signal!.reason ?? abortError());
      const timer = setTimeout(() => cancel(new TypeError('request:fail timeout')), timeoutMs);
      task = wx.request({
        url,
        method,
        header,
        data,
        // The documented values are 'json' and '其他' ("other"): anything but 'json' keeps wx from
        // parsing the body, which supabase-js parses itself. The literal satisfies every version
        // of the wx typings (older ones accept only these two).
        dataType: '其他',
        responseType: 'text',
        success: (res) => {
          const content = method === 'HEAD' || res.statusCode === 204 || res.data == null ? '' : String(res.data);
          finish(() => resolve(new WxResponse(content, res.statusCode, res.header as Record<string, string>, url)));
        },
        fail: (err) => finish(() => reject(new TypeError(err.errMsg))),
      });
      if (signal) signal.addEventListener('abort', onAbort);
    });
  };
}

export type WxFetch = ReturnType<typeof createWxFetch>;
