// The chaos run shared by test/chaos.test.ts and bench/chaos.ts: many clients — the core's room
// session over the official supabase-js, wired as the terminal client wires it — send messages at
// random moments through the fault proxy while their apps go to the background and come back, or
// are killed and relaunched. Then faults stop, and every client's list must converge to exactly
// the database's: same ids, same order, the same states, nothing missing, nothing twice.
//
// With content moderation on, the server's own path breaks too: pg_net reaches the moderate
// function through a second fault proxy (Vault's project_url points at it for the run), and the
// fake WeChat API answers bursts of msg_sec_check calls "busy" (errcode -1), each burst long
// enough to exhaust one call's own retries. Every message must still end visible to everyone:
// the database retries until a verdict.
//
// Rate limit (10 messages per 10 s per user): each client's schedule keeps any 10 s to at most 10
// sends, but faults, backoff and hidden periods bunch sends together, so the server still refuses
// some (PT429). The outbox waits and resends those by itself; a message that turns 'failed' for
// any reason is a finding and fails the run.
import type { SupabaseClient } from '@supabase/supabase-js';
import pg from 'pg';
import type { FakeWechat } from '../../local-supabase/src/wechat/fake-api';
import { ROOM_SLUG } from '../../miniprogram/config';
import { zh } from '../../miniprogram/core/strings';
import type { KeyValueStore } from '../../miniprogram/core/ports';
import { memoryStore } from './memory-store';
import { RoomSession } from '../../miniprogram/core/room-session';
import { pauseClient, resumeClient } from '../../miniprogram/platform/lifecycle';
import type { ChatMessage, ConnectionState, Profile, RoomPatch } from '../../miniprogram/core/types';
import { seededRandom, startFaultProxy, type FaultRecord, type Traffic } from './fault-proxy';
import { sleep, waitFor } from './wait';
import { localWechatLogin, nodeBackend, nodeClient } from '../../lib/node-client';

export interface ChaosSize {
  clients: number;
  messagesPerClient: number;
  /** Probability that an HTTP request through the proxy gets a fault. */
  httpFaultRate: number;
  /** Every this many ms one open realtime socket is reset or stalled. */
  webSocketFaultEveryMs: number;
  /** Background/foreground cycles per client; about a third of them are app kills + relaunches. */
  hidesPerClient: number;
  /** Probability that a request from pg_net to the moderate function gets a fault. */
  pipelineFaultRate: number;
  /** Every this many ms, WeChat answers the next few msg_sec_check calls busy (0: never). */
  wechatBusyEveryMs: number;
  seed: number;
}

export const TEST_SIZE: ChaosSize = {
  clients: 20,
  messagesPerClient: 50,
  httpFaultRate: 0.08,
  webSocketFaultEveryMs: 1000,
  hidesPerClient: 2,
  pipelineFaultRate: 0.08,
  wechatBusyEveryMs: 2000,
  seed: 20261121,
};

/**
 * `defaults`, overridden by CHAOS_CLIENTS, CHAOS_MESSAGES, CHAOS_FAULT_RATE, CHAOS_WS_FAULT_MS, CHAOS_HIDES,
 * CHAOS_PIPELINE_FAULT_RATE, CHAOS_WECHAT_BUSY_MS, CHAOS_SEED.
 */
export function chaosSizeFromEnv(defaults: ChaosSize, env: NodeJS.ProcessEnv = process.env): ChaosSize {
  const number = (name: string, fallback: number) => {
    const value = env[name];
    if (value === undefined || value === '') return fallback;
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed < 0) throw new Error(`${name}=${value} is not a non-negative number`);
    return parsed;
  };
  return {
    clients: number('CHAOS_CLIENTS', defaults.clients),
    messagesPerClient: number('CHAOS_MESSAGES', defaults.messagesPerClient),
    httpFaultRate: number('CHAOS_FAULT_RATE', defaults.httpFaultRate),
    webSocketFaultEveryMs: number('CHAOS_WS_FAULT_MS', defaults.webSocketFaultEveryMs),
    hidesPerClient: number('CHAOS_HIDES', defaults.hidesPerClient),
    pipelineFaultRate: number('CHAOS_PIPELINE_FAULT_RATE', defaults.pipelineFaultRate),
    wechatBusyEveryMs: number('CHAOS_WECHAT_BUSY_MS', defaults.wechatBusyEveryMs),
    seed: number('CHAOS_SEED', defaults.seed),
  };
}

/**
 * Where the server is: the proxies go in front of `url`; `dbUrl` is read and set up with superuser
 * rights; `wechat` is the fake WeChat API the server's functions call, when it runs one.
 */
export interface ChaosTarget {
  url: string;
  anonKey: string;
  dbUrl: string;
  wechat: FakeWechat | null;
}

export interface Divergence {
  client: number;
  index: number;
  expectedId: number | null;
  actualId: number | null;
}

export interface ChaosResult {
  size: ChaosSize;
  /** Messages the clients asked to send. */
  sent: number;
  /** The room's rows in the database at the end. */
  stored: number;
  faults: FaultRecord[];
  /** Faults on the requests from pg_net to the moderate function. */
  pipelineFaults: FaultRecord[];
  /** msg_sec_check answers WeChat was told to make busy. */
  wechatBusy: number;
  /** Requests that went through the proxy while faults were on. */
  requests: Record<Traffic, number>;
  /** Insert answers cut after the server had sent 201, i.e. after the row was committed. */
  cutAfterCommit: number;
  hides: number;
  relaunches: number;
  /** Messages the rate limit held back for a while (the outbox resent them by itself). */
  rateLimitWaits: number;
  /** Sent messages missing from the database. */
  lost: number;
  /** Extra database rows for a sent message, plus ids shown twice in a client's list. */
  duplicated: number;
  /** First divergence of each client whose list differs from the database's. */
  divergences: Divergence[];
  /** Rows left in a state other than visible (pending: no verdict came). */
  notVisible: number;
  /** Messages a client shows in another state than the database's, over all clients. */
  staleStates: number;

  /** Problems other than divergences (a failure that is not the rate limit, no convergence). */
  problems: string[];
  /** From faults off until every list equalled the database's newest rows. */
  convergeMs: number;
  /** Start of sending to the end of the final check. */
  totalMs: number;
}

const RATE_LIMIT = { messages: 10, windowMs: 10000 };
/** Schedules spread messages at this average pace per client; the rate limit would allow 1/s. */
const SEND_SPACING_MS = 720;
/** Long enough for more than a page of other people's messages to pass while realtime is down. */
const HIDE_MS: [number, number] = [1000, 5000];
const RELAUNCH_SHARE = 1 / 3;
/** Realtime rejoins within 10 s (supabase-js's longest backoff step); the outbox is kicked at once. */
export const CONVERGE_TIMEOUT_MS = 30000;
const POLL_MS = 250;
/** Busy answers in a row: one msg_sec_check call tries 3 times before it gives up (_shared/wechat.ts). */
const WECHAT_BUSY_BURST = 3;
const WECHAT_BUSY = -1;

/**
 * Send moments for one client: random within the run, then pushed later where needed so that no
 * 10 s window holds more than 10.
 */
export function sendSchedule(count: number, random: () => number): number[] {
  const span = count * SEND_SPACING_MS;
  const times = Array.from({ length: count }, () => random() * span).sort((a, b) => a - b);
  for (let i = RATE_LIMIT.messages; i < count; i++) {
    times[i] = Math.max(times[i], times[i - RATE_LIMIT.messages] + RATE_LIMIT.windowMs);
  }
  return times;
}

/** One running copy of the app: its supabase-js client and room session. */
interface App {
  sb: SupabaseClient;
  session: RoomSession;
  /** Kills the app: no more patches reach the driver and nothing more reaches device storage. */
  kill: () => void;
}

/**
 * The device's storage as one app process sees it. A killed process writes nothing more, but an
 * in-process "kill" leaves its requests running, so their late writes are dropped here.
 */
function processStore(device: KeyValueStore): { store: KeyValueStore; kill: () => void } {
  let alive = true;
  return {
    store: {
      get: (key) => device.get(key),
      keys: () => device.keys(),
      set: (key, value) => (alive ? device.set(key, value) : undefined),
      remove: (key) => (alive ? device.remove(key) : undefined),
    },
    kill: () => {
      alive = false;
    },
  };
}

/** One simulated person: a device (its storage survives relaunches) and the app running on it. */
class Person {
  readonly store = memoryStore();
  readonly profile: Profile;
  app: App;
  connection: ConnectionState = 'connecting';
  /** Resolves when the app is back in the foreground; null while it is. */
  hidden: Promise<void> | null = null;

  constructor(
    readonly index: number,
    private readonly launcher: (person: Person) => App,
  ) {
    this.profile = { name: `侠客${index}`, color: '#e4572e' };
    this.app = launcher(this);
  }

  relaunch(): App {
    this.connection = 'connecting';
    this.app = this.launcher(this);
    return this.app;
  }
}

export async function runChaos(target: ChaosTarget, size: ChaosSize, log: (line: string) => void = () => undefined): Promise<ChaosResult> {
  const targetPort = Number(new URL(target.url).port);
  const proxy = await startFaultProxy({ targetPort, seed: size.seed });
  // Its own random stream, so the clients' faults stay what they were without it.
  const pipeline = await startFaultProxy({ targetPort, seed: size.seed ^ 0x2545f491 });
  const db = new pg.Client({ connectionString: target.dbUrl });
  await db.connect();
  const projectUrl = await setProjectUrl(db, pipeline.url);
  let wechatBusy = 0;
  let busyTimer: NodeJS.Timeout | undefined;
  const problems: string[] = [];
  let rateLimitWaits = 0;
  let hides = 0;
  let relaunches = 0;
  const people: Person[] = [];

  const launch = (person: Person): App => {
    // The terminal client's wiring (lib/node-client.ts), its session in the device store.
    const { store, kill } = processStore(person.store);
    const sb = nodeClient(proxy.url, target.anonKey, store, { storageKey: `sb-chaos-${person.index}` });
    const backend = nodeBackend(sb, localWechatLogin(proxy.url, target.anonKey, `chaos-${person.index}`));
    const session = new RoomSession({ backend, store, roomSlug: ROOM_SLUG, speaker: () => ({ ...person.profile, characterId: null }) });
    const stopListening = session.onPatch((patch) => onPatch(person, patch));
    return {
      sb,
      session,
      kill: () => {
        stopListening();
        kill();
      },
    };
  };

  const onPatch = (person: Person, patch: RoomPatch) => {
    if (patch.type === 'connection') person.connection = patch.state;
    if (patch.type !== 'update') return;
    if (patch.changes.status === 'sending' && patch.changes.error === zh.sendRateLimited) rateLimitWaits++;
    if (patch.changes.status === 'failed') {
      problems.push(`client ${person.index}: message ${patch.key} failed: ${patch.changes.error} (${patch.changes.errorDetail})`);
    }
  };

  const shutdown = async (app: App) => {
    app.session.stop();
    await app.session.flush();
    app.kill();
    await app.sb.auth.stopAutoRefresh();
    await app.sb.removeAllChannels();
    await app.sb.realtime.disconnect();
  };

  /**
   * The platform's own pause and resume (miniprogram/platform/lifecycle.ts), with realtime lost
   * in between as WeChat cuts a background app's sockets; on show the room catches up. A relaunch instead kills the app and starts a new one on the same
   * device storage, so the outbox must carry pending messages over.
   */
  const hideAndShow = async (person: Person, ms: number, relaunch: boolean) => {
    let show: () => void = () => undefined;
    person.hidden = new Promise((resolve) => (show = resolve));
    hides++;
    const app = person.app;
    if (relaunch) {
      relaunches++;
      await shutdown(app);
      await sleep(ms);
      await person.relaunch().session.start();
    } else {
      await pauseClient(app.sb);
      // WeChat cuts a background app's sockets.
      await app.sb.realtime.disconnect();
      await sleep(ms);
      await foreground(app, false);
    }
    person.hidden = null;
    show();
  };

  const foreground = async (app: App, networkReturned: boolean) => {
    await resumeClient(app.sb, networkReturned);
    app.session.resume();
  };

  const sendAll = async (person: Person, bodies: string[], times: number[], started: number) => {
    for (let i = 0; i < bodies.length; i++) {
      await sleep(started + times[i] - Date.now());
      // Nobody types into an app in the background.
      while (person.hidden) await person.hidden;
      person.app.session.sendText(bodies[i]);
    }
  };

  const roomRows = async () =>
    (
      await db.query<Row>(
        `select m.id::float8 as id, m.body, m.status from public.messages m join public.rooms r on r.id = m.room_id
          where r.slug = $1 order by m.id`,
        [ROOM_SLUG],
      )
    ).rows;

  try {
    const random = seededRandom(size.seed);
    const plans = Array.from({ length: size.clients }, (_, index) => {
      const bodies = Array.from({ length: size.messagesPerClient }, (_, n) => `chaos ${size.seed} c${index} m${n}`);
      const times = sendSchedule(size.messagesPerClient, random);
      const span = times.length ? times[times.length - 1] : 0;
      const hidesAt = Array.from({ length: size.hidesPerClient }, () => ({
        at: random() * span,
        ms: HIDE_MS[0] + random() * (HIDE_MS[1] - HIDE_MS[0]),
        relaunch: random() < RELAUNCH_SHARE,
      })).sort((a, b) => a.at - b.at);
      return { bodies, times, hidesAt };
    });

    // Everyone signs in and joins before the faults start: the run is about messages, not sign-up.
    for (let index = 0; index < size.clients; index++) people.push(new Person(index, launch));
    await Promise.all(people.map((person) => person.app.session.start()));
    await waitFor('every client to join before the faults', () => people.every((person) => person.connection === 'connected'), 30000);

    log(`chaos: ${size.clients} clients × ${size.messagesPerClient} messages, seed ${size.seed}`);
    proxy.configure({ httpRate: size.httpFaultRate, webSocketEveryMs: size.webSocketFaultEveryMs });
    pipeline.configure({ httpRate: size.pipelineFaultRate });
    if (target.wechat && size.wechatBusyEveryMs > 0) {
      const wechat = target.wechat;
      busyTimer = setInterval(() => {
        wechat.failNext('msg_sec_check', WECHAT_BUSY, WECHAT_BUSY_BURST);
        wechatBusy += WECHAT_BUSY_BURST;
      }, size.wechatBusyEveryMs);
    }
    const requestsBefore = proxy.requests();
    const started = Date.now();
    await Promise.all(
      people.map(async (person, index) => {
        const plan = plans[index];
        const hiding = (async () => {
          for (const hide of plan.hidesAt) {
            await sleep(started + hide.at - Date.now());
            await hideAndShow(person, hide.ms, hide.relaunch);
          }
        })();
        await Promise.all([sendAll(person, plan.bodies, plan.times, started), hiding]);
      }),
    );

    proxy.configure({ httpRate: 0, webSocketEveryMs: 0 });
    pipeline.configure({ httpRate: 0 });
    clearInterval(busyTimer);
    const faultsOff = Date.now();
    const requestsAfter = proxy.requests();
    const requests = { http: requestsAfter.http - requestsBefore.http, websocket: requestsAfter.websocket - requestsBefore.websocket };
    log(`chaos: sending done in ${faultsOff - started} ms, ${proxy.faults().length} faults; converging`);
    // The network is back: what the platform does on 'online'.
    await Promise.all(people.map((person) => foreground(person.app, true)));

    const expected = new Set(plans.flatMap((plan) => plan.bodies));
    let converged = false;
    let rows: Row[] = [];
    const deadline = Date.now() + CONVERGE_TIMEOUT_MS;
    // A failed message never arrives by itself: no point waiting.
    while (Date.now() < deadline && !problems.length) {
      rows = await roomRows();
      const stored = new Set(rows.map((row) => row.body));
      // Every message sent, every verdict in (a pending row may be far above the newest page), and
      // every list's newest page as the database has it.
      if (
        [...expected].every((body) => stored.has(body)) &&
        rows.every((row) => row.status === 'visible') &&
        people.every((person) => isNewestOf(person.app.session.messages(), rows))
      ) {
        converged = true;
        break;
      }
      await sleep(POLL_MS);
    }
    const convergeMs = Date.now() - faultsOff;
    if (!converged) {
      // What the moderation pipeline says about messages still waiting for a verdict.
      const waiting = await db.query(
        `select subject_id, attempts, last_error, now() - dispatched_at as since_sent, retry_at - now() as retry_in
           from private.moderation_checks order by created_at limit 3`,
      );
      problems.push(
        `lists did not converge within ${CONVERGE_TIMEOUT_MS} ms after the faults stopped; checks waiting: ${JSON.stringify(waiting.rows)}`,
      );
    }

    // The full history, page by page, as a user scrolling up would load it.
    for (const person of people) await loadEverything(person.app.session);
    rows = await roomRows();
    const ids = rows.map((row) => row.id);
    const divergences: Divergence[] = [];
    const states = new Map(rows.map((row) => [row.id, row.status]));
    let shownTwice = 0;
    let staleStates = 0;
    people.forEach((person) => {
      const messages = person.app.session.messages();
      const shown = messages.map((message) => message.id);
      shownTwice += shown.length - new Set(shown).size;
      staleStates += messages.filter((message) => message.id !== null && message.state !== states.get(message.id)).length;
      const divergence = firstDivergence(person.index, ids, shown);
      if (divergence) divergences.push(divergence);
    });
    const counts = new Map<string, number>();
    for (const row of rows) counts.set(row.body, (counts.get(row.body) || 0) + 1);
    const lost = [...expected].filter((body) => !counts.has(body)).length;
    const extraRows = [...counts.values()].reduce((sum, count) => sum + count - 1, 0);
    const strangers = rows.filter((row) => !expected.has(row.body));
    if (strangers.length) problems.push(`${strangers.length} rows nobody sent, e.g. ${JSON.stringify(strangers[0])}`);

    const faults = proxy.faults();
    return {
      size,
      sent: expected.size,
      stored: rows.length,
      faults,
      pipelineFaults: pipeline.faults(),
      wechatBusy,
      requests,
      cutAfterCommit: faults.filter(
        (fault) => fault.kind === 'cut-response' && fault.request.startsWith('POST /rest/v1/messages') && fault.status === 201,
      ).length,
      hides,
      relaunches,
      rateLimitWaits,
      lost,
      duplicated: extraRows + shownTwice,
      divergences,
      notVisible: rows.filter((row) => row.status !== 'visible').length,
      staleStates,
      problems,
      convergeMs,
      totalMs: Date.now() - started,
    };
  } finally {
    clearInterval(busyTimer);
    await Promise.all(people.map((person) => shutdown(person.app)));
    await proxy.close();
    await setProjectUrl(db, projectUrl);
    await pipeline.close();
    await db.end();
  }
}

interface Row {
  id: number;
  body: string;
  status: string;
}

/** Points the moderation requests pg_net sends at `url` (Vault's project_url); answers the previous URL. */
async function setProjectUrl(db: pg.Client, url: string): Promise<string> {
  const { rows } = await db.query<{ previous: string }>(
    `select s.decrypted_secret as previous, vault.update_secret(s.id, $1)
       from vault.decrypted_secrets s where s.name = 'project_url'`,
    [url],
  );
  if (!rows.length) throw new Error('Vault holds no project_url: the server stores it at start');
  return rows[0].previous;
}

/**
 * True when the list holds only sent messages and they are exactly the newest rows, in order,
 * each in its row's state (a message that passed moderation shows as visible everywhere).
 */
function isNewestOf(list: ChatMessage[], rows: Row[]): boolean {
  if (list.some((message) => message.id === null)) return false;
  const offset = rows.length - list.length;
  if (offset < 0 || list.length === 0) return false;
  return list.every((message, i) => message.id === rows[offset + i].id && message.state === rows[offset + i].status);
}

async function loadEverything(session: RoomSession): Promise<void> {
  // Generous bound: one page per loop, and a failed page keeps hasOlder true for another go.
  for (let pages = 0; session.hasOlder && pages < 1000; pages++) await session.loadOlder();
}

export function firstDivergence(client: number, expected: number[], actual: Array<number | null>): Divergence | null {
  const length = Math.max(expected.length, actual.length);
  for (let index = 0; index < length; index++) {
    const expectedId = index < expected.length ? expected[index] : null;
    const actualId = index < actual.length ? actual[index] : null;
    if (expectedId !== actualId) return { client, index, expectedId, actualId };
  }
  return null;
}

export function describeDivergence({ client, index, expectedId, actualId }: Divergence): string {
  return `client ${client}: first divergence at index ${index}: expected id ${expectedId ?? '(end of list)'}, actual id ${actualId ?? '(end of list)'}`;
}

/** Counts of the faults by traffic and kind, e.g. { 'http cut-response': 40, 'websocket reset': 12 }. */
export function faultSummary(faults: FaultRecord[]): Record<string, number> {
  const summary: Record<string, number> = {};
  for (const fault of faults) {
    const key = `${fault.traffic} ${fault.kind}`;
    summary[key] = (summary[key] || 0) + 1;
  }
  return summary;
}
