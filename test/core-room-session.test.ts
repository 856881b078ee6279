// The room session over an in-memory backend: cache paint, paging, live order, gap-fill after
// reconnects and app shows, connection states.
import { BackendFailure } from '../miniprogram/core/ports';
import { memoryStore } from './support/memory-store';
import { MAX_RETRY_MS, retryDelay } from '../miniprogram/core/backoff';
import {
  CACHE_SAVE_DELAY_MS,
  GAP_OVERLAP_IDS,
  MAX_GAP_PAGES,
  MAX_ROOM_CACHES,
  pruneRoomCaches,
  RoomSession,
  UNREACHABLE_FAIL_MS,
} from '../miniprogram/core/room-session';
import { PAGE_SIZE } from '../miniprogram/core/message-list';
import { zh } from '../miniprogram/core/strings';
import type { RoomRow } from '../miniprogram/core/types';
import { FakeBackend, ManualClock, ME, messageRow, openRoom, OTHER, RenderedList, ROOM, settle } from './support/core-fakes';

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}

function seeded(count: number): FakeBackend {
  const backend = new FakeBackend();
  for (let i = 0; i < count; i++) backend.insertRow({});
  return backend;
}

test('first launch: an empty paint, then the newest page in front of nothing, then subscribed', async () => {
  const room = openRoom({ backend: seeded(70) });
  await room.session.start();
  await settle();
  expect(room.rendered.patches[0]).toEqual({ type: 'reset', messages: [], hasOlder: false });
  expect(room.rendered.ids()).toEqual(range(21, 70));
  expect(room.rendered.hasOlder).toBe(true);
  expect(room.rendered.of('reset')).toHaveLength(1);
  expect(room.rendered.of('connection').map((patch) => patch.type === 'connection' && patch.state)).toEqual(['connecting', 'connected']);
  expect(room.backend.activeSubscriptions()).toBe(1);
  room.check();
});

test('the newest page alone tells the device cache everything up to its last row was seen', async () => {
  const room = openRoom({ backend: seeded(70) });
  // The catch-up after the join fails: the cache is written from the newest page only.
  room.backend.failNext('after', new BackendFailure(503, '', 'Service Unavailable'));
  await room.session.start();
  await room.clock.advance(CACHE_SAVE_DELAY_MS);
  expect(room.store.dump()['room:lobby']).toMatchObject({ syncedId: 70 });
});

test('paints from the device cache before the network answers, then merges the newest page without a reset', async () => {
  const backend = seeded(60);
  const store = memoryStore();
  const first = openRoom({ backend, store });
  await first.session.start();
  await settle();
  await first.clock.advance(CACHE_SAVE_DELAY_MS);
  first.session.stop();
  expect(store.dump()['room:lobby']).toMatchObject({ room: ROOM, userId: ME });

  backend.insertRow({ user_id: ME, username: '楚留香' }, { deliver: false });
  backend.insertRow({}, { deliver: false });
  backend.offline = true;
  const second = openRoom({ backend, store });
  const started = second.session.start();
  // The cached page is on screen even though every request fails.
  await settle();
  expect(second.rendered.patches[0]).toMatchObject({ type: 'reset', hasOlder: true });
  expect(second.rendered.ids()).toEqual(range(11, 60));
  backend.offline = false;
  await second.clock.advance(1000);
  await started;
  await settle();
  expect(second.rendered.ids()).toEqual(range(11, 62));
  expect(second.rendered.messages[50].mine).toBe(true);
  expect(second.rendered.messages[51].mine).toBe(false);
  expect(second.rendered.of('reset')).toHaveLength(1);
  second.check();
});

test.each([
  ['continues the cache (its first row was seen): merged', PAGE_SIZE - 1, 1, range(11, 60 + PAGE_SIZE - 1)],
  ['starts after it (a hole may lie between): replaces it', PAGE_SIZE, 2, range(61, 60 + PAGE_SIZE)],
  ['is far ahead of it: replaces it', 2 * PAGE_SIZE, 2, range(61 + PAGE_SIZE, 60 + 2 * PAGE_SIZE)],
])('a newest page that %s', async (_what, arrived, resets, ids) => {
  const backend = seeded(60);
  const store = memoryStore();
  const first = openRoom({ backend, store });
  await first.session.start();
  await settle();
  first.session.stop();
  for (let i = 0; i < arrived; i++) backend.insertRow({}, { deliver: false });

  const second = openRoom({ backend, store });
  await second.session.start();
  await settle();
  expect(second.rendered.of('reset')).toHaveLength(resets);
  expect(second.rendered.ids()).toEqual(ids);
  expect(second.rendered.hasOlder).toBe(true);
  second.check();
});

test('loads older pages on request until there are none', async () => {
  const room = openRoom({ backend: seeded(120) });
  await room.session.start();
  await settle();
  expect(await room.session.loadOlder()).toBe(true);
  expect(room.rendered.ids()).toEqual(range(21, 120));
  expect(room.rendered.hasOlder).toBe(true);
  expect(await room.session.loadOlder()).toBe(true);
  expect(room.rendered.ids()).toEqual(range(1, 120));
  expect(room.rendered.hasOlder).toBe(false);
  expect(await room.session.loadOlder()).toBe(false);
  expect(room.backend.calls.filter((call) => call === 'before')).toHaveLength(2);
  room.check();
});

test('a failed older page keeps hasOlder so the page can ask again', async () => {
  const room = openRoom({ backend: seeded(60) });
  await room.session.start();
  await settle();
  room.backend.offline = true;
  expect(await room.session.loadOlder()).toBe(false);
  expect(room.rendered.of('error')[0]).toMatchObject({ message: zh.loadFailed });
  room.backend.offline = false;
  expect(await room.session.loadOlder()).toBe(true);
  expect(room.rendered.ids()).toEqual(range(1, 60));
  room.check();
});

test('live INSERTs arriving out of id order are placed in id order', async () => {
  const room = openRoom({ backend: seeded(3) });
  await room.session.start();
  await settle();
  const late = room.backend.reserveId();
  room.backend.insertRow({});
  room.backend.insertRow({}, { id: late });
  expect(room.rendered.ids()).toEqual([1, 2, 3, 4, 5]);
  expect(room.rendered.patches[room.rendered.patches.length - 1]).toMatchObject({ type: 'insert', index: 3 });
  room.check();
});

test('after a drop and rejoin, gap-fill brings what was missed, including a late commit below the newest id', async () => {
  const room = openRoom({ backend: seeded(5) });
  await room.session.start();
  await settle();
  const late = room.backend.reserveId(); // 6: its transaction commits after 7's
  room.backend.insertRow({}); // 7, delivered live
  room.backend.channelStatus('error', 'socket closed');
  // realtime-js retries and fails again while offline: no second toast.
  room.backend.channelStatus('error', 'socket closed');
  room.backend.insertRow({}, { id: late, deliver: false });
  room.backend.insertRow({}, { deliver: false }); // 8
  expect(room.rendered.ids()).toEqual([1, 2, 3, 4, 5, 7]);

  room.backend.channelStatus('subscribed');
  await settle();
  expect(room.rendered.ids()).toEqual(range(1, 8));
  expect(room.rendered.of('connection').map((patch) => patch.type === 'connection' && patch.state)).toEqual([
    'connecting',
    'connected',
    'reconnecting',
    'connected',
  ]);
  // One error patch for the drop, with the developer detail.
  expect(room.rendered.of('error')).toEqual([{ type: 'error', message: zh.connectFailed, detail: 'realtime error: socket closed' }]);
  room.check();
});

test('resume (app show) fills the gap once, even when asked twice at once', async () => {
  const room = openRoom({ backend: seeded(5) });
  await room.session.start();
  await settle();
  room.backend.deliverLive = false;
  room.backend.insertRow({});
  room.backend.insertRow({});
  const before = room.backend.calls.filter((call) => call === 'after').length;
  room.session.resume();
  room.session.resume();
  await settle();
  expect(room.rendered.ids()).toEqual(range(1, 7));
  // One run plus one follow-up run for the request that came in during it.
  expect(room.backend.calls.filter((call) => call === 'after').length - before).toBe(2);
  room.check();
});

test('gap-fill pages through a long gap, and a gap longer than its limit reloads the newest page', async () => {
  const room = openRoom({ backend: seeded(5) });
  await room.session.start();
  await settle();
  room.backend.deliverLive = false;
  for (let i = 0; i < 120; i++) room.backend.insertRow({});
  room.session.resume();
  await settle();
  expect(room.rendered.ids()).toEqual(range(1, 125));
  expect(room.rendered.of('reset')).toHaveLength(1);

  const afterCalls = () => room.backend.calls.filter((call) => call === 'after').length;
  let before = afterCalls();
  // Just over the limit once the overlap is re-read: MAX_GAP_PAGES full pages, and a short one the fill never asks for.
  for (let i = 0; i < PAGE_SIZE * MAX_GAP_PAGES - GAP_OVERLAP_IDS + 10; i++) room.backend.insertRow({});
  room.session.resume();
  await settle();
  expect(afterCalls() - before).toBe(MAX_GAP_PAGES);
  expect(room.rendered.of('reset')).toHaveLength(2);
  expect(room.rendered.ids()).toEqual(range(536, 585));

  // Far more than the limit: the reload must move the gap-fill's start to the newest row, or every
  // later resume pages through the limit and reloads again.
  for (let i = 0; i < 2 * PAGE_SIZE * MAX_GAP_PAGES; i++) room.backend.insertRow({});
  room.session.resume();
  await settle();
  expect(room.rendered.of('reset')).toHaveLength(3);
  expect(room.rendered.ids()).toEqual(range(1536, 1585));
  // A small gap later costs the overlap's page and the new row's.
  before = afterCalls();
  room.backend.insertRow({});
  room.session.resume();
  await settle();
  expect(afterCalls() - before).toBe(2);
  expect(room.rendered.of('reset')).toHaveLength(3);
  expect(room.rendered.ids()).toEqual(range(1536, 1586));
  room.check();
});

test('offline at start: shows offline with a Chinese reason, retries with backoff, then connects', async () => {
  const backend = seeded(3);
  backend.offline = true;
  const room = openRoom({ backend });
  await room.session.start();
  expect(room.rendered.of('connection').map((patch) => patch.type === 'connection' && patch.state)).toEqual(['connecting', 'offline']);
  expect(room.rendered.of('error')[0]).toMatchObject({ message: zh.connectFailed, detail: 'network -: TypeError: fetch failed' });
  await room.clock.advance(1000);
  // The retry failed too, but the header already says offline: no second toast.
  expect(room.rendered.of('error')).toHaveLength(1);
  backend.offline = false;
  await room.clock.advance(1999);
  expect(room.rendered.ids()).toEqual([]);
  await room.clock.advance(1);
  expect(room.rendered.ids()).toEqual([1, 2, 3]);
  expect(room.rendered.of('connection').map((patch) => patch.type === 'connection' && patch.state)).toEqual([
    'connecting',
    'offline',
    'connected',
  ]);
  room.check();
});

test('reconnect() while offline connects at once instead of waiting for the next retry', async () => {
  const backend = seeded(2);
  backend.offline = true;
  const room = openRoom({ backend });
  await room.session.start();
  backend.offline = false;
  room.session.reconnect();
  await settle();
  expect(room.rendered.ids()).toEqual([1, 2]);
  expect(room.clock.pending()).toEqual([CACHE_SAVE_DELAY_MS]);
});

test('a closed channel is resubscribed after a delay, and reconnect() resubscribes at once', async () => {
  const room = openRoom({ backend: seeded(2) });
  await room.session.start();
  await settle();
  room.backend.channelStatus('closed');
  expect(room.backend.activeSubscriptions()).toBe(0);
  await room.clock.advance(1000);
  expect(room.backend.activeSubscriptions()).toBe(1);
  room.session.reconnect();
  expect(room.backend.activeSubscriptions()).toBe(1);
  expect(room.backend.calls.filter((call) => call === 'subscribe')).toHaveLength(3);
});

test('a manual reconnect replaces the transport first, then rejoins on it once', async () => {
  const order: string[] = [];
  let finishTransport: () => void = () => undefined;
  const room = openRoom({
    backend: seeded(2),
    reconnectTransport: () => {
      order.push('transport');
      return new Promise<void>((resolve) => (finishTransport = resolve));
    },
  });
  await room.session.start();
  await settle();
  const subscribesBefore = room.backend.calls.filter((call) => call === 'subscribe').length;
  room.session.reconnect();
  expect(order).toEqual(['transport']);
  // Nothing is rejoined on the old socket while the new one is being made.
  expect(room.backend.calls.filter((call) => call === 'subscribe')).toHaveLength(subscribesBefore);
  finishTransport();
  await settle();
  expect(room.backend.calls.filter((call) => call === 'subscribe')).toHaveLength(subscribesBefore + 1);
  expect(room.backend.activeSubscriptions()).toBe(1);
});

test('a manual reconnect whose new transport fails says so and still rejoins', async () => {
  const room = openRoom({ backend: seeded(2), reconnectTransport: () => Promise.reject(new Error('connectSocket:fail')) });
  await room.session.start();
  await settle();
  const subscribesBefore = room.backend.calls.filter((call) => call === 'subscribe').length;
  room.session.reconnect();
  await settle();
  expect(room.rendered.of('error')).toEqual([{ type: 'error', message: zh.loadFailed, detail: 'network -: connectSocket:fail' }]);
  expect(room.backend.calls.filter((call) => call === 'subscribe')).toHaveLength(subscribesBefore + 1);
  expect(room.backend.activeSubscriptions()).toBe(1);
});

test('stop() unsubscribes and nothing more is rendered', async () => {
  const room = openRoom({ backend: seeded(2) });
  await room.session.start();
  await settle();
  room.session.stop();
  const count = room.rendered.patches.length;
  room.backend.insertRow({});
  room.session.resume();
  await settle();
  expect(room.backend.activeSubscriptions()).toBe(0);
  expect(room.rendered.patches).toHaveLength(count);
});

test('an empty room renders nothing more than the first reset, however often it catches up', async () => {
  const room = openRoom();
  await room.session.start();
  await settle();
  room.session.resume();
  room.backend.channelStatus('subscribed');
  await settle();
  // The list's patches; the scene is shown once per connect.
  const listPatches = room.rendered.patches.filter((patch) => patch.type !== 'connection' && patch.type !== 'scene');
  expect(listPatches).toEqual([{ type: 'reset', messages: [], hasOlder: false }]);
});

test('a cache painted for another user (session lost) is replaced, so "mine" is right', async () => {
  const backend = seeded(3);
  backend.insertRow({ user_id: ME });
  const store = memoryStore();
  const first = openRoom({ backend, store });
  await first.session.start();
  await settle();
  first.session.stop();
  expect(first.rendered.messages.map((message) => message.mine)).toEqual([false, false, false, true]);

  backend.me = 'ffffffff-ffff-4fff-8fff-ffffffffffff';
  const second = openRoom({ backend, store });
  await second.session.start();
  await settle();
  expect(second.rendered.of('reset')).toHaveLength(2);
  expect(second.rendered.messages.map((message) => message.mine)).toEqual([false, false, false, false]);
  second.check();
});

test('a failed gap-fill shows offline; the next successful one shows connected again', async () => {
  const room = openRoom({ backend: seeded(2) });
  await room.session.start();
  await settle();
  room.backend.offline = true;
  room.session.resume();
  await settle();
  room.backend.offline = false;
  room.backend.insertRow({}, { deliver: false });
  room.session.resume();
  await settle();
  expect(room.rendered.ids()).toEqual([1, 2, 3]);
  expect(room.rendered.of('connection').map((patch) => patch.type === 'connection' && patch.state)).toEqual([
    'connecting',
    'connected',
    'offline',
    'connected',
  ]);
});

test('a failed gap-fill (503) while the channel stays up is retried with backoff until it succeeds', async () => {
  const room = openRoom({ backend: seeded(2) });
  await room.session.start();
  await settle();
  room.backend.deliverLive = false;
  room.backend.insertRow({});
  room.backend.failNext('after', new BackendFailure(503, '', 'Service Unavailable'), new BackendFailure(503, '', 'Service Unavailable'));
  room.session.resume();
  await settle();
  expect(room.rendered.ids()).toEqual([1, 2]);
  await room.clock.advance(1000);
  expect(room.rendered.ids()).toEqual([1, 2]);
  await room.clock.advance(2000);
  expect(room.rendered.ids()).toEqual([1, 2, 3]);
  // One toast for the failure, not one per retry.
  expect(room.rendered.of('error')).toHaveLength(1);
  room.session.stop();
  expect(room.clock.pending()).toEqual([]);
  room.check();
});

test('live rows arriving while the post-rejoin catch-up keeps failing do not move the gap-fill past what was missed', async () => {
  const store = memoryStore();
  const room = openRoom({ backend: seeded(5), store });
  await room.session.start();
  await settle();
  room.backend.channelStatus('error', 'socket closed');
  // More missed than the gap-fill's overlap re-reads: a start from the newest live id would skip some.
  for (let i = 0; i < GAP_OVERLAP_IDS + 10; i++) room.backend.insertRow({}, { deliver: false });
  const unavailable = () => new BackendFailure(503, '', 'Service Unavailable');
  room.backend.failNext('after', unavailable(), unavailable());
  room.backend.channelStatus('subscribed');
  await settle();
  // The catch-up failed; the channel is up and delivers what is new.
  room.backend.insertRow({});
  room.backend.insertRow({});
  await room.clock.advance(CACHE_SAVE_DELAY_MS);
  // The retry failed too; more live rows. The device cache, which a relaunch would fill the gap
  // from, still starts it where the drop was.
  room.backend.insertRow({});
  expect((store.dump()['room:lobby'] as { syncedId: number }).syncedId).toBe(5);
  await room.clock.advance(2000);
  expect(room.rendered.ids()).toEqual(range(1, 5 + GAP_OVERLAP_IDS + 10 + 3));
  // Caught up: live rows now advance it.
  room.backend.insertRow({});
  await room.clock.advance(CACHE_SAVE_DELAY_MS);
  expect((store.dump()['room:lobby'] as { syncedId: number }).syncedId).toBe(5 + GAP_OVERLAP_IDS + 10 + 4);
  room.check();
});

test('stop() clears a pending gap-fill retry', async () => {
  const room = openRoom({ backend: seeded(2) });
  await room.session.start();
  await settle();
  room.backend.failNext('after', new BackendFailure(503, '', 'Service Unavailable'));
  room.session.resume();
  await settle();
  room.session.stop();
  expect(room.clock.pending()).toEqual([]);
  const calls = room.backend.calls.length;
  await room.clock.advance(60000);
  expect(room.backend.calls.length).toBe(calls);
});

test('a gap-fill failing again while its retry waits adds no second retry', async () => {
  const room = openRoom({ backend: seeded(2) });
  await room.session.start();
  await room.clock.advance(CACHE_SAVE_DELAY_MS);
  const unavailable = () => new BackendFailure(503, '', 'Service Unavailable');
  room.backend.failNext('after', unavailable(), unavailable());
  room.session.resume();
  await settle();
  room.session.resume();
  await settle();
  expect(room.clock.pending()).toEqual([retryDelay(1)]);
  const afterCalls = () => room.backend.calls.filter((call) => call === 'after').length;
  const failed = afterCalls();
  await room.clock.advance(10 * 60 * 1000);
  expect(afterCalls() - failed).toBe(1);
  expect(room.rendered.of('error')).toHaveLength(1);
});

test('while the channel is down, a catch-up that works does not claim connected', async () => {
  const room = openRoom({ backend: seeded(2) });
  await room.session.start();
  await settle();
  room.backend.channelStatus('error', 'socket closed');
  room.backend.insertRow({}, { deliver: false });
  room.session.resume();
  await settle();
  expect(room.rendered.ids()).toEqual([1, 2, 3]);
  const states = () => room.rendered.of('connection').map((patch) => patch.type === 'connection' && patch.state);
  expect(states()).toEqual(['connecting', 'connected', 'reconnecting']);
  room.backend.channelStatus('subscribed');
  await settle();
  expect(states()).toEqual(['connecting', 'connected', 'reconnecting', 'connected']);
});

test('a channel closed again after it rejoined waits the shortest delay again', async () => {
  const room = openRoom({ backend: seeded(2) });
  await room.session.start();
  await settle();
  const subscribes = () => room.backend.calls.filter((call) => call === 'subscribe').length;
  for (let drop = 1; drop <= 3; drop++) {
    room.backend.channelStatus('closed');
    await room.clock.advance(retryDelay(1) - 1);
    expect(subscribes()).toBe(drop);
    await room.clock.advance(1);
    expect(subscribes()).toBe(drop + 1);
  }
});

test('a long outage still tries to connect at least every MAX_RETRY_MS', async () => {
  const backend = seeded(2);
  backend.offline = true;
  const room = openRoom({ backend });
  await room.session.start();
  await room.clock.advance(30 * 60 * 1000);
  backend.offline = false;
  await room.clock.advance(MAX_RETRY_MS);
  expect(room.rendered.ids()).toEqual([1, 2]);
});

test('failures while the app was away do not count: resume restarts the time before pending sends fail', async () => {
  const backend = new FakeBackend();
  backend.offline = true;
  const room = openRoom({ backend });
  await room.session.start();
  room.session.sendText('还在吗');
  await room.clock.advance(50 * 1000);
  room.session.resume();
  // Past the unreachable bound counted from launch, within it counted from the resume.
  await room.clock.advance(UNREACHABLE_FAIL_MS - 1);
  expect(room.rendered.messages).toMatchObject([{ status: 'sending' }]);
  await room.clock.advance(UNREACHABLE_FAIL_MS);
  expect(room.rendered.messages).toMatchObject([{ status: 'failed', error: zh.sendNetwork }]);
});

test('an older page arriving after the list was reset to a much newer page is dropped (no hole)', async () => {
  const room = openRoom({ backend: seeded(60) });
  await room.session.start();
  await settle();
  room.backend.deliverLive = false;
  for (let i = 0; i < PAGE_SIZE * MAX_GAP_PAGES + 10; i++) room.backend.insertRow({});
  // The older page answers only after the gap-fill has reset the list.
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const before = room.backend.messagesBefore.bind(room.backend);
  room.backend.messagesBefore = async (...args) => {
    const rows = await before(...args);
    await gate;
    return rows;
  };
  const older = room.session.loadOlder();
  room.session.resume();
  await settle();
  expect(room.rendered.of('reset')).toHaveLength(2);
  release();
  expect(await older).toBe(false);
  await settle();
  const ids = room.rendered.ids() as number[];
  expect(ids).toEqual(range(ids[0], 570));
  room.check();
});

test('reconnect() while the first connect is loading the newest page leaves one channel', async () => {
  const room = openRoom({ backend: seeded(2) });
  const started = room.session.start();
  // Let userId and findRoom answer: the session now knows the room and waits for the newest page.
  for (let i = 0; i < 50 && !room.backend.calls.includes('newest'); i++) await Promise.resolve();
  expect(room.backend.calls).toContain('newest');
  room.session.reconnect();
  await started;
  await settle();
  expect(room.backend.activeSubscriptions()).toBe(1);
});

test('a device cache that cannot be written (storage full, a synchronous throw) is reported, not thrown', async () => {
  const store = memoryStore();
  const room = openRoom({ backend: seeded(2), store });
  await room.session.start();
  await settle();
  store.set = () => {
    throw new Error('setStorageSync:fail exceed storage max size 10M');
  };
  room.backend.insertRow({});
  await room.clock.advance(CACHE_SAVE_DELAY_MS);
  expect(room.rendered.of('error')).toEqual([
    { type: 'error', message: zh.storageFailed, detail: expect.stringContaining('cache not saved') },
  ]);
});

test('a device cache written for another room under the slug (database reset) is not used for the new room', async () => {
  const store = memoryStore();
  const oldRows = range(100, 149).map((id) => messageRow(id, { room_id: 99, client_id: `old-${id}` }));
  store.set('room:lobby', { room: { ...ROOM, id: 99 }, userId: ME, rows: oldRows, syncedId: 149 });
  const room = openRoom({ backend: seeded(3), store });
  await room.session.start();
  await settle();
  expect(room.rendered.ids()).toEqual([1, 2, 3]);
  // Gap-fill starts from the new room's ids, not from the old cache's.
  room.backend.insertRow({}, { deliver: false });
  room.session.resume();
  await settle();
  expect(room.rendered.ids()).toEqual([1, 2, 3, 4]);
  room.check();
});

test('a room that does not exist says so by name and stops retrying; pending sends fail', async () => {
  const room = openRoom();
  const session = new RoomSession({
    backend: room.backend,
    store: room.store,
    roomSlug: 'gone',
    speaker: () => ({ name: '楚留香', color: '#c0392b', characterId: null }),
    clock: room.clock,
  });
  const rendered = new RenderedList();
  session.onPatch(rendered.apply);
  session.sendText('在吗');
  await session.start();
  await room.clock.advance(10 * 60 * 1000);
  expect(rendered.of('error')).toEqual([{ type: 'error', message: '找不到聊天室「gone」', detail: '404 room_not_found: gone' }]);
  expect(room.backend.calls.filter((call) => call === 'findRoom')).toHaveLength(1);
  expect(room.clock.pending()).toEqual([]);
  expect(rendered.messages[0]).toMatchObject({ status: 'failed', error: zh.sendNetwork });
  // A new message does not bring the failed one back to 发送中: there is nowhere to send either.
  session.sendText('还在吗');
  await room.clock.advance(60 * 1000);
  expect(rendered.messages.map((m) => [m.body, m.status])).toEqual([
    ['在吗', 'failed'],
    ['还在吗', 'failed'],
  ]);
});

describe('a WeChat login that fails', () => {
  test.each([
    ['WeChat is busy', new BackendFailure(503, 'wechat_busy', 'WeChat is busy'), zh.loginBusy],
    ['WeChat did not answer', new BackendFailure(502, 'wechat_unreachable', 'timeout'), zh.loginBusy],
    ['Auth limits this phone', new BackendFailure(429, 'over_request_rate_limit', 'Request rate limit reached'), zh.loginBusy],
    ['the code was refused', new BackendFailure(400, 'invalid_code', 'invalid code'), zh.loginFailed],
    ['the token expired on the way', new BackendFailure(403, 'otp_expired', 'Email link is invalid or has expired'), zh.loginFailed],
    ['wx.login had no network', new BackendFailure(0, 'wx_login_failed', 'login:fail net::ERR_INTERNET_DISCONNECTED'), zh.connectFailed],
  ])('%s: says so, keeps the room on screen and retries until it signs in', async (_, failure, message) => {
    const room = openRoom({ backend: seeded(3) });
    room.backend.failNext('userId', failure, failure);
    await room.session.start();
    await settle();
    expect(room.rendered.of('error')).toEqual([{ type: 'error', message, detail: failure.detail }]);
    expect(room.rendered.of('connection').map((p) => p.type === 'connection' && p.state)).toEqual(['connecting', 'offline']);
    await room.clock.advance(60 * 1000);
    await settle();
    expect(room.backend.calls.filter((call) => call === 'userId')).toHaveLength(3);
    expect(room.rendered.ids()).toEqual([1, 2, 3]);
    expect(
      room.rendered
        .of('connection')
        .map((p) => p.type === 'connection' && p.state)
        .pop(),
    ).toBe('connected');
    // Retries while offline are not reported again.
    expect(room.rendered.of('error')).toHaveLength(1);
  });

  test('WeChat flags the person as high-risk: the reason is shown, nothing is retried, pending sends fail', async () => {
    const room = openRoom({ backend: seeded(3) });
    room.backend.failNext('userId', new BackendFailure(403, 'wechat_high_risk', 'WeChat flags this account as high-risk'));
    room.session.sendText('在吗');
    await room.session.start();
    await room.clock.advance(10 * 60 * 1000);
    expect(room.rendered.of('error')).toEqual([
      { type: 'error', message: zh.loginHighRisk, detail: '403 wechat_high_risk: WeChat flags this account as high-risk' },
    ]);
    expect(room.backend.calls.filter((call) => call === 'userId')).toHaveLength(1);
    expect(room.clock.pending()).toEqual([]);
    expect(room.rendered.messages[0]).toMatchObject({ status: 'failed' });
  });
});

describe('content security in the room', () => {
  test('our message shows 审核中 until the verdict; others get it only when it turns visible, in id order', async () => {
    const backend = seeded(2);
    backend.moderate = true;
    const room = openRoom({ backend });
    await room.session.start();
    await settle();
    expect(room.session.sendText('大家好')).toBe(true);
    await settle();
    const mine = room.rendered.messages[2];
    expect(mine).toMatchObject({ body: '大家好', status: 'sent', state: 'pending' });
    // Someone else's message, inserted while pending for them, is not ours to see; its UPDATE is.
    const theirs = backend.insertRow({ body: '别人的话', status: 'pending' }, { deliver: false });
    backend.setState(mine.id!, 'visible');
    expect(room.rendered.messages.map((m) => [m.body, m.state])).toEqual([
      ['message 1', 'visible'],
      ['message 2', 'visible'],
      ['大家好', 'visible'],
    ]);
    backend.setState(theirs.id, 'visible');
    expect(room.rendered.bodies()).toEqual(['message 1', 'message 2', '大家好', '别人的话']);
    room.check();
  });

  test('a blocked message of ours keeps its label; the same state from others never shows', async () => {
    const backend = seeded(1);
    backend.moderate = true;
    const room = openRoom({ backend });
    await room.session.start();
    await settle();
    room.session.sendText('违禁测试词');
    await settle();
    const id = room.rendered.messages[1].id!;
    backend.setState(id, 'blocked', { label: 20006 });
    expect(room.rendered.messages[1]).toMatchObject({ state: 'blocked', label: 20006 });
    const theirs = backend.insertRow({ body: '违禁的话', status: 'pending' }, { deliver: false });
    backend.setState(theirs.id, 'blocked', { label: 20006 });
    expect(room.rendered.bodies()).toEqual(['message 1', '违禁测试词']);
    room.check();
  });

  test('after a disconnect, states that changed meanwhile arrive: an older message turned visible, one recalled', async () => {
    const backend = seeded(3);
    const room = openRoom({ backend });
    await room.session.start();
    await settle();
    backend.deliverLive = false;
    const late = backend.insertRow({ body: '审核慢的话', status: 'pending' });
    for (let i = 0; i < 60; i++) backend.insertRow({});
    backend.setState(late.id, 'visible');
    backend.setState(2, 'recalled', { body: null });
    room.session.resume();
    await settle();
    expect(room.rendered.messages.find((m) => m.id === late.id)).toMatchObject({ body: '审核慢的话', state: 'visible' });
    expect(room.rendered.messages.find((m) => m.id === 2)).toMatchObject({ body: null, state: 'recalled' });
    expect(room.rendered.of('reset')).toHaveLength(1);
    room.check();
    // A quiet catch-up changes nothing and repaints nothing.
    const patches = room.rendered.patches.length;
    room.session.resume();
    await settle();
    expect(room.rendered.patches.slice(patches).filter((p) => p.type !== 'connection')).toEqual([]);
  });
});

describe('what a line says', () => {
  test.each([
    ['/me 拔剑而起', {}, { kind: 'action', body: '拔剑而起' }],
    ['((先去吃饭))', {}, { kind: 'ooc', body: '先去吃饭' }],
    ['（（全角也行））', {}, { kind: 'ooc', body: '全角也行' }],
    ['.r 2d6+3', {}, { kind: 'roll', body: '2d6+3', hidden: false }],
    ['.rd100', {}, { kind: 'roll', body: 'd100', hidden: false }],
    ['.r', {}, { kind: 'roll', body: 'd100', hidden: false }],
    ['.rh d100<=60', {}, { kind: 'roll', body: 'd100<=60', hidden: true }],
    ['.really?', {}, { kind: 'text', body: '.really?' }],
    ['拔剑而起', { voice: 'action' as const }, { kind: 'action', body: '拔剑而起' }],
    ['小声说', { voice: 'ooc' as const }, { kind: 'ooc', body: '小声说' }],
  ])('%s %j is sent as %j', async (line, options, expected) => {
    const room = openRoom();
    await room.session.start();
    await settle();
    expect(room.session.sendText(line, options)).toBe(true);
    await settle();
    expect(room.backend.rows[0]).toMatchObject({ ...expected, character_id: 7 });
  });

  test.each([
    ['.r 21d6', zh.diceTooMany],
    ['.r 2d6*3', zh.diceSyntax],
    ['.r d1', zh.diceFaces],
    ['/me    ', zh.textEmpty],
  ])('%s is refused at once with a sentence, and nothing is sent', async (line, message) => {
    const room = openRoom();
    await room.session.start();
    await settle();
    expect(room.session.sendText(line)).toBe(false);
    await settle();
    expect(room.rendered.of('error').map((p) => p.type === 'error' && p.message)).toEqual([message]);
    expect(room.backend.rows).toEqual([]);
  });

  test('without a character the core says so and sends nothing', async () => {
    const room = openRoom();
    room.setSpeaker(null);
    await room.session.start();
    await settle();
    expect(room.session.sendText('有人吗')).toBe(false);
    expect(room.rendered.of('error').map((p) => p.type === 'error' && p.message)).toEqual([zh.noCharacter]);
  });

  test('a reply carries its target and shows the quote at once', async () => {
    const room = openRoom({ backend: seeded(2) });
    await room.session.start();
    await settle();
    room.session.sendText('回你', { replyTo: 2 });
    expect(room.rendered.messages[2]).toMatchObject({ replyTo: 2, replyPreview: { username: '路人甲', text: 'message 2' } });
    await settle();
    expect(room.backend.rows[2]).toMatchObject({ reply_to: 2 });
  });
});

describe('hidden rolls', () => {
  test('the roller sees the result when it arrives on the channel; others never ask for it', async () => {
    const room = openRoom();
    await room.session.start();
    await settle();
    room.session.sendText('.rh 3d6');
    await settle();
    const id = room.rendered.messages[0].id!;
    expect(room.rendered.messages[0]).toMatchObject({ hidden: true, roll: null });
    room.backend.deliverHiddenRoll(id);
    expect(room.rendered.messages[0].roll).toMatchObject({ expression: '3d6', total: 18 });
    room.check();
  });

  test('a page with hidden rolls asks for the results once; a page without asks nothing', async () => {
    const backend = seeded(3);
    const hidden = backend.insertRow({ user_id: ME, kind: 'roll', body: 'd20', hidden: true });
    backend.hiddenResults.set(hidden.id, { expression: 'd20', terms: [], total: 17 });
    const room = openRoom({ backend });
    await room.session.start();
    await settle();
    expect(backend.calls.filter((call) => call === 'hiddenRolls')).toHaveLength(1);
    expect(room.rendered.messages[3].roll).toMatchObject({ total: 17 });
    room.session.resume();
    await settle();
    expect(backend.calls.filter((call) => call === 'hiddenRolls')).toHaveLength(1);
  });
});

describe('recall, report, block, read', () => {
  test('recall: ours within the window turns recalled; too late is a sentence', async () => {
    const room = openRoom();
    await room.session.start();
    await settle();
    room.session.sendText('说错了');
    await settle();
    const key = room.rendered.messages[0].key;
    expect(await room.session.recall(key)).toBeNull();
    expect(room.rendered.messages[0]).toMatchObject({ state: 'recalled', body: null });
    room.session.sendText('又说错了');
    await settle();
    room.backend.failNext('recall', new BackendFailure(400, 'RCLAT', 'a message can be recalled within 2 minutes'));
    expect(await room.session.recall(room.rendered.messages[1].key)).toBe(zh.recallTooLate);
    room.backend.failNext('recall', new BackendFailure(0, '', 'fetch failed'));
    expect(await room.session.recall(room.rendered.messages[1].key)).toBe(zh.actionNetwork);
    expect(room.rendered.messages[1].state).toBe('visible');
    room.check();
  });

  test('report: once is enough, twice is no error; one of ours is not reportable', async () => {
    const room = openRoom({ backend: seeded(1) });
    await room.session.start();
    await settle();
    const key = room.rendered.messages[0].key;
    expect(await room.session.report(key, 'abuse')).toBeNull();
    expect(await room.session.report(key, 'spam')).toBeNull();
    expect(room.backend.reports).toEqual([{ id: 1, reason: 'abuse' }]);
    room.session.sendText('我的');
    await settle();
    expect(await room.session.report(room.rendered.messages[1].key, 'spam')).toBe(zh.reportFailed);
  });

  test('forgetAuthor drops a blocked person’s messages, and only theirs', async () => {
    const backend = seeded(2);
    backend.insertRow({ user_id: '33333333-3333-4333-8333-333333333333', body: '第三人' });
    const room = openRoom({ backend });
    await room.session.start();
    await settle();
    room.session.forgetAuthor(OTHER);
    expect(room.rendered.bodies()).toEqual(['第三人']);
    room.check();
  });

  test('loadUntil pages back to a replied message; markRead marks the newest', async () => {
    const room = openRoom({ backend: seeded(160) });
    await room.session.start();
    await settle();
    expect(await room.session.loadUntil(5)).toBe(true);
    expect(room.rendered.ids()[0]).toBeLessThanOrEqual(5);
    expect(await room.session.loadUntil(9999)).toBe(false);
    room.session.markRead();
    await settle();
    expect(room.backend.readMarkers).toEqual([160]);
  });
});

describe('the scene: title, host, 公告, archive', () => {
  function scenes(room: ReturnType<typeof openRoom>) {
    return room.rendered.of('scene').map((patch) => (patch.type === 'scene' ? patch.scene : null));
  }

  test('the scene shows from the device cache at once, then as the server has it, with whether we host it', async () => {
    const backend = seeded(3);
    const store = memoryStore();
    const first = openRoom({ backend, store });
    await first.session.start();
    await settle();
    expect(scenes(first)).toEqual([{ id: ROOM.id, slug: 'lobby', title: '大堂', topic: '', archived: false, isHost: false, pinned: null }]);
    await first.clock.advance(CACHE_SAVE_DELAY_MS);
    first.session.stop();

    backend.scene = { ...backend.scene, title: '夜探蝙蝠岛', host: ME };
    backend.offline = true;
    const second = openRoom({ backend, store });
    void second.session.start();
    await settle();
    expect(scenes(second).map((scene) => scene?.title)).toEqual(['大堂']);
    backend.offline = false;
    second.session.reconnect();
    await settle();
    expect(scenes(second).pop()).toMatchObject({ title: '夜探蝙蝠岛', isHost: true });
  });

  test('the host pins a message: the 公告 shows at once; others get it by Realtime, fetched when not loaded', async () => {
    const backend = seeded(80);
    backend.scene = { ...backend.scene, host: ME };
    const host = openRoom({ backend });
    await host.session.start();
    await settle();
    expect(await host.session.pin(host.rendered.messages[0].key)).toBeNull();
    expect(scenes(host).pop()).toMatchObject({ isHost: true, pinned: { id: host.rendered.messages[0].id } });
    expect(await host.session.pin(null)).toBeNull();
    expect(scenes(host).pop()).toMatchObject({ pinned: null });
    host.session.stop();

    const guest = new FakeBackend(OTHER);
    guest.rows = backend.rows;
    const reader = openRoom({ backend: guest });
    await reader.session.start();
    await settle();
    // Message 2 is older than the loaded page: one request finds it.
    guest.setScene({ pinned_message_id: 2 });
    await settle();
    expect(scenes(reader).pop()).toMatchObject({ isHost: false, pinned: { id: 2 } });
    expect(guest.calls.filter((call) => call === 'messageById')).toHaveLength(1);
    // The pinned message is recalled: the 公告 goes.
    guest.setState(2, 'recalled', { body: null });
    await settle();
    expect(scenes(reader).pop()).toMatchObject({ pinned: null });
    guest.setScene({ archived: true });
    await settle();
    expect(scenes(reader).pop()).toMatchObject({ archived: true });
    // A message moves the scene's last activity: an UPDATE of the row that changes nothing shown.
    const shown = scenes(reader).length;
    guest.setScene({ last_activity_at: '2026-12-06T21:00:00Z' } as Partial<RoomRow>);
    await settle();
    expect(scenes(reader)).toHaveLength(shown);
  });

  test('pinning is refused with a sentence: not the host, a message not public, the network', async () => {
    const backend = seeded(2);
    const room = openRoom({ backend });
    await room.session.start();
    await settle();
    const key = room.rendered.messages[0].key;
    expect(await room.session.pin(key)).toBe(zh.sceneHostOnly);
    backend.scene = { ...backend.scene, host: ME };
    backend.setState(1, 'hidden');
    expect(await room.session.pin(key)).toBe(zh.pinNotVisible);
    backend.failNext('pin', new BackendFailure(0, '', 'fetch failed'));
    expect(await room.session.pin(room.rendered.messages[1].key)).toBe(zh.actionNetwork);
    expect(backend.scene.pinned_message_id).toBeNull();
  });
});

// State changes while the app was closed, below the newest page: the catch-up starts from the
// cache's changes, not from the page the relaunch loaded first.
const minute = (m: number) => new Date(Date.UTC(2026, 10, 23, 0, m)).toISOString();

/** A session that saw rows 1–50 and was closed, over `backend` and `store`. */
async function closedAfterFifty(backend: FakeBackend, store: ReturnType<typeof memoryStore>, status = (_: number) => 'visible') {
  for (let i = 1; i <= 50; i++) backend.insertRow({ body: `旧 ${i}`, status: status(i) as never });
  const first = openRoom({ backend, store });
  await first.session.start();
  await settle();
  await first.clock.advance(CACHE_SAVE_DELAY_MS);
  await first.session.flush();
  first.session.stop();
  return first;
}

/** The app opened again over the same device store, settled. */
async function relaunched(backend: FakeBackend, store: ReturnType<typeof memoryStore>) {
  const second = openRoom({ backend, store, clock: new ManualClock() });
  await second.session.start();
  await second.clock.advance(5000);
  second.check();
  return second;
}

/** Ten new messages, a minute after `changed` was changed, none delivered live. */
function tenNewAfter(backend: FakeBackend, changed: number) {
  backend.rows[backend.rows.findIndex((row) => row.id === changed)].changed_at = minute(0);
  for (let i = 1; i <= 10; i++)
    backend.insertRow({ body: `新 ${i}`, created_at: minute(1 + i), changed_at: minute(1 + i) }, { deliver: false });
}

test('a cached message recalled while the app was closed shows as recalled after the relaunch, with new messages above it', async () => {
  const backend = new FakeBackend();
  const store = memoryStore();
  await closedAfterFifty(backend, store);
  backend.setState(10, 'recalled', { body: null } as never, { deliver: false });
  tenNewAfter(backend, 10);
  const second = await relaunched(backend, store);
  expect(second.session.messages().map((m) => m.id)).toEqual(range(1, 60));
  expect(second.session.messages().find((m) => m.id === 10)).toMatchObject({ state: 'recalled', body: null });
});

test('a message that passed content security while the app was closed appears after the relaunch: no hole', async () => {
  const backend = new FakeBackend();
  const store = memoryStore();
  const first = await closedAfterFifty(backend, store, (i) => (i === 5 ? 'pending' : 'visible'));
  expect(first.session.messages().map((m) => m.id)).not.toContain(5);
  backend.setState(5, 'visible', {}, { deliver: false });
  tenNewAfter(backend, 5);
  const second = await relaunched(backend, store);
  expect(second.session.hasOlder).toBe(false);
  expect(second.session.messages().map((m) => m.id)).toEqual(range(1, 60));
});

test('a cache saved before changedSince was kept still learns of a recall among its rows', async () => {
  const backend = new FakeBackend();
  const store = memoryStore();
  await closedAfterFifty(backend, store);
  const { changedSince: _, ...older } = store.dump()['room:lobby'] as Record<string, unknown>;
  store.set('room:lobby', older);
  backend.setState(10, 'recalled', { body: null } as never, { deliver: false });
  tenNewAfter(backend, 10);
  const second = await relaunched(backend, store);
  expect(second.session.messages().find((m) => m.id === 10)).toMatchObject({ state: 'recalled', body: null });
});

test('a cache written for another room is dropped even when the first newest page fails to load', async () => {
  const store = memoryStore();
  const oldRows = range(100, 149).map((id) => messageRow(id, { room_id: 99, client_id: `old-${id}`, body: `旧房间 ${id}` }));
  store.set('room:lobby', { room: { ...ROOM, id: 99 }, userId: ME, rows: oldRows, syncedId: 149 });
  const backend = seeded(3);
  backend.failNext('newest', new BackendFailure(503, '', 'Service Unavailable'));
  const room = openRoom({ backend, store });
  await room.session.start();
  await room.clock.advance(5000);
  room.check();
  expect(room.rendered.ids()).toEqual([1, 2, 3]);
});

test('a cache painted for another user loses its "mine" marks even when the first newest page fails to load', async () => {
  const store = memoryStore();
  const backend = new FakeBackend();
  for (let i = 0; i < 60; i++) backend.insertRow(i === 14 ? { user_id: ME } : {});
  const first = openRoom({ backend, store });
  await first.session.start();
  await first.clock.advance(CACHE_SAVE_DELAY_MS);
  await first.session.flush();
  first.session.stop();
  // The device lost its session and signs in as someone else; less than a page arrived meanwhile,
  // so only the user tells that the cached page may not be kept.
  backend.me = 'ffffffff-ffff-4fff-8fff-ffffffffffff';
  for (let i = 0; i < 20; i++) backend.insertRow({}, { deliver: false });
  backend.failNext('newest', new BackendFailure(503, '', 'Service Unavailable'));
  const second = openRoom({ backend, store });
  await second.session.start();
  await second.clock.advance(5000);
  second.check();
  expect(second.rendered.messages.filter((message) => message.mine)).toEqual([]);
});

test('resume() while a closed channel waits out a long backoff joins again at once', async () => {
  const room = openRoom();
  await room.session.start();
  await settle();
  room.backend.autoSubscribe = false;
  // Closed again and again without joining (the server was away): the next try waits 30 s.
  room.backend.channelStatus('closed', 'server closed the channel');
  for (let i = 1; i <= 5; i++) {
    await room.clock.advance(retryDelay(i));
    room.backend.channelStatus('closed', 'server closed the channel');
  }
  room.backend.autoSubscribe = true;
  const subscribes = () => room.backend.calls.filter((call) => call === 'subscribe').length;
  const before = subscribes();
  room.session.resume();
  await settle();
  expect(subscribes()).toBe(before + 1);
  expect(room.backend.activeSubscriptions()).toBe(1);
  room.backend.insertRow({ body: '现在说的' });
  expect(room.session.messages().map((m) => m.body)).toContain('现在说的');
});

test('a saved cache goes to the front of the recent scenes; a launch keeps the caches of the 12 saved last', async () => {
  const store = memoryStore();
  const older = range(1, 13).map((n) => `room:scene-${n}`);
  for (const key of [...older, 'room:before-the-list']) store.set(key, { rows: [] });
  store.set('outbox:scene-1', [{ key: 'waiting' }]);
  store.set('rooms:recent', [...older].reverse());

  const room = openRoom({ store });
  await room.session.start();
  await room.clock.advance(CACHE_SAVE_DELAY_MS);
  await room.session.flush();
  await settle();
  expect(store.dump()['rooms:recent']).toEqual(['room:lobby', ...[...older].reverse()]);

  await pruneRoomCaches(store);
  const kept = ['room:lobby', ...older.slice(2).reverse()];
  expect(kept).toHaveLength(MAX_ROOM_CACHES);
  expect(store.dump()['rooms:recent']).toEqual(kept);
  // The two saved first and the one from before the list are gone; outboxes are not caches.
  expect(
    Object.keys(store.dump())
      .filter((key) => key.startsWith('room:'))
      .sort(),
  ).toEqual([...kept].sort());
  expect(store.dump()['outbox:scene-1']).toEqual([{ key: 'waiting' }]);
});
