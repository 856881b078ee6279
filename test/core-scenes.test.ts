// The scene directory and the presence directory over their ports (fakes answering as the database
// and Realtime do): one request per page with the cursor of the last scene, the rules of a title and
// 背景 before anything is sent, three scenes a day, host-only edits, read markers; presence counted
// once per person, tracked again after every rejoin, and retried when there is no session yet.
import { zh } from '../miniprogram/core/strings';
import { BackendFailure } from '../miniprogram/core/ports';
import { countPeople, PresenceDirectory, type PresenceCounts } from '../miniprogram/core/presence-directory';
import { checkTitle, checkTopic, TITLE_MAX, TOPIC_MAX } from '../miniprogram/core/rules';
import {
  characterEditorPath,
  nextPathOf,
  roomPath,
  sceneSettingsPath,
  sceneSlugOf,
  shareScene,
  shareSceneToTimeline,
} from '../miniprogram/core/scene-links';
import { SCENE_PAGE_SIZE, SceneDirectory, sceneDraftProblem } from '../miniprogram/core/scenes';
import { ManualClock } from './support/core-fakes';
import { FakePresencePort, FakeScenePort, PERSON, SOMEONE } from './support/roleplay-fakes';

let port: FakeScenePort;
let directory: SceneDirectory;

beforeEach(() => {
  port = new FakeScenePort();
  directory = new SceneDirectory(port);
});

describe('scenes', () => {
  test('title and 背景 rules at their boundaries', () => {
    expect(checkTitle('题'.repeat(TITLE_MAX))).toBeNull();
    expect(checkTitle('题'.repeat(TITLE_MAX + 1))).toBe('too_long');
    expect(checkTitle(' \n ')).toBe('empty');
    expect(checkTopic('景'.repeat(TOPIC_MAX))).toBeNull();
    expect(checkTopic('🐉'.repeat(TOPIC_MAX))).toBeNull();
    expect(checkTopic('景'.repeat(TOPIC_MAX + 1))).toBe('too_long');
    expect(sceneDraftProblem({ title: '', topic: '' })).toBe(zh.titleEmpty);
    expect(sceneDraftProblem({ title: '题'.repeat(49), topic: '' })).toBe('标题最多 48 字');
    expect(sceneDraftProblem({ title: '夜探', topic: '景'.repeat(501) })).toBe('背景最多 500 字');
    expect(sceneDraftProblem({ title: '夜探', topic: '' })).toBeNull();
  });

  test('the list: newest activity first, one request per page, each page after the last scene shown', async () => {
    for (let i = 0; i < SCENE_PAGE_SIZE + 5; i++) port.add({}, i);
    const first = await directory.refresh();
    expect(port.count('sceneList')).toBe(1);
    expect(first.map((scene) => scene.id)).toEqual(Array.from({ length: SCENE_PAGE_SIZE }, (_, i) => i + 1));
    expect(directory.hasMore).toBe(true);
    const second = await directory.loadMore();
    expect(second.map((scene) => scene.id)).toEqual([21, 22, 23, 24, 25]);
    expect(directory.list()).toHaveLength(25);
    expect(directory.hasMore).toBe(false);
    expect(await directory.loadMore()).toEqual([]);
    expect(port.count('sceneList')).toBe(2);
  });

  test('scenes with the same activity time page by id, none twice and none lost', async () => {
    for (let i = 0; i < 45; i++) port.add({}, 0);
    await directory.refresh();
    while (directory.hasMore) await directory.loadMore();
    const ids = directory.list().map((scene) => scene.id);
    expect(ids).toEqual(Array.from({ length: 45 }, (_, i) => 45 - i));
  });

  test('two calls for the next page share one request; a refresh drops a page asked for before it', async () => {
    for (let i = 0; i < 30; i++) port.add({}, i);
    await directory.refresh();
    const [a, b] = await Promise.all([directory.loadMore(), directory.loadMore()]);
    expect(a).toBe(b);
    expect(port.count('sceneList')).toBe(2);

    await directory.refresh();
    const stale = directory.loadMore();
    await directory.refresh();
    expect(await stale).toEqual([]);
    expect(directory.list()).toHaveLength(SCENE_PAGE_SIZE);
  });

  test('a failed page rejects and keeps the list; the next try asks again', async () => {
    for (let i = 0; i < 25; i++) port.add({}, i);
    await directory.refresh();
    port.failNext('sceneList');
    await expect(directory.loadMore()).rejects.toBeInstanceOf(BackendFailure);
    expect(directory.list()).toHaveLength(SCENE_PAGE_SIZE);
    expect(await directory.loadMore()).toHaveLength(5);
  });

  test('opening: rules first, then the host is the opener; the fourth of a day is refused as a sentence', async () => {
    expect(await directory.open({ title: ' ', topic: '' })).toEqual({ ok: false, problem: zh.titleEmpty });
    expect(port.count('openScene')).toBe(0);
    const opened = await directory.open({ title: '夜探蝙蝠岛', topic: '月黑风高' });
    expect(opened).toMatchObject({ ok: true, scene: { title: '夜探蝙蝠岛', topic: '月黑风高', isHost: true, archived: false } });
    await directory.open({ title: '第二场', topic: '' });
    await directory.open({ title: '第三场', topic: '' });
    expect(await directory.open({ title: '第四场', topic: '' })).toEqual({ ok: false, problem: '每人每天最多开 3 个场景，明天再来吧' });
    port.failNext('openScene');
    expect(await directory.open({ title: '断网', topic: '' })).toEqual({ ok: false, problem: zh.networkFailed });
  });

  test('host actions: the host edits and archives; anyone else is told only the host may', async () => {
    const mine = port.add({ host: PERSON, title: '旧题' });
    const theirs = port.add({ host: SOMEONE });
    await directory.refresh();
    expect(directory.list().find((scene) => scene.id === mine.id)!.isHost).toBe(true);
    expect(await directory.update(mine.id, { title: '新题', topic: '新背景' })).toBeNull();
    expect(port.scenes[0]).toMatchObject({ title: '新题', topic: '新背景' });
    expect(directory.list().find((scene) => scene.id === mine.id)).toMatchObject({ title: '新题', topic: '新背景' });
    expect(await directory.archive(mine.id)).toBeNull();
    expect(directory.list().find((scene) => scene.id === mine.id)!.archived).toBe(true);
    expect(await directory.update(theirs.id, { title: '抢来的', topic: '' })).toBe(zh.sceneHostOnly);
    expect(await directory.archive(theirs.id)).toBe(zh.sceneHostOnly);
    expect(await directory.update(mine.id, { title: '', topic: '' })).toBe(zh.titleEmpty);
    expect(port.count('updateScene')).toBe(2);
  });

  test('a scene by its slug, and none for one nobody may see', async () => {
    const scene = port.add({ host: SOMEONE, title: '可见' });
    port.add({ host: SOMEONE, status: 'pending', slug: 's-99' });
    expect(await directory.details(scene.slug)).toMatchObject({ id: scene.id, title: '可见', isHost: false, status: 'visible' });
    expect(await directory.details('s-99')).toBeNull();
    expect(await directory.details('s-404')).toBeNull();
  });

  test('reading moves the marker forward and the list shows nothing unread there', async () => {
    const scene = port.add({ unread: 7 });
    await directory.refresh();
    await directory.markRead(scene.id, 40);
    await directory.markRead(scene.id, 30);
    expect(port.markers.get(scene.id)).toBe(40);
    expect(directory.list()[0].unread).toBe(0);
  });
});

describe('presence', () => {
  test('one entry per person, whatever their devices; a person in two scenes counts in both', () => {
    const counts = countPeople({
      alice: [{ scene_id: 1 }, { scene_id: 1 }, { scene_id: 2 }],
      bob: [{ scene_id: 1 }],
      carol: [{ scene_id: 3 }],
    });
    expect([...counts].sort()).toEqual([
      [1, 2],
      [2, 1],
      [3, 1],
    ]);
  });

  test("the directory joins once, under the person's id, and tells watchers only of real changes", async () => {
    const presence = new FakePresencePort();
    const directory = new PresenceDirectory(presence);
    const heard: PresenceCounts[] = [];
    directory.watch((counts) => heard.push(counts));
    directory.watch(() => undefined);
    await Promise.resolve();
    expect(presence.count('join')).toBe(1);
    expect(presence.joinedAs).toBe(PERSON);
    presence.emitSync({ a: [{ scene_id: 1 }], b: [{ scene_id: 1 }] });
    presence.emitSync({ b: [{ scene_id: 1 }], a: [{ scene_id: 1 }, { scene_id: 1 }] });
    presence.emitSync({ a: [{ scene_id: 1 }] });
    expect(heard.map((counts) => [...counts])).toEqual([[[1, 2]], [[1, 1]]]);
    expect(directory.count(1)).toBe(1);
    expect(directory.count(2)).toBe(0);
  });

  test('who is here: one entry per person under their newest character in that scene, whatever their devices', async () => {
    const presence = new FakePresencePort();
    const directory = new PresenceDirectory(presence);
    directory.watch(() => undefined);
    await Promise.resolve();
    presence.emitSync({
      a: [
        { scene_id: 1, name: '楚留香', color: '#c0392b' },
        { scene_id: 1, name: '香帅', color: '#2e86c1' },
      ],
      b: [{ scene_id: 2, name: '胡铁花', color: '#229954' }],
      c: [{ scene_id: 1 }, { scene_id: 1, name: '姬冰雁', color: '#6c3483' }],
      old: [{ scene_id: 1 }],
    });
    expect(directory.people(1)).toEqual([
      { key: 'a', name: '香帅', color: '#2e86c1' },
      { key: 'c', name: '姬冰雁', color: '#6c3483' },
    ]);
    expect(directory.people(2)).toEqual([{ key: 'b', name: '胡铁花', color: '#229954' }]);
    expect(directory.people(3)).toEqual([]);
  });

  test('entering tracks the scene once joined, again after every rejoin; leaving untracks', async () => {
    const presence = new FakePresencePort();
    const directory = new PresenceDirectory(presence);
    directory.enter(7, { name: '楚留香', color: '#c0392b' });
    await Promise.resolve();
    expect(presence.tracked).toEqual([]);
    presence.emitStatus('subscribed');
    await Promise.resolve();
    const seven = { scene_id: 7, name: '楚留香', color: '#c0392b' };
    expect(presence.tracked).toEqual([seven]);
    presence.emitStatus('closed');
    presence.emitStatus('subscribed');
    await Promise.resolve();
    expect(presence.tracked).toEqual([seven, seven]);
    directory.leave(8);
    directory.leave(7);
    await Promise.resolve();
    expect(presence.tracked).toEqual([seven, seven, null]);
    presence.emitStatus('subscribed');
    await Promise.resolve();
    expect(presence.tracked).toHaveLength(3);
  });

  test('without a session (no network at launch) joining is tried again with backoff', async () => {
    const clock = new ManualClock();
    const presence = new FakePresencePort();
    presence.failNext('userId');
    presence.failNext('userId');
    const directory = new PresenceDirectory(presence, clock);
    directory.enter(3, { name: '楚留香', color: '#c0392b' });
    await clock.advance(0);
    expect(presence.count('join')).toBe(0);
    await clock.advance(1000);
    expect(presence.count('join')).toBe(0);
    await clock.advance(2000);
    expect(presence.count('join')).toBe(1);
    presence.emitStatus('subscribed');
    await clock.advance(0);
    expect(presence.tracked).toEqual([{ scene_id: 3, name: '楚留香', color: '#c0392b' }]);
  });
});

describe('links', () => {
  test("a shared card opens the scene's room; the room reads its scene from the query, the lobby by default", () => {
    const scene = { title: '夜探蝙蝠岛', slug: 's-42' };
    expect(shareScene(scene)).toEqual({ title: '来「夜探蝙蝠岛」一起玩吧', path: '/pages/room/index?scene=s-42' });
    expect(shareSceneToTimeline(scene)).toEqual({ title: '来「夜探蝙蝠岛」一起玩吧', query: 'scene=s-42' });
    const query = Object.fromEntries(new URLSearchParams(shareScene(scene).path.split('?')[1]));
    expect(sceneSlugOf(query)).toBe('s-42');
    expect(sceneSlugOf(Object.fromEntries(new URLSearchParams(shareSceneToTimeline(scene).query)))).toBe('s-42');
    expect(sceneSlugOf({})).toBe('lobby');
    expect(sceneSlugOf({ scene: '../../etc' })).toBe('lobby');
    expect(sceneSlugOf({ scene: 'S-1' })).toBe('lobby');
    expect(roomPath('lobby')).toBe('/pages/room/index?scene=lobby');
    expect(sceneSettingsPath('s-42')).toBe('/pages/scene-settings/index?scene=s-42');
    expect(sceneSettingsPath()).toBe('/pages/scene-settings/index');
  });

  test('first launch from a shared card: the editor is told where to go next, and only one of our pages', () => {
    const path = characterEditorPath({ first: true, next: roomPath('s-42') });
    expect(path).toBe('/pages/role/index?first=1&next=%2Fpages%2Froom%2Findex%3Fscene%3Ds-42');
    const query = Object.fromEntries(
      path
        .split('?')[1]
        .split('&')
        .map((pair) => pair.split('=')),
    );
    expect(nextPathOf(query)).toBe('/pages/room/index?scene=s-42');
    // Decoded already (a client that decodes), it is the same path.
    expect(nextPathOf({ next: '/pages/room/index?scene=s-42' })).toBe('/pages/room/index?scene=s-42');
    for (const next of [undefined, '', 'https://evil.example/', '%E0%A4%A', '/pages/../../x'])
      expect(nextPathOf({ next })).toBe('/pages/scenes/index');
    expect(characterEditorPath({ id: 7 })).toBe('/pages/role/index?id=7');
    expect(characterEditorPath()).toBe('/pages/role/index');
  });
});
