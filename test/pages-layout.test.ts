/**
 * @jest-environment jsdom
 */
// The pages laid out as a phone lays them out: simulate's render with the pages' WXSS and WeChat's
// default styles of the built-in components (test/support/page-html.ts), measured by headless
// Chromium at 375×667 (CSS px; 1 rpx = 0.5 px).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setServicesForTest } from '../miniprogram/services';
import { testServices } from './support/roleplay-fakes';
import type { ChatMessage } from '../miniprogram/core/types';
import { SCREEN, convertInlineRpx, measure, pageHtml, textContrast, type Box } from './support/page-html';
import { EVERY_KIND, FakeRoom, chatMessage, loadPage, pageInstance, simulator, type PageWrapper } from './support/simulate';

const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pages-layout-'));
/** WeChat's navigation bar above the page. */
const NAV_BAR = 44;
let renderRoom: () => PageWrapper;
let renderRole: () => PageWrapper;
let rendered = 0;

beforeAll(() => {
  convertInlineRpx();
  renderRoom = loadPage('room');
  renderRole = loadPage('role');
});

afterAll(() => {
  setServicesForTest(null);
  fs.rmSync(workDir, { recursive: true, force: true });
});

/** The page rendered to an HTML file as a phone shows it, light or dark. */
async function render(
  name: 'room' | 'role',
  options: { act?: (page: PageWrapper) => void; messages?: ChatMessage[]; dark?: boolean } = {},
): Promise<string> {
  const room = new FakeRoom();
  setServicesForTest(testServices({ room: () => room, character: name === 'room' ? { name: '楚留香', color: '#c0392b' } : undefined }));
  const page = name === 'room' ? renderRoom() : renderRole();
  await pageInstance(page).onLoad(name === 'role' ? { first: '1' } : {});
  room.emit({ type: 'reset', hasOlder: false, messages: options.messages ?? [chatMessage(1), chatMessage(2)] });
  options.act?.(page);
  await simulator().sleep(0);
  const file = path.join(workDir, `${name}-${++rendered}.html`);
  fs.writeFileSync(file, pageHtml(page, { page: name, title: name, dark: !!options.dark }));
  return file;
}

async function layout(name: 'room' | 'role', selectors: string[], act?: (page: PageWrapper) => void): Promise<Record<string, Box[]>> {
  return measure(await render(name, { act }), selectors);
}

test('the composer: the send button keeps its own width and the input takes the rest of the row', async () => {
  const boxes = await layout('room', ['.main--composer', '.main--voice', '.main--draft', '.main--send']);
  const [composer] = boxes['.main--composer'];
  const [voice] = boxes['.main--voice'];
  const [draft] = boxes['.main--draft'];
  const [send] = boxes['.main--send'];
  expect(composer.width).toBe(SCREEN.width);
  expect(send.width).toBe(64);
  expect(voice).toMatchObject({ left: 10, width: 44, height: 44 });
  // 375 − 2 × 10 padding − 44 voice toggle − 4 its margin − 44 image button − 2 × 8 input margins − 64 send button.
  expect(draft.width).toBe(183);
  expect(send.left + send.width).toBe(SCREEN.width - 10);
});

test('avatars: a small one in the header, and message ones in the middle of their 44 px tap slot', async () => {
  const boxes = await layout('room', [
    '.main--role-chip .avatar--avatar',
    '.message-item--avatar-slot',
    '.message-item--avatar-slot .avatar--avatar',
  ]);
  expect(boxes['.main--role-chip .avatar--avatar'][0]).toMatchObject({ width: 28, height: 28 });
  const [slot] = boxes['.message-item--avatar-slot'];
  const [avatar] = boxes['.message-item--avatar-slot .avatar--avatar'];
  expect(slot.width).toBe(44);
  expect(avatar).toMatchObject({ width: 36, height: 36, left: slot.left + 4 });
});

test('with the keyboard up, the header stays and the composer sits right above the keyboard', async () => {
  const keyboard = 300;
  const boxes = await layout('room', ['.main--header', '.main--composer', '.main--messages'], (page) =>
    page.querySelector('.draft')!.dispatchEvent('keyboardheightchange', { detail: { height: keyboard, duration: 250 } }),
  );
  expect(boxes['.main--header'][0].top).toBe(NAV_BAR);
  const [composer] = boxes['.main--composer'];
  expect(composer.top + composer.height).toBe(SCREEN.height - keyboard);
  const [list] = boxes['.main--messages'];
  expect(list.top + list.height).toBe(composer.top);
});

test('进入聊天室 spans the role page, edge to edge of its padding', async () => {
  const boxes = await layout('role', ['.main--save', '.main--name-input', '.main--random']);
  const [save] = boxes['.main--save'];
  expect(save.left).toBe(20);
  expect(save.width).toBe(SCREEN.width - 40);
  const [input] = boxes['.main--name-input'];
  const [random] = boxes['.main--random'];
  expect(random.left + random.width).toBe(SCREEN.width - 20);
  expect(input.left + input.width + 8).toBe(random.left);
});

/** One message of every kind and state a reader meets in a scene (its image left out: Chromium would fetch it). */
function everyKind(): ChatMessage[] {
  const me = { userId: 'me', username: '楚留香', avatarColor: '#c0392b', mine: true };
  const others = [{}, ...EVERY_KIND.filter((fields) => fields.kind !== 'image')];
  return [
    ...others.map((fields, i) => chatMessage(i + 1, fields)),
    chatMessage(20, { state: 'recalled', body: null }),
    chatMessage(21, { ...me, body: '等一等', state: 'pending' }),
    chatMessage(22, { ...me, body: '……', state: 'blocked', label: 20003 }),
    chatMessage(23, { ...me, kind: 'action', body: '摸了摸怀中的火折子' }),
  ];
}

/** What each kind's reader must read: its text at WCAG AA (4.5:1), the notes beside it at 3:1. */
const READABLE: Array<[string, number]> = [
  ['.message-item--text', 4.5],
  ['.message-item--action-text', 4.5],
  ['.message-item--ooc-text', 4.5],
  ['.message-item--roll-expression', 4.5],
  ['.message-item--roll-total', 4.5],
  ['.message-item--roll-outcome', 3],
  ['.message-item--quote', 3],
  ['.message-item--system-text', 3],
  ['.message-item--state', 3],
  ['.message-item--ooc-tag', 3],
];

test.each([
  ['light', false],
  ['dark', true],
])('every kind and state is drawn and readable, %s', async (_mode, dark) => {
  const ratios = textContrast(
    await render('room', { messages: everyKind(), dark }),
    READABLE.map(([selector]) => selector),
  );
  const unreadable = READABLE.flatMap(([selector, least]) => {
    const found = ratios[selector];
    if (!found.length) return [`${selector}: not drawn`];
    return found.filter((ratio) => ratio < least).map((ratio) => `${selector}: ${ratio} < ${least}`);
  });
  expect(unreadable).toEqual([]);
});
