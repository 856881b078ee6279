// Characters, scenes and presence through the app's own core (CharacterStore, SceneDirectory,
// PresenceDirectory over SupabaseRoleplay) against local-supabase: real RLS, real storage, real
// Realtime presence. Each person is a phone of their own, logged in with WeChat as the app does.
// Last, the mini program's own services in a WeChat-like realm open a scene's room by its slug.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CharacterStore, type CharacterDraft } from '../miniprogram/core/characters';
import { zh } from '../miniprogram/core/strings';
import { memoryStore } from './support/memory-store';
import { PresenceDirectory } from '../miniprogram/core/presence-directory';
import { SCENE_PAGE_SIZE, SceneDirectory } from '../miniprogram/core/scenes';
import { SupabaseRoleplay } from '../miniprogram/core/supabase-roleplay';
import type { ConnectionState, RoomPatch } from '../miniprogram/core/types';
import type * as ServicesModule from '../miniprogram/services';
import { localWechatLogin, nodeBackend, nodeClient } from '../lib/node-client';
import { gradientPng } from './support/png';
import { startTestServer, superuserQuery, textMessage, type TestServer } from './support/server';
import { launchWechatApp } from './support/wechat-realm';
import { waitFor } from './support/wait';

jest.setTimeout(60000);

let server: TestServer;
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'roleplay-app-'));
let phones = 0;
const opened: Array<ReturnType<typeof nodeClient>> = [];

const sql = (text: string, params: unknown[] = []) => superuserQuery(server.dbUrl, text, params).then((result) => result.rows);

/** One phone of `person`: the app's stores over the official client, its own device storage. */
function phone(person: string) {
  const store = memoryStore();
  const client = nodeClient(server.url, server.anonKey, store, { storageKey: `roleplay-app-${++phones}`, autoRefreshToken: false });
  opened.push(client);
  const backend = nodeBackend(client, localWechatLogin(server.url, server.anonKey, person));
  const roleplay = new SupabaseRoleplay(client, backend);
  return {
    client,
    store,
    backend,
    characters: new CharacterStore(roleplay, store),
    scenes: new SceneDirectory(roleplay),
    presence: new PresenceDirectory(roleplay),
  };
}
type Phone = ReturnType<typeof phone>;

const draft = (name: string, fields: Partial<CharacterDraft> = {}): CharacterDraft => ({
  name,
  color: '#1f618d',
  note: '',
  portraitPath: null,
  ...fields,
});

async function firstCharacter(who: Phone, name: string) {
  await who.characters.load();
  const saved = await who.characters.save(null, draft(name));
  if (!saved.ok) throw new Error(saved.problem);
  return saved.character;
}

/** A line said in a scene as the phone's speaking character. */
async function say(who: Phone, roomId: number, fields: Record<string, unknown> = {}) {
  const { data, error } = await who.client
    .from('messages')
    .insert(textMessage(roomId, { character_id: who.characters.current()!.characterId, ...fields }) as never)
    .select()
    .single();
  if (error) throw new Error(`${error.code}: ${error.message}`);
  return data as { id: number; roll: { total: number; check?: { outcome: string } } | null };
}

beforeAll(async () => {
  server = await startTestServer();
}, 60000);

afterAll(async () => {
  await Promise.allSettled(opened.map((client) => client.removeAllChannels()));
  await server?.stop();
  fs.rmSync(workDir, { recursive: true, force: true });
});

describe('characters', () => {
  test('the tenth character is the last: the eleventh is refused by the database, as a sentence', async () => {
    const me = phone('十面人');
    await me.characters.load();
    for (let i = 1; i <= 10; i++) expect(await me.characters.save(null, draft(`化身${i}`))).toMatchObject({ ok: true });
    expect(await me.characters.save(null, draft('第十一个'))).toEqual({ ok: false, problem: '人设卡最多 10 张，请先删除一张' });
    const [{ count }] = await sql('select count(*)::int as count from public.characters where owner = $1', [await me.backend.userId()]);
    expect(count).toBe(10);
    // A second phone of the same person finds all ten, and the first speaks there.
    const other = phone('十面人');
    expect((await other.characters.load()).map((character) => character.name)).toEqual(
      Array.from({ length: 10 }, (_, i) => `化身${i + 1}`),
    );
    expect(other.characters.current()!.name).toBe('化身1');
  });

  test("nobody edits another's character; others read a character only once content security passed it", async () => {
    const owner = phone('人设主人');
    const stranger = phone('陌生人');
    const mine = await firstCharacter(owner, '楚留香');
    await firstCharacter(stranger, '胡铁花');
    expect(await stranger.characters.save(mine.id, draft('冒名'))).toEqual({ ok: false, problem: zh.characterNoPermission });
    expect(await stranger.characters.characterCard(mine.id)).toMatchObject({ name: '楚留香', initial: '楚', verdict: '' });

    // Blocked by content security: its owner is told why, nobody else sees it.
    await sql(`update public.characters set status = 'blocked', label = 20003 where id = $1`, [mine.id]);
    const later = phone('陌生人');
    await later.characters.load();
    expect(await later.characters.characterCard(mine.id)).toBeNull();
    await owner.characters.load();
    expect(owner.characters.list()[0]).toMatchObject({ status: 'blocked', label: 20003 });
    expect(await owner.characters.characterCard(mine.id)).toMatchObject({ verdict: '未通过审核：含辱骂内容' });
  });

  test("a portrait goes into the person's own folder in storage, and the card shows it", async () => {
    const me = phone('有头像的人');
    await me.characters.load();
    const file = path.join(workDir, 'portrait.png');
    const bytes = gradientPng(96, 96);
    fs.writeFileSync(file, bytes);
    const saved = await me.characters.save(null, draft('花满楼', { note: '目不能视' }), {
      path: file,
      width: 96,
      height: 96,
      size: bytes.length,
      mime: 'image/png',
    });
    if (!saved.ok) throw new Error(saved.problem);
    expect(saved.character.portraitPath).toMatch(new RegExp(`^${await me.backend.userId()}/portraits/[0-9a-f-]{36}\\.png$`));
    const download = await fetch(saved.character.portraitUrl);
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).equals(bytes)).toBe(true);
    const viewer = phone('看头像的人');
    await firstCharacter(viewer, '看客');
    expect(await viewer.characters.characterCard(saved.character.id)).toMatchObject({
      portraitUrl: saved.character.portraitUrl,
      note: '目不能视',
    });
  });
});

describe('scenes', () => {
  test('open, list with unread counts and each last message, mark read; the fourth scene of a day is refused', async () => {
    const host = phone('开团的人');
    const reader = phone('看团的人');
    await firstCharacter(host, '主持');
    await firstCharacter(reader, '读者');
    const opened = await host.scenes.open({ title: '夜探蝙蝠岛', topic: '月黑风高，众人登岛。' });
    if (!opened.ok) throw new Error(opened.problem);
    expect(opened.scene).toMatchObject({ title: '夜探蝙蝠岛', isHost: true, slug: `s-${opened.scene.id}` });

    const lines = [];
    for (let i = 0; i < 3; i++) lines.push(await say(host, opened.scene.id, { body: `第${i + 1}句` }));
    const scene = async () => (await reader.scenes.refresh()).find((each) => each.id === opened.scene.id)!;
    expect(await scene()).toMatchObject({
      title: '夜探蝙蝠岛',
      isHost: false,
      unread: 3,
      lastMessage: expect.objectContaining({ username: '主持', kind: 'text', body: '第3句', status: 'visible', roll: null }),
    });
    expect((await reader.scenes.refresh())[0].id).toBe(opened.scene.id);

    await reader.scenes.markRead(opened.scene.id, lines[1].id);
    expect((await scene()).unread).toBe(1);
    const roll = await say(host, opened.scene.id, { kind: 'roll', body: 'd100<=60' });
    expect((await scene()).lastMessage).toMatchObject({
      kind: 'roll',
      body: 'd100<=60',
      roll: { total: roll.roll!.total, outcome: roll.roll!.check!.outcome },
    });
    await say(host, opened.scene.id, { kind: 'roll', body: '1d20', hidden: true });
    expect((await scene()).lastMessage).toMatchObject({ kind: 'roll', hidden: true, roll: null });

    expect(await host.scenes.open({ title: '第二场', topic: '' })).toMatchObject({ ok: true });
    expect(await host.scenes.open({ title: '第三场', topic: '' })).toMatchObject({ ok: true });
    expect(await host.scenes.open({ title: '第四场', topic: '' })).toEqual({ ok: false, problem: '每人每天最多开 3 个场景，明天再来吧' });
  });

  test("only the host edits and archives, through the app's directory", async () => {
    const host = phone('房主');
    const guest = phone('房客');
    await firstCharacter(host, '房主');
    await firstCharacter(guest, '房客');
    const opened = await host.scenes.open({ title: '客栈', topic: '' });
    if (!opened.ok) throw new Error(opened.problem);
    const seen = await guest.scenes.details(opened.scene.slug);
    expect(seen).toMatchObject({ id: opened.scene.id, isHost: false });
    expect(await guest.scenes.update(opened.scene.id, { title: '抢来的', topic: '' })).toBe(zh.sceneHostOnly);
    expect(await guest.scenes.archive(opened.scene.id)).toBe(zh.sceneHostOnly);
    expect(await host.scenes.update(opened.scene.id, { title: '悦来客栈', topic: '南来北往' })).toBeNull();
    expect(await host.scenes.archive(opened.scene.id)).toBeNull();
    expect(await guest.scenes.details(opened.scene.slug)).toMatchObject({ title: '悦来客栈', topic: '南来北往', archived: true });
  });

  test('the whole list pages through, one request per page, every scene once, newest activity first', async () => {
    await sql(
      `insert into public.rooms (slug, title, topic) select 'paged-' || n, '场景' || n, '' from generate_series(1, ${SCENE_PAGE_SIZE * 2 + 3}) n`,
    );
    const reader = phone('翻页的人');
    await firstCharacter(reader, '翻页');
    let requests = 0;
    const originalFetch = globalThis.fetch;
    globalThis.fetch = (async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
      if (String(input instanceof Request ? input.url : input).includes('/rpc/scene_list')) requests++;
      return originalFetch(input, init);
    }) as typeof fetch;
    try {
      await reader.scenes.refresh();
      while (reader.scenes.hasMore) await reader.scenes.loadMore();
    } finally {
      globalThis.fetch = originalFetch;
    }
    const rows = await sql(`select id from public.rooms where status = 'visible' or host = $1 order by last_activity_at desc, id desc`, [
      await reader.backend.userId(),
    ]);
    expect(reader.scenes.list().map((scene) => scene.id)).toEqual(rows.map((row) => Number(row.id)));
    expect(requests).toBe(Math.ceil((rows.length + 1) / SCENE_PAGE_SIZE));
  });
});

test('presence: one entry per person whatever their devices, counted per scene, gone when they leave', async () => {
  const [a1, a2, b, watcher] = [phone('在场甲'), phone('在场甲'), phone('在场乙'), phone('看人数的人')];
  for (const [who, name] of [
    [a1, '甲'],
    [b, '乙'],
    [watcher, '看'],
  ] as const)
    await firstCharacter(who, name);
  await a2.characters.load();
  const scene = 90001;
  const counts: number[] = [];
  watcher.presence.watch(() => counts.push(watcher.presence.count(scene)));
  a1.presence.enter(scene, { name: '甲', color: '#c0392b' });
  a2.presence.enter(scene, { name: '甲', color: '#c0392b' });
  b.presence.enter(scene, { name: '乙', color: '#2e86c1' });
  await waitFor('three devices of two people in the scene', () => watcher.presence.count(scene) === 2, 15000);
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(watcher.presence.count(scene)).toBe(2);
  expect(Math.max(...counts)).toBe(2);
  expect(
    watcher.presence
      .people(scene)
      .map((person) => person.name)
      .sort(),
  ).toEqual(['乙', '甲']);
  a1.presence.leave(scene);
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(watcher.presence.count(scene)).toBe(2);
  a2.presence.leave(scene);
  await waitFor('only 乙 left', () => watcher.presence.count(scene) === 1, 15000);
  await b.client.removeAllChannels();
  await waitFor('nobody left', () => watcher.presence.count(scene) === 0, 15000);
});

test("the mini program's services open a scene's own room by its slug, one session per scene", async () => {
  const app = launchWechatApp(server);
  try {
    const { createServices } = app.realm.require<typeof ServicesModule>('services');
    const services = createServices(app.platform);
    await services.characters.load();
    expect(await services.characters.save(null, draft('分享来的人'))).toMatchObject({ ok: true });
    const opened = await services.scenes.open({ title: '分享的场', topic: '' });
    if (!opened.ok) throw new Error(opened.problem);
    const room = services.room(opened.scene.slug);
    expect(services.room(opened.scene.slug)).toBe(room);
    expect(services.room()).not.toBe(room);
    let connection: ConnectionState | null = null;
    room.onPatch((patch: RoomPatch) => {
      if (patch.type === 'connection') connection = patch.state;
    });
    await room.start();
    await waitFor('the scene connected', () => connection === 'connected', 15000);
    expect(room.sendText('进了分享的场')).toBe(true);
    await waitFor(
      'the line stored in that scene',
      async () => (await sql(`select room_id from public.messages where body = '进了分享的场'`)).length === 1,
      15000,
    );
    const [stored] = await sql(`select room_id, username from public.messages where body = '进了分享的场'`);
    expect({ roomId: Number(stored.room_id), username: stored.username }).toEqual({ roomId: opened.scene.id, username: '分享来的人' });
    room.stop();
  } finally {
    await app.close();
  }
});
