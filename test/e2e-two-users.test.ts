// Two people in the room, end to end: two room pages in miniprogram-simulate, each wired by the
// app's own createServices to the real core and platform layer, running in its own WeChat-like
// realm over its own wx (wx-node: real loopback HTTP, WebSocket, files and storage), against
// local-supabase. Everything a user does goes through the page: typing, the send button, the image
// button; everything checked is what the page renders.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as ServicesModule from '../miniprogram/services';
import type { MessageItem } from '../miniprogram/components/message-item/format';
import { setSafetyServicesForTest, setServicesForTest } from '../miniprogram/services';
import { gradientPng } from './support/png';
import { startTestServer, type TestServer } from './support/server';
import { installDom, loadPage, pageInstance, simulator, type PageWrapper } from './support/simulate';
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
function shown(phone: Phone): MessageItem[] {
  return phone.page.querySelectorAll('.item').map((item) => (item.data as { item: MessageItem }).item);
}

function shownWithText(phone: Phone, text: string): MessageItem[] {
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
  server = await startTestServer();
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
  expect(text).toMatchObject({ name: A.name, color: A.color, mine: false, status: 'sent' });

  a.nodeWx.chooseNext([photo]);
  a.page.querySelector('.image-button')!.dispatchEvent('tap');
  const image = await waitFor("A's image on B's screen", () => shown(b).find((item) => item.kind === 'image'), 15000);
  expect(image).toMatchObject({ name: A.name, color: A.color, mine: false });
  expect(image.url).toContain(`${server.url}/storage/v1/object/public/images/`);
  // The placeholder box keeps the photo's 4:3 shape before it loads.
  expect(image.width / image.height).toBeCloseTo(640 / 480, 1);
  const download = await fetch(image.url);
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
  expect(shownWithText(a, '我掉线了，这句稍后送达。')).toEqual([expect.objectContaining({ name: B.name, color: B.color, mine: false })]);
  expect(shownWithText(b, '我掉线了，这句稍后送达。')).toEqual([expect.objectContaining({ mine: true, status: 'sent' })]);
  // Both screens agree on the whole conversation, with no message twice.
  const keysOf = (phone: Phone) => shown(phone).map((item) => item.key);
  expect(new Set(keysOf(a)).size).toBe(keysOf(a).length);
  expect(keysOf(b)).toEqual(keysOf(a));
}, 60000);
