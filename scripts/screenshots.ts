// npm run screenshots: renders the pages through miniprogram-simulate (the real WXML, WXSS and page
// code, fed by a scripted room) and photographs each as a phone shows it (test/support/page-html.ts:
// WeChat's default styles of the built-in components, rpx for a 375-wide screen) with headless
// Chromium at 375×667. Output: docs/screenshots/*.png. Needs `chromium` and a CJK font (Debian:
// fonts-wqy-microhei, and fonts-noto-color-emoji for the roll card).
process.env.TZ = 'Asia/Shanghai';

import fs from 'node:fs';
import path from 'node:path';
import { t } from '../miniprogram/core/strings';
import type { LastMessage } from '../miniprogram/core/scenes';
import type { ChatMessage, RoomPatch } from '../miniprogram/core/types';
import { setSafetyServicesForTest, setServicesForTest } from '../miniprogram/services';
import { convertInlineRpx, pageHtml, photograph } from '../test/support/page-html';
import { gradientPng } from '../test/support/png';
import { FakePresencePort, FakeScenePort, testServices, type FakeScene } from '../test/support/roleplay-fakes';
import { FakeModerationPort, fakeSafetyServices, queueRow } from '../test/support/safety-fakes';
import { chatMessage, FakeRoom, installDom, loadPage, pageInstance, simulator, type PageWrapper } from '../test/support/simulate';

const OUT_DIR = path.join(__dirname, '..', 'docs', 'screenshots');
const WORK_DIR = path.join(__dirname, '..', '.tmp', 'screenshots');
const ME = { userId: 'me', username: '楚留香', avatarColor: '#c0392b', mine: true };

function pngDataUrl(width: number, height: number): string {
  return `data:image/png;base64,${gradientPng(width, height).toString('base64')}`;
}

/** A conversation over two days: others and us, text and images, a group, a day separator. */
function conversation(): ChatMessage[] {
  const today = new Date();
  const at = (daysAgo: number, hour: number, minute: number) =>
    new Date(today.getFullYear(), today.getMonth(), today.getDate() - daysAgo, hour, minute).toISOString();
  let n = 0;
  const message = (createdAt: string, fields: Partial<ChatMessage>): ChatMessage =>
    chatMessage(++n, { userId: 'linghu', body: null, createdAt, ...fields });
  const image = (width: number, height: number) => ({
    kind: 'image' as const,
    imageUrl: pngDataUrl(width, height),
    imageWidth: width,
    imageHeight: height,
  });
  const yingying = { userId: 'yingying', username: '任盈盈', avatarColor: '#884ea0' };
  return [
    message(at(1, 21, 40), { body: '华山之巅，今夜论剑，诸位可敢一来？' }),
    message(at(0, 9, 12), { body: '昨夜月色甚好，拍了一张。' }),
    message(at(0, 9, 12), image(160, 120)),
    message(at(0, 9, 15), { ...ME, body: '好景致！\n在下楚留香，请多指教。' }),
    message(at(0, 9, 16), { ...yingying, body: 'https://example.com/a-very-long-link-that-should-wrap-inside-the-bubble' }),
  ];
}

/** A scene in play: 对白, 动作, 场外, a check, a hidden roll, a reply, a recall, and our own lines under review. */
function rolePlay(): ChatMessage[] {
  const today = new Date();
  const at = (minute: number) => new Date(today.getFullYear(), today.getMonth(), today.getDate(), 21, minute).toISOString();
  let n = 100;
  const hu = { userId: 'hu', username: '胡铁花', avatarColor: '#229954' };
  const ji = { userId: 'ji', username: '姬冰雁', avatarColor: '#6c3483' };
  const message = (minute: number, fields: Partial<ChatMessage>): ChatMessage => chatMessage(++n, { createdAt: at(minute), ...fields });
  const check = (faces: number, die: number, target: number, outcome: 'success' | 'failure'): ChatMessage['roll'] => ({
    expression: `d${faces}<=${target}`,
    terms: [{ sign: 1 as const, count: 1, faces, dice: [die] }],
    total: die,
    check: { op: '<=' as const, target, outcome },
  });
  return [
    message(0, { ...hu, body: '今夜子时，蝙蝠岛东岸登船。谁带了火折子？' }),
    message(1, { ...ji, kind: 'ooc', body: '我十点前得下线，先跟着走' }),
    message(2, { ...hu, kind: 'roll', body: 'd100<=60', roll: check(100, 37, 60, 'success') }),
    message(3, { ...ME, kind: 'action', body: '摸了摸怀中的火折子，微微一笑' }),
    message(3, { ...ji, kind: 'roll', body: 'd100', hidden: true, roll: null }),
    message(4, {
      ...ME,
      body: '跟紧我，别出声。',
      replyTo: 101,
      replyPreview: { username: '胡铁花', text: '今夜子时，蝙蝠岛东岸登船。谁带了火折子？', kind: 'text', status: 'visible' },
    }),
    message(5, { ...hu, state: 'recalled', body: null }),
    message(6, { ...ME, body: '船舱里有人！', state: 'pending' }),
  ];
}

const SCENE_IN_PLAY = { id: 2, slug: 's-2', title: '夜探蝙蝠岛', topic: '月黑风高，众人登岛。', archived: false, isHost: true };

/** The scene list a returning player sees: every kind of last message, unread counts, who is here. */
// biome-ignore format: a table of scenes, one a row
function sceneList(): FakeScenePort {
  const scenes = new FakeScenePort();
  const now = Date.now();
  const ago = (minutes: number) => new Date(now - minutes * 60_000).toISOString();
  const last = (minutes: number, fields: Partial<LastMessage>): LastMessage => ({
    id: minutes, username: '楚留香', kind: 'text', body: null, hidden: false, status: 'visible', created_at: ago(minutes), roll: null, ...fields,
  });
  const scene = (minutes: number, fields: Partial<FakeScene>) => scenes.add({ last_activity_at: ago(minutes), ...fields }, 0);
  scene(2, { slug: 'lobby', title: '江湖客栈', topic: '选一个角色，进门聊聊。', unread: 3, last_message: last(2, { username: '任盈盈', body: '掌柜的，来一壶女儿红。' }) });
  scene(5, { title: '夜探蝙蝠岛', topic: '月黑风高，众人登岛。岛上机关重重，蝙蝠公子的宴席已经开场。', unread: 12,
    last_message: last(5, { kind: 'roll', body: 'd100<=60', roll: { total: 42, outcome: 'success' } }) });
  scene(26, { title: '华山论剑', topic: '五绝齐聚华山之巅，论剑七日。', unread: 128, last_message: last(26, { username: '令狐冲', kind: 'action', body: '拔剑而起，剑尖斜指' }) });
  scene(70, { title: '客栈夜话', topic: '雨夜，无事，说说各自的来历。', last_message: last(70, { username: '花满楼', kind: 'ooc', body: '今晚十点前我得下线' }) });
  scene(60 * 20, { title: '大漠孤烟', host: scenes.me, status: 'pending', topic: '黄沙漫天，驼铃声远。', last_message: null });
  scene(60 * 30, { title: '桃花岛', topic: '岛主不在，弟子们各怀心事。', last_message: last(60 * 30, { username: '黄药师', kind: 'roll', body: '1d20', hidden: true }) });
  scene(60 * 50, { title: '寒江独钓', archived: true, topic: '一场结束了的戏。', last_message: last(60 * 50, { username: '陆小凤', kind: 'image' }) });
  return scenes;
}

/** What the moderators' desk shows: a held message, a hidden one with its reports, an image, a banned author. */
function moderationQueue(): FakeModerationPort {
  const port = new FakeModerationPort();
  const today = new Date();
  const at = (hour: number, minute: number) => new Date(today.getFullYear(), today.getMonth(), today.getDate(), hour, minute).toISOString();
  port.rows = [
    queueRow(4, { username: '黑风寨主', avatar_color: '#6c3483', created_at: at(10, 2), body: '待审测试词：今晚子时，城南破庙见。' }),
    queueRow(3, {
      username: '无名小卒',
      avatar_color: '#b9770e',
      status: 'hidden',
      created_at: at(9, 47),
      body: '加我微信，低价出售秘籍！',
      reports: { spam: 2, abuse: 1 },
    }),
    queueRow(2, {
      username: '令狐冲',
      created_at: at(9, 30),
      status: 'visible',
      kind: 'image',
      body: null,
      image_path: 'u/2026-12/moon.png',
      image_width: 160,
      image_height: 120,
      reports: { other: 1 },
    }),
    queueRow(1, {
      username: '捣乱者',
      avatar_color: '#c0392b',
      created_at: at(9, 12),
      body: '你们都是……',
      banned: true,
      reports: { abuse: 1 },
    }),
  ];
  port.banList = [{ openid: 'openid-1', reason: '多次辱骂他人', created_at: at(9, 20) }];
  port.imageUrl = () => pngDataUrl(160, 120);
  return port;
}

interface Shot {
  name: string;
  page: 'room' | 'role' | 'scenes' | 'manage' | 'privacy';
  dark?: boolean;
  patches?: RoomPatch[];
  /** The page's query. */
  query?: Record<string, string>;
  /** Who is where, once the page shows (presence: scene id → people). */
  presence?: Record<number, number>;
  /** Interaction after load (typing, taps). */
  act?: (page: PageWrapper) => Promise<void>;
  /** WeChat asks for privacy consent once the page is up. */
  consent?: boolean;
}

const TITLES = {
  room: () => t('roomTitle'),
  role: () => t('firstCharacterTitle'),
  scenes: () => t('scenesTitle'),
  manage: () => t('manageTitle'),
  privacy: () => t('privacyTitle'),
};

async function main(): Promise<void> {
  installDom();
  convertInlineRpx();
  const sleep = () => simulator().sleep(10);
  const renderers = {
    room: loadPage('room'),
    role: loadPage('role'),
    scenes: loadPage('scenes'),
    manage: loadPage('manage'),
    privacy: loadPage('privacy'),
  };
  const today = new Date();
  const failedAt = new Date(today.getFullYear(), today.getMonth(), today.getDate(), 9, 20).toISOString();
  const pending: ChatMessage[] = [
    {
      ...conversation()[0],
      ...ME,
      key: 'pending-1',
      id: null,
      body: '这条发送失败了',
      createdAt: failedAt,
      status: 'failed',
      error: t('sendNetwork'),
    },
    {
      ...conversation()[0],
      ...ME,
      key: 'pending-2',
      id: null,
      body: null,
      kind: 'image',
      createdAt: failedAt,
      imageUrl: pngDataUrl(160, 120),
      imageWidth: 160,
      imageHeight: 120,
      status: 'sending',
      progress: 60,
    },
  ];
  const connected: RoomPatch = { type: 'connection', state: 'connected' };
  const inPlay: RoomPatch[] = [
    { type: 'reset', messages: rolePlay(), hasOlder: false },
    { type: 'scene', scene: { ...SCENE_IN_PLAY, pinned: rolePlay()[0] } },
    connected,
  ];
  const editCharacter = (name: string, swatch: number) => async (page: PageWrapper) => {
    page.querySelector('.name-input')!.dispatchEvent('input', { detail: { value: name } });
    page.querySelectorAll('.swatch')[swatch].dispatchEvent('tap');
    page.querySelector('.note-input')!.dispatchEvent('input', { detail: { value: '盗帅，踏月留香。风流倜傥，轻功天下第一，从不杀人。' } });
    page.querySelector('.portrait-pick')!.dispatchEvent('tap');
    await sleep();
  };
  const shots: Shot[] = [
    { name: 'scenes', page: 'scenes', presence: { 1: 5, 2: 3, 3: 1 } },
    { name: 'scenes-dark', page: 'scenes', dark: true, presence: { 1: 5, 2: 3, 3: 1 } },
    { name: 'role', page: 'role', query: { first: '1' }, act: editCharacter('楚留香', 0) },
    { name: 'role-dark', page: 'role', query: { first: '1' }, dark: true, act: editCharacter(' 楚留香', 9) },
    { name: 'room', page: 'room', patches: [{ type: 'reset', messages: conversation(), hasOlder: false }, connected] },
    {
      name: 'room-failed',
      page: 'room',
      patches: [
        { type: 'reset', messages: conversation().concat(pending), hasOlder: false },
        { type: 'connection', state: 'offline' },
      ],
    },
    { name: 'room-empty', page: 'room', patches: [{ type: 'reset', messages: [], hasOlder: false }, connected] },
    { name: 'room-dark', page: 'room', dark: true, patches: [{ type: 'reset', messages: conversation(), hasOlder: false }, connected] },
    { name: 'room-scene', page: 'room', presence: { 2: 3 }, patches: inPlay },
    { name: 'room-scene-dark', page: 'room', dark: true, presence: { 2: 3 }, patches: inPlay },
    {
      name: 'room-presence',
      page: 'room',
      presence: { 2: 3 },
      patches: inPlay,
      act: async (page) => {
        page.querySelector('.here')!.dispatchEvent('tap');
        await sleep();
      },
    },
    { name: 'manage', page: 'manage' },
    { name: 'privacy-sheet', page: 'manage', consent: true },
    { name: 'privacy', page: 'privacy' },
  ];

  fs.mkdirSync(OUT_DIR, { recursive: true });
  fs.mkdirSync(WORK_DIR, { recursive: true });
  for (const shot of shots) {
    const room = new FakeRoom();
    const presence = new FakePresencePort();
    const portrait = { path: pngDataUrl(480, 480), width: 480, height: 480, size: 0, mime: 'image/png' as const };
    setServicesForTest(
      testServices({
        room: () => room,
        character: shot.page === 'role' ? undefined : { name: ME.username, color: ME.avatarColor },
        scenes: sceneList(),
        presence,
        pickPortrait: async () => portrait,
      }),
    );
    const safety = fakeSafetyServices(moderationQueue());
    setSafetyServicesForTest(safety);
    const page = renderers[shot.page]();
    await pageInstance(page).onLoad(shot.query ?? {});
    for (const patch of shot.patches ?? []) room.emit(patch);
    // `people` different people in each scene, each as one of these characters.
    const cast = [
      ME,
      { username: '胡铁花', avatarColor: '#229954' },
      { username: '姬冰雁', avatarColor: '#6c3483' },
      { username: '任盈盈', avatarColor: '#884ea0' },
    ];
    const here = Object.entries(shot.presence ?? {}).flatMap(([scene, people]) =>
      Array.from({ length: people }, (_, n) => {
        const who = cast[n % cast.length];
        return [`${scene}-${n}`, [{ scene_id: Number(scene), name: who.username, color: who.avatarColor }]];
      }),
    );
    presence.emitSync(Object.fromEntries(here));
    await sleep();
    if (shot.act) await shot.act(page);
    if (shot.consent) safety.requests.request(() => undefined);
    await sleep();
    // The room names the page after its scene, as wx.setNavigationBarTitle does on a phone.
    const scenePatch = (shot.patches ?? []).find((patch) => patch.type === 'scene');
    const sceneTitle = scenePatch && scenePatch.type === 'scene' ? scenePatch.scene.title : undefined;
    const html = path.join(WORK_DIR, `${shot.name}.html`);
    fs.writeFileSync(html, pageHtml(page, { page: shot.page, title: sceneTitle ?? TITLES[shot.page](), dark: !!shot.dark }));
    const png = path.join(OUT_DIR, `${shot.name}.png`);
    photograph(html, png);
    console.log(`${path.relative(process.cwd(), png)}`);
  }
  setServicesForTest(null);
  setSafetyServicesForTest(null);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
