// How one message is formatted for the message-item component, on its own: day labels, image
// boxes, grouping with the message before it, times, and the retry URL of a broken image.
import {
  GROUP_GAP_MS,
  IMAGE_MAX_HEIGHT,
  IMAGE_MAX_WIDTH,
  IMAGE_MIN_SIDE,
  dayLabel,
  imageBox,
  imageSource,
  toItem,
} from '../miniprogram/components/message-item/format';
import type { ChatMessage, Roll } from '../miniprogram/core/types';
import { chatMessage, imageMessage } from './support/simulate';

/** Local time, so the cases read the same in every time zone. */
const local = (year: number, month: number, day: number, hour = 12, minute = 0, ms = 0) =>
  new Date(year, month - 1, day, hour, minute, 0, ms);

test.each([
  ['the same day', local(2026, 11, 20, 0, 1), local(2026, 11, 20, 23, 59), '今天'],
  ['the day before', local(2026, 11, 19, 23, 59), local(2026, 11, 20, 0, 1), '昨天'],
  ['the day before, across a month', local(2026, 10, 31, 8), local(2026, 11, 1, 8), '昨天'],
  ['the day before, across a year', local(2025, 12, 31, 8), local(2026, 1, 1, 8), '昨天'],
  ['two days before', local(2026, 11, 18, 23, 59), local(2026, 11, 20, 0, 1), '11月18日'],
  ['the same weekday a week before', local(2026, 11, 13, 12), local(2026, 11, 20, 12), '11月13日'],
  ['earlier this year', local(2026, 1, 2), local(2026, 11, 20), '1月2日'],
  ['another year', local(2025, 11, 20), local(2026, 11, 20), '2025年11月20日'],
  ['the same date a year later', local(2026, 11, 20), local(2027, 11, 20), '2026年11月20日'],
])('day label: %s', (_, date, now, label) => {
  expect(dayLabel(date, now)).toBe(label);
});

test.each([
  ['no stored size: a square placeholder', null, null, IMAGE_MAX_WIDTH, IMAGE_MAX_WIDTH],
  ['a zero side counts as unknown', 0, 480, IMAGE_MAX_WIDTH, IMAGE_MAX_WIDTH],
  ['landscape fills the width', 1200, 800, 300, 200],
  ['portrait fills the height', 800, 1200, 240, 360],
  ['a small image is scaled up to the box', 30, 20, 300, 200],
  ['a thin strip keeps the minimum height', 4000, 10, 300, IMAGE_MIN_SIDE],
  ['a tall strip keeps the minimum width', 10, 4000, IMAGE_MIN_SIDE, IMAGE_MAX_HEIGHT],
])('image box: %s', (_, width, height, boxWidth, boxHeight) => {
  expect(imageBox(width, height)).toEqual({ width: boxWidth, height: boxHeight });
});

const MINUTE = 60_000;
const base = local(2026, 11, 20, 9, 0);
const at = (offsetMs: number) => new Date(base.getTime() + offsetMs).toISOString();
const first = chatMessage(1, { createdAt: at(0) });

test.each<[string, ChatMessage | undefined, Partial<ChatMessage>, { head: boolean; day: string }]>([
  ['the first message loaded', undefined, { createdAt: at(0) }, { head: true, day: '11月20日' }],
  ['the same sender a minute later', first, { createdAt: at(60_000) }, { head: false, day: '' }],
  ['the same sender exactly at the gap', first, { createdAt: at(GROUP_GAP_MS) }, { head: false, day: '' }],
  ['the same sender just past the gap', first, { createdAt: at(GROUP_GAP_MS + 1) }, { head: true, day: '' }],
  ['another person', first, { userId: 'user-3', createdAt: at(60_000) }, { head: true, day: '' }],
  ['the same person under another role name', first, { username: '任盈盈', createdAt: at(60_000) }, { head: true, day: '' }],
  ['the same person in another colour', first, { avatarColor: '#884ea0', createdAt: at(60_000) }, { head: true, day: '' }],
  [
    'the same sender after midnight, within the gap',
    chatMessage(1, { createdAt: local(2026, 11, 19, 23, 59).toISOString() }),
    { createdAt: local(2026, 11, 20, 0, 1).toISOString() },
    { head: true, day: '11月20日' },
  ],
  ['the same sender on the same weekday a week later', first, { createdAt: at(7 * 24 * 60 * MINUTE) }, { head: true, day: '11月27日' }],
  ['a message older than the one before it (clock skew)', first, { createdAt: at(-60_000) }, { head: false, day: '' }],
])('grouping: %s', (_, previous, fields, expected) => {
  const item = toItem(chatMessage(2, fields), previous, local(2026, 12, 1));
  expect({ head: item.head, day: item.day }).toEqual(expected);
});

test('every field is formatted for WXML: strings and numbers, no nulls', () => {
  const now = local(2026, 11, 20, 23);
  const text = toItem(chatMessage(5, { createdAt: local(2026, 11, 20, 9, 5).toISOString(), body: '你好' }), undefined, now);
  expect(text).toEqual({
    key: chatMessage(5).key,
    mine: false,
    name: '令狐冲',
    color: '#1f618d',
    initial: '令',
    kind: 'text',
    text: '你好',
    url: '',
    imageLabel: '',
    width: 0,
    height: 0,
    time: '09:05',
    day: '今天',
    head: true,
    status: 'sent',
    state: 'visible',
    stateText: '',
    placeholder: '',
    rollDice: '',
    rollTotal: '',
    rollOutcome: '',
    kindLabel: '',
    quoteName: '',
    quoteText: '',
    replyTo: 0,
    retryLabel: '',
    progress: 0,
  });
  const pending = imageMessage(6, 1200, 800, { status: 'failed', error: '图片上传失败，点按重试', progress: 40, mine: true });
  expect(toItem(pending, undefined, now)).toMatchObject({
    kind: 'image',
    text: '',
    url: 'https://example.test/images/6.png',
    imageLabel: '令狐冲 发送的图片，点按查看大图',
    width: 300,
    height: 200,
    status: 'failed',
    stateText: '图片上传失败，点按重试',
    retryLabel: '重新发送这条消息',
    progress: 40,
    mine: true,
  });
  expect(toItem(chatMessage(7, { status: 'sending', mine: true }), undefined, now)).toMatchObject({ stateText: '发送中…', retryLabel: '' });
});

test('the author reads the moderation state under their own message; others never do', () => {
  const now = local(2026, 11, 20, 23);
  const mine = (overrides: Partial<ChatMessage>) => toItem(chatMessage(1, { mine: true, ...overrides }), undefined, now);
  expect(mine({ state: 'pending' }).stateText).toBe('审核中');
  expect(mine({ state: 'held' }).stateText).toBe('等待人工审核');
  expect(mine({ state: 'blocked', label: 20003 }).stateText).toBe('未通过审核：含辱骂内容');
  expect(mine({ state: 'blocked', label: 99999 }).stateText).toBe('未通过审核');
  expect(mine({ state: 'visible' }).stateText).toBe('');
  expect(toItem(chatMessage(1, { state: 'blocked', label: 20003 }), undefined, now).stateText).toBe('');
});

test('a recall or a hidden message shows one line in place of its content', () => {
  const now = local(2026, 11, 20, 23);
  expect(toItem(chatMessage(1, { state: 'recalled', mine: true, body: null }), undefined, now).placeholder).toBe('你撤回了一条消息');
  expect(toItem(chatMessage(1, { state: 'recalled', body: null }), undefined, now).placeholder).toBe('令狐冲撤回了一条消息');
  expect(toItem(chatMessage(1, { state: 'hidden', body: null }), undefined, now).placeholder).toBe('该消息已被隐藏');
});

test('a roll shows every die, the total and a check; a hidden one only that it happened', () => {
  const now = local(2026, 11, 20, 23);
  const roll: Roll = {
    expression: '2d6+1d4-2<=10',
    terms: [
      { sign: 1, count: 2, faces: 6, dice: [3, 5] },
      { sign: 1, count: 1, faces: 4, dice: [2] },
      { sign: -1, value: 2 },
    ],
    total: 8,
    check: { op: '<=', target: 10, outcome: 'success' },
  };
  expect(toItem(chatMessage(1, { kind: 'roll', body: roll.expression, roll }), undefined, now)).toMatchObject({
    text: '2d6+1d4-2<=10',
    rollDice: '3 5 + 2 - 2',
    rollTotal: '8',
    rollOutcome: '成功',
  });
  expect(toItem(chatMessage(2, { kind: 'roll', body: '1d100', roll: null, hidden: true }), undefined, now)).toMatchObject({
    text: '掷了一次暗骰',
    rollDice: '',
    rollTotal: '',
  });
});

test('场外 lines carry their tag; a reply carries its quote, even of a withheld message', () => {
  const now = local(2026, 11, 20, 23);
  expect(toItem(chatMessage(1, { kind: 'ooc', body: '先去吃饭' }), undefined, now).kindLabel).toBe('场外');
  const reply = (replyPreview: ChatMessage['replyPreview']) => toItem(chatMessage(2, { replyTo: 1, replyPreview }), undefined, now);
  expect(reply({ username: '任盈盈', text: '小心背后', kind: 'text', status: 'visible' })).toMatchObject({
    quoteName: '任盈盈',
    quoteText: '小心背后',
    replyTo: 1,
  });
  expect(reply({ username: '任盈盈', text: null, kind: 'image', status: 'visible' }).quoteText).toBe('[图片]');
  expect(reply({ username: '任盈盈', text: null, kind: 'text', status: 'recalled' }).quoteText).toBe('[消息已不可见]');
});

test.each([
  ['a CJK name', '令狐冲', '令'],
  ['a name starting outside the BMP (a surrogate pair)', '𠮷野家', '𠮷'],
  ['an emoji name', '🐉龙女', '🐉'],
])('avatar initial: %s', (_, username, initial) => {
  expect(toItem(chatMessage(1, { username }), undefined, local(2026, 11, 20)).initial).toBe(initial);
});

test.each([
  ['the first load uses the URL as it is', 'https://x.test/a.png', 0, 'https://x.test/a.png'],
  ['a retry asks for a new URL', 'https://x.test/a.png', 1, 'https://x.test/a.png?retry=1'],
  ['a retry keeps an existing query', 'https://x.test/a.png?token=t', 2, 'https://x.test/a.png?token=t&retry=2'],
  ['a local file cannot take a query', 'wxfile://tmp/a.jpg', 1, 'wxfile://tmp/a.jpg'],
  ['neither can a data URL', 'data:image/png;base64,AAAA', 3, 'data:image/png;base64,AAAA'],
])('broken image retry: %s', (_, url, attempt, source) => {
  expect(imageSource(url, attempt)).toBe(source);
});
