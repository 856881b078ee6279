// The outbox state machine through the room session: pending at once, sent exactly once,
// duplicates as success, rejections as 'failed' with a Chinese reason, capped backoff, images,
// and persistence across an app kill.
import { BackendFailure } from '../miniprogram/core/ports';
import { memoryStore } from './support/memory-store';
import { FIRST_RETRY_MS, retryDelay } from '../miniprogram/core/backoff';
import {
  MAX_ATTEMPTS,
  OUTBOX_MAX_BYTES,
  RATE_LIMIT_WAIT_MS,
  imageStoragePath,
  imagesStillNeeded,
  outboxKey,
  type OutboxItem,
} from '../miniprogram/core/outbox';
import { RATE_LIMIT, RATE_WINDOW_SECONDS, TEXT_MAX } from '../miniprogram/core/rules';
import { uuidV4 } from '../miniprogram/core/ids';
import { zh } from '../miniprogram/core/strings';
import { FakeBackend, ManualClock, ME, OTHER, openRoom, picked, ROOM, settle } from './support/core-fakes';
import { UNREACHABLE_FAIL_MS } from '../miniprogram/core/room-session';

async function startedRoom(options: Parameters<typeof openRoom>[0] = {}) {
  const room = openRoom(options);
  await room.session.start();
  await settle();
  return room;
}

function lastMessage(room: ReturnType<typeof openRoom>) {
  return room.rendered.messages[room.rendered.messages.length - 1];
}

const network = () => new BackendFailure(0, '', 'TypeError: fetch failed');

test('a text shows at once as sending and mine, then is sent exactly once', async () => {
  const room = await startedRoom();
  room.backend.insertRow({});
  room.session.sendText('在下楚留香');
  expect(lastMessage(room)).toMatchObject({ id: null, status: 'sending', mine: true, body: '在下楚留香', username: '楚留香' });
  await settle();
  expect(lastMessage(room)).toMatchObject({ id: 2, status: 'sent', mine: true, userId: ME });
  expect(room.backend.rows.filter((row) => row.body === '在下楚留香')).toHaveLength(1);
  expect(room.store.dump()['outbox:lobby']).toBeUndefined();
  room.check();
});

test('the answer of the insert and the realtime echo do not duplicate, in either order', async () => {
  for (const deliverLive of [true, false]) {
    const room = await startedRoom();
    room.backend.deliverLive = deliverLive;
    room.session.sendText('一');
    await settle();
    if (!deliverLive) room.backend.deliver(room.backend.rows[0]);
    expect(room.rendered.ids()).toEqual([1]);
    room.check();
  }
});

test('messages go out in the order they were written', async () => {
  const room = await startedRoom();
  room.session.sendText('一');
  room.session.sendText('二');
  room.session.sendText('三');
  await settle();
  expect(room.backend.rows.map((row) => row.body)).toEqual(['一', '二', '三']);
  expect(room.rendered.bodies()).toEqual(['一', '二', '三']);
  room.check();
});

test('an insert whose answer was lost is retried, and the duplicate counts as success', async () => {
  const room = await startedRoom();
  room.backend.deliverLive = false;
  room.backend.loseInsertAnswers = 1;
  room.session.sendText('只此一条');
  await settle();
  expect(lastMessage(room).status).toBe('sending');
  await room.clock.advance(FIRST_RETRY_MS);
  expect(room.backend.rows).toHaveLength(1);
  expect(lastMessage(room)).toMatchObject({ status: 'sent', id: 1 });
  expect(room.backend.calls.filter((call) => call === 'byClientId')).toHaveLength(1);
  room.check();
});

test('a message resent under a fresh id after earlier failures gets a full set of attempts under it', async () => {
  const ids = ['aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb'];
  const room = await startedRoom({ newId: () => ids.shift() as string });
  room.backend.insertRow({ client_id: 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', user_id: OTHER, body: '抢先' });
  // Fails all but one of its attempts, meets the foreign row, then fails once more under the new id.
  const script = [...Array.from({ length: MAX_ATTEMPTS - 1 }, () => 'fail'), 'real', 'fail', 'real'];
  const insert = room.backend.insertMessage.bind(room.backend);
  room.backend.insertMessage = async (message) => {
    if (script.shift() === 'fail') throw network();
    return insert(message);
  };
  room.session.sendText('我的话');
  await room.clock.advance(10 * 60 * 1000);
  expect(room.backend.rows.filter((row) => row.user_id === ME)).toMatchObject([
    { body: '我的话', client_id: 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb' },
  ]);
  expect(lastMessage(room)).toMatchObject({ status: 'sent' });
});

test('a duplicate client_id held by someone else’s row is resent under a fresh id', async () => {
  const ids = ['aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb'];
  const room = await startedRoom({ newId: () => ids.shift() as string });
  room.backend.deliverLive = false;
  room.backend.insertRow({ client_id: 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', user_id: OTHER, body: '抢先' });
  room.session.sendText('我的话');
  await settle();
  const mine = room.backend.rows.filter((row) => row.user_id === ME);
  expect(mine).toMatchObject([{ body: '我的话', client_id: 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb' }]);
  expect(room.rendered.messages.filter((message) => message.mine)).toMatchObject([
    { key: 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', status: 'sent' },
  ]);
  room.check();
});

test('a pending message whose client_id a foreign row in the cached page holds: both shown once, ours resent under a fresh id', async () => {
  const taken = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
  const backend = new FakeBackend();
  backend.insertRow({});
  const foreign = backend.insertRow({ client_id: taken, user_id: OTHER, body: '抢先' });
  const store = memoryStore();
  store.set('room:lobby', { room: ROOM, userId: ME, rows: backend.rows, syncedId: foreign.id });
  store.set('outbox:lobby', [
    {
      key: taken,
      kind: 'text',
      body: '我的话',
      image: null,
      username: '楚留香',
      avatarColor: '#c0392b',
      createdAt: '2026-11-21T11:00:00.000Z',
      status: 'sending',
      attempts: 0,
      error: null,
    },
  ]);
  const room = openRoom({ backend, store, newId: () => 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb' });
  await room.session.start();
  await settle();
  expect(room.rendered.messages.map((message) => [message.body, message.key, message.status])).toEqual([
    ['message 1', backend.rows[0].client_id, 'sent'],
    ['抢先', taken, 'sent'],
    ['我的话', 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 'sent'],
  ]);
  room.check();
});

test.each([
  [
    'check constraint',
    new BackendFailure(400, '23514', 'new row for relation "messages" violates check constraint "messages_text_check"'),
    zh.sendRejectedRule,
  ],
  ['RLS', new BackendFailure(403, '42501', 'new row violates row-level security policy for table "messages"'), zh.sendNoPermission],
  ['anon role', new BackendFailure(401, '42501', 'permission denied for table messages'), zh.sendNoPermission],
])('a rejection (%s) fails the message with a Chinese reason and never retries by itself', async (_label, failure, reason) => {
  const room = await startedRoom();
  room.backend.failNext('insert', failure);
  room.session.sendText('被拒');
  room.session.sendText('下一条');
  await settle();
  // The queue moved on; the failed one stays at the end with our other unsent messages.
  expect(room.rendered.messages).toMatchObject([
    { body: '下一条', status: 'sent' },
    { body: '被拒', status: 'failed', error: reason, errorDetail: failure.detail },
  ]);
  expect(failure.detail).toContain(failure.code);
  await room.clock.advance(10 * 60 * 1000);
  expect(room.backend.calls.filter((call) => call === 'insert')).toHaveLength(2);

  room.session.retry(room.rendered.messages[1].key);
  expect(room.rendered.messages[1]).toMatchObject({ status: 'sending', error: '' });
  await settle();
  expect(room.rendered.bodies()).toEqual(['下一条', '被拒']);
  expect(room.rendered.messages.map((message) => message.status)).toEqual(['sent', 'sent']);
  room.check();
});

const rateLimited = () => new BackendFailure(429, 'PT429', 'rate limit exceeded: at most 10 messages in 10 seconds');

test('the rate limit holds the queue: the message waits as sending with the reason, then goes by itself, in order', async () => {
  const room = await startedRoom();
  // More refusals than a transient failure may have: the rate limit never turns a message failed.
  room.backend.failNext('insert', ...Array.from({ length: MAX_ATTEMPTS + 2 }, rateLimited));
  room.session.sendText('一');
  room.session.sendText('二');
  await settle();
  expect(room.rendered.messages).toMatchObject([
    { body: '一', status: 'sending', error: zh.sendRateLimited },
    { body: '二', status: 'sending' },
  ]);
  const inserts = () => room.backend.calls.filter((call) => call === 'insert').length;
  for (let refused = 1; refused <= MAX_ATTEMPTS + 2; refused++) {
    expect(inserts()).toBe(refused);
    await room.clock.advance(RATE_LIMIT_WAIT_MS - 1);
    expect(inserts()).toBe(refused);
    await room.clock.advance(1);
  }
  expect(room.backend.rows.map((row) => row.body)).toEqual(['一', '二']);
  expect(room.rendered.messages).toMatchObject([
    { body: '一', status: 'sent', error: '' },
    { body: '二', status: 'sent' },
  ]);
  expect(room.rendered.of('update').filter((patch) => patch.type === 'update' && patch.changes.status === 'failed')).toEqual([]);
  // The waiting message says why once, not once a second.
  expect(room.rendered.of('update').filter((patch) => patch.type === 'update' && patch.changes.error === zh.sendRateLimited)).toHaveLength(
    1,
  );
  // Told once, not once a second.
  expect(room.rendered.of('error')).toEqual([{ type: 'error', message: zh.sendRateLimited, detail: rateLimited().detail }]);
  room.check();
});

test('a message the rate limit refused late in its window goes within a second of a slot freeing', async () => {
  const room = await startedRoom();
  room.backend.rateLimit = { clock: room.clock, limit: RATE_LIMIT, windowMs: RATE_WINDOW_SECONDS * 1000 };
  const spacing = (RATE_WINDOW_SECONDS * 1000 * 0.9) / RATE_LIMIT;
  for (let i = 0; i < RATE_LIMIT; i++) {
    room.session.sendText(`第${i + 1}条`);
    await room.clock.advance(spacing);
  }
  room.session.sendText('多出来的一条');
  await settle();
  expect(lastMessage(room)).toMatchObject({ status: 'sending', error: zh.sendRateLimited });
  // The first message leaves the window RATE_WINDOW_SECONDS after it was sent.
  const slotFrees = RATE_WINDOW_SECONDS * 1000 - RATE_LIMIT * spacing;
  await room.clock.advance(slotFrees + 1000);
  expect(lastMessage(room)).toMatchObject({ status: 'sent' });
});

test('rate-limit waits do not use up the attempts a network failure gets', async () => {
  const room = await startedRoom();
  room.backend.failNext('insert', rateLimited(), rateLimited(), ...Array.from({ length: MAX_ATTEMPTS - 1 }, network));
  room.session.sendText('坚持到底');
  await room.clock.advance(10 * 60 * 1000);
  expect(lastMessage(room)).toMatchObject({ status: 'sent' });
});

test('a new burst after the queue emptied is told again; a relaunch does not show an old wait', async () => {
  const backend = new FakeBackend();
  const store = memoryStore();
  const room = await startedRoom({ backend, store });
  backend.failNext('insert', rateLimited());
  room.session.sendText('第一阵');
  await room.clock.advance(RATE_LIMIT_WAIT_MS);
  backend.failNext('insert', rateLimited(), rateLimited());
  room.session.sendText('第二阵');
  await settle();
  expect(room.rendered.of('error').map((patch) => patch.type === 'error' && patch.message)).toEqual([
    zh.sendRateLimited,
    zh.sendRateLimited,
  ]);
  await room.session.flush();

  // Killed while the second one waits: the next launch shows it as plainly sending, and sends it.
  const second = openRoom({ backend, store, clock: new ManualClock() });
  await second.session.start();
  const [paint] = second.rendered.patches;
  expect(paint.type === 'reset' && paint.messages.map((message) => [message.body, message.status, message.error])).toEqual([
    ['第一阵', 'sent', undefined],
    ['第二阵', 'sending', undefined],
  ]);
  await second.clock.advance(RATE_LIMIT_WAIT_MS);
  expect(backend.rows.map((row) => row.body)).toEqual(['第一阵', '第二阵']);
});

test('transient failures back off exponentially, then the message goes through', async () => {
  const room = await startedRoom();
  room.backend.failNext('insert', network(), new BackendFailure(503, '', 'Service Unavailable'));
  room.session.sendText('坚持');
  await settle();
  const inserts = () => room.backend.calls.filter((call) => call === 'insert').length;
  expect(inserts()).toBe(1);
  await room.clock.advance(retryDelay(1) - 1);
  expect(inserts()).toBe(1);
  await room.clock.advance(1);
  expect(inserts()).toBe(2);
  await room.clock.advance(retryDelay(2) - 1);
  expect(inserts()).toBe(2);
  await room.clock.advance(1);
  expect(inserts()).toBe(3);
  expect(lastMessage(room)).toMatchObject({ status: 'sent' });
  room.check();
});

test('transient failures are capped: the message fails, and a tap sends it once the network is back', async () => {
  const room = await startedRoom();
  room.backend.offline = true;
  room.session.sendText('断网');
  await room.clock.advance(10 * 60 * 1000);
  expect(room.backend.calls.filter((call) => call === 'insert')).toHaveLength(MAX_ATTEMPTS);
  expect(lastMessage(room)).toMatchObject({ status: 'failed', error: zh.sendNetwork });
  expect(room.clock.pending().filter((ms) => ms > 0 && ms !== 1000)).toEqual([]);
  // Back, but shaky: a tap gives the message a full set of attempts again.
  room.backend.offline = false;
  room.backend.failNext('insert', ...Array.from({ length: MAX_ATTEMPTS - 1 }, network));
  room.session.retry(lastMessage(room).key);
  await room.clock.advance(10 * 60 * 1000);
  expect(lastMessage(room)).toMatchObject({ status: 'sent' });
  expect(room.backend.rows).toHaveLength(1);
});

/** The network returns and the platform calls resume(): every message goes, in the order written. */
async function backOnline(room: ReturnType<typeof openRoom>, bodies: string[]) {
  room.backend.offline = false;
  room.session.resume();
  await room.clock.advance(5_000);
  expect(room.backend.rows.map((row) => row.body)).toEqual(bodies);
  expect(room.rendered.messages.map((m) => m.status)).toEqual(bodies.map(() => 'sent'));
  room.check();
}

test('an outage longer than the attempts: what waits behind fails with the message, and all go in order when the network returns', async () => {
  const room = await startedRoom();
  room.backend.offline = true;
  room.session.sendText('先说的');
  room.session.sendText('后说的');
  await room.clock.advance(40_000);
  expect(room.rendered.messages.map((m) => [m.body, m.status, m.error])).toEqual([
    ['先说的', 'failed', zh.sendNetwork],
    ['后说的', 'failed', zh.sendNetwork],
  ]);
  expect(room.backend.calls.filter((call) => call === 'insert')).toHaveLength(MAX_ATTEMPTS);
  // The network returns (wx.onNetworkStatusChange): both go by themselves, the earlier first.
  await backOnline(room, ['先说的', '后说的']);
});

test('rate-limited, then cut off in the background past the attempts: back in the foreground both go, in order', async () => {
  const room = await startedRoom();
  room.backend.failNext('insert', rateLimited());
  room.session.sendText('一');
  room.session.sendText('二');
  await settle();
  room.backend.offline = true;
  await room.clock.advance(RATE_LIMIT_WAIT_MS + 60_000);
  await backOnline(room, ['一', '二']);
});

test('a new message sends the ones the network failed first; a refused one stays failed', async () => {
  const room = await startedRoom();
  room.backend.failNext('insert', new BackendFailure(400, '23514', 'new row violates check constraint'));
  room.session.sendText('被拒');
  await settle();
  room.backend.offline = true;
  room.session.sendText('断网时写的');
  await room.clock.advance(60_000);
  expect(room.rendered.messages.map((m) => m.status)).toEqual(['failed', 'failed']);
  room.backend.offline = false;
  room.session.sendText('回来后写的');
  await room.clock.advance(5_000);
  expect(room.backend.rows.map((row) => row.body)).toEqual(['断网时写的', '回来后写的']);
  // Sent rows stand in the room's order; what never went stays below them.
  expect(room.rendered.messages.map((m) => [m.body, m.status])).toEqual([
    ['断网时写的', 'sent'],
    ['回来后写的', 'sent'],
    ['被拒', 'failed'],
  ]);
  room.check();
});

test('tapping retry on a message still sending changes nothing', async () => {
  const room = await startedRoom();
  room.backend.failNext('insert', network());
  room.session.sendText('发送中');
  await settle();
  const patches = room.rendered.patches.length;
  room.session.retry(lastMessage(room).key);
  await settle();
  expect(room.rendered.patches).toHaveLength(patches);
  expect(room.backend.calls.filter((call) => call === 'insert')).toHaveLength(1);
});

test('the connection coming back sends at once instead of waiting out the backoff', async () => {
  const room = await startedRoom();
  room.backend.failNext('insert', network(), network(), network());
  room.session.sendText('等网');
  await room.clock.advance(FIRST_RETRY_MS + retryDelay(2));
  expect(lastMessage(room).status).toBe('sending');
  room.backend.channelStatus('error', 'socket closed');
  room.backend.channelStatus('subscribed');
  await settle();
  expect(lastMessage(room)).toMatchObject({ status: 'sent' });
});

test('an image uploads first with progress, then is inserted, and shows the public URL', async () => {
  const room = await startedRoom({ newId: () => uuidV4() });
  const release = room.backend.holdUploads();
  room.session.sendImage(picked());
  expect(lastMessage(room)).toMatchObject({ kind: 'image', imageUrl: '/tmp/photo.jpg', progress: 0, status: 'sending' });
  await settle();
  expect(lastMessage(room).progress).toBe(50);
  release();
  await settle();
  const [row] = room.backend.rows;
  expect(row.image_path).toMatch(new RegExp(`^${ME}/2026-11/[0-9a-f-]{36}\\.jpg$`));
  expect(room.backend.objects.has(row.image_path as string)).toBe(true);
  expect(lastMessage(room)).toMatchObject({
    status: 'sent',
    imageUrl: `https://cdn.test/images/${row.image_path}`,
    imageWidth: 640,
    imageHeight: 480,
  });
  room.check();
});

test('a failed upload is retried without re-picking, under the same storage path', async () => {
  const room = await startedRoom();
  room.backend.offline = true;
  room.session.sendImage(picked());
  await room.clock.advance(10 * 60 * 1000);
  expect(lastMessage(room)).toMatchObject({ status: 'failed', error: zh.uploadFailed });
  const [stored] = room.store.dump()['outbox:lobby'] as Array<{ image: { storagePath: string; path: string } }>;
  expect(stored.image.path).toBe('/tmp/photo.jpg');

  room.backend.offline = false;
  room.session.retry(lastMessage(room).key);
  await settle();
  expect(room.backend.rows[0].image_path).toBe(stored.image.storagePath);
  expect(lastMessage(room).status).toBe('sent');
});

test('an upload that landed but lost its answer counts as uploaded (duplicate object)', async () => {
  const room = await startedRoom();
  room.backend.loseUploadAnswers = 1;
  room.session.sendImage(picked());
  await settle();
  expect(room.backend.objects.size).toBe(1);
  expect(lastMessage(room).status).toBe('sending');
  await room.clock.advance(FIRST_RETRY_MS);
  expect(room.backend.calls.filter((call) => call === 'upload')).toHaveLength(2);
  expect(room.backend.rows).toHaveLength(1);
  expect(lastMessage(room).status).toBe('sent');
});

test('a rejected image (too large) fails with its own reason', async () => {
  const room = await startedRoom();
  room.backend.failNext('upload', new BackendFailure(413, '413', 'The object exceeded the maximum allowed size'));
  room.session.sendImage(picked());
  await settle();
  expect(lastMessage(room)).toMatchObject({ status: 'failed', error: zh.imageTooLarge });
});

test('pending messages survive the app being killed and are delivered exactly once by the next session', async () => {
  const backend = new FakeBackend();
  const store = memoryStore();
  const first = await startedRoom({ backend, store });
  backend.offline = true;
  first.session.sendText('第一条');
  first.session.sendImage(picked());
  await settle();
  // Killed: no stop(), no cleanup; its timers never fire again.
  await first.session.flush();

  backend.offline = false;
  backend.loseInsertAnswers = 1;
  const second = openRoom({ backend, store, clock: new ManualClock() });
  await second.session.start();
  // The first paint shows both as pending, straight from the device store.
  const [paint] = second.rendered.patches;
  expect(paint.type === 'reset' && paint.messages.map((message) => [message.body, message.status])).toEqual([
    ['第一条', 'sending'],
    [null, 'sending'],
  ]);
  await settle();
  await second.clock.advance(FIRST_RETRY_MS);
  expect(backend.rows.map((row) => row.body ?? row.kind)).toEqual(['第一条', 'image']);
  expect(second.rendered.messages.map((message) => message.status)).toEqual(['sent', 'sent']);
  expect(store.dump()['outbox:lobby']).toBeUndefined();

  // A third launch has nothing left to send.
  const third = openRoom({ backend, store, clock: new ManualClock() });
  await third.session.start();
  await settle();
  expect(backend.rows).toHaveLength(2);
  expect(third.rendered.ids()).toEqual([1, 2]);
});

test('stopping during an upload cancels it; the next start resumes the same image', async () => {
  const backend = new FakeBackend();
  const store = memoryStore();
  const first = await startedRoom({ backend, store });
  const release = backend.holdUploads();
  first.session.sendImage(picked());
  await settle();
  first.session.stop();
  await settle();
  await first.session.flush();
  expect(backend.objects.size).toBe(0);
  // The server finishes the cancelled transfer anyway; the next attempt finds the object there.
  release();
  await settle();
  const [stored] = store.dump()['outbox:lobby'] as Array<{ status: string; image: { storagePath: string } }>;
  expect(stored.status).toBe('sending');

  const second = openRoom({ backend, store, clock: new ManualClock() });
  await second.session.start();
  await settle();
  expect(backend.rows[0].image_path).toBe(stored.image.storagePath);
  expect(second.rendered.messages).toMatchObject([{ status: 'sent', kind: 'image' }]);
});

test('a role change applies to new messages only', async () => {
  const room = await startedRoom();
  room.backend.offline = true;
  room.session.sendText('旧身份');
  room.setSpeaker({ name: '陆小凤', color: '#117a65', characterId: 8 });
  room.session.sendText('新身份');
  room.backend.offline = false;
  await room.clock.advance(FIRST_RETRY_MS);
  expect(room.backend.rows.map((row) => [row.body, row.username, row.avatar_color])).toEqual([
    ['旧身份', '楚留香', '#c0392b'],
    ['新身份', '陆小凤', '#117a65'],
  ]);
});

test('invalid text or role is refused before the outbox, with a Chinese message', async () => {
  const room = await startedRoom();
  room.session.sendText('   ');
  room.session.sendText('字'.repeat(2001));
  room.setSpeaker({ name: ' 楚留香', color: '#c0392b', characterId: 7 });
  room.session.sendText('你好');
  await settle();
  expect(room.rendered.of('error').map((patch) => patch.type === 'error' && patch.message)).toEqual([
    zh.textEmpty,
    '消息最多 2000 个字',
    zh.nameUntrimmed,
  ]);
  expect(room.backend.calls).not.toContain('insert');
  expect(room.rendered.messages).toEqual([]);
});

test('a full outbox refuses the next message with a clear reason, leaves it with the caller, and takes more once some are sent', async () => {
  const room = await startedRoom();
  room.backend.offline = true;
  // The longest text, in 4-byte characters: the fewest messages fill the queue.
  const text = (n: number) => `${n}`.padEnd(TEXT_MAX, '😀');
  let accepted = 0;
  while (accepted < 1000 && room.session.sendText(text(accepted))) accepted++;
  await settle();
  expect(room.rendered.of('error')).toEqual([{ type: 'error', message: zh.outboxFull, detail: expect.stringContaining('outbox full') }]);
  expect(room.rendered.messages.map((message) => message.body)).toEqual(Array.from({ length: accepted }, (_, n) => text(n)));
  const stored = room.store.dump()['outbox:lobby'] as unknown[];
  expect(stored).toHaveLength(accepted);
  // Full means full: what is stored fits, and one more of the same would not.
  const bytes = (items: unknown[]) => Buffer.byteLength(JSON.stringify(items));
  expect(bytes(stored)).toBeLessThanOrEqual(OUTBOX_MAX_BYTES);
  expect(bytes([...stored, stored[0]])).toBeGreaterThan(OUTBOX_MAX_BYTES);

  room.backend.offline = false;
  room.session.resume();
  await room.clock.advance(10 * 60 * 1000);
  expect(room.backend.rows).toHaveLength(accepted);
  expect(room.session.sendText('又能发了')).toBe(true);
});

test('a refused image lets its saved copy go at once', async () => {
  const room = await startedRoom();
  room.setSpeaker({ name: '', color: '#c0392b', characterId: 7 });
  expect(room.session.sendImage(picked('wxfile://store/saved_1.jpg'))).toBe(false);
  expect(room.backend.released).toEqual(['wxfile://store/saved_1.jpg']);
  expect(room.rendered.messages).toEqual([]);
});

test('the images still needed are those of every scene’s outbox, not one scene’s', async () => {
  const backend = new FakeBackend();
  const store = memoryStore();
  expect(await imagesStillNeeded(store)).toEqual([]);
  const lobby = await startedRoom({ backend, store });
  backend.offline = true;
  lobby.session.sendText('字');
  lobby.session.sendImage(picked('wxfile://store/saved_2.jpg'));
  await lobby.session.flush();
  // Another scene's queue, and something else stored under a key that is no outbox.
  store.set(outboxKey('s-7'), [{ clientId: 'x', kind: 'image', body: null, image: picked('wxfile://store/saved_3.jpg') }]);
  store.set('room:s-7', { rows: [{ image: picked('wxfile://store/saved_4.jpg') }] });
  expect((await imagesStillNeeded(store)).sort()).toEqual(['wxfile://store/saved_2.jpg', 'wxfile://store/saved_3.jpg']);
});

test('image storage paths follow <uid>/<yyyy-mm>/<uuid>.<ext>', () => {
  expect(imageStoragePath(ME, 'image/png', Date.UTC(2026, 0, 31), 'abc')).toBe(`${ME}/2026-01/abc.png`);
  expect(imageStoragePath(ME, 'image/jpeg', Date.UTC(2026, 11, 1), 'abc')).toBe(`${ME}/2026-12/abc.jpg`);
});

function storedItem(fields: Partial<OutboxItem>): OutboxItem {
  return {
    key: uuidV4(),
    kind: 'text',
    body: '上次没发出',
    image: null,
    username: '楚留香',
    avatarColor: '#c0392b',
    createdAt: '2026-11-21T11:00:00.000Z',
    status: 'sending',
    attempts: 0,
    error: null,
    ...fields,
  };
}

test('after a relaunch, a waiting message gets a full set of attempts and a failed one keeps its reason', async () => {
  const store = memoryStore();
  const reason = { reason: zh.sendRejectedRule, detail: '400 23514: check' };
  store.set('outbox:lobby', [
    storedItem({ attempts: MAX_ATTEMPTS - 1 }),
    storedItem({ body: '被拒', status: 'failed', attempts: 1, error: reason }),
  ]);
  const backend = new FakeBackend();
  backend.failNext('insert', ...Array.from({ length: MAX_ATTEMPTS - 1 }, network));
  const room = openRoom({ backend, store });
  await room.session.start();
  expect(room.rendered.messages).toMatchObject([
    { body: '上次没发出', status: 'sending' },
    { body: '被拒', status: 'failed', error: reason.reason, errorDetail: reason.detail },
  ]);
  await room.clock.advance(10 * 60 * 1000);
  expect(room.rendered.messages).toMatchObject([
    { body: '上次没发出', status: 'sent' },
    { body: '被拒', status: 'failed', error: reason.reason },
  ]);
});

test('a room stopped and started again (the page left and came back) shows and sends each waiting message once', async () => {
  const room = await startedRoom();
  room.backend.offline = true;
  room.session.sendText('一');
  room.session.sendText('二');
  await room.session.flush();
  room.session.stop();
  room.backend.offline = false;
  await room.session.start();
  await settle();
  expect(room.backend.rows.map((row) => row.body)).toEqual(['一', '二']);
  expect(room.rendered.bodies()).toEqual(['一', '二']);
  room.check();
});

test('a message typed before the device store answered is kept with the restored ones', async () => {
  const store = memoryStore();
  store.set('outbox:lobby', [
    {
      key: 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa',
      kind: 'text',
      body: '上次没发出',
      image: null,
      username: '楚留香',
      avatarColor: '#c0392b',
      createdAt: '2026-11-21T11:00:00.000Z',
      status: 'sending',
      attempts: 4,
      error: null,
    },
  ]);
  const slowStore = {
    ...store,
    get: <T>(key: string) => new Promise<T | null>((resolve) => setTimeout(() => resolve(store.get<T>(key)), 20)),
  };
  const room = openRoom({ store: { ...store, ...slowStore } });
  const started = room.session.start();
  room.session.sendText('抢先输入');
  await started;
  await settle();
  expect(room.backend.rows.map((row) => row.body)).toEqual(['上次没发出', '抢先输入']);
  room.check();
});

test('the echo arriving while the insert keeps failing settles the message: no later "failed" on a sent row', async () => {
  const room = await startedRoom();
  room.backend.loseInsertAnswers = 1;
  room.session.sendText('回声先到');
  await settle();
  // The row landed and its echo was shown; the answer was lost and every retry fails.
  expect(room.rendered.messages).toMatchObject([{ status: 'sent', body: '回声先到' }]);
  room.backend.offline = true;
  await room.clock.advance(10 * 60 * 1000);
  expect(room.rendered.messages).toMatchObject([{ status: 'sent', body: '回声先到' }]);
  expect(room.store.dump()['outbox:lobby']).toBeUndefined();
  room.check();
});

test('a message a gap-fill brings while its retry’s lookup fails stays sent', async () => {
  const room = await startedRoom();
  room.backend.deliverLive = false;
  room.backend.loseInsertAnswers = 1;
  room.session.sendText('已经到了');
  await settle();
  // The retry meets its own row (a duplicate) and the lookup of it is refused; meanwhile a
  // catch-up shows the row.
  room.backend.failNext('byClientId', new BackendFailure(403, '42501', 'permission denied'));
  room.session.resume();
  await room.clock.advance(60000);
  expect(room.rendered.messages).toMatchObject([{ body: '已经到了', status: 'sent' }]);
  expect(room.rendered.of('update').filter((patch) => patch.type === 'update' && patch.changes.status === 'failed')).toEqual([]);
});

test('a message delivered just before a kill, already in the cache, is not sent again', async () => {
  const backend = new FakeBackend();
  const store = memoryStore();
  const first = await startedRoom({ backend, store });
  backend.deliverLive = false;
  backend.loseInsertAnswers = 1;
  first.session.sendText('已送达');
  await settle();
  // Another path (a gap-fill) shows the row and the cache is saved, then the app dies.
  first.session.resume();
  await settle();
  await first.clock.advance(1000);
  await first.session.flush();

  backend.offline = true;
  const second = openRoom({ backend, store, clock: new ManualClock() });
  await second.session.start();
  expect(second.rendered.messages).toMatchObject([{ body: '已送达', status: 'sent' }]);
  expect(store.dump()['outbox:lobby']).toBeUndefined();
  expect(backend.rows).toHaveLength(1);
});

test('a sent image releases its local file (kept across restarts until then), and only once it is stored', async () => {
  const room = await startedRoom();
  room.backend.failNext('insert', network());
  room.session.sendImage(picked('wxfile://store/saved_1.jpg'));
  await settle();
  // Uploaded, but the insert failed: the file is kept until the message is stored.
  expect(room.backend.released).toEqual([]);
  await room.clock.advance(FIRST_RETRY_MS);
  expect(lastMessage(room)).toMatchObject({ status: 'sent' });
  expect(room.backend.released).toEqual(['wxfile://store/saved_1.jpg']);
});

test('offline at launch: a pending send fails after a bounded time instead of 发送中… forever; a tap sends it later', async () => {
  const backend = new FakeBackend();
  backend.offline = true;
  const room = openRoom({ backend });
  await room.session.start();
  room.session.sendText('有人吗');
  await room.clock.advance(UNREACHABLE_FAIL_MS - 1000);
  expect(lastMessage(room)).toMatchObject({ status: 'sending' });
  await room.clock.advance(UNREACHABLE_FAIL_MS);
  expect(lastMessage(room)).toMatchObject({ status: 'failed', error: zh.sendNetwork });
  backend.offline = false;
  room.session.retry(lastMessage(room).key);
  await room.clock.advance(60000);
  expect(lastMessage(room)).toMatchObject({ status: 'sent', body: '有人吗' });
  room.check();
});

test('offline at launch: a failed message stays failed while the room is unreachable, and goes first once it is reached', async () => {
  const backend = new FakeBackend();
  backend.offline = true;
  const room = openRoom({ backend });
  await room.session.start();
  room.session.sendText('有人吗');
  await room.clock.advance(2 * UNREACHABLE_FAIL_MS);
  room.session.sendText('还有人吗');
  await settle();
  // Nowhere to send to yet: the first is not brought back to 发送中 by the second.
  expect(room.rendered.messages.map((m) => [m.body, m.status])).toEqual([
    ['有人吗', 'failed'],
    ['还有人吗', 'sending'],
  ]);
  backend.offline = false;
  await room.clock.advance(60_000);
  expect(backend.rows.map((row) => row.body)).toEqual(['有人吗', '还有人吗']);
  room.check();
});

test('a room found but whose messages cannot be loaded: a message sent meanwhile keeps its own attempts', async () => {
  const backend = new FakeBackend();
  backend.failNext('newest', ...Array.from({ length: 20 }, () => new BackendFailure(503, '', 'Service Unavailable')));
  const room = openRoom({ backend });
  await room.session.start();
  await room.clock.advance(UNREACHABLE_FAIL_MS - 1000);
  // Its attempts fail for a while, into the time the room counts as unreachable, then work.
  backend.failNext('insert', network(), network(), network());
  room.session.sendText('能发出去吗');
  await room.clock.advance(10 * 1000);
  expect(lastMessage(room)).toMatchObject({ status: 'sent' });
});

test('attempts that failed while the app was in the background do not count: resume gives a full set again', async () => {
  const room = await startedRoom();
  room.backend.failNext('insert', ...Array.from({ length: MAX_ATTEMPTS + 1 }, network));
  room.session.sendText('回来了');
  // All but the last attempt fail in the background.
  for (let i = 1; i < MAX_ATTEMPTS - 1; i++) await room.clock.advance(retryDelay(i));
  expect(lastMessage(room)).toMatchObject({ status: 'sending' });
  room.session.resume();
  await settle();
  expect(lastMessage(room)).toMatchObject({ status: 'sending' });
  await room.clock.advance(60000);
  expect(lastMessage(room)).toMatchObject({ status: 'sent' });
});

test('an image uploaded under an earlier anonymous user is uploaded again into the current user’s folder', async () => {
  const backend = new FakeBackend();
  const store = memoryStore();
  const first = await startedRoom({ backend, store });
  backend.loseUploadAnswers = 1;
  first.session.sendImage(picked());
  await settle();
  await first.session.flush();
  first.session.stop();
  const [oldPath] = [...backend.objects];
  expect(oldPath.startsWith(`${ME}/`)).toBe(true);

  // The device lost its session: the next launch signs in as a new anonymous user.
  backend.me = 'ffffffff-ffff-4fff-8fff-ffffffffffff';
  const second = await startedRoom({ backend, store, clock: new ManualClock() });
  await second.clock.advance(60000);
  expect(backend.rows).toHaveLength(1);
  expect(backend.rows[0].image_path!.startsWith(`${backend.me}/`)).toBe(true);
  expect(lastMessage(second)).toMatchObject({ status: 'sent' });
});
