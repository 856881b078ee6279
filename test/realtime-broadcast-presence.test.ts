// Broadcast (self, ack, both protocol versions and across them) and presence (state, joins,
// leaves) between official clients, and the socket's answers to frames no client should send.
import type { RealtimeChannel, SupabaseClient } from '@supabase/supabase-js';
import WebSocket from 'ws';
import { QUIET_MS, RawSocket, sleep, VSNS, waitFor, type Vsn } from './support/realtime';
import { wechatUser, startTestServer, type TestServer } from './support/server';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  await server?.stop();
});

interface Received {
  channel: RealtimeChannel;
  broadcasts: Array<{ type: string; event: string; payload: unknown }>;
}

async function join(
  sb: SupabaseClient,
  topic: string,
  config: Record<string, unknown>,
  setup?: (c: RealtimeChannel) => void,
): Promise<Received> {
  const r: Received = { channel: sb.channel(topic, { config }), broadcasts: [] };
  r.channel.on('broadcast', { event: 'typing' }, (m) => r.broadcasts.push(m as Received['broadcasts'][number]));
  setup?.(r.channel);
  const statuses: string[] = [];
  r.channel.subscribe((s) => statuses.push(s));
  await waitFor(`${topic} joined`, () => statuses.includes('SUBSCRIBED'));
  return r;
}

const pairs: Array<[Vsn, Vsn]> = [
  ['1.0.0', '1.0.0'],
  ['2.0.0', '2.0.0'],
  ['1.0.0', '2.0.0'],
  ['2.0.0', '1.0.0'],
];

describe.each(pairs)('broadcast from vsn %s to vsn %s', (fromVsn, toVsn) => {
  test('reaches the other member; self and ack as configured', async () => {
    const a = await wechatUser(server, { vsn: fromVsn });
    const b = await wechatUser(server, { vsn: toVsn });
    const topic = `chat-${fromVsn}-${toVsn}`;
    const sender = await join(a.sb, topic, { broadcast: { self: true, ack: true } });
    const receiver = await join(b.sb, topic, { broadcast: { self: false, ack: false } });

    const status = await sender.channel.send({ type: 'broadcast', event: 'typing', payload: { who: 'a', text: '在吗？' } });
    expect(status).toBe('ok');
    const expected = { type: 'broadcast', event: 'typing', payload: { who: 'a', text: '在吗？' } };
    await waitFor('receiver and sender (self) to get it', () => receiver.broadcasts.length === 1 && sender.broadcasts.length === 1);
    expect(receiver.broadcasts[0]).toEqual(expected);
    expect(sender.broadcasts[0]).toEqual(expected);

    // Without self the sender does not hear itself.
    await receiver.channel.send({ type: 'broadcast', event: 'typing', payload: { who: 'b' } });
    await waitFor('the reply', () => sender.broadcasts.length === 2);
    await sleep(QUIET_MS);
    expect(receiver.broadcasts).toHaveLength(1);
    expect(sender.broadcasts[1].payload).toEqual({ who: 'b' });
    await a.sb.removeAllChannels();
    await b.sb.removeAllChannels();
  });
});

test('vsn 2 subscribers receive broadcasts as binary kind-4 frames', async () => {
  const raw = await RawSocket.open(server, '2.0.0');
  const joinRef = raw.push('realtime:binary', 'phx_join', { config: {}, access_token: server.anonKey }, '1');
  expect((await raw.reply(joinRef)).status).toBe('ok');
  const sender = await wechatUser(server, { vsn: '2.0.0' });
  const channel = await join(sender.sb, 'binary', { broadcast: { ack: true } });
  expect(await channel.channel.send({ type: 'broadcast', event: 'typing', payload: { n: 1 } })).toBe('ok');
  const frame = await waitFor('a binary frame', () => raw.frames.find((f): f is Buffer => Buffer.isBuffer(f)));
  const topic = 'realtime:binary';
  expect([...frame.subarray(0, 5)]).toEqual([4, topic.length, 'typing'.length, 0, 1]);
  expect(frame.subarray(5).toString()).toBe(`${topic}typing{"n":1}`);
  raw.ws.close();
  await sender.sb.removeAllChannels();
});

describe.each(VSNS)('presence, vsn %s', (vsn) => {
  test('state after join, joins and leaves on track, untrack, leave and a dropped socket', async () => {
    const alice = await wechatUser(server, { vsn });
    const bob = await wechatUser(server, { vsn });
    const topic = `lobby-${vsn}`;
    const seen: { joins: string[]; leaves: string[] } = { joins: [], leaves: [] };
    const a = await join(alice.sb, topic, { presence: { key: 'alice' } }, (c) =>
      c
        .on('presence', { event: 'join' }, ({ key }) => seen.joins.push(key))
        .on('presence', { event: 'leave' }, ({ key }) => seen.leaves.push(key)),
    );
    expect(await a.channel.track({ role: '侠客' })).toBe('ok');
    await waitFor('alice sees herself', () => seen.joins.includes('alice'));

    let b = await join(bob.sb, topic, { presence: { key: 'bob' } }, (c) => c.on('presence', { event: 'sync' }, () => undefined));
    const aliceMetas = await waitFor('bob to see alice', () => b.channel.presenceState().alice);
    expect(aliceMetas).toEqual([{ role: '侠客', presence_ref: expect.any(String) }]);

    expect(await b.channel.track({ role: '书生' })).toBe('ok');
    await waitFor('alice to see bob join', () => seen.joins.includes('bob'));
    expect(a.channel.presenceState().bob).toEqual([{ role: '书生', presence_ref: expect.any(String) }]);

    expect(await b.channel.untrack()).toBe('ok');
    await waitFor('alice to see bob leave', () => seen.leaves.includes('bob'));
    expect(a.channel.presenceState().bob).toBeUndefined();

    await b.channel.track({ role: '书生' });
    await waitFor('bob back', () => a.channel.presenceState().bob);
    await bob.sb.removeChannel(b.channel);
    await waitFor('bob gone after leaving', () => !a.channel.presenceState().bob);

    b = await join(bob.sb, topic, { presence: { key: 'bob' } });
    await b.channel.track({ role: '书生' });
    await waitFor('bob back again', () => a.channel.presenceState().bob);
    // A socket that dies without a goodbye still leaves.
    const raw = await RawSocket.open(server, vsn);
    const ref = raw.push(
      `realtime:${topic}`,
      'phx_join',
      { config: { presence: { key: 'ghost', enabled: true } }, access_token: server.anonKey },
      'g',
    );
    expect((await raw.reply(ref)).status).toBe('ok');
    raw.push(`realtime:${topic}`, 'presence', { type: 'presence', event: 'track', payload: { role: '幽灵' } }, 'g');
    await waitFor('the ghost to appear', () => a.channel.presenceState().ghost);
    raw.ws.terminate();
    await waitFor('the ghost to vanish', () => !a.channel.presenceState().ghost);
    expect(a.channel.presenceState().bob).toBeDefined();
    await alice.sb.removeAllChannels();
    await bob.sb.removeAllChannels();
  });
});

test('join flags are read as upstream reads them: "true" in any case is true, anything else false', async () => {
  const socket = await RawSocket.open(server, '1.0.0');
  const listener = await RawSocket.open(server, '1.0.0');
  try {
    // A private channel asked for with a string is still a private one: refused, never a public one.
    for (const [i, value] of [true, 'true', 'TRUE'].entries()) {
      const reply = await socket.reply(
        socket.push(`realtime:secret-${i}`, 'phx_join', { config: { private: value }, access_token: server.anonKey }),
      );
      expect(reply).toEqual({ status: 'error', response: { reason: 'Private channels are not supported by local-supabase' } });
    }
    await listener.reply(listener.push('realtime:flags', 'phx_join', { config: {}, access_token: server.anonKey }));
    const join = (config: Record<string, unknown>, ref: string) =>
      socket.reply(socket.push('realtime:flags', 'phx_join', { config: { private: 'no', ...config }, access_token: server.anonKey }, ref));
    expect(await join({ broadcast: { self: 'True', ack: 'true' }, presence: { enabled: 'TRUE' } }, 'j1')).toMatchObject({ status: 'ok' });
    await waitFor('presence state for an enabled presence', () => socket.messages('presence_state').length === 1 || undefined);
    const acked = await socket.reply(
      socket.push('realtime:flags', 'broadcast', { type: 'broadcast', event: 'e', payload: { n: 1 } }, 'j1'),
    );
    expect(acked).toEqual({ status: 'ok', response: {} });
    await waitFor('the sender to hear itself', () => socket.messages('broadcast').length === 1 || undefined);
    // Other strings are the default: no ack, no self.
    expect(await join({ broadcast: { self: 'yes', ack: 1 } }, 'j2')).toMatchObject({ status: 'ok' });
    socket.push('realtime:flags', 'broadcast', { type: 'broadcast', event: 'e', payload: { n: 2 } }, 'j2');
    await waitFor('the listener to hear both', () => listener.messages('broadcast').length === 2 || undefined);
    await sleep(QUIET_MS);
    expect(socket.messages('broadcast')).toHaveLength(1);
    expect(socket.messages('phx_reply').filter((m) => (m.payload as { response?: unknown }).response !== undefined)).toHaveLength(6);
  } finally {
    socket.ws.terminate();
    listener.ws.terminate();
  }
});

describe('frames no client should send', () => {
  const handshake = (query: string) =>
    new Promise<{ status: number; body: unknown }>((resolve, reject) => {
      const ws = new WebSocket(`${server.url.replace('http', 'ws')}/realtime/v1/websocket?${query}`);
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(body) }));
      });
      ws.on('open', () => reject(new Error('handshake accepted')));
    });

  test('the handshake needs a valid apikey', async () => {
    expect(await handshake('vsn=1.0.0')).toEqual({ status: 401, body: { error: 'API key is missing' } });
    expect(await handshake('vsn=1.0.0&apikey=nope')).toEqual({ status: 401, body: { error: 'The token provided is not a valid JWT' } });
    expect(await handshake(`vsn=3.0.0&apikey=${server.anonKey}`)).toMatchObject({ status: 400 });
  });

  test.each(VSNS)('vsn %s: errors are replied, bad frames close only their socket', async (vsn) => {
    const bystander = await RawSocket.open(server, vsn);
    const raw = await RawSocket.open(server, vsn);
    expect(await raw.reply(raw.push('phoenix', 'heartbeat', {}))).toEqual({ status: 'ok', response: {} });
    expect(await raw.reply(raw.push('realtime:nowhere', 'broadcast', {}))).toEqual({
      status: 'error',
      response: { reason: 'unmatched topic' },
    });
    expect((await raw.reply(raw.push('not-realtime', 'phx_join', {}))).status).toBe('error');
    expect((await raw.reply(raw.push('realtime:', 'phx_join', {}))).response).toEqual({ reason: 'You must provide a topic name' });
    const joinRef = raw.push('realtime:odd', 'phx_join', { config: {} }, 'j');
    expect((await raw.reply(joinRef)).status).toBe('ok');
    expect((await raw.reply(raw.push('realtime:odd', 'dance', {}, 'j'))).status).toBe('error');
    expect(
      (await raw.reply(raw.push('realtime:odd', 'presence', { type: 'presence', event: 'track', payload: 'x' }, 'j'))).response,
    ).toEqual({
      reason: 'Presence track payload must be a map',
    });

    raw.ws.send('this is not json');
    await waitFor('close on a frame that is not JSON', () => raw.closed);
    expect(raw.closed!.code).toBe(1007);

    const big = await RawSocket.open(server, vsn);
    // Upstream's max_frame_size (lib/realtime_web/endpoint.ex) is 5,000,000 bytes.
    big.ws.send('x'.repeat(5_000_001));
    await waitFor('close on an oversized frame', () => big.closed);
    expect(big.closed!.code).toBe(1009);

    if (vsn === '2.0.0') {
      const binary = await RawSocket.open(server, vsn);
      binary.ws.send(Buffer.from([9, 0, 0, 0, 0, 0, 1]));
      await waitFor('close on an unknown binary kind', () => binary.closed);
    }

    expect(await bystander.reply(bystander.push('phoenix', 'heartbeat', {}))).toEqual({ status: 'ok', response: {} });
    expect(bystander.closed).toBeUndefined();
    bystander.ws.close();
  });
});
