// pg_net's worker (supabase/pg_net src/worker.c, src/core.c) as a connection of local-supabase's
// process. It sleeps until a transaction that queued a request commits (net.wake() notifies at
// commit), then takes up to pg_net.batch_size requests off net.http_request_queue, sends them all
// at once with each one's timeout, records every outcome in net._http_response and deletes
// responses older than pg_net.ttl, all in one transaction: if the process dies mid-batch the
// requests return to the queue, as they do when pg_net's worker dies. After a batch that did
// something it looks again within a second, as pg_net does, until the queue is drained.
//
// Outcomes are recorded as libcurl reports them: status, headers, content and content type of the
// last response after following redirects; otherwise timed_out and error_msg with libcurl's words.
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

/** pg_net's version (sql/extensions/pg_net.control); its worker names itself `pg_net <version>`. */
const PG_NET_VERSION = '0.20.4';
/** What net.wake() notifies (sql/extensions/pg_net--0.20.4.sql). */
const WAKE_CHANNEL = 'pg_net_wake';
/**
 * pg_net relies on its wakes alone. A wake can be missed here only while the connection is down,
 * and reconnecting looks at the queue anyway; the slow poll is a safety net, which also sends rows
 * inserted straight into the queue (pg_net would leave those until the next wake).
 */
const POLL_MS = 5000;
const BETWEEN_BATCHES_MS = 1000;
const RECONNECT_MS = 1000;
/** libcurl's default limit on redirects followed (CURLOPT_MAXREDIRS, since curl 8.3.0). */
const MAX_REDIRECTS = 30;

interface QueuedRequest {
  id: number;
  method: string;
  url: string;
  timeout_milliseconds: number;
  headers: Record<string, unknown> | null;
  body: Buffer | null;
}

interface Outcome {
  id: number;
  status_code: number | null;
  content_type: string | null;
  headers: Record<string, string> | null;
  content: string | null;
  timed_out: boolean | null;
  error_msg: string | null;
}

interface Received {
  status: number;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  content: Buffer;
}

/** Milliseconds from the start of a request to its DNS answer and to its connection (0: not reached). */
interface Phases {
  lookup: number;
  connect: number;
}

/** The connection broke while the response was being read. */
class ReceiveError extends Error {}

const SETTINGS = `
  select to_regclass('net.http_request_queue') is not null and to_regclass('net._http_response') is not null as installed,
         coalesce(nullif(current_setting('pg_net.batch_size', true), ''), '200')::int as batch_size,
         coalesce(nullif(current_setting('pg_net.ttl', true), ''), '6 hours') as ttl`;
const DELETE_EXPIRED = `
  delete from net._http_response r
  using (select ctid from net._http_response where created < now() - $1::interval order by created limit $2) expired
  where r.ctid = expired.ctid`;
const TAKE_BATCH = `
  delete from net.http_request_queue q
  using (select id from net.http_request_queue order by id limit $1) batch
  where q.id = batch.id
  returning q.id, q.method, q.url, q.timeout_milliseconds, q.headers, q.body`;
const RECORD = `
  insert into net._http_response (id, status_code, content_type, headers, content, timed_out, error_msg)
  select * from jsonb_to_recordset($1::jsonb)
    as r(id bigint, status_code int, content_type text, headers jsonb, content text, timed_out bool, error_msg text)`;

export interface NetWorker {
  stop(): Promise<void>;
}

export function startNetWorker(connectionString: string, log: (line: string) => void): NetWorker {
  const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
  const stopping = new AbortController();
  let db: pg.Client | undefined;
  // pg_net's worker looks at the queue when it starts, then after every wake.
  let wanted = true;
  let resume: (() => void) | undefined;

  const wake = () => {
    wanted = true;
    resume?.();
  };
  /** Waits `ms`, or less if woken or stopped. */
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      if (wanted || stopping.signal.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resume = undefined;
        resolve();
      }
      resume = done;
    });

  async function connect(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString, application_name: `pg_net ${PG_NET_VERSION}` });
    client.on('error', (err) => {
      if (db !== client) return;
      log(`pg_net worker: connection lost (${err.message})`);
      db = undefined;
      resume?.();
    });
    client.on('notification', wake);
    try {
      await client.connect();
      await client.query(`listen ${WAKE_CHANNEL}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    wanted = true;
    return client;
  }

  /** One batch; true when it sent or deleted anything. */
  async function pass(client: pg.Client): Promise<boolean> {
    // `begin` first: a configuration reload reaches a session only after the command it was idle
    // before, so the settings below are read after it.
    await client.query('begin');
    try {
      const settings = (await client.query<{ installed: boolean; batch_size: number; ttl: string }>(SETTINGS)).rows[0];
      if (!settings.installed) {
        await client.query('commit');
        return false;
      }
      const expired = (await client.query(DELETE_EXPIRED, [settings.ttl, settings.batch_size])).rowCount ?? 0;
      const batch = (await client.query<QueuedRequest>(TAKE_BATCH, [settings.batch_size])).rows;
      const outcomes = await Promise.all(batch.map(send));
      if (batch.length) await client.query(RECORD, [JSON.stringify(outcomes)]);
      await client.query('commit');
      return batch.length > 0 || expired > 0;
    } catch (err) {
      await client.query('rollback').catch(() => undefined);
      throw err;
    }
  }

  async function send(request: QueuedRequest): Promise<Outcome> {
    const started = performance.now();
    const phases: Phases = { lookup: 0, connect: 0 };
    const timeout = request.timeout_milliseconds > 0 ? [AbortSignal.timeout(request.timeout_milliseconds)] : [];
    const signal = AbortSignal.any([stopping.signal, ...timeout]);
    const failed = (error: string, timedOut = false): Outcome => ({
      id: request.id,
      status_code: null,
      content_type: null,
      headers: null,
      content: null,
      timed_out: timedOut,
      error_msg: error,
    });
    let method = request.method.toUpperCase();
    let body = request.body;
    const headers = requestHeaders(request);
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return failed('URL using bad/illegal format or missing URL');
    }
    try {
      for (let redirects = 0; ; redirects++) {
        if (url.protocol !== 'http:' && url.protocol !== 'https:') return failed('Unsupported protocol');
        const received = await exchange(url, method, headers, body, signal, phases, started);
        const location = received.headers.location;
        if (![301, 302, 303, 307, 308].includes(received.status) || !location) return answered(request.id, received);
        if (redirects === MAX_REDIRECTS) return failed('Number of redirects hit maximum amount');
        const next = new URL(location, url);
        // libcurl turns a POST into a GET after 301, 302 and 303, and any method after 303.
        if (received.status === 303 || (received.status < 303 && method === 'POST')) {
          method = 'GET';
          body = null;
        }
        // …and does not send credentials given as headers to another host.
        if (next.host !== url.host)
          for (const name of Object.keys(headers)) if (/^(authorization|cookie)$/i.test(name)) delete headers[name];
        url = next;
      }
    } catch (err) {
      if (stopping.signal.aborted) throw err;
      if (signal.aborted) return failed(timeoutMessage(request.timeout_milliseconds, performance.now() - started, phases), true);
      return failed(curlError(err as NodeJS.ErrnoException));
    }
  }

  function exchange(
    url: URL,
    method: string,
    headers: Record<string, string>,
    body: Buffer | null,
    signal: AbortSignal,
    phases: Phases,
    started: number,
  ): Promise<Received> {
    return new Promise((resolve, reject) => {
      const secure = url.protocol === 'https:';
      const sent = { ...headers };
      if (body || method === 'POST') sent['Content-Length'] = String(body?.length ?? 0);
      const request = (secure ? https : http).request(
        url,
        { method, headers: sent, agent: secure ? agents.https : agents.http, signal },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', (err) => reject(new ReceiveError(err.message)));
          res.on('end', () =>
            resolve({ status: res.statusCode!, headers: res.headers, rawHeaders: res.rawHeaders, content: Buffer.concat(chunks) }),
          );
        },
      );
      request.on('socket', (socket) => {
        const elapsed = () => performance.now() - started;
        if (!socket.connecting) {
          phases.lookup ||= elapsed();
          phases.connect ||= elapsed();
          return;
        }
        if (isIP(url.hostname.replace(/^\[|\]$/g, ''))) phases.lookup ||= elapsed();
        socket.once('lookup', () => (phases.lookup = elapsed()));
        socket.once(secure ? 'secureConnect' : 'connect', () => {
          phases.lookup ||= elapsed();
          phases.connect = elapsed();
        });
      });
      request.on('error', reject);
      request.end(body ?? undefined);
    });
  }

  const running = (async () => {
    while (!stopping.signal.aborted) {
      try {
        db ??= await connect();
        wanted = false;
        const busy = await pass(db);
        await pause(busy ? BETWEEN_BATCHES_MS : POLL_MS);
      } catch (err) {
        if (stopping.signal.aborted) break;
        log(`pg_net worker: ${(err as Error).message}`);
        // A refused statement leaves the connection usable: wait for the next wake (a connection
        // lost meanwhile cuts the wait short). Anything else needs a new connection, after a while.
        if (db && err instanceof pg.DatabaseError) {
          await pause(POLL_MS);
        } else {
          db?.end().catch(() => undefined);
          db = undefined;
          await sleep(RECONNECT_MS, undefined, { signal: stopping.signal }).catch(() => undefined);
        }
      }
    }
  })();

  return {
    async stop() {
      stopping.abort();
      resume?.();
      await running;
      await db?.end().catch(() => undefined);
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}

/**
 * The request's headers as pg_net hands them to libcurl, plus what libcurl adds by itself:
 * `Accept: *\/*`, the form content type for a body without one, and pg_net's User-Agent when the
 * request has headers at all. A null value drops its header, as pg_net skips it.
 */
function requestHeaders(request: QueuedRequest): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    if (value !== null) headers[name] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  const has = (name: string) => Object.keys(headers).some((key) => key.toLowerCase() === name);
  if (!has('accept')) headers.Accept = '*/*';
  if (request.body && !has('content-type')) headers['Content-Type'] = 'application/x-www-form-urlencoded';
  if (request.headers && !has('user-agent')) headers['User-Agent'] = `pg_net/${PG_NET_VERSION}`;
  return headers;
}

function answered(id: number, received: Received): Outcome {
  const headers: Record<string, string> = {};
  for (let i = 0; i < received.rawHeaders.length; i += 2) headers[received.rawHeaders[i]] = received.rawHeaders[i + 1];
  // Postgres text holds no NUL; invalid UTF-8 becomes U+FFFD.
  const content = new TextDecoder().decode(received.content).replaceAll('\0', '');
  return {
    id,
    status_code: received.status,
    content_type: received.headers['content-type'] ?? null,
    headers,
    content: content || null,
    timed_out: false,
    error_msg: null,
  };
}

/** pg_net's timeout message (src/errors.c detailed_timeout_strerror): where the time went. */
function timeoutMessage(timeoutMs: number, total: number, phases: Phases): string {
  const dns = phases.lookup || total;
  const handshake = !phases.lookup ? 0 : (phases.connect || total) - phases.lookup;
  const exchange = phases.connect ? total - phases.connect : 0;
  const ms = (value: number) => `${value.toFixed(6)} ms`;
  return `Timeout of ${timeoutMs} ms reached. Total time: ${ms(total)} (DNS time: ${ms(dns)}, TCP/SSL handshake time: ${ms(handshake)}, HTTP Request/Response time: ${ms(exchange)})`;
}

/** libcurl's message (curl_easy_strerror) for what Node reports. */
function curlError(err: NodeJS.ErrnoException): string {
  if (err instanceof ReceiveError) return 'Failure when receiving data from the peer';
  switch (err.code) {
    case 'ECONNREFUSED':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return "Couldn't connect to server";
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
      return "Couldn't resolve host name";
    case 'ECONNRESET':
    case 'EPIPE':
      return 'Server returned nothing (no headers, no data)';
  }
  return err.code?.startsWith('HPE_') ? 'Weird server reply' : err.message;
}
