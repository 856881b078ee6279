// Saved image files across launches, as on a phone (the app in a WeChat realm over wx-node, its
// storage and files kept between launches, against local-supabase). A picked image is moved to
// the app's saved files so a pending message survives a kill; a saved file no pending message
// uses would stay on the device for good, so the next launch removes it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChatMessage, PickedImage } from '../miniprogram/core/types';
import type * as ServicesModule from '../miniprogram/services';
import { gradientPng } from './support/png';
import { startTestServer, type TestServer } from './support/server';
import { launchWechatApp, type WechatApp } from './support/wechat-realm';
import { waitFor } from './support/wait';

let server: TestServer;
const device = fs.mkdtempSync(path.join(os.tmpdir(), 'saved-images-'));
const files = path.join(device, 'files');
const storageFile = path.join(device, 'wx-storage.json');
const photo = path.join(device, 'photo.png');
const running: WechatApp[] = [];

beforeAll(async () => {
  fs.mkdirSync(files);
  fs.writeFileSync(photo, gradientPng(64, 48));
  server = await startTestServer();
}, 60000);

afterAll(async () => {
  for (const app of running) await app.close();
  await server?.stop();
  fs.rmSync(device, { recursive: true, force: true });
});

/** One launch on the same device: the same wx storage and the same saved files. */
function launch() {
  const app = launchWechatApp(server, { storageFile, tempDir: files });
  running.push(app);
  const { createServices } = app.realm.require<typeof ServicesModule>('services');
  const services = createServices(app.platform);
  const room = services.room();
  return {
    app,
    services,
    room,
    other: () => services.room('s-2'),
    async pick(): Promise<PickedImage> {
      app.nodeWx.chooseNext([photo]);
      return (await app.platform.pickImage())!;
    },
    messages: (): ChatMessage[] => JSON.parse(JSON.stringify((room as unknown as { messages(): ChatMessage[] }).messages())),
  };
}

test('the next launch removes saved images no pending message uses, and sends the pending one with its file', async () => {
  const first = launch();
  expect(await first.services.characters.save(null, { name: '楚留香', color: '#c0392b', note: '', portraitPath: null })).toMatchObject({
    ok: true,
  });
  await first.room.start();
  // Picked, then the app was killed before the send was stored: nothing will ever send this file.
  const orphan = await first.pick();
  // Sent while offline: it waits in the outbox, which keeps its file path across the kill.
  first.app.nodeWx.setOffline(true);
  const pending = await first.pick();
  expect(first.room.sendImage(pending)).toBe(true);
  // Another scene's pending image: the next launch opens only the lobby, and must keep it too.
  const elsewhere = first.other();
  void elsewhere.start();
  const otherScene = await first.pick();
  expect(elsewhere.sendImage(otherScene)).toBe(true);
  const stored = () => JSON.stringify(first.app.nodeWx.storage());
  await waitFor('both pending messages to be stored', () => stored().includes(pending.path) && stored().includes(otherScene.path), 5000);
  first.room.stop();
  elsewhere.stop();
  await first.app.close();
  running.splice(0);

  // Both files were saved well before the next launch.
  const saved = (image: PickedImage) => path.join(files, `store_${image.path.slice('wxfile://store/'.length)}`);
  const anHourAgo = new Date(Date.now() - 3600 * 1000);
  for (const image of [orphan, pending, otherScene]) fs.utimesSync(saved(image), anHourAgo, anHourAgo);

  const second = launch();
  await second.services.characters.load();
  await second.room.start();
  await waitFor('the orphan to be removed', () => !fs.existsSync(saved(orphan)), 5000);
  // The pending image was kept: it uploads from its file and is sent, and only then let go.
  await waitFor('the pending image to be sent', () => second.messages().some((m) => m.kind === 'image' && m.status === 'sent'), 15000);
  await waitFor('its file to be released', () => !fs.existsSync(saved(pending)), 5000);
  expect(fs.existsSync(saved(otherScene))).toBe(true);
});
