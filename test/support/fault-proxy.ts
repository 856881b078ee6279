// A TCP proxy on loopback that breaks traffic on purpose: it sits between clients and
// local-supabase and, driven by a seeded random generator, resets sockets, stalls them, and cuts
// HTTP requests mid-flight — including after the server has answered (so after it committed) but
// before the client heard back. Every fault is recorded, so a test can prove it hit hard enough.
//
// It speaks just enough HTTP to see where a request starts and whether it asks for a WebSocket:
// clients here (undici's fetch, ws) send one request at a time per connection, so a client chunk
// that arrives after the server started answering is the next request.
import net from 'node:net';

export type FaultKind = 'reset' | 'stall' | 'cut-request' | 'cut-response';
export type Traffic = 'http' | 'websocket';

export interface FaultRecord {
  kind: FaultKind;
  traffic: Traffic;
  /** Request line of the request hit, e.g. "POST /rest/v1/messages?select=*"; '' for a live WebSocket. */
  request: string;
  /** For cut-response: the status the server had sent (so 201 proves the insert was committed). */
  status?: number;
}

export interface FaultSettings {
  /** Probability that one HTTP request (an upgrade included) gets a fault. */
  httpRate: number;
  /** Relative weights of the HTTP fault kinds; a kind left out never happens. */
  httpKinds: Partial<Record<FaultKind, number>>;
  /** Every this many ms one open WebSocket is reset or stalled (0: never). */
  webSocketEveryMs: number;
  /** Share of those WebSocket faults that are resets rather than stalls. */
  webSocketResetShare: number;
  /** How long a stall holds a connection, chosen uniformly in this range. */
  stallMs: [number, number];
}

export const NO_FAULTS: FaultSettings = {
  httpRate: 0,
  httpKinds: { reset: 1, stall: 1, 'cut-request': 1, 'cut-response': 2 },
  webSocketEveryMs: 0,
  webSocketResetShare: 0.5,
  stallMs: [200, 1500],
};

export interface FaultProxyOptions {
  /** The local-supabase port on 127.0.0.1 that traffic goes to. */
  targetPort: number;
  seed: number;
  faults?: Partial<FaultSettings>;
}

export interface FaultProxy {
  /** http://127.0.0.1:<port>: give this to clients instead of the server's URL. */
  url: string;
  port: number;
  /** Changes the fault settings from now on (e.g. off before a test checks convergence). */
  configure(faults: Partial<FaultSettings>): void;
  /** Resets one open WebSocket now; false when none is open. */
  resetWebSocket(): boolean;
  /** Stalls one open WebSocket now for `ms`; false when none is open. */
  stallWebSocket(ms: number): boolean;
  /** Down: every open connection is dropped and new ones are refused, until set up again. */
  setDown(down: boolean): void;
  /** The next request whose request line starts with this reaches the server; its answer is cut. */
  cutResponseTo(requestLinePrefix: string): void;
  faults(): FaultRecord[];
  /** Requests seen so far: HTTP requests, and WebSocket upgrades. */
  requests(): Record<Traffic, number>;
  /** Connections currently open, by what they carry. */
  openConnections(): Record<Traffic, number>;
  close(): Promise<void>;
}

/** mulberry32: small, fast and good enough to make fault decisions repeatable from a seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const REQUEST_LINE = /^([A-Z]+) (\S+) HTTP\/1\.[01]\r\n/;
const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})/;

/** One proxied TCP connection and where it is in its request/response cycle. */
interface Connection {
  id: number;
  client: net.Socket;
  upstream: net.Socket;
  traffic: Traffic;
  /** Waiting for the next request line from the client (vs. inside a request or its answer). */
  awaitingRequest: boolean;
  requestLine: string;
  /** A fault that strikes when the server's answer to the current request starts. */
  cutResponse: boolean;
  /** Chunks held while the connection is stalled, in order, per direction. */
  held: { toUpstream: Buffer[]; toClient: Buffer[] } | null;
  closed: boolean;
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  let settings: FaultSettings = { ...NO_FAULTS, ...options.faults };
  // Separate streams, so the HTTP decisions for a given request order do not depend on when the
  // WebSocket timer happened to fire in between.
  const httpRandom = seededRandom(options.seed);
  const socketRandom = seededRandom(options.seed ^ 0x5bd1e995);
  const records: FaultRecord[] = [];
  const requestCounts: Record<Traffic, number> = { http: 0, websocket: 0 };
  const connections = new Map<number, Connection>();
  let nextId = 1;
  let webSocketTimer: NodeJS.Timeout | null = null;
  let down = false;
  let cutNext: string | null = null;

  const record = (fault: FaultRecord) => records.push(fault);
  const stallDuration = (random: () => number) => Math.round(settings.stallMs[0] + random() * (settings.stallMs[1] - settings.stallMs[0]));

  const close = (conn: Connection, reset: boolean) => {
    if (conn.closed) return;
    conn.closed = true;
    connections.delete(conn.id);
    // resetAndDestroy sends a TCP RST, what a dropped mobile connection or a killed NAT entry
    // looks like to the client; a plain destroy would be an orderly FIN.
    if (reset && !conn.client.destroyed) conn.client.resetAndDestroy();
    else conn.client.destroy();
    conn.upstream.destroy();
  };

  const stall = (conn: Connection, ms: number) => {
    if (conn.held) return;
    conn.held = { toUpstream: [], toClient: [] };
    conn.client.pause();
    conn.upstream.pause();
    setTimeout(() => {
      const held = conn.held;
      conn.held = null;
      if (!held || conn.closed) return;
      for (const chunk of held.toUpstream) conn.upstream.write(chunk);
      for (const chunk of held.toClient) conn.client.write(chunk);
      conn.client.resume();
      conn.upstream.resume();
    }, ms);
  };

  const chooseHttpFault = (): FaultKind | null => {
    if (settings.httpRate <= 0 || httpRandom() >= settings.httpRate) return null;
    const kinds = (Object.keys(settings.httpKinds) as FaultKind[]).filter((kind) => (settings.httpKinds[kind] ?? 0) > 0);
    const total = kinds.reduce((sum, kind) => sum + (settings.httpKinds[kind] ?? 0), 0);
    let pick = httpRandom() * total;
    for (const kind of kinds) {
      pick -= settings.httpKinds[kind] ?? 0;
      if (pick < 0) return kind;
    }
    return kinds.length ? kinds[kinds.length - 1] : null;
  };

  /** A new request starts with `chunk`: decides its fault; returns false when the chunk must not be forwarded. */
  const startRequest = (conn: Connection, chunk: Buffer): boolean => {
    const head = chunk.toString('latin1', 0, Math.min(chunk.length, 8192));
    const line = REQUEST_LINE.exec(head);
    conn.awaitingRequest = false;
    conn.cutResponse = false;
    if (!line) return true;
    conn.requestLine = `${line[1]} ${line[2]}`;
    if (/\r\nupgrade:\s*websocket/i.test(head)) conn.traffic = 'websocket';
    requestCounts[conn.traffic]++;
    if (cutNext !== null && conn.requestLine.startsWith(cutNext)) {
      cutNext = null;
      conn.cutResponse = true;
      return true;
    }
    const fault = chooseHttpFault();
    if (!fault) return true;
    const base = { kind: fault, traffic: conn.traffic, request: conn.requestLine };
    switch (fault) {
      case 'reset':
        record(base);
        close(conn, true);
        return false;
      case 'cut-request':
        // Half of the first chunk: the server sees an incomplete request, then the connection dies.
        record(base);
        conn.upstream.write(chunk.subarray(0, Math.max(1, chunk.length >> 1)), () => close(conn, true));
        return false;
      case 'stall':
        record(base);
        stall(conn, stallDuration(httpRandom));
        return true;
      case 'cut-response':
        // Recorded when it strikes, with the status the server had already decided on.
        conn.cutResponse = true;
        return true;
    }
  };

  const fromClient = (conn: Connection, chunk: Buffer) => {
    if (conn.closed) return;
    if (conn.traffic === 'http' && conn.awaitingRequest && !startRequest(conn, chunk)) return;
    if (conn.closed) return;
    if (conn.held) conn.held.toUpstream.push(chunk);
    else conn.upstream.write(chunk);
  };

  const fromUpstream = (conn: Connection, chunk: Buffer) => {
    if (conn.closed) return;
    if (conn.cutResponse) {
      conn.cutResponse = false;
      const status = STATUS_LINE.exec(chunk.toString('latin1', 0, Math.min(chunk.length, 32)));
      record({ kind: 'cut-response', traffic: conn.traffic, request: conn.requestLine, status: status ? Number(status[1]) : undefined });
      // Half the time nothing of the answer arrives, half the time a torn piece of it does.
      const partial = httpRandom() < 0.5 ? chunk.subarray(0, chunk.length >> 1) : null;
      if (partial?.length) conn.client.write(partial, () => close(conn, true));
      else close(conn, true);
      return;
    }
    if (conn.traffic === 'http') conn.awaitingRequest = true;
    if (conn.held) conn.held.toClient.push(chunk);
    else conn.client.write(chunk);
  };

  const openWebSockets = () =>
    [...connections.values()].filter((conn) => conn.traffic === 'websocket' && !conn.awaitingRequest && !conn.closed);

  const pickWebSocket = (): Connection | null => {
    const open = openWebSockets();
    return open.length ? open[Math.floor(socketRandom() * open.length)] : null;
  };

  const resetWebSocket = (): boolean => {
    const conn = pickWebSocket();
    if (!conn) return false;
    record({ kind: 'reset', traffic: 'websocket', request: '' });
    close(conn, true);
    return true;
  };

  const stallWebSocket = (ms: number): boolean => {
    const conn = pickWebSocket();
    if (!conn || conn.held) return false;
    record({ kind: 'stall', traffic: 'websocket', request: '' });
    stall(conn, ms);
    return true;
  };

  const scheduleWebSocketFaults = () => {
    if (webSocketTimer) clearInterval(webSocketTimer);
    webSocketTimer = null;
    if (settings.webSocketEveryMs <= 0) return;
    webSocketTimer = setInterval(() => {
      if (socketRandom() < settings.webSocketResetShare) resetWebSocket();
      else stallWebSocket(stallDuration(socketRandom));
    }, settings.webSocketEveryMs);
  };

  const server = net.createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = net.connect(options.targetPort, '127.0.0.1');
    const conn: Connection = {
      id: nextId++,
      client,
      upstream,
      traffic: 'http',
      awaitingRequest: true,
      requestLine: '',
      cutResponse: false,
      held: null,
      closed: false,
    };
    connections.set(conn.id, conn);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.on('data', (chunk: Buffer) => fromClient(conn, chunk));
    upstream.on('data', (chunk: Buffer) => fromUpstream(conn, chunk));
    // Either side ending or failing ends the pair, the way a real middlebox would.
    for (const socket of [client, upstream]) {
      socket.on('error', () => close(conn, false));
      socket.on('close', () => close(conn, false));
    }
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
  });

  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
  });
  scheduleWebSocketFaults();

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    configure(faults) {
      settings = { ...settings, ...faults };
      scheduleWebSocketFaults();
    },
    resetWebSocket,
    stallWebSocket,
    setDown(value) {
      down = value;
      if (down) for (const conn of [...connections.values()]) close(conn, false);
    },
    cutResponseTo(prefix) {
      cutNext = prefix;
    },
    faults: () => records.slice(),
    requests: () => ({ ...requestCounts }),
    openConnections() {
      const counts: Record<Traffic, number> = { http: 0, websocket: 0 };
      for (const conn of connections.values()) counts[conn.traffic]++;
      return counts;
    },
    close() {
      if (webSocketTimer) clearInterval(webSocketTimer);
      webSocketTimer = null;
      for (const conn of [...connections.values()]) close(conn, false);
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
