// npm run screenshots: renders the pages through miniprogram-simulate (the real WXML, WXSS and page
// code, fed by a scripted room), writes each as an HTML file with its WXSS (rpx converted from the
// 750-wide design to a 375-wide screen) and photographs it with headless Chromium at 375×667.
// Output: docs/screenshots/*.png. Needs `chromium` and a CJK font (Debian: fonts-wqy-microhei).
process.env.TZ = 'Asia/Shanghai';

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { t } from '../miniprogram/core/messages';
import { ProfileStore } from '../miniprogram/core/profile';
import { memoryStore } from '../miniprogram/core/ports';
import type { ChatMessage, RoomPatch } from '../miniprogram/core/types';
import { setServicesForTest } from '../miniprogram/services';
import { gradientPng } from '../test/support/png';
import {
  chatMessage,
  FakeRoom,
  MINIPROGRAM_ROOT,
  installDom,
  loadPage,
  pageInstance,
  simulator,
  type PageWrapper,
} from '../test/support/simulate';

const OUT_DIR = path.join(__dirname, '..', 'docs', 'screenshots');
const WORK_DIR = path.join(__dirname, '..', '.tmp', 'screenshots');
const SCREEN = { width: 375, height: 667 };
/** WeChat's navigation bar, drawn above the page as the phone shows it. */
const NAV_BAR_HEIGHT = 44;
const PX_PER_RPX = SCREEN.width / 750;
const ME = { userId: 'me', username: '楚留香', avatarColor: '#c0392b', mine: true };

function rpxToPx(css: string): string {
  return css.replace(/(-?\d*\.?\d+)rpx/g, (_, n: string) => `${+(Number(n) * PX_PER_RPX).toFixed(2)}px`);
}

/** The WXSS of a page and of every component it uses, class-prefixed the way simulate renders them. */
function collectCss(jsonPath: string, tagName: string, seen = new Set<string>()): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const wxss = require('miniprogram-simulate/src/wxss') as {
    getContent(file: string): string;
    compile(source: string, options: { prefix: string }): string;
  };
  const base = jsonPath.replace(/\.json$/, '');
  if (seen.has(base)) return '';
  seen.add(base);
  let css = wxss.compile(wxss.getContent(`${base}.wxss`), { prefix: tagName });
  const using = (JSON.parse(fs.readFileSync(jsonPath, 'utf8')).usingComponents ?? {}) as Record<string, string>;
  for (const [tag, target] of Object.entries(using)) {
    const file = target.startsWith('/') ? path.join(MINIPROGRAM_ROOT, target) : path.join(path.dirname(base), target);
    css += collectCss(`${file}.json`, tag, seen);
  }
  return css;
}

/** What WeChat's built-in tags look like; simulate renders them as bare custom elements. */
const BUILT_IN_CSS = `
  html, body { margin: 0; width: ${SCREEN.width}px; height: ${SCREEN.height}px; overflow: hidden; }
  main, avatar, message-item, wx-view, wx-scroll-view, wx-image, wx-button, wx-input { display: block; box-sizing: border-box; }
  wx-text { display: inline; }
  wx-scroll-view { overflow-y: auto; }
  wx-button { text-align: center; border: none; }
  wx-input { overflow: hidden; white-space: nowrap; line-height: inherit; display: flex; align-items: center; }
  wx-input.placeholder { color: #b2b2b2; }
  .nav-bar { height: ${NAV_BAR_HEIGHT}px; display: flex; align-items: center; justify-content: center; font-size: 17px; font-weight: 600; position: relative; }
  .nav-bar .capsule { position: absolute; right: 7px; top: 6px; width: 87px; height: 32px; border-radius: 16px; box-sizing: border-box; border: 1px solid rgba(128, 128, 128, 0.35); display: flex; align-items: center; justify-content: space-around; font-size: 14px; font-weight: 400; }
  .viewport { position: relative; height: ${SCREEN.height - NAV_BAR_HEIGHT}px; overflow: hidden; transform: translateZ(0); }
`;

interface Theme {
  navBg: string;
  navText: string;
  pageBg: string;
}

function theme(dark: boolean): Theme {
  const themes = JSON.parse(fs.readFileSync(path.join(MINIPROGRAM_ROOT, 'theme.json'), 'utf8'));
  return themes[dark ? 'dark' : 'light'];
}

/** simulate's stub built-ins drop their attributes: put back what a phone would show. */
function fillBuiltIns(page: PageWrapper, inputs: Record<string, { value: string; placeholder: string }>): void {
  for (const [selector, { value, placeholder }] of Object.entries(inputs)) {
    const input = page.dom!.querySelector(selector);
    if (!input) continue;
    input.textContent = value || placeholder;
    if (!value) input.classList.add('placeholder');
  }
  for (const item of page.querySelectorAll('.item')) {
    const image = item.dom!.querySelector('wx-image');
    const url = (item.data as { item: ChatMessage & { url: string } }).item.url;
    if (!image || !url) continue;
    const img = document.createElement('img');
    img.src = url;
    img.setAttribute('style', 'display:block;width:100%;height:100%;object-fit:cover;');
    image.appendChild(img);
  }
}

function writeHtml(name: string, page: PageWrapper, css: string, title: string, dark: boolean): string {
  const colors = theme(dark);
  const appCss = fs.readFileSync(path.join(MINIPROGRAM_ROOT, 'app.wxss'), 'utf8').replace(/\bpage\b/g, '.viewport');
  let styles = rpxToPx(appCss + css).replace(/100vh/g, `${SCREEN.height - NAV_BAR_HEIGHT}px`);
  // Dark mode photographed by applying the dark rules unconditionally.
  if (dark) styles = styles.replace(/@media\s*\(prefers-color-scheme:\s*dark\)/g, '@media all');
  const html = `<!doctype html>
<html><head><meta charset="utf-8"><style>${BUILT_IN_CSS}${styles}</style></head>
<body style="background:${colors.pageBg}">
<div class="nav-bar" style="background:${colors.navBg};color:${colors.navText}">${title}<div class="capsule"><span>•••</span><span>◉</span></div></div>
<div class="viewport">${page.dom!.outerHTML}</div>
<script>for (const list of document.querySelectorAll('wx-scroll-view')) list.scrollTop = list.scrollHeight;</script>
</body></html>`;
  const file = path.join(WORK_DIR, `${name}.html`);
  fs.writeFileSync(file, html);
  return file;
}

function chromium(): string {
  for (const candidate of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      execFileSync('which', [candidate], { stdio: 'ignore' });
      return candidate;
    } catch {
      // try the next name
    }
  }
  throw new Error('Chromium not found: apt-get install -y chromium fonts-wqy-microhei');
}

/** Without a CJK font every Chinese character is a box, and the pictures are useless. */
function requireCjkFont(): void {
  let fonts = '';
  try {
    fonts = execFileSync('fc-list', [':lang=zh'], { encoding: 'utf8' });
  } catch {
    throw new Error('fc-list not found (fontconfig): apt-get install -y chromium fonts-wqy-microhei');
  }
  if (!fonts.trim()) throw new Error('no Chinese font installed: apt-get install -y fonts-wqy-microhei');
}

function photograph(browser: string, html: string, png: string): void {
  execFileSync(
    browser,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--hide-scrollbars',
      '--force-device-scale-factor=1',
      '--virtual-time-budget=3000',
      `--window-size=${SCREEN.width},${SCREEN.height}`,
      `--screenshot=${png}`,
      `file://${html}`,
    ],
    { stdio: 'pipe' },
  );
  if (!fs.existsSync(png)) throw new Error(`Chromium wrote no ${png}`);
}

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

interface Shot {
  name: string;
  page: 'room' | 'role';
  dark?: boolean;
  patches?: RoomPatch[];
  /** Interaction after load (typing, taps). */
  act?: (page: PageWrapper) => Promise<void>;
}

async function main(): Promise<void> {
  installDom();
  // Inline styles are written in rpx; simulate would turn 1rpx into 1px.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const jUtils = require('j-component/src/tool/utils') as { transformRpx(style: string): string };
  jUtils.transformRpx = rpxToPx;
  const sleep = () => simulator().sleep(10);
  const renderers = { room: loadPage('room'), role: loadPage('role') };
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
  ];

  fs.mkdirSync(OUT_DIR, { recursive: true });
  fs.mkdirSync(WORK_DIR, { recursive: true });
  const browser = chromium();
  requireCjkFont();
  for (const shot of shots) {
    const room = new FakeRoom();
    const profiles = new ProfileStore(memoryStore());
    if (shot.page === 'room') await profiles.save({ name: ME.username, color: ME.avatarColor });
    setServicesForTest({ profiles, room: () => room, pickImage: async () => null });
    const page = renderers[shot.page]();
    await pageInstance(page).onLoad(shot.page === 'role' ? { first: '1' } : {});
    for (const patch of shot.patches ?? []) room.emit(patch);
    await sleep();
    if (shot.act) await shot.act(page);
    const data = pageInstance(page).data;
    fillBuiltIns(page, {
      '.main--draft': { value: data.draft ?? '', placeholder: t('composerPlaceholder') },
      '.main--name-input': { value: data.name ?? '', placeholder: t('roleNamePlaceholder') },
    });
    const css = collectCss(path.join(MINIPROGRAM_ROOT, 'pages', shot.page, 'index.json'), 'main');
    const title = shot.page === 'room' ? t('roomTitle') : t('roleTitle');
    const html = writeHtml(shot.name, page, css, title, !!shot.dark);
    const png = path.join(OUT_DIR, `${shot.name}.png`);
    photograph(browser, html, png);
    console.log(`${path.relative(process.cwd(), png)}`);
  }
  setServicesForTest(null);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
