// The room page's window bookkeeping, on its own: every patch the core sends is applied to a
// MessageWindow whose setData writes into a plain view (as WeChat copies data to the view), and after
// each step the view must be exactly what the core's list says:
// - the rendered messages are one contiguous run of the list, in order, in non-empty chunks;
// - each is formatted against the message before it in the list (day separator, grouping);
// - no chunk outside chunkOrder is left holding messages, and `empty` tells the truth.
import { toItem, type MessageItem } from '../miniprogram/components/message-item/format';
import type { ChatMessage } from '../miniprogram/core/types';
import { zh } from '../miniprogram/core/strings';
import { CHUNK_SIZE, MAX_RENDERED, MessageWindow, RENDER_STEP, viewItem, type RenderData } from '../miniprogram/pages/room/message-window';
import { chatMessage } from './support/simulate';
import type { Row } from './support/row';

const NOW = new Date('2026-11-22T12:00:00+08:00');
const MINUTE = 60_000;
const BASE = Date.parse('2026-11-20T12:00:00+08:00');

/** Message n at BASE + n minutes from 令狐冲, unless overridden. */
const message = (n: number, fields: Partial<ChatMessage> = {}) => chatMessage(n, fields);
const at = (minutes: number) => new Date(BASE + minutes * MINUTE).toISOString();
const run = (from: number, to: number, fields: Partial<ChatMessage> = {}) =>
  Array.from({ length: to - from + 1 }, (_, i) => message(from + i, fields));

/** Writes `value` at a setData path such as `chunks.c3[2].status`, copying it as WeChat does. */
function writePath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split(/\.|\[(\d+)\]/).filter((key) => key !== undefined && key !== '');
  let node = target as Record<string, unknown>;
  for (const key of keys.slice(0, -1)) {
    if (node[key] === undefined || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]] = value === undefined ? undefined : structuredClone(value);
}

type Patch =
  | { type: 'reset'; messages: ChatMessage[] }
  | { type: 'append'; messages: ChatMessage[] }
  | { type: 'insert'; index: number; message: ChatMessage }
  | { type: 'prepend'; messages: ChatMessage[] }
  /** `index` is the core's hint; the window must not trust a wrong one. */
  | { type: 'update'; key: string; changes: Partial<ChatMessage>; index?: number }
  | { type: 'remove'; key: string }
  | { type: 'trim'; count: number }
  | { type: 'scroll'; following: boolean }
  | { type: 'showOlder' }
  | { type: 'showNewer' }
  | { type: 'jumpToNewest' };

/** A MessageWindow, the core's list it mirrors, and the view its setData builds. */
class Harness {
  readonly view: Row = {};
  readonly list: ChatMessage[] = [];
  /** Every setData call, as WeChat would send it. */
  readonly calls: RenderData[] = [];
  /** What the window and the checks take as now. */
  today = NOW;
  readonly window = new MessageWindow({
    setData: (data: RenderData, callback?: () => void) => {
      this.calls.push(structuredClone(data));
      for (const [path, value] of Object.entries(data)) writePath(this.view, path, value);
      callback?.();
    },
    now: () => this.today,
  });

  apply(patch: Patch): void {
    const { list, window } = this;
    switch (patch.type) {
      case 'reset':
        list.splice(0, list.length, ...patch.messages);
        return window.reset(patch.messages);
      case 'append':
        list.push(...patch.messages);
        return window.append(patch.messages);
      case 'insert':
        list.splice(patch.index, 0, patch.message);
        return window.insert(patch.index, patch.message);
      case 'prepend':
        list.unshift(...patch.messages);
        return window.prepend(patch.messages);
      case 'update': {
        const index = list.findIndex((m) => m.key === patch.key);
        list[index] = { ...list[index], ...patch.changes };
        return window.update(patch.key, patch.changes, patch.index ?? index);
      }
      case 'remove':
        list.splice(
          list.findIndex((m) => m.key === patch.key),
          1,
        );
        return window.remove(patch.key);
      case 'trim':
        list.splice(0, patch.count);
        return window.trim(patch.count);
      case 'scroll':
        return window.setFollowing(patch.following);
      case 'showOlder':
        window.showOlder();
        return;
      case 'showNewer':
        window.showNewer();
        return;
      case 'jumpToNewest':
        return window.jumpToNewest();
    }
  }

  renderedKeys(): string[] {
    return this.rendered().map((item) => item.key);
  }

  rendered(): Array<ReturnType<typeof toItem>> {
    const order: string[] = this.view.chunkOrder ?? [];
    return order.flatMap((id) => this.view.chunks[id]);
  }

  /** Every invariant of the view against the list; returns the index of the first rendered message. */
  check(): number {
    const order: string[] = this.view.chunkOrder ?? [];
    for (const id of order) {
      expect(this.view.chunks[id].length).toBeGreaterThan(0);
      expect(this.view.chunks[id].length).toBeLessThanOrEqual(CHUNK_SIZE);
    }
    const leftovers = Object.entries(this.view.chunks ?? {}).filter(([id, items]) => items !== null && !order.includes(id));
    expect(leftovers).toEqual([]);
    expect(this.view.empty).toBe(this.list.length === 0);
    const shown = this.rendered();
    expect(shown.length).toBeLessThanOrEqual(MAX_RENDERED + CHUNK_SIZE);
    if (this.list.length > 0) expect(shown.length).toBeGreaterThan(0);
    const first = shown.length > 0 ? this.list.findIndex((m) => m.key === shown[0].key) : 0;
    const expected = this.list.slice(first, first + shown.length).map((m, i) => viewItem(toItem(m, this.list[first + i - 1], this.today)));
    // A field an update emptied is '' in the view, which the template reads as the absent field it is.
    expect(shown.map((item: MessageItem) => viewItem(item))).toEqual(expected);
    return first;
  }
}

function replay(steps: Patch[]): Harness {
  const harness = new Harness();
  for (const step of steps) {
    harness.apply(step);
    harness.check();
  }
  return harness;
}

describe('prepending older messages recomputes the old first message', () => {
  // The old first message is 令狐冲's, at minute 100 (day: 11月20日, head: true) until older ones arrive.
  const first = message(100, { createdAt: at(100) });
  test.each<[string, ChatMessage[], { day: string; head: boolean }]>([
    ['the same sender a minute earlier: joins the group, no separator', [message(99, { createdAt: at(99) })], { day: '', head: false }],
    ['the same sender past the grouping gap: own group, no separator', [message(90, { createdAt: at(90) })], { day: '', head: true }],
    [
      'another sender the same day: own group, no separator',
      [message(99, { createdAt: at(99), userId: 'user-3', username: '任盈盈' })],
      { day: '', head: true },
    ],
    [
      'the same sender the day before: separator and group stay',
      [message(-600, { createdAt: at(-24 * 60) })],
      { day: '11月20日', head: true },
    ],
    [
      'a page of 50 ending just before it: joins the group',
      run(50, 99, {}).map((m, i) => ({ ...m, createdAt: at(50 + i) })),
      { day: '', head: false },
    ],
  ])('%s', (_, older, expected) => {
    const harness = replay([
      { type: 'reset', messages: [first, message(101, { createdAt: at(101) })] },
      { type: 'prepend', messages: older },
    ]);
    const old = harness.rendered().find((item) => item.key === first.key)!;
    expect({ day: old.day, head: old.head }).toEqual(expected);
  });
});

const many = (count: number) => run(1, count);

test.each<[string, Patch[]]>([
  [
    'prepend onto an empty room',
    [
      { type: 'reset', messages: [] },
      { type: 'prepend', messages: run(1, 3) },
    ],
  ],
  [
    'prepend while the window is below the top: shown later, formatted then',
    [
      { type: 'reset', messages: run(60, 160) },
      { type: 'prepend', messages: run(10, 59) },
      { type: 'showOlder' },
      { type: 'showOlder' },
      { type: 'showOlder' },
    ],
  ],
  [
    'two pages prepended in a row while reading at the top',
    [
      { type: 'reset', messages: run(101, 150) },
      { type: 'scroll', following: false },
      { type: 'prepend', messages: run(51, 100) },
      { type: 'prepend', messages: run(1, 50) },
    ],
  ],
  [
    'prepend with the window full: the bottom is dropped, then shown again',
    [
      { type: 'reset', messages: run(51, 130) },
      { type: 'scroll', following: false },
      { type: 'prepend', messages: run(1, 50) },
      { type: 'showNewer' },
      { type: 'showNewer' },
    ],
  ],
  [
    'a message removed just above the window',
    [{ type: 'reset', messages: run(1, 60) }, { type: 'remove', key: message(10).key }, { type: 'showOlder' }],
  ],
  [
    'a message removed just above the window regroups the first one shown',
    [
      { type: 'reset', messages: [...run(1, 9), message(10, { userId: 'user-3', username: '任盈盈' }), ...run(11, 60)] },
      { type: 'remove', key: message(10).key },
    ],
  ],
  [
    'a message removed inside the window regroups the next one',
    [
      { type: 'reset', messages: [message(1), message(2, { userId: 'user-3', username: '任盈盈' }), message(3)] },
      { type: 'remove', key: message(2).key },
    ],
  ],
  [
    'the first shown message removed',
    [
      { type: 'reset', messages: run(1, 60) },
      { type: 'remove', key: message(11).key },
    ],
  ],
  [
    'the last shown message removed',
    [
      { type: 'reset', messages: run(1, 5) },
      { type: 'remove', key: message(5).key },
    ],
  ],
  [
    'the only message removed',
    [
      { type: 'reset', messages: run(1, 1) },
      { type: 'remove', key: message(1).key },
    ],
  ],
  [
    'an insert above the window',
    [
      { type: 'reset', messages: run(1, 60) },
      { type: 'insert', index: 3, message: message(1000, { createdAt: at(3) }) },
    ],
  ],
  [
    'an insert right before the first shown message',
    [
      { type: 'reset', messages: run(1, 60) },
      { type: 'insert', index: 10, message: message(1000, { createdAt: at(10), userId: 'user-3', username: '任盈盈' }) },
      { type: 'showOlder' },
    ],
  ],
  [
    'an insert inside the window, from someone else',
    [
      { type: 'reset', messages: run(1, 5) },
      { type: 'insert', index: 2, message: message(1000, { createdAt: at(2), userId: 'user-3', username: '任盈盈' }) },
    ],
  ],
  [
    'an insert at the end is an append',
    [
      { type: 'reset', messages: run(1, 5) },
      { type: 'insert', index: 5, message: message(6) },
    ],
  ],
  [
    'an insert below a window trimmed at the bottom counts as unseen',
    [
      { type: 'reset', messages: run(51, 130) },
      { type: 'scroll', following: false },
      { type: 'prepend', messages: run(1, 50) },
      { type: 'insert', index: 125, message: message(1000, { createdAt: at(125) }) },
      { type: 'jumpToNewest' },
    ],
  ],
  [
    'a new server time regroups the next message',
    [
      { type: 'reset', messages: run(1, 5) },
      { type: 'update', key: message(3).key, changes: { createdAt: at(-3000) } },
    ],
  ],
  [
    'a new name regroups the next message',
    [
      { type: 'reset', messages: run(1, 5) },
      { type: 'update', key: message(3).key, changes: { username: '任盈盈' } },
    ],
  ],
  [
    'an update, then an insert into the same chunk',
    [
      { type: 'reset', messages: run(1, 5) },
      { type: 'update', key: message(2).key, changes: { status: 'failed', error: '发送失败，点按重试' } },
      { type: 'insert', index: 4, message: message(1000, { createdAt: at(4) }) },
    ],
  ],
  [
    'an update whose index hint is wrong',
    [
      { type: 'reset', messages: run(1, 5) },
      { type: 'update', key: message(2).key, changes: { username: '任盈盈' }, index: 4 },
    ],
  ],
  [
    'status and progress updates',
    [
      { type: 'reset', messages: run(1, 3) },
      { type: 'update', key: message(2).key, changes: { status: 'failed', error: '发送失败，点按重试' } },
      { type: 'update', key: message(3).key, changes: { progress: 60 } },
    ],
  ],
  [
    'an update of a message not rendered',
    [
      { type: 'reset', messages: run(1, 60) },
      { type: 'update', key: message(1).key, changes: { username: '任盈盈' } },
    ],
  ],
  [
    'a trim inside the window regroups the new first message',
    [
      { type: 'reset', messages: run(1, 30) },
      { type: 'trim', count: 5 },
    ],
  ],
  [
    'a trim of exactly the messages above the window: the first shown has no predecessor now',
    [
      { type: 'reset', messages: run(1, 60) },
      { type: 'trim', count: 60 - RENDER_STEP },
    ],
  ],
  ['a trim above the window', [{ type: 'reset', messages: run(1, 60) }, { type: 'trim', count: 5 }, { type: 'showOlder' }]],
  [
    'a trim of everything shown renders the newest page',
    [
      { type: 'reset', messages: many(200) },
      { type: 'showOlder' },
      { type: 'showOlder' },
      { type: 'showOlder' },
      { type: 'trim', count: 150 },
    ],
  ],
  [
    'appends while following keep the window bounded',
    Array.from({ length: 12 }, (_, i): Patch => ({ type: 'append', messages: run(i * 10 + 1, i * 10 + 10) })),
  ],
  [
    'appends while reading older messages wait below',
    [
      { type: 'reset', messages: run(1, 10) },
      { type: 'scroll', following: false },
      ...Array.from({ length: 10 }, (_, i): Patch => ({ type: 'append', messages: run(11 + i * 10, 20 + i * 10) })),
      { type: 'showNewer' },
      { type: 'showNewer' },
    ],
  ],
  [
    'a long gap filled at once starts over at the newest',
    [
      { type: 'reset', messages: run(1, 5) },
      { type: 'append', messages: run(6, 6 + MAX_RENDERED + 10) },
    ],
  ],
  [
    'scrolling up from a window that starts a whole number of chunks down',
    [{ type: 'reset', messages: many(RENDER_STEP + 2 * CHUNK_SIZE) }, { type: 'showOlder' }],
  ],
  [
    'scrolling up through everything loaded',
    [
      { type: 'reset', messages: many(3 * RENDER_STEP + 7) },
      { type: 'showOlder' },
      { type: 'showOlder' },
      { type: 'showOlder' },
      { type: 'showOlder' },
    ],
  ],
])('window invariants: %s', (_, steps) => {
  replay(steps);
});

test('the pill counts only messages the reader has not seen, and jumping shows the newest', () => {
  const harness = replay([
    { type: 'reset', messages: run(1, 5) },
    { type: 'scroll', following: false },
  ]);
  harness.apply({ type: 'append', messages: run(6, 7) });
  expect(harness.view).toMatchObject({ unseen: 2, unseenText: '2 条新消息 ↓' });
  harness.apply({ type: 'insert', index: 3, message: message(1000, { createdAt: at(3) }) });
  expect(harness.view.unseen).toBe(2);
  harness.apply({ type: 'jumpToNewest' });
  harness.check();
  expect(harness.view).toMatchObject({ unseen: 0, anchor: `m-${message(7).key}` });
});

test('prepending while the window is below the top changes nothing on screen', () => {
  const harness = replay([{ type: 'reset', messages: run(60, 160) }]);
  const before = harness.renderedKeys();
  harness.apply({ type: 'prepend', messages: run(10, 59) });
  expect(harness.renderedKeys()).toEqual(before);
});

test('scrolling up renders exactly one step of older messages from memory', () => {
  const harness = replay([{ type: 'reset', messages: many(200) }]);
  expect(harness.renderedKeys()[0]).toBe(message(200 - RENDER_STEP + 1).key);
  harness.apply({ type: 'showOlder' });
  expect(harness.renderedKeys()[0]).toBe(message(200 - 2 * RENDER_STEP + 1).key);
});

test('a long gap filled at once sends one page of messages, not the whole gap', () => {
  const harness = replay([{ type: 'reset', messages: run(1, 5) }]);
  harness.calls.length = 0;
  harness.apply({ type: 'append', messages: run(6, 6 + MAX_RENDERED + 10) });
  const sent = JSON.stringify(harness.calls).match(/"key":/g) ?? [];
  expect(sent.length).toBe(RENDER_STEP);
});

describe('a reader who is not at the newest message is never pulled down', () => {
  /** 50 rendered, then a page prepended at the top: the window drops its bottom to stay bounded. */
  const readingOlder = () => {
    const harness = replay([
      { type: 'reset', messages: run(51, 100) },
      { type: 'prepend', messages: run(1, 50) },
    ]);
    expect(harness.window.hasHiddenBelow).toBe(true);
    return harness;
  };

  test('a new message waits below and the pill counts it', () => {
    const harness = readingOlder();
    const anchor = harness.view.anchor;
    harness.apply({ type: 'append', messages: [message(101)] });
    harness.check();
    expect(harness.renderedKeys()).not.toContain(message(101).key);
    expect(harness.view).toMatchObject({ anchor, unseen: 1 });
  });

  test('an insert among the hidden messages counts too', () => {
    const harness = readingOlder();
    harness.apply({ type: 'insert', index: 99, message: message(1000, { createdAt: at(99) }) });
    expect(harness.view.unseen).toBe(1);
  });

  test('reaching the bottom of what is rendered keeps the count while newer ones are still hidden', () => {
    const harness = readingOlder();
    harness.apply({ type: 'append', messages: [message(101)] });
    harness.apply({ type: 'scroll', following: true });
    expect(harness.view.unseen).toBe(1);
  });

  test('the pill jumps to the newest message, rendering it', () => {
    const harness = readingOlder();
    harness.apply({ type: 'append', messages: [message(101)] });
    harness.apply({ type: 'jumpToNewest' });
    harness.check();
    expect(harness.renderedKeys().pop()).toBe(message(101).key);
    expect(harness.view).toMatchObject({ unseen: 0, anchor: `m-${message(101).key}` });
  });
});

test('a new list follows the newest messages again', () => {
  const harness = replay([
    { type: 'reset', messages: run(1, 5) },
    { type: 'scroll', following: false },
    { type: 'reset', messages: run(1, 6) },
  ]);
  harness.apply({ type: 'append', messages: [message(7)] });
  expect(harness.view).toMatchObject({ unseen: 0, anchor: `m-${message(7).key}` });
});

test('separators follow the day: after midnight a new message, or the page shown again, relabels them', () => {
  const harness = new Harness();
  const local = (day: number, hour: number, minute = 0) => new Date(2026, 10, day, hour, minute);
  const said = (n: number, when: Date) => message(n, { createdAt: when.toISOString() });
  harness.today = local(22, 23, 58);
  harness.apply({ type: 'reset', messages: [said(1, local(21, 20)), said(2, local(22, 23, 57))] });
  harness.check();
  const days = () => harness.rendered().map((item) => item.day);
  expect(days()).toEqual([zh.yesterday, zh.today]);
  harness.today = local(23, 0, 2);
  harness.apply({ type: 'append', messages: [said(3, local(23, 0, 1))] });
  harness.check();
  expect(days()).toEqual([zh.dateThisYear.replace('{month}', '11').replace('{day}', '21'), zh.yesterday, zh.today]);
  // A day later with nothing new: showing the page again relabels; a second show sends nothing.
  harness.today = local(24, 9);
  harness.window.refreshDays();
  harness.check();
  expect(days()[2]).toBe(zh.yesterday);
  const calls = harness.calls.length;
  harness.window.refreshDays();
  expect(harness.calls).toHaveLength(calls);
});
