// The fault proxy, against a small real HTTP + WebSocket server: each fault kind must really happen
// on real sockets (the chaos test's claims rest on it), and the same seed must make the same choices.
import http from 'node:http';
import net from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { startFaultProxy, type FaultKind, type FaultProxy } from './support/fault-proxy';
import { waitFor } from './support/wait';

interface Upstream {
  port: number;
  /** Bodies of requests the server read in full and answered: what a database would have committed. */
  committed: string[];
  close(): Promise<void>;
}

async function startUpstream(): Promise<Upstream> {
  const committed: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      committed.push(body);
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ stored: body, padding: 'x'.repeat(2000) }));
    });
  });
  const sockets = new WebSocketServer({ server });
  sockets.on('connection', (socket) => socket.on('message', (data) => socket.send(data.toString())));
  const port = await new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)),
  );
  return {
    port,
    committed,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of sockets.clients) client.terminate();
        sockets.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

type Outcome = { status: number; body: string } | { error: string };

async function post(proxy: FaultProxy, body: string): Promise<Outcome> {
  try {
    const response = await fetch(`${proxy.url}/rest/v1/messages`, { method: 'POST', body });
    return { status: response.status, body: await response.text() };
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return { error: (cause && (cause.code || cause.message)) || String(error) };
  }
}

function only(kind: FaultKind) {
  return { httpRate: 1, httpKinds: { [kind]: 1 } };
}

function openSocket(proxy: FaultProxy): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${proxy.url.replace('http', 'ws')}/realtime/v1/websocket`);
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

function echo(socket: WebSocket, text: string): Promise<string> {
  return new Promise((resolve) => {
    socket.once('message', (data) => resolve(data.toString()));
    socket.send(text);
  });
}

describe('fault proxy', () => {
  let upstream: Upstream;
  const proxies: FaultProxy[] = [];
  const proxy = async (seed = 1, faults = {}) => {
    const started = await startFaultProxy({ targetPort: upstream.port, seed, faults });
    proxies.push(started);
    return started;
  };

  beforeAll(async () => {
    upstream = await startUpstream();
  });
  afterEach(async () => {
    while (proxies.length) await proxies.pop()!.close();
    upstream.committed.length = 0;
  });
  afterAll(() => upstream.close());

  test('without faults it forwards HTTP and WebSocket traffic unchanged', async () => {
    const clean = await proxy();
    expect(await post(clean, 'hello')).toEqual({ status: 201, body: expect.stringContaining('"stored":"hello"') });
    const socket = await openSocket(clean);
    expect(await echo(socket, 'ping')).toBe('ping');
    expect(clean.openConnections().websocket).toBe(1);
    socket.close();
    expect(clean.faults()).toEqual([]);
  });

  test('cut-response: the server commits, the client never hears back', async () => {
    const cutting = await proxy(2, only('cut-response'));
    for (let i = 0; i < 6; i++) {
      const outcome = await post(cutting, `insert ${i}`);
      expect(outcome).toHaveProperty('error');
    }
    // Every request reached the server in full and was answered: the "insert" happened.
    expect(upstream.committed).toEqual([0, 1, 2, 3, 4, 5].map((i) => `insert ${i}`));
    const faults = cutting.faults();
    expect(faults).toHaveLength(6);
    for (const fault of faults)
      expect(fault).toMatchObject({ kind: 'cut-response', traffic: 'http', request: 'POST /rest/v1/messages', status: 201 });
  });

  test('cut-request: the request dies half-sent and the server never runs it', async () => {
    const cutting = await proxy(3, only('cut-request'));
    expect(await post(cutting, 'never')).toHaveProperty('error');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(upstream.committed).toEqual([]);
    expect(cutting.faults()).toEqual([{ kind: 'cut-request', traffic: 'http', request: 'POST /rest/v1/messages' }]);
  });

  test('reset: the client receives a TCP RST (ECONNRESET) and nothing reaches the server', async () => {
    const resetting = await proxy(4, only('reset'));
    const error = await new Promise<NodeJS.ErrnoException>((resolve) => {
      const socket = net.connect(resetting.port, '127.0.0.1', () => {
        socket.write('POST /rest/v1/messages HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\nhi');
      });
      socket.on('error', resolve);
    });
    expect(error.code).toBe('ECONNRESET');
    expect(upstream.committed).toEqual([]);
    expect(resetting.faults()).toEqual([{ kind: 'reset', traffic: 'http', request: 'POST /rest/v1/messages' }]);
  });

  test('stall: the request is held for the stall time, then completes', async () => {
    const stalling = await proxy(5, { ...only('stall'), stallMs: [400, 400] });
    const started = Date.now();
    expect(await post(stalling, 'slow')).toMatchObject({ status: 201 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(380);
    expect(stalling.faults()).toEqual([{ kind: 'stall', traffic: 'http', request: 'POST /rest/v1/messages' }]);
  });

  test('an open WebSocket can be reset and stalled', async () => {
    const sockets = await proxy(6);
    const socket = await openSocket(sockets);
    expect(sockets.stallWebSocket(400)).toBe(true);
    const started = Date.now();
    expect(await echo(socket, 'held')).toBe('held');
    expect(Date.now() - started).toBeGreaterThanOrEqual(380);

    const closed = new Promise<number>((resolve) => socket.once('close', resolve));
    expect(sockets.resetWebSocket()).toBe(true);
    // 1006: closed without a closing handshake, as a dropped connection is.
    expect(await closed).toBe(1006);
    expect(sockets.resetWebSocket()).toBe(false);
    expect(sockets.faults().map((fault) => `${fault.traffic} ${fault.kind}`)).toEqual(['websocket stall', 'websocket reset']);
  });

  test('WebSocket faults on a timer hit open sockets', async () => {
    const ticking = await proxy(7, { webSocketEveryMs: 50, webSocketResetShare: 1 });
    const socket = await openSocket(ticking);
    await new Promise((resolve) => socket.once('close', resolve));
    await waitFor('the condition', () => ticking.faults().length > 0, 3000);
    expect(ticking.faults()[0]).toEqual({ kind: 'reset', traffic: 'websocket', request: '' });
  });

  test('the same seed makes the same decisions; another seed makes others', async () => {
    const decisions = async (seed: number) => {
      const seeded = await proxy(seed, { httpRate: 0.5, stallMs: [5, 10] });
      for (let i = 0; i < 40; i++) await post(seeded, `r${i}`);
      return seeded.faults().map((fault) => fault.kind);
    };
    const first = await decisions(42);
    expect(first.length).toBeGreaterThan(8);
    expect(new Set(first).size).toBe(4);
    expect(await decisions(42)).toEqual(first);
    expect(await decisions(43)).not.toEqual(first);
  });
});
