// The platform layer over wx-node: fetch, the socket transport, storage and images, each against
// a real loopback server, so the assertions are about bytes on the wire and WeChat's callbacks.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import busboy from 'busboy';
import { WebSocketServer, type WebSocket as ServerSocket } from 'ws';
import { zh } from '../miniprogram/core/strings';
import { BackendFailure } from '../miniprogram/core/ports';
import { RoomSession } from '../miniprogram/core/room-session';
import { TEXT_MAX } from '../miniprogram/core/rules';
import { createWxFetch } from '../miniprogram/platform/fetch';
import { createImageUploader, IMAGE_MAX_WIDTH, pickImage } from '../miniprogram/platform/images';
import { supabaseAuthStorage } from '../miniprogram/core/supabase-backend';
import { deviceStore } from '../miniprogram/platform/storage';
import { WxWebSocket } from '../miniprogram/platform/websocket';
import { AbortController as PolyfillAbortController } from '../vendor-src/abort';
import { FakeBackend } from './support/core-fakes';
import { gradientPng, readImageHeader } from './support/png';
import { createNodeWx, installWx, type NodeWx } from './support/wx-node';
import { waitFor } from './support/wait';

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

let server: http.Server;
let base: string;
let received: Received[] = [];
/** Requests to /hang are held until the test ends: for abort, timeout and interruption. */
const hanging: http.ServerResponse[] = [];
let nodeWx: NodeWx;
let uninstall: () => void;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) });
      const url = new URL(req.url!, 'http://x');
      if (url.pathname === '/hang') return void hanging.push(res);
      const status = Number(url.searchParams.get('status') ?? 200);
      res.setHeader('Content-Range', '0-1/2');
      res.setHeader('X-Mixed-Case', 'yes');
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(status === 204 ? undefined : JSON.stringify({ status, echo: chunks.length ? Buffer.concat(chunks).toString('utf8') : null }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  hanging.forEach((res) => res.destroy());
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  received = [];
  nodeWx = createNodeWx();
  uninstall = installWx(nodeWx);
});

afterEach(() => {
  nodeWx.close();
  uninstall();
});

describe('fetch over wx.request', () => {
  const wxFetch = createWxFetch({ timeoutMs: 2000 });

  it.each([200, 201, 204, 400, 401, 404, 409, 500, 503])('resolves HTTP %i with status, statusText, ok and text', async (status) => {
    const res = await wxFetch(`${base}/any?status=${status}`);
    expect(res.status).toBe(status);
    expect(res.ok).toBe(status < 300);
    expect(res.statusText).not.toBe('');
    const text = await res.text();
    if (status === 204) expect(text).toBe('');
    else expect(JSON.parse(text)).toEqual({ status, echo: null });
  });

  it('sends method, headers from a record or a Headers object, and string or binary bodies', async () => {
    await wxFetch(`${base}/a`, {
      method: 'post',
      headers: { 'Content-Type': 'application/json', Prefer: 'return=representation' },
      body: '{"x":"你好"}',
    });
    const headers = new Headers({ apikey: 'k' });
    headers.append('accept-profile', 'public');
    await wxFetch(`${base}/b`, { method: 'PUT', headers, body: new Uint8Array([1, 2, 3, 250]).subarray(1) });
    await wxFetch(`${base}/c`, { method: 'DELETE', headers: [['X-Pair', '1']] });
    expect(received.map((r) => r.method)).toEqual(['POST', 'PUT', 'DELETE']);
    expect(received[0].headers.prefer).toBe('return=representation');
    expect(received[0].body.toString('utf8')).toBe('{"x":"你好"}');
    expect(received[1].headers.apikey).toBe('k');
    expect(received[1].headers['accept-profile']).toBe('public');
    expect([...received[1].body]).toEqual([2, 3, 250]);
    expect(received[2].headers['x-pair']).toBe('1');
  });

  it('returns the body as text (no JSON parsing by wx) and headers readable in any case', async () => {
    const res = await wxFetch(`${base}/json`);
    expect(res.headers.get('content-range')).toBe('0-1/2');
    expect(res.headers.get('x-mixed-case')).toBe('yes');
    expect(res.headers.get('missing')).toBeNull();
    expect(typeof (await res.clone().text())).toBe('string');
    expect(await res.json()).toEqual({ status: 200, echo: null });
    await expect(res.text()).rejects.toThrow(TypeError);
  });

  it('returns an empty body for HEAD', async () => {
    const res = await wxFetch(`${base}/h`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
  });

  it('refuses PATCH, which wx.request does not document, before sending anything', async () => {
    await expect(wxFetch(`${base}/p`, { method: 'PATCH', body: '{}' })).rejects.toThrow(/PATCH/);
    expect(received).toEqual([]);
  });

  it('rejects a network failure with a TypeError carrying WeChat errMsg', async () => {
    const err = await wxFetch('http://127.0.0.1:1/nothing-listens').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect((err as Error).message).toMatch(/^request:fail /);
  });

  it('rejects offline requests at once, with the errMsg of a device without network', async () => {
    nodeWx.setOffline(true);
    await expect(wxFetch(`${base}/a`)).rejects.toThrow(/^request:fail .*DISCONNECTED/);
    nodeWx.setOffline(false);
    expect((await wxFetch(`${base}/a`)).status).toBe(200);
  });

  it('aborts through the signal: AbortError, and the wx task is aborted', async () => {
    const controller = new PolyfillAbortController();
    const pending = wxFetch(`${base}/hang`, { signal: controller.signal });
    await waitFor('the condition', () => hanging.length === 1, 3000);
    controller.abort();
    const err = (await pending.catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('AbortError');
    // The aborted request's connection is gone on the server side too.
    await waitFor('the condition', () => hanging[0].destroyed || hanging[0].req.destroyed, 3000);
    const already = new PolyfillAbortController();
    already.abort();
    await expect(wxFetch(`${base}/a`, { signal: already.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('times out with a TypeError like a dropped connection', async () => {
    const quick = createWxFetch({ timeoutMs: 50 });
    await expect(quick(`${base}/hang`)).rejects.toThrow(new TypeError('request:fail timeout'));
  });

  it('fails requests in flight with "interrupted" once the app is in the background', async () => {
    const pending = wxFetch(`${base}/hang`);
    await waitFor('the condition', () => hanging.length > 0, 3000);
    await nodeWx.goBackground();
    await expect(pending).rejects.toThrow(new TypeError('request:fail interrupted'));
    await expect(wxFetch(`${base}/a`)).rejects.toThrow('request:fail interrupted');
    nodeWx.goForeground();
    expect((await wxFetch(`${base}/a`)).status).toBe(200);
  });
});

describe('WebSocket transport over wx.connectSocket', () => {
  let wss: WebSocketServer;
  let wsUrl: string;
  const serverSockets: ServerSocket[] = [];

  beforeAll(async () => {
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((resolve) => wss.once('listening', resolve));
    wsUrl = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/realtime/v1/websocket?vsn=1.0.0`;
    wss.on('connection', (socket) => {
      serverSockets.push(socket);
      socket.on('message', (data, isBinary) => socket.send(isBinary ? data : `echo:${data.toString()}`, { binary: isBinary }));
    });
  });

  afterAll(async () => {
    await new Promise((resolve) => wss.close(resolve));
  });

  function connect() {
    const socket = new WxWebSocket(wsUrl);
    const events: Array<{ type: string; data?: unknown; code?: number; reason?: string }> = [];
    // Assigned after construction, as phoenix does.
    socket.onopen = () => events.push({ type: 'open' });
    socket.onmessage = (e) => events.push({ type: 'message', data: e.data });
    socket.onerror = () => events.push({ type: 'error' });
    socket.onclose = (e) => events.push({ type: 'close', code: e.code, reason: e.reason });
    return { socket, events };
  }

  it('opens, exchanges text and binary frames, and closes with the code given', async () => {
    const { socket, events } = connect();
    expect(socket.readyState).toBe(WxWebSocket.CONNECTING);
    expect(() => socket.send('too early')).toThrow(/not open/);
    await waitFor('the condition', () => socket.readyState === WxWebSocket.OPEN, 3000);
    socket.send('{"event":"phx_join"}');
    socket.send(new Uint8Array([3, 1, 2]).buffer);
    await waitFor('the condition', () => events.filter((e) => e.type === 'message').length === 2, 3000);
    const [text, binary] = events.filter((e) => e.type === 'message').map((e) => e.data);
    expect(text).toBe('echo:{"event":"phx_join"}');
    expect([...new Uint8Array(binary as ArrayBuffer)]).toEqual([3, 1, 2]);
    socket.close(1000, 'bye');
    expect(socket.readyState).toBe(WxWebSocket.CLOSING);
    await waitFor('the condition', () => socket.readyState === WxWebSocket.CLOSED, 3000);
    expect(events[0]).toEqual({ type: 'open' });
    expect(events[events.length - 1]).toEqual({ type: 'close', code: 1000, reason: 'bye' });
  });

  it('reports a close started by the server with its code', async () => {
    const { socket, events } = connect();
    await waitFor('the condition', () => socket.readyState === WxWebSocket.OPEN, 3000);
    serverSockets[serverSockets.length - 1].close(4001, 'kicked');
    await waitFor('the condition', () => socket.readyState === WxWebSocket.CLOSED, 3000);
    expect(events.filter((e) => e.type === 'close')).toEqual([{ type: 'close', code: 4001, reason: 'kicked' }]);
  });

  it('closes with 1000 "interrupted" in the background, and cannot connect while offline', async () => {
    const { socket, events } = connect();
    await waitFor('the condition', () => socket.readyState === WxWebSocket.OPEN, 3000);
    await nodeWx.goBackground();
    await waitFor('the condition', () => socket.readyState === WxWebSocket.CLOSED, 3000);
    expect(events.filter((e) => e.type === 'close')).toEqual([{ type: 'close', code: 1000, reason: 'interrupted' }]);
    nodeWx.goForeground();

    nodeWx.setOffline(true);
    const offline = connect();
    await waitFor('the condition', () => offline.socket.readyState === WxWebSocket.CLOSED, 3000);
    expect(offline.events.map((e) => e.type)).toEqual(['error', 'close']);
    expect(nodeWx.openSockets()).toBe(0);
  });

  it('maps close codes WeChat refuses to 1000', async () => {
    const { socket, events } = connect();
    await waitFor('the condition', () => socket.readyState === WxWebSocket.OPEN, 3000);
    socket.close(1001);
    await waitFor('the condition', () => socket.readyState === WxWebSocket.CLOSED, 3000);
    expect(events[events.length - 1].code).toBe(1000);
  });
});

describe('storage', () => {
  it('gives supabase-js strings and null for missing keys', async () => {
    const authStorage = supabaseAuthStorage(deviceStore);
    expect(await authStorage.getItem('sb-x-auth-token')).toBeNull();
    await authStorage.setItem('sb-x-auth-token', '{"access_token":"a"}');
    expect(await authStorage.getItem('sb-x-auth-token')).toBe('{"access_token":"a"}');
    await authStorage.removeItem('sb-x-auth-token');
    expect(await authStorage.getItem('sb-x-auth-token')).toBeNull();
  });

  it('keeps JSON values, including empty strings and false, as themselves', () => {
    expect(deviceStore.get('outbox')).toBeNull();
    for (const value of ['', false, 0, { items: [{ id: 'a' }] }]) {
      deviceStore.set('outbox', value);
      expect(deviceStore.get('outbox')).toEqual(value);
    }
    deviceStore.remove('outbox');
    expect(deviceStore.get('outbox')).toBeNull();
  });

  it('survives a restart through the storage file', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wx-storage-')), 'storage.json');
    const first = createNodeWx({ storageFile: file });
    const undoFirst = installWx(first);
    deviceStore.set('profile', { name: '楚留香', color: '#e4572e' });
    undoFirst();
    first.close();
    const second = createNodeWx({ storageFile: file });
    const undoSecond = installWx(second);
    expect(deviceStore.get('profile')).toEqual({ name: '楚留香', color: '#e4572e' });
    undoSecond();
    second.close();
  });

  it('refuses a write that would take the app past 10 MB in all, as WeChat documents, and keeps what was stored', () => {
    const nearlyOneMb = 'x'.repeat(1000 * 1000);
    for (let key = 0; key < 10; key++) nodeWx.wx.setStorageSync(`k${key}`, nearlyOneMb);
    expect(() => nodeWx.wx.setStorageSync('k10', nearlyOneMb)).toThrow('setStorageSync:fail exceed storage max size 10M');
    // Replacing a value counts the new value instead of the old one, not on top of it.
    nodeWx.wx.setStorageSync('k9', nearlyOneMb);
    expect(Object.keys(nodeWx.storage())).toHaveLength(10);
    expect(nodeWx.wx.getStorageInfoSync()).toMatchObject({ currentSize: 9766, limitSize: 10240 });
  });

  it('keeps a full outbox of the texts its double encoding grows most within one key, with no write refused', async () => {
    const backend = new FakeBackend();
    backend.offline = true;
    const session = new RoomSession({
      backend,
      store: deviceStore,
      roomSlug: 'lobby',
      speaker: () => ({ name: '楚留香', color: '#c0392b', characterId: null }),
    });
    const errors: string[] = [];
    session.onPatch((patch) => patch.type === 'error' && errors.push(patch.message));
    await session.start();
    // Quotes and backslashes double in each JSON encoding: the queue's JSON, then wx's own.
    const worst = '"\\'.repeat(TEXT_MAX / 2);
    let accepted = 0;
    while (accepted < 1000 && session.sendText(worst)) accepted++;
    await session.flush();
    session.stop();
    expect(errors.filter((message) => message !== zh.connectFailed)).toEqual([zh.outboxFull]);
    const stored = nodeWx.storage()['outbox:lobby'] as string;
    expect(JSON.parse(stored)).toHaveLength(accepted);
    expect(JSON.stringify(stored).length).toBeLessThanOrEqual(1024 * 1024);
  });
});

describe('images', () => {
  const fixtures = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-images-'));
  const wide = path.join(fixtures, 'wide.png');
  const small = path.join(fixtures, 'small.png');
  fs.writeFileSync(wide, gradientPng(1500, 375));
  fs.writeFileSync(small, gradientPng(300, 200));

  it('picks one image and bounds its width, keeping the aspect ratio', async () => {
    nodeWx.chooseNext([wide]);
    const image = await pickImage();
    expect(image).toMatchObject({ width: IMAGE_MAX_WIDTH, height: 320, mime: 'image/png' });
    const bytes = fs.readFileSync(nodeWx.realPath(image!.path));
    expect(readImageHeader(bytes)).toEqual({ type: 'png', width: IMAGE_MAX_WIDTH, height: 320 });
    expect(image!.size).toBe(bytes.length);
  });

  it('keeps the size of a small image, and returns null when the user cancels', async () => {
    nodeWx.chooseNext([small]);
    expect(await pickImage()).toMatchObject({ width: 300, height: 200, mime: 'image/png' });
    expect(await pickImage()).toBeNull();
  });

  it('uploads multipart with the auth headers and progress, and maps Storage errors', async () => {
    const uploads: Array<{
      headers: http.IncomingHttpHeaders;
      url: string;
      fields: Record<string, string>;
      file: Buffer;
      fileField: string;
    }> = [];
    const storage = http.createServer((req, res) => {
      const fields: Record<string, string> = {};
      let file = Buffer.alloc(0);
      let fileField = '';
      const form = busboy({ headers: req.headers });
      form.on('field', (name, value) => (fields[name] = value));
      form.on('file', (name, stream) => {
        fileField = name;
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => (file = Buffer.concat(chunks)));
      });
      form.on('close', () => {
        uploads.push({ headers: req.headers, url: req.url!, fields, file, fileField });
        if (uploads.length === 1) {
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"Key":"images/u/a.png"}');
        } else {
          res.writeHead(400, { 'content-type': 'application/json' });
          res.end('{"statusCode":"409","code":"KeyAlreadyExists","error":"Duplicate","message":"The resource already exists"}');
        }
      });
      req.pipe(form);
    });
    await new Promise<void>((resolve) => storage.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(storage.address() as AddressInfo).port}`;
    const uploader = createImageUploader({ url, anonKey: 'anon', accessToken: async () => 'user-jwt' });
    nodeWx.chooseNext([wide]);
    const image = (await pickImage())!;
    const progress: number[] = [];
    await uploader.upload('u/2026-11/a.png', image, (p) => progress.push(p)).done;

    const [upload] = uploads;
    expect(upload.url).toBe('/storage/v1/object/images/u/2026-11/a.png');
    expect(upload.headers.authorization).toBe('Bearer user-jwt');
    expect(upload.headers.apikey).toBe('anon');
    expect(upload.headers['x-upsert']).toBe('false');
    expect(upload.fields.contentType).toBe('image/png');
    expect(upload.fileField).toBe('file');
    expect(upload.file.equals(fs.readFileSync(nodeWx.realPath(image.path)))).toBe(true);
    expect(progress.length).toBeGreaterThan(1);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress[progress.length - 1]).toBe(100);

    const duplicate = await uploader.upload('u/2026-11/a.png', image, () => undefined).done.catch((e: unknown) => e);
    expect(duplicate).toBeInstanceOf(BackendFailure);
    expect(duplicate).toMatchObject({ status: 409, code: 'Duplicate' });
    await new Promise((resolve) => storage.close(resolve));
  });

  it('keeps the picked image as a saved file (temp files die with the launch); a missing file is unreadable', async () => {
    const uploader = createImageUploader({ url: base, anonKey: 'anon', accessToken: async () => 'jwt' });
    nodeWx.chooseNext([small]);
    const image = (await pickImage())!;
    // A saved file, not a temp one: the outbox stores this path and uses it after a restart.
    expect(image.path.startsWith('wxfile://tmp/')).toBe(false);
    expect(fs.existsSync(nodeWx.realPath(image.path))).toBe(true);
    // Once the message is stored the core releases the image: the saved file is removed.
    uploader.release!(image);
    await waitFor('the condition', () => !fs.existsSync(nodeWx.realPath(image.path)), 3000);
    // A message whose file is gone cannot be sent by any retry: a rejection the core shows in Chinese.
    const failure = await uploader.upload('u/z.png', image, () => undefined).done.catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(BackendFailure);
    expect(failure).toMatchObject({ status: 400, code: 'file_unreadable' });
    expect(received).toHaveLength(0);
  });

  it('prunes the saved images of earlier launches that no pending message uses, and keeps the rest', async () => {
    nodeWx.chooseNext([small]);
    const pending = (await pickImage())!;
    nodeWx.chooseNext([small]);
    const orphan = (await pickImage())!;
    // Both were saved an hour before this launch.
    const anHourAgo = new Date(Date.now() - 3600 * 1000);
    for (const image of [pending, orphan]) fs.utimesSync(nodeWx.realPath(image.path), anHourAgo, anHourAgo);
    const uploader = createImageUploader({ url: base, anonKey: 'anon', accessToken: async () => 'jwt' });
    // Saved during this launch, not yet handed to the outbox.
    nodeWx.chooseNext([small]);
    const justPicked = (await pickImage())!;

    uploader.prune!([pending.path]);
    await waitFor('the orphan to be removed', () => !fs.existsSync(nodeWx.realPath(orphan.path)), 3000);
    expect(fs.existsSync(nodeWx.realPath(pending.path))).toBe(true);
    expect(fs.existsSync(nodeWx.realPath(justPicked.path))).toBe(true);
  });

  it('cancels an upload in flight, and fails uploads while offline', async () => {
    const held: http.IncomingMessage[] = [];
    const storage = http.createServer((req) => held.push(req));
    await new Promise<void>((resolve) => storage.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(storage.address() as AddressInfo).port}`;
    const uploader = createImageUploader({ url, anonKey: 'anon', accessToken: async () => 'jwt' });
    nodeWx.chooseNext([small]);
    const image = (await pickImage())!;

    const task = uploader.upload('u/x.png', image, () => undefined);
    await waitFor('the condition', () => held.length === 1, 3000);
    task.cancel();
    await expect(task.done).rejects.toMatchObject({ status: 0, code: 'cancelled', message: 'uploadFile:fail abort' });

    nodeWx.setOffline(true);
    await expect(uploader.upload('u/y.png', image, () => undefined).done).rejects.toMatchObject({
      status: 0,
      message: expect.stringMatching(/^uploadFile:fail /),
    });
    storage.closeAllConnections();
    await new Promise((resolve) => storage.close(resolve));
  });
});
