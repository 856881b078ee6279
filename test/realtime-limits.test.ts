// What one client may make Realtime hold or do, with Supabase Realtime's self-hosted defaults and
// its answers when a limit is reached (local-supabase/src/realtime/limits.ts names the sources):
// payload size for broadcast and presence, channels per socket, presence per channel, events per
// second, concurrent users and bytes in flight.
import pg from 'pg';
import WebSocket from 'ws';
import { PresenceWindow, RateCounter } from '../local-supabase/src/realtime/limits';
import { pushAll, RawSocket, sleep, waitFor } from './support/realtime';
import { startTestServer, type TestServer } from './support/server';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  await server?.stop();
});

const MAX_PAYLOAD_BYTES = 3_000_500;
const sockets: RawSocket[] = [];

async function open(): Promise<RawSocket> {
  const socket = await RawSocket.open(server, '2.0.0');
  sockets.push(socket);
  return socket;
}

afterEach(() => {
  for (const socket of sockets.splice(0)) socket.ws.terminate();
});

/** Joins `topic` (without `realtime:`) and waits for the ok. */
async function join(socket: RawSocket, topic: string, config: Record<string, unknown> = {}): Promise<string> {
  const joinRef = `j-${topic}`;
  const reply = await socket.reply(socket.push(`realtime:${topic}`, 'phx_join', { config, access_token: server.anonKey }, joinRef));
  expect(reply).toMatchObject({ status: 'ok' });
  return joinRef;
}

/** A broadcast message whose payload, as sent, is `bytes` long. */
function broadcastOf(bytes: number) {
  const empty = { type: 'broadcast', event: 'big', payload: { data: '' } };
  const data = 'x'.repeat(bytes - Buffer.byteLength(JSON.stringify(empty)));
  return { ...empty, payload: { data } };
}

/** A presence payload that is `bytes` long as JSON. */
function presenceOf(bytes: number) {
  return { data: 'x'.repeat(bytes - Buffer.byteLength(JSON.stringify({ data: '' }))) };
}

/** The system message and phx_close upstream's shutdown_response sends, for `topic`. */
async function expectShutdown(socket: RawSocket, topic: string, message: string): Promise<void> {
  const system = await waitFor(`${topic} to be shut down`, () => socket.messages('system').find((m) => m.topic === `realtime:${topic}`));
  expect(system.payload).toEqual({ extension: 'system', status: 'error', message, channel: topic });
  await waitFor(`phx_close on ${topic}`, () => socket.messages('phx_close').find((m) => m.topic === `realtime:${topic}`));
}

describe('payload size', () => {
  test('a broadcast over 3,000,500 bytes is dropped and only an acknowledging sender hears of it; one at the limit passes', async () => {
    const sender = await open();
    const receiver = await open();
    const joinRef = await join(sender, 'big-broadcast', { broadcast: { ack: true } });
    await join(receiver, 'big-broadcast');
    const over = sender.push('realtime:big-broadcast', 'broadcast', broadcastOf(MAX_PAYLOAD_BYTES + 1), joinRef);
    expect(await sender.reply(over)).toEqual({ status: 'error', response: 'payload_size_exceeded' });
    const atLimit = sender.push('realtime:big-broadcast', 'broadcast', broadcastOf(MAX_PAYLOAD_BYTES), joinRef);
    expect(await sender.reply(atLimit)).toEqual({ status: 'ok', response: {} });
    await waitFor('the broadcast at the limit', () => receiver.frames.some((f) => Buffer.isBuffer(f)));
    await sleep(300);
    const content = Buffer.byteLength(JSON.stringify(broadcastOf(MAX_PAYLOAD_BYTES).payload));
    expect(receiver.frames.filter((f) => Buffer.isBuffer(f)).map((f) => (f as Buffer).length)).toEqual([
      5 + 'realtime:big-broadcast'.length + 'big'.length + content,
    ]);
    expect(sender.closed).toBeUndefined();
  });

  test('a binary broadcast over the limit is dropped too, without a word to a sender that asked for none', async () => {
    const sender = await open();
    const receiver = await open();
    const joinRef = await join(sender, 'big-binary');
    await join(receiver, 'big-binary');
    const topic = Buffer.from('realtime:big-binary');
    const event = Buffer.from('big');
    const frame = (bytes: number) =>
      Buffer.concat([
        Buffer.from([3, joinRef.length, 0, topic.length, event.length, 0, 0]),
        Buffer.from(joinRef),
        topic,
        event,
        Buffer.alloc(bytes, 7),
      ]);
    sender.ws.send(frame(MAX_PAYLOAD_BYTES));
    sender.ws.send(frame(MAX_PAYLOAD_BYTES - event.length));
    const delivered = await waitFor('the binary broadcast at the limit', () =>
      receiver.frames.find((f): f is Buffer => Buffer.isBuffer(f)),
    );
    expect(delivered.length).toBe(5 + topic.length + event.length + MAX_PAYLOAD_BYTES - event.length);
    await sleep(300);
    expect(receiver.frames.filter((f) => Buffer.isBuffer(f))).toHaveLength(1);
    expect(sender.messages('phx_reply')).toHaveLength(1);
  });

  test('a presence payload over the limit ends the channel; others never see it; one at the limit is tracked', async () => {
    const tracker = await open();
    const observer = await open();
    const joinRef = await join(tracker, 'big-presence', { presence: { key: 'big', enabled: true } });
    await join(observer, 'big-presence', { presence: { key: 'observer', enabled: true } });
    tracker.push(
      'realtime:big-presence',
      'presence',
      { type: 'presence', event: 'track', payload: presenceOf(MAX_PAYLOAD_BYTES + 1) },
      joinRef,
    );
    await expectShutdown(tracker, 'big-presence', 'Track message size exceeded');
    expect(observer.messages('presence_diff')).toEqual([]);

    const again = await join(tracker, 'big-presence', { presence: { key: 'big', enabled: true } });
    const ok = tracker.push(
      'realtime:big-presence',
      'presence',
      { type: 'presence', event: 'TRACK', payload: presenceOf(MAX_PAYLOAD_BYTES) },
      again,
    );
    expect(await tracker.reply(ok)).toEqual({ status: 'ok', response: {} });
    const diff = await waitFor('the observer to see the track', () => observer.messages('presence_diff')[0]);
    expect(Object.keys((diff.payload as { joins: object }).joins)).toEqual(['big']);
  });
});

describe('frames no handler may choke on', () => {
  test('a JSON broadcast shaped like a decoded binary one is an ordinary JSON broadcast, not an internal error', async () => {
    const sender = await open();
    // vsn 1 hears a broadcast as JSON; vsn 2 as a binary frame.
    const listener = await RawSocket.open(server, '1.0.0');
    sockets.push(listener);
    const joinRef = await join(sender, 'lookalike', { broadcast: { ack: true } });
    await join(listener, 'lookalike');
    const payloads = [
      { type: 'broadcast', event: 'e', content: { bytes: 'AAAA' } },
      { type: 'broadcast', event: 'e', content: null },
    ];
    for (const payload of payloads)
      expect(await sender.reply(sender.push('realtime:lookalike', 'broadcast', payload, joinRef))).toEqual({ status: 'ok', response: {} });
    await waitFor('both broadcasts to arrive', () => listener.messages('broadcast').length === 2 || undefined);
    expect(listener.messages('broadcast').map((m) => m.payload)).toEqual(
      payloads.map(({ event }) => ({ type: 'broadcast', event, payload: {} })),
    );
  });

  test('a frame nested deeper than 512 levels closes the socket as unreadable; the server goes on', async () => {
    for (const payload of [
      `{"type":"broadcast","event":"e","payload":${'['.repeat(200_000)}${']'.repeat(200_000)}}`,
      `{"x":${'['.repeat(513)}${']'.repeat(513)}}`,
    ]) {
      const socket = await open();
      const joinRef = await join(socket, 'deep');
      // Built by hand: JSON.stringify cannot write such a frame either.
      socket.ws.send(`[${JSON.stringify(joinRef)},"9","realtime:deep","broadcast",${payload}]`);
      await waitFor('the socket to be closed', () => socket.closed);
      expect(socket.closed).toEqual({ code: 1007, reason: 'frame nests deeper than 512 levels' });
    }
    // 512 levels with the frame's own array and the two objects around the payload.
    const fine = await open();
    const joinRef = await join(fine, 'shallow', { broadcast: { ack: true } });
    const nested = JSON.parse(`${'['.repeat(509)}${']'.repeat(509)}`);
    expect(
      await fine.reply(fine.push('realtime:shallow', 'broadcast', { type: 'broadcast', event: 'e', payload: { nested } }, joinRef)),
    ).toEqual({
      status: 'ok',
      response: {},
    });
  });
});

describe('channels and presence', () => {
  test('a socket holds at most 100 channels; the 101st join is refused as upstream refuses it; a rejoin replaces', async () => {
    const socket = await open();
    const refs = await pushAll(socket, 101, (i) => [`realtime:many-${i}`, 'phx_join', { config: {} }, `j${i}`]);
    const replies = await Promise.all(refs.map((ref) => socket.reply(ref)));
    expect(replies.filter((r) => r.status === 'ok')).toHaveLength(100);
    expect(replies[100]).toEqual({ status: 'error', response: { reason: 'ChannelRateLimitReached: Too many channels' } });
    const rejoin = socket.push('realtime:many-0', 'phx_join', { config: {} }, 'again');
    expect((await socket.reply(rejoin)).status).toBe('ok');
    const leave = socket.push('realtime:many-1', 'phx_leave', {}, 'j1');
    expect((await socket.reply(leave)).status).toBe('ok');
    expect((await socket.reply(socket.push('realtime:many-100', 'phx_join', { config: {} }, 'j100b'))).status).toBe('ok');
  });

  test('a channel holds one presence entry however it tracks, and its sixth presence message in 30 s ends it', async () => {
    const tracker = await open();
    const observer = await open();
    let joinRef = await join(tracker, 'chatty', { presence: { key: 'chatty', enabled: true } });
    await join(observer, 'chatty', { presence: { key: 'observer', enabled: true } });
    // A rejoin replaces the channel and its entry, and brings a fresh window of five.
    joinRef = await join(tracker, 'chatty', { presence: { key: 'chatty', enabled: true } });
    for (let i = 1; i <= 5; i++) {
      const ref = tracker.push('realtime:chatty', 'presence', { type: 'presence', event: 'track', payload: { n: i } }, joinRef);
      expect(await tracker.reply(ref)).toEqual({ status: 'ok', response: {} });
    }
    const late = await open();
    await join(late, 'chatty', { presence: { key: 'late', enabled: true } });
    const state = (await waitFor('presence state', () => late.messages('presence_state')[0])).payload as Record<
      string,
      { metas: unknown[] }
    >;
    expect(state.chatty.metas).toEqual([expect.objectContaining({ n: 5 })]);

    // Another channel of the same socket has a window of its own.
    const otherRef = await join(tracker, 'quiet', { presence: { key: 'chatty', enabled: true } });
    tracker.push('realtime:chatty', 'presence', { type: 'presence', event: 'untrack' }, joinRef);
    await expectShutdown(tracker, 'chatty', 'Client presence rate limit exceeded');
    const quiet = tracker.push('realtime:quiet', 'presence', { type: 'presence', event: 'track', payload: { n: 1 } }, otherRef);
    expect(await tracker.reply(quiet)).toEqual({ status: 'ok', response: {} });
    await waitFor('the observer to see the entry leave', () =>
      observer.messages('presence_diff').some((m) => 'chatty' in (m.payload as { leaves: object }).leaves),
    );
  });
});

describe('events per second', () => {
  // [events in each completed 5 s tick, oldest first; whether the limit is triggered after them]
  const TICKS: Array<[number[], boolean]> = [
    [[499], false],
    [[500], true],
    [[500, 0], false],
    [[600, 400], true],
    [[400, 600], true],
    [[100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 4900], true],
    [Array(12).fill(499), false],
    [[6000, ...Array(11).fill(0)], true],
    [[6000, ...Array(12).fill(0)], false],
  ];
  test.each(TICKS)('upstream RateCounter: after ticks %j the limit of 100/s is triggered: %p', (ticks, triggered) => {
    let now = 0;
    const counter = new RateCounter(100, () => now);
    for (const events of ticks) {
      for (let i = 0; i < events; i++) counter.add();
      now += 5000;
    }
    expect(counter.add()).toBe(triggered);
  });

  test('the presence window admits five messages per channel, then none until 30 s have passed', () => {
    let now = 0;
    const window = new PresenceWindow(() => now);
    expect(Array.from({ length: 6 }, () => window.allow())).toEqual([true, true, true, true, true, false]);
    now = 30_000;
    expect(window.allow()).toBe(false);
    now = 30_001;
    expect(Array.from({ length: 6 }, () => window.allow())).toEqual([true, true, true, true, true, false]);
  });

  test('a client averaging 100 broadcasts a second has its channel ended at the next tick; a calmer one keeps going', async () => {
    const flooder = await open();
    const calm = await open();
    const listener = await open();
    const floodRef = await join(flooder, 'flood');
    const calmRef = await join(calm, 'flood');
    await join(listener, 'flood');
    const started = Date.now();
    // In bursts of 30: a socket may have at most 100 frames waiting to be handled.
    for (let i = 0; i < 510; i++) {
      flooder.push('realtime:flood', 'broadcast', { type: 'broadcast', event: 'e', payload: { i } }, floodRef);
      if (i < 450) calm.push('realtime:flood', 'broadcast', { type: 'broadcast', event: 'e', payload: { i } }, calmRef);
      if (i % 30 === 29) await sleep(20);
    }
    await waitFor('the calm socket to hear the flood', () => calm.frames.filter((f) => Buffer.isBuffer(f)).length >= 510, 10000);
    expect(flooder.messages('system')).toEqual([]);
    // The servers' counters started when the sockets were accepted, a little before `started`.
    await sleep(5200 - (Date.now() - started));
    flooder.push('realtime:flood', 'broadcast', { type: 'broadcast', event: 'e', payload: { last: true } }, floodRef);
    calm.push('realtime:flood', 'broadcast', { type: 'broadcast', event: 'e', payload: { last: true } }, calmRef);
    await expectShutdown(flooder, 'flood', 'Too many messages per second');
    const last = () => listener.frames.filter((f) => Buffer.isBuffer(f) && f.includes('"last":true'));
    await waitFor("the calm socket's last broadcast", () => last().length > 0);
    await sleep(300);
    expect(last()).toHaveLength(1);
    expect(calm.messages('system')).toEqual([]);
    expect(calm.messages('phx_close')).toEqual([]);
    expect(flooder.closed).toBeUndefined();
  });
});

test('a client averaging 100 joins a second is refused and disconnected at the next tick; a calmer one keeps joining', async () => {
  const flooder = await open();
  const calm = await open();
  const started = Date.now();
  // Joins and leaves in bursts of 30 (a socket may have at most 100 frames waiting to be handled).
  for (let i = 0; i < 510; i++) {
    flooder.push('realtime:rejoin', 'phx_join', { config: {}, access_token: server.anonKey }, `f${i}`);
    if (i < 450) calm.push('realtime:rejoin', 'phx_join', { config: {}, access_token: server.anonKey }, `c${i}`);
    if (i % 30 === 29) await sleep(20);
  }
  await waitFor(
    'every join answered',
    () => flooder.messages('phx_reply').length >= 510 && calm.messages('phx_reply').length >= 450,
    10000,
  );
  expect(flooder.messages('phx_reply').every((m) => (m.payload as { status: string }).status === 'ok')).toBe(true);
  // The counters started when the sockets were accepted, a little before `started`.
  await sleep(5200 - (Date.now() - started));
  const refused = await flooder.reply(flooder.push('realtime:rejoin', 'phx_join', { config: {}, access_token: server.anonKey }, 'last'));
  expect(refused).toEqual({ status: 'error', response: { reason: 'ClientJoinRateLimitReached: Too many joins per second' } });
  await waitFor('the flooder to be disconnected', () => flooder.closed);
  expect(await calm.reply(calm.push('realtime:rejoin', 'phx_join', { config: {}, access_token: server.anonKey }, 'last'))).toMatchObject({
    status: 'ok',
  });
  expect(calm.closed).toBeUndefined();
});

describe('concurrent users and bytes in flight', () => {
  test('a socket whose unhandled frames pass 50,000,000 bytes is closed', async () => {
    const socket = await open();
    const joinRef = await join(socket, 'queued');
    // Holding the publication catalog keeps the next join waiting on the database, so the frames
    // behind it queue up.
    const blocker = new pg.Client({ connectionString: server.dbUrl });
    await blocker.connect();
    try {
      await blocker.query('begin');
      await blocker.query('lock table pg_catalog.pg_publication_rel in access exclusive mode');
      socket.push(
        'realtime:slow',
        'phx_join',
        { config: { postgres_changes: [{ event: '*', schema: 'public', table: 'messages' }] }, access_token: server.anonKey },
        's',
      );
      for (let i = 0; i < 11; i++) socket.push('realtime:queued', 'broadcast', broadcastOf(4_900_000), joinRef);
      await waitFor('the socket to be closed', () => socket.closed, 10000);
      expect(socket.closed).toEqual({ code: 1008, reason: 'too many frames in flight' });
    } finally {
      await blocker.query('rollback');
      await blocker.end();
    }
    const fine = await open();
    await join(fine, 'after-queue');
  });

  test('at most 200 sockets with channels: the next is refused at the handshake or at its join; a leaver frees a place', async () => {
    const early = await open();
    const users: RawSocket[] = [];
    for (let i = 0; i < 200; i++) {
      const socket = await open();
      await join(socket, `user-${i}`);
      users.push(socket);
    }
    expect(await early.reply(early.push('realtime:early', 'phx_join', { config: {}, access_token: server.anonKey }, 'e'))).toEqual({
      status: 'error',
      response: { reason: 'ConnectionRateLimitReached: Too many connected users' },
    });
    const refused = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const ws = new WebSocket(`${server.url.replace('http', 'ws')}/realtime/v1/websocket?apikey=${server.anonKey}&vsn=2.0.0`);
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      ws.on('open', () => reject(new Error('handshake accepted')));
    });
    expect(refused).toEqual({ status: 429, body: JSON.stringify({ error: 'Too many connected users' }) });

    users[0].ws.close();
    const next = await waitFor('a place to free up', () => RawSocket.open(server, '2.0.0').catch(() => undefined));
    sockets.push(next);
    await join(next, 'user-next');
  });
});
