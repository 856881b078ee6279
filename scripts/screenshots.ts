// npm run screenshots: renders the pages through miniprogram-simulate (the real WXML, WXSS and page
// code, fed by a scripted room) and photographs each as a phone shows it (test/support/page-html.ts:
// WeChat's default styles of the built-in components, rpx for a 375-wide screen) with headless
// Chromium at 375×667. Output: docs/screenshots/*.png. Needs `chromium` and a CJK font (Debian:
// fonts-wqy-microhei).
process.env.TZ = 'Asia/Shanghai';

import fs from 'node:fs';
import path from 'node:path';
import { t, type MessageId } from '../miniprogram/core/messages';
import { ProfileStore } from '../miniprogram/core/profile';
import { memoryStore } from '../miniprogram/core/ports';
import type { ChatMessage, RoomPatch } from '../miniprogram/core/types';
import { setSafetyServicesForTest, setServicesForTest } from '../miniprogram/services';
import { convertInlineRpx, pageHtml, photograph } from '../test/support/page-html';
import { gradientPng } from '../test/support/png';
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

const TITLES: Record<Shot['page'], MessageId> = { room: 'roomTitle', role: 'roleTitle', manage: 'manageTitle', privacy: 'privacyTitle' };

interface Shot {
  name: string;
  page: 'room' | 'role' | 'manage' | 'privacy';
  dark?: boolean;
  patches?: RoomPatch[];
  /** Interaction after load (typing, taps). */
  act?: (page: PageWrapper) => Promise<void>;
  /** WeChat asks for privacy consent once the page is up. */
  consent?: boolean;
}

async function main(): Promise<void> {
  installDom();
  convertInlineRpx();
  const sleep = () => simulator().sleep(10);
  const renderers = { room: loadPage('room'), role: loadPage('role'), manage: loadPage('manage'), privacy: loadPage('privacy') };
  const today = new Date();
  const failedAt = new Date(today.getFullYear(), today.getMonth(), today.getDate(), 9, 20).toISOString();
  const pending: ChatMessage[] = [
    {
      ...conversation()[0], ...ME, key: 'pending-1', id: null, body: '这条发送失败了', createdAt: failedAt,
      status: 'failed', error: t('sendNetwork'),
    },
    {
      ...conversation()[0], ...ME, key: 'pending-2', id: null, body: null, kind: 'image', createdAt: failedAt,
      imageUrl: pngDataUrl(160, 120), imageWidth: 160, imageHeight: 120, status: 'sending', progress: 60,
    },
  ];
  const connected: RoomPatch = { type: 'connection', state: 'connected' };
  const shots: Shot[] = [
    {
      name: 'role',
      page: 'role',
      act: async (page) => {
        page.querySelector('.name-input')!.dispatchEvent('input', { detail: { value: '楚留香' } });
        page.querySelectorAll('.swatch')[0].dispatchEvent('tap');
        await sleep();
      },
    },
    { name: 'room', page: 'room', patches: [{ type: 'reset', messages: conversation(), hasOlder: false }, connected] },
    {
      name: 'room-failed',
      page: 'room',
      patches: [{ type: 'reset', messages: conversation().concat(pending), hasOlder: false }, { type: 'connection', state: 'offline' }],
    },
    { name: 'room-empty', page: 'room', patches: [{ type: 'reset', messages: [], hasOlder: false }, connected] },
    { name: 'room-dark', page: 'room', dark: true, patches: [{ type: 'reset', messages: conversation(), hasOlder: false }, connected] },
    {
      name: 'role-dark',
      page: 'role',
      dark: true,
      act: async (page) => {
        page.querySelector('.name-input')!.dispatchEvent('input', { detail: { value: ' 楚留香' } });
        page.querySelectorAll('.swatch')[9].dispatchEvent('tap');
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
    const profiles = new ProfileStore(memoryStore());
    if (shot.page === 'room') await profiles.save({ name: ME.username, color: ME.avatarColor });
    setServicesForTest({ profiles, room: () => room, pickImage: async () => null });
    const safety = fakeSafetyServices(moderationQueue());
    setSafetyServicesForTest(safety);
    const page = renderers[shot.page]();
    await pageInstance(page).onLoad(shot.page === 'role' ? { first: '1' } : {});
    for (const patch of shot.patches ?? []) room.emit(patch);
    await sleep();
    if (shot.act) await shot.act(page);
    if (shot.consent) safety.requests.request(() => undefined);
    await sleep();
    const title = t(TITLES[shot.page]);
    const html = path.join(WORK_DIR, `${shot.name}.html`);
    fs.writeFileSync(html, pageHtml(page, { page: shot.page, title, dark: !!shot.dark }));
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
