// Two people in the room, end to end: two room pages in miniprogram-simulate, each wired by the
// app's own createServices to the real core and platform layer, running in its own WeChat-like
// realm over its own wx (wx-node: real loopback HTTP, WebSocket, files and storage), against
// local-supabase. Everything a user does goes through the page: typing, the send button, the image
// button; everything checked is what the page renders.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as ServicesModule from '../miniprogram/services';
import type { ViewItem } from '../miniprogram/pages/room/message-window';
import { setSafetyServicesForTest, setServicesForTest } from '../miniprogram/services';
import { gradientPng } from './support/png';
import { startTestServer, superuserQuery, type TestServer } from './support/server';
import { chooseFromSheet, installDom, loadPage, pageInstance, simulator, type PageWrapper } from './support/simulate';
import { launchWechatApp, type WechatApp } from './support/wechat-realm';
import { waitFor } from './support/wait';

const A = { name: '楚留香', color: '#c0392b' };
const B = { name: '任盈盈', color: '#884ea0' };

let server: TestServer;
let renderRoom: () => PageWrapper;
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-two-users-'));
const photo = path.join(workDir, 'moon.png');

/** One phone: its wx, the app's code in a WeChat-like realm, and the room page on screen. */
interface Phone extends WechatApp {
  page: PageWrapper;
}

const phones: Phone[] = [];

async function openPhone(role: { name: string; color: string }): Promise<Phone> {
  const app = launchWechatApp(server);
  const { createServices, createSafetyServices } = app.realm.require<typeof ServicesModule>('services');
  const services = createServices(app.platform);
  // The same person's block list and desk: their own session, not another login.
  setSafetyServicesForTest(createSafetyServices(app.platform));
  expect(await services.characters.save(null, { ...role, note: '', portraitPath: null })).toMatchObject({ ok: true });
  setServicesForTest(services);
  const page = renderRoom();
  await pageInstance(page).onLoad({});
  const phone = { ...app, page };
  phones.push(phone);
  return phone;
}

/** The messages a page renders, top to bottom, as its message-item components hold them. */
/** The messages a page renders, as the view holds them (an empty field is absent: ViewItem). */
function shown(phone: Phone): ViewItem[] {
  return phone.page.querySelectorAll('.item').map((item) => (item.data as { item: ViewItem }).item);
}

function shownWithText(phone: Phone, text: string): ViewItem[] {
  return shown(phone).filter((item) => item.text === text);
}

async function type(phone: Phone, text: string): Promise<void> {
  phone.page.querySelector('.draft')!.dispatchEvent('input', { detail: { value: text } });
  await simulator().sleep(0);
  phone.page.querySelector('.send')!.dispatchEvent('tap');
  await simulator().sleep(0);
}

function connection(phone: Phone): string {
  return pageInstance(phone.page).data.connection;
}

beforeAll(async () => {
  // B going offline makes its page log the connection error's detail, as designed; keep it quiet here.
  jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  installDom();
  renderRoom = loadPage('room');
  fs.writeFileSync(photo, gradientPng(640, 480));
  // Content security on, as the app ships: every message waits for WeChat's verdict (the fake's).
  server = await startTestServer({ moderation: true });
}, 60000);

afterAll(async () => {
  setServicesForTest(null);
  setSafetyServicesForTest(null);
  for (const phone of phones) {
    pageInstance(phone.page).onUnload();
    await phone.close();
  }
  await server?.stop();
  fs.rmSync(workDir, { recursive: true, force: true });
});

test('two users chat: text and image, an offline reader catches up, an offline send is delivered once', async () => {
  const a = await openPhone(A);
  const b = await openPhone(B);
  await waitFor('both rooms connected', () => connection(a) === 'connected' && connection(b) === 'connected', 15000);

  // A sends a text and an image; B sees both with A's name and colour.
  await type(a, '在下楚留香，见过诸位。');
  const text = await waitFor("A's text on B's screen", () => shownWithText(b, '在下楚留香，见过诸位。')[0], 15000);
  expect(text).toMatchObject({ name: A.name, color: A.color, status: 'sent' });
  expect(text.mine).toBeFalsy();

  a.nodeWx.chooseNext([photo]);
  a.page.querySelector('.image-button')!.dispatchEvent('tap');
  const image = await waitFor("A's image on B's screen", () => shown(b).find((item) => item.kind === 'image'), 15000);
  expect(image).toMatchObject({ name: A.name, color: A.color });
  expect(image.mine).toBeFalsy();
  expect(image.url).toContain(`${server.url}/storage/v1/object/public/images/`);
  // The placeholder box keeps the photo's 4:3 shape before it loads.
  expect((image.width ?? 0) / (image.height ?? 1)).toBeCloseTo(640 / 480, 1);
  const download = await fetch(image.url ?? '');
  expect(download.status).toBe(200);
  await waitFor("A's image sent", () => shown(a).find((item) => item.kind === 'image' && item.status === 'sent'), 15000);

  // B loses the network; A says three things; B sends one while offline.
  b.nodeWx.setOffline(true);
  await waitFor('B noticing it is offline', () => connection(b) !== 'connected', 15000);
  const missed = ['第一句：月黑风高。', '第二句：有人来了。', '第三句：快走！'];
  for (const line of missed) await type(a, line);
  await waitFor("A's three messages sent", () => missed.every((line) => shownWithText(a, line)[0]?.status === 'sent'), 15000);
  await type(b, '我掉线了，这句稍后送达。');
  expect(shownWithText(b, '我掉线了，这句稍后送达。')[0].status).not.toBe('sent');

  // B is back: each missed message shows once, in A's order; B's message reaches A once.
  b.nodeWx.setOffline(false);
  await waitFor('B catching up', () => missed.every((line) => shownWithText(b, line).length > 0), 15000);
  await waitFor("B's offline message on A's screen", () => shownWithText(a, '我掉线了，这句稍后送达。').length > 0, 15000);
  await waitFor("B's offline message sent", () => shownWithText(b, '我掉线了，这句稍后送达。')[0]?.status === 'sent', 15000);
  // Give any duplicate (a realtime echo, a second gap-fill, a resend) time to show up.
  await new Promise((resolve) => setTimeout(resolve, 1500));

  for (const line of missed) expect(shownWithText(b, line)).toHaveLength(1);
  const order = missed.map((line) => shown(b).findIndex((item) => item.text === line));
  expect(order).toEqual([...order].sort((x, y) => x - y));
  expect(shownWithText(a, '我掉线了，这句稍后送达。')).toEqual([expect.objectContaining({ name: B.name, color: B.color })]);
  expect(shownWithText(a, '我掉线了，这句稍后送达。')[0].mine).toBeFalsy();
  expect(shownWithText(b, '我掉线了，这句稍后送达。')).toEqual([expect.objectContaining({ mine: true, status: 'sent' })]);
  // Both screens agree on the whole conversation, with no message twice.
  const keysOf = (phone: Phone) => shown(phone).map((item) => item.key);
  expect(new Set(keysOf(a)).size).toBe(keysOf(a).length);
  expect(keysOf(b)).toEqual(keysOf(a));
}, 60000);

/** Long-presses a message and taps these labels in the sheets that follow (the menu, then a reason). */
async function longPressAndChoose(phone: Phone, text: string, ...labels: string[]): Promise<string[][]> {
  const sheet = chooseFromSheet(...labels);
  const items = phone.page.querySelectorAll('.item');
  const index = shown(phone).findIndex((item) => item.text === text);
  items[index].querySelector('.bubble')!.dispatchEvent('longpress');
  await waitFor('the menu to run', () => sheet.offered().length >= labels.length, 5000);
  await simulator().sleep(50);
  sheet.restore();
  return sheet.offered();
}

test('content security: 审核中 for the author until WeChat passes it; a refused line stays with its author; recall and report', async () => {
  const [a, b] = phones.length >= 2 ? phones : [await openPhone(A), await openPhone(B)];
  await waitFor('both rooms connected', () => connection(a) === 'connected' && connection(b) === 'connected', 15000);

  // The author sees 审核中 at once; the reader gets the line only when it has passed.
  const waiting: string[] = [];
  const watch = setInterval(() => {
    const item = shownWithText(a, '今夜子时，城南破庙。')[0];
    if (item?.stateText) waiting.push(item.stateText);
  }, 5);
  await type(a, '今夜子时，城南破庙。');
  await waitFor('the line passing on B', () => shownWithText(b, '今夜子时，城南破庙。')[0], 15000);
  clearInterval(watch);
  // 发送中… while the insert is on its way, then 审核中 until the verdict.
  expect(waiting).toContain('审核中');
  await waitFor('the author’s mark going', () => !shownWithText(a, '今夜子时，城南破庙。')[0]?.stateText, 5000);

  // WeChat finds it risky: only the author ever sees it, with the verdict; B never does.
  await type(a, '这句含违禁测试词');
  await waitFor('the verdict for A', () => shownWithText(a, '这句含违禁测试词')[0]?.stateText?.startsWith('未通过审核'), 15000);
  await type(a, '之后的一句');
  await waitFor('the next line on B', () => shownWithText(b, '之后的一句')[0], 15000);
  expect(shownWithText(b, '这句含违禁测试词')).toEqual([]);

  // A recalls within 2 minutes: both screens show the notice in its place.
  await longPressAndChoose(a, '之后的一句', '撤回');
  await waitFor('the recall on B', () => shown(b).some((item) => item.placeholder === `${A.name}撤回了一条消息`), 15000);
  expect(shown(a).some((item) => item.placeholder === '你撤回了一条消息')).toBe(true);
  expect(shownWithText(b, '之后的一句')).toEqual([]);

  // B reports A's first line with a reason; the database holds one report by B.
  const offered = await longPressAndChoose(b, '今夜子时，城南破庙。', '举报', '辱骂或人身攻击');
  expect(offered[0]).toEqual(['回复', '复制', '举报', '屏蔽此人']);
  const reports = await waitFor(
    'the report stored',
    async () => {
      const { rows } = await superuserQuery<{ reason: string }>(
        server.dbUrl,
        `select r.reason from public.reports r join public.messages m on m.id = r.message_id where m.body = $1`,
        ['今夜子时，城南破庙。'],
      );
      return rows.length ? rows : undefined;
    },
    5000,
  );
  expect(reports).toEqual([{ reason: 'abuse' }]);
}, 60000);
