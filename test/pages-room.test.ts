/**
 * @jest-environment jsdom
 */
// The room page in miniprogram-simulate, driven by a FakeRoom: every patch type renders, and every
// tap reaches the core as the right intent.
import type { RoomPatch } from '../miniprogram/core/types';
import { MAX_RENDERED, CHUNK_SIZE } from '../miniprogram/pages/room/message-window';
import { setSafetyServicesForTest, setServicesForTest } from '../miniprogram/services';
import { FakeCharacterPort, FakePresencePort, FakeTypingPort, testServices } from './support/roleplay-fakes';
import { FakeModerationPort, fakeSafetyServices } from './support/safety-fakes';
import {
  FakeRoom,
  chatMessage,
  componentOwnData,
  imageMessage,
  loadPage,
  pageInstance,
  simulator,
  textIdsShownBy,
  texts,
  chooseFromSheet,
  type PageWrapper,
} from './support/simulate';

const ME = { userId: 'user-me', username: '楚留香', avatarColor: '#c0392b', mine: true };
const ME_ROLE = { name: ME.username, color: ME.avatarColor };

let render: () => PageWrapper;
let room: FakeRoom;
let safety: ReturnType<typeof fakeSafetyServices>;

beforeAll(() => {
  render = loadPage('room');
});

beforeEach(async () => {
  room = new FakeRoom();
  setServicesForTest(testServices({ room: () => room, character: ME_ROLE }));
  safety = fakeSafetyServices();
  setSafetyServicesForTest(safety);
});

afterEach(() => {
  jest.restoreAllMocks();
  setServicesForTest(null);
  setSafetyServicesForTest(null);
});

const sleep = () => simulator().sleep(0);

async function openRoom(...patches: RoomPatch[]): Promise<PageWrapper> {
  const page = render();
  await pageInstance(page).onLoad({});
  for (const patch of patches) room.emit(patch);
  await sleep();
  return page;
}

/** The rendered message-item components, top to bottom. */
function messages(page: PageWrapper) {
  return page.querySelectorAll('.item');
}

/** Tracks the page's setData calls from now on. */
function recordSetData(page: PageWrapper): Array<Record<string, unknown>> {
  const calls: Array<Record<string, unknown>> = [];
  const instance = page.instance as unknown as { setData: (data: Record<string, unknown>, cb?: () => void) => void };
  const original = instance.setData.bind(instance);
  instance.setData = (data, callback) => {
    calls.push(data);
    original(data, callback);
  };
  return calls;
}

test('without a role, the room sends the user to the role page', async () => {
  setServicesForTest(testServices({ room: () => room }));
  const redirect = jest.spyOn(wx, 'redirectTo');
  await openRoom();
  // After the first character, the editor comes back to this scene.
  expect(redirect).toHaveBeenCalledWith(
    expect.objectContaining({ url: '/pages/role/index?first=1&next=%2Fpages%2Froom%2Findex%3Fscene%3Dlobby' }),
  );
  expect(room.intents('start')).toHaveLength(0);
});

test('renders text and images, own and others, grouped, with day separators', async () => {
  const yesterday = chatMessage(1, { createdAt: '2026-11-19T10:00:00.000Z' });
  const page = await openRoom({
    type: 'reset',
    hasOlder: false,
    messages: [
      yesterday,
      chatMessage(2, { body: '第一行\n第二行' }),
      chatMessage(3),
      imageMessage(4, 1200, 800),
      chatMessage(5, { ...ME, body: '我来了' }),
    ],
  });
  expect(room.intents('start')).toHaveLength(1);
  const items = messages(page);
  expect(items).toHaveLength(5);
  // A new day starts at message 2; messages 2–4 are one sender's group: one name, one avatar.
  expect(texts(page, '.message >>> .day-label')).toHaveLength(2);
  expect(texts(page, '.message >>> .name')).toEqual(['令狐冲', '令狐冲', '楚留香']);
  expect(items[1].querySelector('.text')!.dom!.textContent).toBe('第一行\n第二行');
  expect(items[2].querySelector('.row')!.dom!.className).toContain('follow');
  expect(items[2].querySelector('.meta')).toBeUndefined();
  // The image box is sized from the stored 1200×800 before anything loads: 300×200 rpx.
  expect(items[3].querySelector('.picture')!.dom!.getAttribute('style')).toContain('width: 300px; height: 200px');
  expect(items[4].querySelector('.row')!.dom!.className).toContain('mine');
  expect(items[0].querySelector('.row')!.dom!.className).toContain('theirs');
});

test('pending and failed messages show their state; tapping a failed one retries it', async () => {
  const page = await openRoom({
    type: 'reset',
    hasOlder: false,
    messages: [
      chatMessage(1, { ...ME, id: null, status: 'sending' }),
      imageMessage(2, 400, 400, { ...ME, id: null, status: 'sending', progress: 40, imageUrl: 'wxfile://tmp/2.jpg' }),
      chatMessage(3, { ...ME, id: null, status: 'failed', error: '发送太频繁，请稍后再试' }),
    ],
  });
  expect(texts(page, '.message >>> .sending')).toEqual(['发送中…', '发送中…']);
  expect(messages(page)[1].querySelector('.progress')).toBeDefined();
  expect(page.querySelector('.message >>> .progress-bar')!.dom!.getAttribute('style')).toContain('width: 40%');
  expect(texts(page, '.message >>> .failed-reason')).toEqual(['发送太频繁，请稍后再试']);
  expect(messages(page)[2].data.item.retryLabel).toBe('重新发送这条消息');

  room.emit({ type: 'update', key: chatMessage(2).key, index: 1, changes: { progress: 90 } });
  await sleep();
  expect(page.querySelector('.message >>> .progress-bar')!.dom!.getAttribute('style')).toContain('width: 90%');

  messages(page)[2].querySelector('.failed')!.dispatchEvent('tap');
  await sleep();
  expect(room.intents('retry')).toEqual([chatMessage(3).key]);

  const toast = jest.spyOn(wx, 'showToast');
  room.emit({ type: 'update', key: chatMessage(1).key, index: 0, changes: { status: 'failed', error: '消息不符合规则，未发送' } });
  await sleep();
  expect(toast).toHaveBeenCalledWith(expect.objectContaining({ title: '消息不符合规则，未发送' }));
  expect(texts(page, '.message >>> .failed-reason')).toEqual(['消息不符合规则，未发送', '发送太频繁，请稍后再试']);

  room.emit({ type: 'update', key: chatMessage(3).key, index: 2, changes: { status: 'sent', id: 3, error: '' } });
  await sleep();
  expect(texts(page, '.message >>> .failed-reason')).toEqual(['消息不符合规则，未发送']);
});

test('a status update is one small path-keyed setData, even with 1,000 messages loaded', async () => {
  const many = Array.from({ length: 1000 }, (_, i) => chatMessage(i + 1));
  const page = await openRoom({ type: 'reset', hasOlder: true, messages: many });
  const calls = recordSetData(page);
  room.emit({ type: 'append', messages: [chatMessage(1001, { ...ME, status: 'sending' })] });
  room.emit({ type: 'update', key: chatMessage(1001).key, index: 1000, changes: { status: 'sent' } });
  expect(calls).toHaveLength(2);
  for (const call of calls) expect(JSON.stringify(call).length).toBeLessThan(1024);
  expect(Object.keys(calls[1])).toEqual([
    expect.stringMatching(/^chunks\.c\d+\[\d+\]\.status$/),
    expect.stringMatching(/^chunks\.c\d+\[\d+\]\.stateText$/),
  ]);
});

test('loading older messages keeps the reader on the message they were reading', async () => {
  const newest = Array.from({ length: 50 }, (_, i) => chatMessage(100 + i));
  const older = Array.from({ length: 50 }, (_, i) => chatMessage(50 + i));
  const page = await openRoom({ type: 'reset', hasOlder: true, messages: newest });
  room.onLoadOlder = async () => {
    room.emit({ type: 'prepend', messages: older, hasOlder: false });
    return true;
  };
  page.querySelector('.messages')!.dispatchEvent('scrolltoupper');
  await sleep();
  expect(room.intents('loadOlder')).toHaveLength(1);
  const data = pageInstance(page).data;
  expect(data.anchor).toBe(`m-${newest[0].key}`);
  expect(messages(page).length).toBeGreaterThan(50);
  expect(messages(page)[0].querySelector('.text')!.dom!.textContent).not.toBe(newest[0].body);
  expect(data.loadingOlder).toBe(false);
  expect(texts(page, '.older')).toEqual(['没有更早的消息了']);
});

test('new messages do not move a reader who scrolled up; the pill counts them and jumps down', async () => {
  const page = await openRoom({ type: 'reset', hasOlder: false, messages: [chatMessage(1), chatMessage(2)] });
  const lastAnchor = pageInstance(page).data.anchor;
  expect(lastAnchor).toBe(`m-${chatMessage(2).key}`);

  page.querySelector('.messages')!.dispatchEvent('scroll', { detail: { scrollTop: 0, scrollHeight: 5000 } });
  await sleep();
  room.emit({ type: 'append', messages: [chatMessage(3)] });
  room.emit({ type: 'append', messages: [chatMessage(4)] });
  await sleep();
  expect(pageInstance(page).data.anchor).toBe(lastAnchor);
  expect(texts(page, '.pill')).toEqual(['2 条新消息 ↓']);

  page.querySelector('.pill')!.dispatchEvent('tap');
  await sleep();
  expect(page.querySelector('.pill')).toBeUndefined();
  expect(pageInstance(page).data.anchor).toBe(`m-${chatMessage(4).key}`);

  // Following again: the next message scrolls into view without a pill.
  room.emit({ type: 'append', messages: [chatMessage(5)] });
  await sleep();
  expect(pageInstance(page).data.anchor).toBe(`m-${chatMessage(5).key}`);
  expect(page.querySelector('.pill')).toBeUndefined();
});

test('a long session keeps the number of rendered messages bounded', async () => {
  const page = await openRoom({ type: 'reset', hasOlder: false, messages: [] });
  for (let batch = 0; batch < 15; batch++) {
    room.emit({ type: 'append', messages: Array.from({ length: 10 }, (_, i) => chatMessage(batch * 10 + i + 1)) });
  }
  await sleep();
  const firstShown = () => Number(/\d+/.exec(messages(page)[0].querySelector('.text')!.dom!.textContent!)![0]);
  const rendered = messages(page).length;
  expect(rendered).toBeLessThanOrEqual(MAX_RENDERED + CHUNK_SIZE);
  expect(messages(page)[rendered - 1].querySelector('.text')!.dom!.textContent).toBe('第 150 条消息');
  const oldestBefore = firstShown();
  expect(oldestBefore).toBeGreaterThan(1);
  // Scrolling up shows the dropped ones again from memory, without asking the core.
  page.querySelector('.messages')!.dispatchEvent('scrolltoupper');
  await sleep();
  expect(firstShown()).toBeLessThan(oldestBefore);
  expect(messages(page).length).toBeLessThanOrEqual(MAX_RENDERED + CHUNK_SIZE);
  expect(room.intents('loadOlder')).toHaveLength(0);
});

test('the composer sends only non-blank text, on tap and on the keyboard confirm', async () => {
  const page = await openRoom({ type: 'reset', hasOlder: false, messages: [] });
  const input = page.querySelector('.draft')!;
  expect(pageInstance(page).data.canSend).toBe(false);
  input.dispatchEvent('input', { detail: { value: '   \n ' } });
  await sleep();
  expect(pageInstance(page).data.canSend).toBe(false);
  page.querySelector('.send')!.dispatchEvent('tap');
  await sleep();
  expect(room.intents('sendText')).toEqual([]);

  input.dispatchEvent('input', { detail: { value: '  在下楚留香 ' } });
  await sleep();
  expect(pageInstance(page).data.canSend).toBe(true);
  expect(page.querySelector('.send')!.dom!.className).toContain('ready');
  page.querySelector('.send')!.dispatchEvent('tap');
  await sleep();
  expect(room.intents('sendText')).toEqual([{ text: '在下楚留香', voice: 'text', replyTo: null }]);
  expect(pageInstance(page).data).toMatchObject({ draft: '', canSend: false });

  input.dispatchEvent('input', { detail: { value: '第二句' } });
  await sleep();
  input.dispatchEvent('confirm', { detail: { value: '第二句' } });
  await sleep();
  expect(room.intents('sendText')).toEqual([
    { text: '在下楚留香', voice: 'text', replyTo: null },
    { text: '第二句', voice: 'text', replyTo: null },
  ]);
});

test('a send the core refuses (the outbox full, say) keeps the draft', async () => {
  const page = await openRoom({ type: 'reset', hasOlder: false, messages: [] });
  room.accepts = false;
  page.querySelector('.draft')!.dispatchEvent('input', { detail: { value: '这句不能丢' } });
  await sleep();
  page.querySelector('.send')!.dispatchEvent('tap');
  await sleep();
  expect(room.intents('sendText')).toEqual([{ text: '这句不能丢', voice: 'text', replyTo: null }]);
  expect(pageInstance(page).data).toMatchObject({ draft: '这句不能丢', canSend: true });
});

test('the image button sends the picked image; cancelling sends nothing', async () => {
  const picked = { path: 'wxfile://tmp/a.jpg', width: 640, height: 480, size: 1000, mime: 'image/jpeg' as const };
  const answers = [picked, null];
  setServicesForTest(testServices({ room: () => room, character: ME_ROLE, pickImage: async () => answers.shift() ?? null }));
  const page = await openRoom({ type: 'reset', hasOlder: false, messages: [] });
  page.querySelector('.image-button')!.dispatchEvent('tap');
  await sleep();
  page.querySelector('.image-button')!.dispatchEvent('tap');
  await sleep();
  expect(room.intents('sendImage')).toEqual([picked]);
});

test('an image that cannot be read is reported in Chinese, with the detail for developers', async () => {
  const toast = jest.spyOn(wx, 'showToast');
  const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  const failure = new Error('unsupported image type: bmp');
  setServicesForTest(testServices({ room: () => room, character: ME_ROLE, pickImage: async () => Promise.reject(failure) }));
  const page = await openRoom({ type: 'reset', hasOlder: false, messages: [] });
  page.querySelector('.image-button')!.dispatchEvent('tap');
  await sleep();
  await sleep();
  expect(toast).toHaveBeenCalledWith(expect.objectContaining({ title: '无法读取这张图片，请换一张' }));
  expect(warn).toHaveBeenCalledWith('picking an image failed', failure);
  expect(room.intents('sendImage')).toEqual([]);
});

test('connection states show in the header; offline offers a manual retry', async () => {
  const page = await openRoom({ type: 'reset', hasOlder: false, messages: [chatMessage(1)] });
  expect(texts(page, '.connection-text')).toEqual(['连接中']);
  room.emit({ type: 'connection', state: 'connected' });
  await sleep();
  expect(texts(page, '.connection-text')).toEqual(['已连接']);
  expect(page.querySelector('.reconnect')).toBeUndefined();
  room.emit({ type: 'connection', state: 'reconnecting' });
  await sleep();
  expect(texts(page, '.connection-text')).toEqual(['重连中…']);
  room.emit({ type: 'connection', state: 'offline' });
  await sleep();
  page.querySelector('.reconnect')!.dispatchEvent('tap');
  await sleep();
  expect(room.intents('reconnect')).toHaveLength(1);
});

test('an empty room says so once connected; a failed load shows the reason and a retry', async () => {
  const toast = jest.spyOn(wx, 'showToast');
  const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  const page = await openRoom({ type: 'reset', hasOlder: false, messages: [] });
  expect(texts(page, '.loading')).toEqual(['正在进入聊天室…']);
  room.emit({ type: 'error', message: '连接服务器失败，请检查网络', detail: 'network: fetch failed' });
  room.emit({ type: 'connection', state: 'offline' });
  await sleep();
  expect(texts(page, '.notice-text')).toEqual(['连接服务器失败，请检查网络']);
  expect(toast).toHaveBeenCalledWith(expect.objectContaining({ title: '连接服务器失败，请检查网络' }));
  // The developer gets the backend's detail.
  expect(warn).toHaveBeenCalledWith('连接服务器失败，请检查网络', 'network: fetch failed');
  page.querySelector('.reload')!.dispatchEvent('tap');
  await sleep();
  expect(room.intents('reconnect')).toHaveLength(1);
  room.emit({ type: 'connection', state: 'connected' });
  await sleep();
  expect(page.querySelector('.load-error')).toBeUndefined();
  expect(texts(page, '.empty-room')).toEqual(['还没有人说话，来说第一句吧']);
});

test('long-press copies a text as it was sent; tapping an image previews every image of the room', async () => {
  const preview = jest.spyOn(wx, 'previewImage');
  // Only a blank text is refused (database CHECK): indentation and line breaks are the sender's.
  const poem = '  床前明月光，\n  疑是地上霜。\n';
  const page = await openRoom({
    type: 'reset',
    hasOlder: false,
    messages: [imageMessage(1, 300, 300), chatMessage(2, { body: poem }), imageMessage(3, 300, 600)],
  });
  const sheet = chooseFromSheet('复制');
  messages(page)[1].querySelector('.bubble')!.dispatchEvent('longpress');
  await sleep();
  expect(sheet.offered()).toEqual([['回复', '复制', '举报', '屏蔽此人']]);
  expect(safety.copied).toEqual([poem]);
  messages(page)[2].querySelector('.image')!.dispatchEvent('tap');
  await sleep();
  expect(preview).toHaveBeenCalledWith(
    expect.objectContaining({
      current: 'https://example.test/images/3.png',
      urls: ['https://example.test/images/1.png', 'https://example.test/images/3.png'],
    }),
  );
});

test('a broken image shows a retry that reloads it, under a new URL each time', async () => {
  const preview = jest.spyOn(wx, 'previewImage');
  const page = await openRoom({ type: 'reset', hasOlder: false, messages: [imageMessage(1, 300, 300)] });
  const item = messages(page)[0];
  for (const attempt of [1, 2]) {
    item.querySelector('.image')!.dispatchEvent('error');
    await sleep();
    expect(item.querySelector('.image')).toBeUndefined();
    expect(item.querySelector('.broken')!.dom!.textContent).toBe('图片加载失败，点按重试');
    item.querySelector('.broken')!.dispatchEvent('tap');
    await sleep();
    expect(item.querySelector('.broken')).toBeUndefined();
    // The same URL would not load again: each retry asks for it under a new one.
    expect(attributesOf(item, 'image').src).toBe(`https://example.test/images/1.png?retry=${attempt}`);
  }
  // The preview still names the room's URL, the one its list holds.
  item.querySelector('.image')!.dispatchEvent('tap');
  await sleep();
  expect(preview).toHaveBeenCalledWith(
    expect.objectContaining({ current: 'https://example.test/images/1.png', urls: ['https://example.test/images/1.png'] }),
  );
});

test('an image that broke while uploading shows the uploaded image once it has its URL', async () => {
  const pending = imageMessage(1, 300, 300, { ...ME, id: null, status: 'sending', imageUrl: 'wxfile://tmp/1.jpg' });
  const page = await openRoom({ type: 'reset', hasOlder: false, messages: [pending] });
  const item = messages(page)[0];
  item.querySelector('.image')!.dispatchEvent('error');
  await sleep();
  expect(item.querySelector('.broken')).toBeDefined();
  room.emit({
    type: 'update',
    key: pending.key,
    index: 0,
    changes: { status: 'sent', id: 1, imageUrl: 'https://example.test/images/1.png' },
  });
  await sleep();
  expect(item.querySelector('.broken')).toBeUndefined();
  expect(attributesOf(item, 'image').src).toBe('https://example.test/images/1.png');
});

test('the header chip opens the person’s characters, where a tap picks who speaks', async () => {
  const navigate = jest.spyOn(wx, 'navigateTo');
  const page = await openRoom({ type: 'reset', hasOlder: false, messages: [] });
  expect(page.querySelector('.role >>> .avatar')!.dom!.textContent).toBe('楚');
  page.querySelector('.role')!.dispatchEvent('tap');
  await sleep();
  expect(navigate).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/characters/index' }));
});

test('a trim that removes every rendered message renders the newest page instead of a blank list', async () => {
  const all = Array.from({ length: 200 }, (_, i) => chatMessage(i + 1));
  const page = await openRoom({ type: 'reset', hasOlder: true, messages: all });
  // The reader scrolls up to the oldest messages in memory.
  for (let i = 0; i < 4; i++) {
    page.querySelector('.messages')!.dispatchEvent('scrolltoupper');
    await sleep();
  }
  expect(messages(page)[0].querySelector('.text')!.dom!.textContent).toBe('第 1 条消息');
  // The core drops more messages than the window shows.
  room.emit({ type: 'trim', count: 150, hasOlder: true });
  await sleep();
  expect(messages(page).length).toBeGreaterThan(0);
  const shown = messages(page);
  expect(shown[shown.length - 1].querySelector('.text')!.dom!.textContent).toBe('第 200 条消息');
  expect(pageInstance(page).data.empty).toBe(false);
});

test('accessible labels are whole sentences from the message table, not pieces joined in the template', async () => {
  const page = await openRoom({ type: 'reset', hasOlder: false, messages: [imageMessage(1, 1200, 800)] });
  // miniprogram-simulate drops aria-* attributes, so the render data the WXML binds is checked.
  const data = pageInstance(page).data;
  expect(data.roleLabel).toBe('正以楚留香发言，点按管理人设卡');
  expect(data.chunks[data.chunkOrder[0]][0].imageLabel).toBe('令狐冲 发送的图片，点按查看大图');
});

test('the page holds only the sentences it shows; a message component holds none until it shows one', async () => {
  const page = await openRoom({ type: 'reset', hasOlder: false, messages: [chatMessage(1), imageMessage(2, 300, 300)] });
  expect(Object.keys(pageInstance(page).data.t).sort()).toEqual(textIdsShownBy('pages/room'));
  // A component's own data is sent to the view once for every rendered message.
  for (const item of messages(page)) expect(Buffer.byteLength(JSON.stringify(componentOwnData(item)))).toBeLessThan(64);
  messages(page)[1].querySelector('.image')!.dispatchEvent('error');
  await sleep();
  expect(componentOwnData(messages(page)[1]).brokenText).toBe('图片加载失败，点按重试');
});

/** The attributes WXML gave the element with this class (simulate's DOM drops them from built-ins). */
function attributesOf(page: PageWrapper, className: string): Record<string, unknown> {
  type Node = { attrs: Array<{ name: string; value: unknown }>; children: Array<Node | string> };
  const find = (node: Node): Node | undefined => {
    if (node.attrs.some(({ name, value }) => name === 'class' && String(value).split(' ').includes(className))) return node;
    for (const child of node.children) if (typeof child !== 'string' && find(child)) return find(child);
    return undefined;
  };
  const node = find((page as unknown as { toJSON(): Node }).toJSON());
  if (!node) throw new Error(`no .${className}`);
  return Object.fromEntries(node.attrs.map(({ name, value }) => [name, value]));
}

test('the keyboard lifts only the composer and keeps the newest message in view; a tap on the list closes it', async () => {
  const page = await openRoom({ type: 'reset', hasOlder: false, messages: [chatMessage(1), chatMessage(2)] });
  // WeChat's own adjust-position would push the whole 100vh page, header included, off the top.
  expect(attributesOf(page, 'draft').adjustPosition).toBe(false);
  const calls = recordSetData(page);
  page.querySelector('.draft')!.dispatchEvent('keyboardheightchange', { detail: { height: 300, duration: 250 } });
  await sleep();
  expect(page.querySelector('.keyboard-space')!.dom!.getAttribute('style')).toContain('height: 300px');
  expect(page.querySelector('.composer')!.dom!.className).toContain('lifted');
  // The list got shorter: the newest message is scrolled into view again once the layout changed.
  expect(calls.filter((call) => 'anchor' in call).map((call) => call.anchor)).toEqual(['', `m-${chatMessage(2).key}`]);

  const hide = jest.spyOn(wx, 'hideKeyboard');
  page.querySelector('.messages')!.dispatchEvent('tap');
  await sleep();
  expect(hide).toHaveBeenCalledTimes(1);
  page.querySelector('.draft')!.dispatchEvent('keyboardheightchange', { detail: { height: 0, duration: 250 } });
  await sleep();
  expect(page.querySelector('.keyboard-space')).toBeUndefined();
  expect(page.querySelector('.composer')!.dom!.className).not.toContain('lifted');
  // With the keyboard down, a tap on the list is just a tap.
  page.querySelector('.messages')!.dispatchEvent('tap');
  await sleep();
  expect(hide).toHaveBeenCalledTimes(1);
});

test('the keyboard does not move a reader who scrolled up to older messages', async () => {
  const page = await openRoom({ type: 'reset', hasOlder: false, messages: [chatMessage(1), chatMessage(2)] });
  page.querySelector('.messages')!.dispatchEvent('scroll', { detail: { scrollTop: 0, scrollHeight: 5000 } });
  await sleep();
  const calls = recordSetData(page);
  page.querySelector('.draft')!.dispatchEvent('keyboardheightchange', { detail: { height: 300, duration: 250 } });
  await sleep();
  expect(calls.some((call) => 'anchor' in call)).toBe(false);
  expect(pageInstance(page).data.keyboardHeight).toBe(300);
});

test('the long-press menu offers what applies: recall for a fresh own message, nothing for a hidden one', async () => {
  const now = new Date().toISOString();
  const old = new Date(Date.now() - 3 * 60_000).toISOString();
  const page = await openRoom({
    type: 'reset',
    hasOlder: false,
    messages: [
      chatMessage(1, { ...ME, createdAt: old }),
      chatMessage(2, { ...ME, createdAt: now }),
      chatMessage(3, {
        kind: 'roll',
        body: '2d6',
        roll: { expression: '2d6', terms: [{ sign: 1, count: 2, faces: 6, dice: [3, 4] }], total: 7 },
      }),
    ],
  });
  const sheet = chooseFromSheet('', '撤回', '');
  for (const item of messages(page)) item.querySelector('.bubble, .roll')!.dispatchEvent('longpress');
  await sleep();
  // Past the database's 2 minutes there is no recall; a roll cannot be copied.
  expect(sheet.offered()).toEqual([
    ['回复', '复制'],
    ['回复', '复制', '撤回'],
    ['回复', '举报', '屏蔽此人'],
  ]);
  expect(room.intents('recall')).toEqual([chatMessage(2).key]);
});

test('a recall or report the database refuses says why; a report asks for the reason first', async () => {
  const toast = jest.spyOn(wx, 'showToast');
  const page = await openRoom({ type: 'reset', hasOlder: false, messages: [chatMessage(1)] });
  chooseFromSheet('举报', '广告或刷屏');
  messages(page)[0].querySelector('.bubble')!.dispatchEvent('longpress');
  await sleep();
  expect(room.intents('report')).toEqual([{ key: chatMessage(1).key, reason: 'spam' }]);
  expect(toast).toHaveBeenLastCalledWith(expect.objectContaining({ title: '已举报，感谢你的反馈' }));

  room.actionAnswer = '你已经举报过这条消息了';
  chooseFromSheet('举报', '其他');
  messages(page)[0].querySelector('.bubble')!.dispatchEvent('longpress');
  await sleep();
  expect(toast).toHaveBeenLastCalledWith(expect.objectContaining({ title: '你已经举报过这条消息了' }));
});

test('回复 shows a reply bar; the next line carries the reply and clears it; × cancels', async () => {
  const page = await openRoom({ type: 'reset', hasOlder: false, messages: [chatMessage(1, { body: '月黑风高\n第二行' })] });
  chooseFromSheet('回复');
  messages(page)[0].querySelector('.bubble')!.dispatchEvent('longpress');
  await sleep();
  expect(texts(page, '.reply-text')).toEqual(['回复 令狐冲：月黑风高']);
  page.querySelector('.draft')!.dispatchEvent('input', { detail: { value: '夜行' } });
  await sleep();
  page.querySelector('.send')!.dispatchEvent('tap');
  await sleep();
  expect(room.intents('sendText')).toEqual([{ text: '夜行', voice: 'text', replyTo: 1 }]);
  expect(page.querySelector('.reply-bar')).toBeUndefined();

  chooseFromSheet('回复');
  messages(page)[0].querySelector('.bubble')!.dispatchEvent('longpress');
  await sleep();
  page.querySelector('.reply-cancel')!.dispatchEvent('tap');
  await sleep();
  expect(page.querySelector('.reply-bar')).toBeUndefined();
});

test('the voice toggle cycles 对白 → 动作 → 场外 and the line is sent in that voice', async () => {
  const page = await openRoom({ type: 'reset', hasOlder: false, messages: [] });
  const said: string[] = [];
  for (const line of ['拔剑', '（去倒杯水）', '看剑']) {
    page.querySelector('.voice')!.dispatchEvent('tap');
    await sleep();
    said.push(page.querySelector('.voice')!.dom!.textContent!.trim());
    page.querySelector('.draft')!.dispatchEvent('input', { detail: { value: line } });
    await sleep();
    page.querySelector('.send')!.dispatchEvent('tap');
    await sleep();
  }
  expect(said).toEqual(['动作', '场外', '对白']);
  expect(room.intents('sendText').map((sent) => (sent as { voice: string }).voice)).toEqual(['action', 'ooc', 'text']);
});

test('a tap on a quote loads up to the replied message; one not found says so', async () => {
  const toast = jest.spyOn(wx, 'showToast');
  const reply = chatMessage(2, { replyTo: 1, replyPreview: { username: '令狐冲', text: '第 1 条消息', kind: 'text', status: 'visible' } });
  const page = await openRoom({ type: 'reset', hasOlder: false, messages: [chatMessage(1), reply] });
  messages(page)[1].querySelector('.quote')!.dispatchEvent('tap');
  await sleep();
  expect(room.intents('loadUntil')).toEqual([1]);
  expect(toast).not.toHaveBeenCalled();

  const orphan = chatMessage(3, { replyTo: 99, replyPreview: { username: '令狐冲', text: '很早的话', kind: 'text', status: 'visible' } });
  room.emit({ type: 'append', messages: [orphan] });
  await sleep();
  messages(page)[2].querySelector('.quote')!.dispatchEvent('tap');
  await sleep();
  expect(toast).toHaveBeenLastCalledWith(expect.objectContaining({ title: '找不到这条消息了' }));
});

test('leaving the room marks what was on screen as read', async () => {
  const page = await openRoom({ type: 'reset', hasOlder: false, messages: [chatMessage(1)] });
  pageInstance(page).onHide();
  expect(room.intents('markRead')).toHaveLength(1);
});

describe('the scene around the list', () => {
  const HOSTED = { id: 5, slug: 's-5', title: '夜探蝙蝠岛', topic: '月黑风高', archived: false, isHost: true, pinned: null };

  test('the scene in the query is the one opened; its title names the page; 转发 carries it', async () => {
    const asked: Array<string | undefined> = [];
    const opened = (slug?: string) => {
      asked.push(slug);
      return room;
    };
    setServicesForTest(testServices({ room: opened, character: ME_ROLE }));
    const title = jest.spyOn(wx, 'setNavigationBarTitle');
    const page = render();
    await pageInstance(page).onLoad({ scene: 's-5' });
    room.emit({ type: 'scene', scene: HOSTED });
    await sleep();
    expect(asked).toEqual(['s-5']);
    expect(title).toHaveBeenLastCalledWith(expect.objectContaining({ title: '夜探蝙蝠岛' }));
    const instance = page.instance as unknown as { onShareAppMessage(): unknown; onShareTimeline(): unknown };
    expect(instance.onShareAppMessage()).toEqual({ title: '来「夜探蝙蝠岛」一起玩吧', path: '/pages/room/index?scene=s-5' });
    expect(instance.onShareTimeline()).toEqual({ title: '来「夜探蝙蝠岛」一起玩吧', query: 'scene=s-5' });
  });

  test('the 公告 shows above the list and a tap goes to it; the host pins from the menu; archived has no composer', async () => {
    const page = await openRoom({ type: 'reset', messages: [chatMessage(1, { body: '今夜子时动手' }), chatMessage(2)], hasOlder: false });
    room.emit({ type: 'scene', scene: { ...HOSTED, pinned: chatMessage(1, { body: '今夜子时动手\n第二行' }) } });
    await sleep();
    expect(page.querySelector('.pinned-text')!.dom!.textContent).toBe('令狐冲：今夜子时动手');
    page.querySelector('.pinned-bar')!.dispatchEvent('tap');
    await sleep();
    expect(room.intents('loadUntil')).toEqual([1]);

    const sheet = chooseFromSheet('设为公告', '取消公告');
    messages(page)[1].querySelector('.bubble')!.dispatchEvent('longpress');
    messages(page)[0].querySelector('.bubble')!.dispatchEvent('longpress');
    await sleep();
    expect(sheet.offered()[0]).toContain('设为公告');
    expect(sheet.offered()[1]).toContain('取消公告');
    expect(room.intents('pin')).toEqual([chatMessage(2).key, null]);

    expect(page.querySelector('.draft')).toBeTruthy();
    room.emit({ type: 'scene', scene: { ...HOSTED, archived: true } });
    await sleep();
    expect(page.querySelector('.draft')).toBeFalsy();
    expect(page.querySelector('.archived-note')!.dom!.textContent).toBe('这个场景已归档，只能阅读');
    expect(page.querySelector('.pinned-bar')).toBeFalsy();
  });

  test('who is here: the count of people, and a tap lists their characters once each', async () => {
    const presence = new FakePresencePort();
    setServicesForTest(testServices({ room: () => room, character: ME_ROLE, presence }));
    const page = await openRoom();
    room.emit({ type: 'scene', scene: HOSTED });
    await sleep();
    presence.emitStatus('subscribed');
    await sleep();
    expect(presence.tracked).toEqual([{ scene_id: 5, name: '楚留香', color: '#c0392b' }]);
    presence.emitSync({
      me: [{ scene_id: 5, name: '楚留香', color: '#c0392b' }],
      two: [
        { scene_id: 5, name: '胡铁花', color: '#229954' },
        { scene_id: 5, name: '胡铁花', color: '#229954' },
      ],
      elsewhere: [{ scene_id: 6, name: '姬冰雁', color: '#6c3483' }],
    });
    await sleep();
    expect(page.querySelector('.here-text')!.dom!.textContent).toBe('2 人在场');
    page.querySelector('.here')!.dispatchEvent('tap');
    await sleep();
    expect(texts(page, '.person-name')).toEqual(['楚留香', '胡铁花']);
    pageInstance(page).onUnload();
    await sleep();
    expect(presence.tracked.pop()).toBeNull();
  });

  test('typing: at most one signal per 2 s from us; others show until their message arrives', async () => {
    const typing = new FakeTypingPort();
    setServicesForTest(testServices({ room: () => room, character: ME_ROLE, typing }));
    const page = await openRoom();
    room.emit({ type: 'scene', scene: HOSTED });
    await sleep();
    const input = page.querySelector('.draft')!;
    input.dispatchEvent('input', { detail: { value: '我' } });
    await sleep();
    input.dispatchEvent('input', { detail: { value: '我来' } });
    await sleep();
    expect(typing.sent).toEqual([{ userId: expect.any(String), name: '楚留香' }]);
    typing.emit(5, { userId: 'user-2', name: '胡铁花' });
    await sleep();
    expect(page.querySelector('.typing')!.dom!.textContent).toBe('胡铁花 正在输入…');
    room.emit({ type: 'append', messages: [chatMessage(3, { userId: 'user-2', username: '胡铁花' })] });
    await sleep();
    expect(page.querySelector('.typing')).toBeFalsy();
    pageInstance(page).onUnload();
    expect(typing.joined(5)).toBe(false);
  });

  test('an avatar opens that character’s card; 屏蔽此人 asks first, then their messages go', async () => {
    const characters = new FakeCharacterPort();
    const other = characters.add({ name: '胡铁花', avatar_color: '#229954', note: '嗜酒如命' });
    setServicesForTest(testServices({ room: () => room, character: ME_ROLE, characters }));
    const page = await openRoom({
      type: 'reset',
      messages: [chatMessage(1, { username: '胡铁花', characterId: other.id })],
      hasOlder: false,
    });
    messages(page)[0].querySelector('.avatar-slot')!.dispatchEvent('tap');
    await sleep();
    expect(pageInstance(page).data.card).toMatchObject({ name: '胡铁花', note: '嗜酒如命' });

    chooseFromSheet('屏蔽此人');
    const modal = jest.spyOn(wx, 'showModal').mockImplementation((options: WechatMiniprogram.ShowModalOption) => {
      options.success?.({ confirm: true, cancel: false, content: '', errMsg: 'showModal:ok' });
    });
    messages(page)[0].querySelector('.bubble')!.dispatchEvent('longpress');
    await sleep();
    expect(modal).toHaveBeenCalledWith(expect.objectContaining({ title: '屏蔽「胡铁花」？' }));
    expect(room.intents('forgetAuthor')).toEqual([chatMessage(1).userId]);
  });

  test('更多: scene settings only for the host, 管理 only for moderators, then the block list and the policy', async () => {
    const desk = new FakeModerationPort();
    desk.moderator = false;
    setSafetyServicesForTest(fakeSafetyServices(desk));
    const page = await openRoom();
    room.emit({ type: 'scene', scene: HOSTED });
    await sleep();
    const sheet = chooseFromSheet('场景设置');
    const navigate = jest.spyOn(wx, 'navigateTo');
    page.querySelector('.more')!.dispatchEvent('tap');
    await sleep();
    expect(sheet.offered()).toEqual([['场景设置', '屏蔽名单', '用户协议与隐私政策']]);
    expect(navigate).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/scene-settings/index?scene=s-5' }));
    room.emit({ type: 'scene', scene: { ...HOSTED, isHost: false } });
    await sleep();
    page.querySelector('.more')!.dispatchEvent('tap');
    await sleep();
    expect(sheet.offered()[1]).toEqual(['屏蔽名单', '用户协议与隐私政策']);
    setSafetyServicesForTest(fakeSafetyServices(new FakeModerationPort()));
    const moderated = await openRoom();
    moderated.querySelector('.more')!.dispatchEvent('tap');
    await sleep();
    expect(sheet.offered()[2]).toEqual(['管理', '屏蔽名单', '用户协议与隐私政策']);
  });
});
