// What the room page costs the view layer: bytes sent to the view per appended message, per
// status update and per prepended page of 50, with 1,000 and 10,000 messages already loaded (the
// page is driven with patches in miniprogram-simulate): the page's setData calls plus the initial
// data of every component they create; and the HTTP requests caused by receiving one message,
// measured with the real core and backend client against local-supabase.
//
// Run alone: npx tsx bench/setdata.ts [--quick]
import { createClient } from '@supabase/supabase-js';
import WebSocket from 'ws';
import { ROOM_SLUG } from '../miniprogram/config';
import { memoryStore } from '../test/support/memory-store';
import { RoomSession } from '../miniprogram/core/room-session';
import { SupabaseBackend } from '../miniprogram/core/supabase-backend';
import { localWechatLogin, storageUploader } from '../lib/node-client';
import type { ChatMessage, RoomPatch } from '../miniprogram/core/types';
import { setSafetyServicesForTest, setServicesForTest } from '../miniprogram/services';
import { FakePresencePort, FakeScenePort, FakeTypingPort, testServices } from '../test/support/roleplay-fakes';
import { fakeSafetyServices } from '../test/support/safety-fakes';
import { startTestServer } from '../test/support/server';
import {
  chatMessage,
  EVERY_KIND,
  FakeRoom,
  componentOwnData,
  installDom,
  loadPage,
  pageInstance,
  simulator,
  type PageWrapper,
} from '../test/support/simulate';
import { atMost, type Bench, type BenchSection, type Figure } from './types';
import { runIfMain } from './report';

const PAGE = 50;
const APPEND_TARGET = 1024;
/** issue 11: a presence or typing change costs at most this much setData. */
const PRESENCE_TARGET = 200;
const PREPEND_TARGET = 25 * 1024;
/** Each size is measured over several operations and the largest is reported. */
const SAMPLES = 10;

/** Bytes sent to the view since the last reset: setData calls and new components' own data. */
interface ViewTraffic {
  reset(): void;
  bytes(): number;
}

/** A realistic message: a 36-character key, a 3–4 character name, a Chinese sentence. */
function benchMessage(n: number, overrides: Partial<ChatMessage> = {}): ChatMessage {
  const names = ['令狐冲', '任盈盈', '楚留香', '东方不败'];
  return chatMessage(n, {
    key: `7f3c2a10-4b1d-4e8a-9c3b-${String(n).padStart(12, '0')}`,
    userId: `5b1f7a2c-0d3e-4f56-8a9b-${String(n % 4).padStart(12, '0')}`,
    username: names[Math.abs(n) % 4],
    body: `第 ${n} 条：今夜月色正好，诸位不妨移步后山，共饮一杯，再论剑法高低。`,
    createdAt: new Date(Date.UTC(2026, 10, 20, 4, 0, 0) + n * 30_000).toISOString(),
    ...overrides,
  });
}

function utf8Bytes(data: unknown): number {
  return Buffer.byteLength(JSON.stringify(data), 'utf8');
}

/** Counts the bytes of every setData the page makes from now on; `take` reads and restarts the count. */
function countSetData(page: PageWrapper): { take(): number } {
  let bytes = 0;
  const instance = page.instance as unknown as { setData: (data: object, callback?: () => void) => void };
  const setData = instance.setData.bind(instance);
  instance.setData = (data, callback) => {
    bytes += utf8Bytes(data);
    setData(data, callback);
  };
  return {
    take() {
      const taken = bytes;
      bytes = 0;
      return taken;
    },
  };
}

/** Figures for one size of loaded list. */
async function measureView(loaded: number): Promise<Figure[]> {
  const sleep = () => simulator().sleep(0);

  const openPage = async () => {
    const room = new FakeRoom();
    setServicesForTest(testServices({ room: () => room, character: { name: '楚留香', color: '#c0392b' } }));
    setSafetyServicesForTest(fakeSafetyServices());
    const page = renderRoom();
    await pageInstance(page).onLoad({});
    const setData = countSetData(page);
    // Each message-item the view creates also receives the component's own initial data.
    const seen = new WeakSet<object>();
    const newComponentBytes = () => {
      let bytes = 0;
      for (const item of page.querySelectorAll('.item')) {
        if (seen.has(item.instance)) continue;
        seen.add(item.instance);
        bytes += utf8Bytes(componentOwnData(item));
      }
      return bytes;
    };
    const traffic: ViewTraffic = {
      reset: () => {
        newComponentBytes();
        setData.take();
      },
      bytes: () => setData.take() + newComponentBytes(),
    };
    return { room, page, traffic };
  };
  const history = Array.from({ length: loaded }, (_, i) => benchMessage(i + 1));
  const largest = (sizes: number[]) => Math.max(...sizes);
  const figures: Figure[] = [];

  // Append and status update: the reader follows the newest messages.
  {
    const { room, traffic } = await openPage();
    room.emit({ type: 'reset', messages: history, hasOlder: true });
    await sleep();
    const appends: number[] = [];
    const updates: number[] = [];
    for (let i = 1; i <= SAMPLES * 3; i++) {
      const n = loaded + i;
      traffic.reset();
      room.emit({ type: 'append', messages: [benchMessage(n, { id: null, mine: true, status: 'sending' })] });
      appends.push(traffic.bytes());
      traffic.reset();
      // What the core sends when the server row of our message arrives: its id and server time.
      const createdAt = new Date(Date.parse(benchMessage(n).createdAt) + 61_000).toISOString();
      room.emit({ type: 'update', key: benchMessage(n).key, index: n - 1, changes: { status: 'sent', id: n, createdAt } });
      updates.push(traffic.bytes());
    }
    await sleep();
    figures.push(atMost(`append one message, ${loaded} loaded (max of ${appends.length})`, largest(appends), 'B', APPEND_TARGET));
    figures.push(atMost(`status update, ${loaded} loaded (max of ${updates.length})`, largest(updates), 'B', APPEND_TARGET));
  }

  // Receiving each role-play kind from someone else: what a kind adds stays within the same budget.
  {
    const { room, traffic } = await openPage();
    room.emit({ type: 'reset', messages: history, hasOlder: true });
    await sleep();
    const receives: number[] = [];
    for (let i = 0; i < EVERY_KIND.length * 2; i++) {
      traffic.reset();
      room.emit({ type: 'append', messages: [benchMessage(loaded + 100 + i, EVERY_KIND[i % EVERY_KIND.length])] });
      receives.push(traffic.bytes());
    }
    await sleep();
    figures.push(
      atMost(
        `receive any kind (动作, 场外, rolls, 暗骰, image, reply), ${loaded} loaded (max of ${receives.length})`,
        largest(receives),
        'B',
        APPEND_TARGET,
      ),
    );
  }

  // A page of 50 from the core, prepended while the reader is at the top of what is rendered.
  {
    const { room, page, traffic } = await openPage();
    room.emit({ type: 'reset', messages: history.slice(-PAGE), hasOlder: true });
    page.querySelector('.messages')!.dispatchEvent('scroll', { detail: { scrollTop: 0, scrollHeight: 100_000 } });
    await sleep();
    // The rest of the loaded messages arrive while the reader is up there: the window stays put.
    room.emit({
      type: 'append',
      messages: history.slice(0, loaded - PAGE).map((m) => ({ ...m, id: (m.id ?? 0) + 1_000_000, key: `${m.key}-x` })),
    });
    await sleep();
    const prepends: number[] = [];
    for (let p = 0; p < 3; p++) {
      const older = Array.from({ length: PAGE }, (_, i) => benchMessage(-(p + 1) * PAGE + i));
      traffic.reset();
      room.emit({ type: 'prepend', messages: older, hasOlder: true });
      prepends.push(traffic.bytes());
      await sleep();
    }
    figures.push(
      atMost(`prepend a page of 50 from the core, ${loaded} loaded (max of ${prepends.length})`, largest(prepends), 'B', PREPEND_TARGET),
    );
  }

  // A page of 50 the page already holds (dropped from the window earlier), shown again on scroll up.
  {
    const { room, page, traffic } = await openPage();
    room.emit({ type: 'reset', messages: history, hasOlder: true });
    await sleep();
    const shows: number[] = [];
    for (let p = 0; p < 3; p++) {
      traffic.reset();
      page.querySelector('.messages')!.dispatchEvent('scrolltoupper');
      await sleep();
      shows.push(traffic.bytes());
    }
    figures.push(
      atMost(`re-show an older page of 50 from memory, ${loaded} loaded (max of ${shows.length})`, largest(shows), 'B', PREPEND_TARGET),
    );
  }
  setServicesForTest(null);
  setSafetyServicesForTest(null);
  return figures;
}

let renderRoom: () => PageWrapper;

/** HTTP requests the page + core make when one message arrives over realtime (target: none). */
async function requestsPerReceivedMessage(): Promise<{ figure: Figure; notes: Record<string, unknown> }> {
  const server = await startTestServer();
  try {
    const requests: string[] = [];
    const countingFetch: typeof fetch = (input, init) => {
      requests.push(`${init?.method ?? 'GET'} ${String(input instanceof Request ? input.url : input).replace(server.url, '')}`);
      return fetch(input, init);
    };
    const options = (storageKey: string, extra: object) => ({
      auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false, storageKey },
      realtime: { transport: WebSocket as never, vsn: '1.0.0' } as never,
      ...extra,
    });
    const reader = createClient(server.url, server.anonKey, options('bench-reader', { global: { fetch: countingFetch } }));
    const writer = createClient(server.url, server.anonKey, options('bench-writer', {}));
    const noFiles = async () => new Uint8Array();
    const session = new RoomSession({
      backend: new SupabaseBackend(reader, storageUploader(reader, noFiles), localWechatLogin(server.url, server.anonKey, '读者')),
      store: memoryStore(),
      roomSlug: ROOM_SLUG,
      speaker: () => ({ name: '读者', color: '#1f618d', characterId: null }),
    });
    setServicesForTest(testServices({ room: () => session, character: { name: '读者', color: '#1f618d' } }));
    const connected = new Promise<void>((resolve) =>
      session.onPatch((patch: RoomPatch) => patch.type === 'connection' && patch.state === 'connected' && resolve()),
    );
    const page = renderRoom();
    await pageInstance(page).onLoad({});
    await connected;
    const writerBackend = new SupabaseBackend(
      writer,
      storageUploader(writer, noFiles),
      localWechatLogin(server.url, server.anonKey, '写者'),
    );
    await writerBackend.userId();
    const room = await writerBackend.findRoom(ROOM_SLUG);
    // Let the gap-fill that follows the subscribe finish before counting.
    await new Promise((resolve) => setTimeout(resolve, 500));

    const received = new Promise<void>((resolve) =>
      session.onPatch((patch: RoomPatch) => patch.type === 'append' && patch.messages.some((m) => m.body === '一条新消息') && resolve()),
    );
    // Proves the counter sees the reader's traffic: sign-in, room, newest page, gap-fill.
    const requestsWhileJoining = requests.length;
    requests.length = 0;
    await writerBackend.insertMessage({
      room_id: room.id,
      username: '写者',
      avatar_color: '#c0392b',
      kind: 'text',
      body: '一条新消息',
      image_path: null,
      image_height: null,
      image_width: null,
      character_id: null,
      reply_to: null,
      hidden: false,
      client_id: '9a1b2c3d-0000-4000-8000-000000000001',
    });
    await received;
    await simulator().sleep(200);
    const rendered = pageInstance(page).data.chunks as Record<string, Array<{ text: string }> | null>;
    const shown = Object.values(rendered).some((chunk) => (chunk || []).some((item) => item.text === '一条新消息'));
    if (!shown) throw new Error('the received message did not reach the page');
    const count = requests.length;
    pageInstance(page).onUnload();
    setServicesForTest(null);
    await reader.removeAllChannels();
    await writer.removeAllChannels();
    return {
      figure: atMost('HTTP requests caused by receiving one message (real core, realtime INSERT)', count, 'requests', 0),
      notes: { requestsWhileJoining, requestsWhileReceiving: requests.slice() },
    };
  } finally {
    await server.stop();
  }
}

/**
 * The scene list with 100 scenes shown (five pages) while people come and go: each presence change
 * (one person entering, moving to another scene, or leaving) is measured as the setData it causes.
 */
async function presenceChanges(renderScenes: () => PageWrapper): Promise<Figure> {
  const scenes = new FakeScenePort();
  for (let i = 0; i < 100; i++) scenes.add({}, i);
  const presence = new FakePresencePort();
  setServicesForTest(testServices({ scenes, presence, character: { name: '楚留香', color: '#c0392b' } }));
  const page = renderScenes();
  await pageInstance(page).onLoad({});
  for (let i = 0; i < 4; i++) await pageInstance(page).onReachBottom();
  const setData = countSetData(page);
  const state: Record<string, Array<{ scene_id: number }>> = {};
  const sizes: number[] = [];
  for (let change = 0; change < SAMPLES * 3; change++) {
    const person = `person-${change % 7}`;
    if (change % 5 === 4) delete state[person];
    else state[person] = [{ scene_id: 1 + ((change * 37) % 100) }];
    setData.take();
    presence.emitSync({ ...state });
    sizes.push(setData.take());
  }
  setServicesForTest(null);
  return atMost(`scene list, 100 scenes shown: one presence change (max of ${sizes.length})`, Math.max(...sizes), 'B', PRESENCE_TARGET);
}

/**
 * The room while people come, go and type: each presence change (the header's count) and each
 * typing signal (the line above the composer) is measured as the setData it causes.
 */
async function roomPresenceAndTyping(): Promise<Figure[]> {
  const room = new FakeRoom();
  const presence = new FakePresencePort();
  const typing = new FakeTypingPort();
  setServicesForTest(testServices({ room: () => room, presence, typing, character: { name: '楚留香', color: '#c0392b' } }));
  setSafetyServicesForTest(fakeSafetyServices());
  const page = renderRoom();
  await pageInstance(page).onLoad({});
  room.emit({ type: 'reset', messages: Array.from({ length: PAGE }, (_, i) => benchMessage(i + 1)), hasOlder: true });
  const scene = { id: 7, slug: 's-7', title: '夜探蝙蝠岛', topic: '', archived: false, isHost: false, pinned: null };
  room.emit({ type: 'scene', scene });
  presence.emitStatus('subscribed');
  await simulator().sleep(0);
  const setData = countSetData(page);
  const names = ['胡铁花', '姬冰雁', '任盈盈', '东方不败', '令狐冲', '花满楼', '陆小凤'];
  const state: Record<string, Array<{ scene_id: number; name: string; color: string }>> = {};
  const presenceSizes: number[] = [];
  const typingSizes: number[] = [];
  for (let change = 0; change < SAMPLES * 3; change++) {
    const person = `person-${change % names.length}`;
    if (change % 5 === 4) delete state[person];
    else state[person] = [{ scene_id: change % 3 ? scene.id : 8, name: names[change % names.length], color: '#229954' }];
    setData.take();
    presence.emitSync({ ...state });
    presenceSizes.push(setData.take());
    typing.emit(scene.id, { userId: person, name: names[change % names.length] });
    typingSizes.push(setData.take());
  }
  pageInstance(page).onUnload();
  setServicesForTest(null);
  setSafetyServicesForTest(null);
  return [
    atMost(`room: one presence change (max of ${presenceSizes.length})`, Math.max(...presenceSizes), 'B', PRESENCE_TARGET),
    atMost(`room: one typing signal (max of ${typingSizes.length})`, Math.max(...typingSizes), 'B', PRESENCE_TARGET),
  ];
}

export const run: Bench = async ({ quick }) => {
  // bench/run.ts runs the other sections in this process next: they must not find a browser there.
  const removeDom = installDom();
  try {
    renderRoom = loadPage('room');
    const figures: Figure[] = [];
    for (const loaded of quick ? [1000] : [1000, 10000]) figures.push(...(await measureView(loaded)));
    figures.push(await presenceChanges(loadPage('scenes')));
    figures.push(...(await roomPresenceAndTyping()));
    const received = await requestsPerReceivedMessage();
    figures.push(received.figure);
    const section: BenchSection = {
      name: 'Room page setData and requests',
      figures,
      notes: {
        method:
          'Bytes sent to the view per operation, recorded on the room page in miniprogram-simulate while patches are applied: UTF-8 bytes of JSON.stringify(data) of each page setData call, plus the own data (data minus properties) of each message-item component the operation creates; the largest operation of each kind is reported.',
        ...received.notes,
      },
    };
    return section;
  } finally {
    removeDom();
  }
};

// Run directly (npx tsx bench/setdata.ts), not when bench/run.ts imports it.
runIfMain(__filename, 'setdata', run);
