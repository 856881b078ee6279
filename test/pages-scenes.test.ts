/**
 * @jest-environment jsdom
 */
// The scene list, the scene form and the character list in miniprogram-simulate over the real
// stores (their ports fakes answering as the database and Realtime do): every kind of last message,
// unread counts, paging, pull-to-refresh, who is here as small path-keyed setData, entering a scene,
// 转发 with the scene's path, opening a scene (and the fourth of a day), host settings, switching
// and deleting characters, and the character card.
import path from 'node:path';
import type { CharacterCard } from '../miniprogram/core/characters';
import { CharacterStore } from '../miniprogram/core/characters';
import { zh } from '../miniprogram/core/strings';
import { memoryStore } from './support/memory-store';
import type { LastMessage } from '../miniprogram/core/scenes';
import { setServicesForTest } from '../miniprogram/services';
import { FakeCharacterPort, FakePresencePort, FakeScenePort, PERSON, SOMEONE, testServices } from './support/roleplay-fakes';
import {
  loadPage,
  MINIPROGRAM_ROOT,
  pageInstance,
  recordSetData,
  simulator,
  textIdsShownBy,
  texts,
  type PageWrapper,
} from './support/simulate';

const ME = { name: '楚留香', color: '#c0392b' };
let scenes: FakeScenePort;
let presence: FakePresencePort;
let characters: FakeCharacterPort;
let device: ReturnType<typeof memoryStore>;
const renderers: Record<string, () => PageWrapper> = {};

beforeAll(() => {
  for (const name of ['scenes', 'scene-settings', 'characters'] as const) renderers[name] = loadPage(name);
});

beforeEach(() => {
  scenes = new FakeScenePort();
  presence = new FakePresencePort();
  characters = new FakeCharacterPort();
  characters.add({ name: ME.name, avatar_color: ME.color });
  device = memoryStore();
  setServicesForTest(testServices({ scenes, presence, characters, device }));
});

afterEach(() => {
  jest.restoreAllMocks();
  setServicesForTest(null);
});

const sleep = () => simulator().sleep(0);
const data = (page: PageWrapper) => pageInstance(page).data;

async function open(name: 'scenes' | 'scene-settings' | 'characters', query: Record<string, string> = {}): Promise<PageWrapper> {
  const page = renderers[name]();
  await pageInstance(page).onLoad(query);
  if (name === 'characters') await pageInstance(page).onShow();
  await sleep();
  return page;
}

async function tap(element: { dispatchEvent(name: string): void }): Promise<void> {
  element.dispatchEvent('tap');
  await sleep();
  await sleep();
}

const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

function last(fields: Partial<LastMessage>): LastMessage {
  return {
    id: 1,
    username: '令狐冲',
    kind: 'text',
    body: null,
    hidden: false,
    status: 'visible',
    created_at: minutesAgo(1),
    roll: null,
    ...fields,
  };
}

describe('the scene list', () => {
  test('first launch: with no character yet, the list sends the person to the editor and asks for no scenes', async () => {
    characters.rows = [];
    const redirect = jest.spyOn(wx, 'redirectTo');
    await open('scenes');
    expect(redirect).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/role/index?first=1' }));
    expect(scenes.count('sceneList')).toBe(0);
    expect(presence.count('join')).toBe(0);
  });

  test('the last message reads as its kind: said, done, out of character, rolled, checked, rolled in secret, an image, taken back', async () => {
    const previews: Array<[Partial<LastMessage> | null, string]> = [
      [{ body: '掌柜的，来一壶酒。\n再来一碟花生。' }, '令狐冲：掌柜的，来一壶酒。'],
      [{ kind: 'action', body: '拔剑而起' }, '令狐冲 拔剑而起'],
      [{ kind: 'ooc', body: '我先下线了' }, '令狐冲（场外）：我先下线了'],
      [{ kind: 'roll', body: '2d6+3', roll: { total: 11, outcome: null } }, '令狐冲 掷骰 2d6+3 = 11'],
      [{ kind: 'roll', body: 'd100<=60', roll: { total: 100, outcome: 'critical_failure' } }, '令狐冲 检定 d100<=60 = 100，大失败'],
      [{ kind: 'roll', body: 'd100<=60', roll: { total: 42, outcome: 'success' } }, '令狐冲 检定 d100<=60 = 42，成功'],
      [{ kind: 'roll', body: '1d20', hidden: true }, '令狐冲 掷了一次暗骰'],
      [{ kind: 'image' }, '令狐冲：[图片]'],
      [{ kind: 'text', status: 'recalled' }, '令狐冲 撤回了一条消息'],
      [{ kind: 'text', status: 'hidden' }, '令狐冲 的一条消息已被隐藏'],
      [null, '还没有人说话'],
    ];
    previews.forEach(([message], index) => scenes.add({ last_message: message && last(message) }, index));
    const page = await open('scenes');
    expect(texts(page, '.preview')).toEqual(previews.map(([, text]) => text));
  });

  test('the row: title, one-line 背景, time of the last message, unread up to 99+, badges', async () => {
    scenes.add(
      { title: '江湖客栈', topic: '选一个角色，进门聊聊。', unread: 5, last_message: last({ body: '在', created_at: minutesAgo(0) }) },
      0,
    );
    scenes.add(
      { title: '夜探蝙蝠岛', unread: 100, last_message: last({ body: '在', created_at: new Date(Date.now() - 86_400_000).toISOString() }) },
      1,
    );
    scenes.add({ title: '大漠孤烟', host: PERSON, status: 'pending' }, 2);
    scenes.add({ title: '寒江独钓', archived: true }, 3);
    scenes.add({ title: '禁地', host: PERSON, status: 'blocked' }, 4);
    const page = await open('scenes');
    expect(texts(page, '.title')).toEqual(['江湖客栈', '夜探蝙蝠岛', '大漠孤烟', '寒江独钓', '禁地']);
    expect(texts(page, '.topic')).toEqual(['选一个角色，进门聊聊。']);
    expect(texts(page, '.unread')).toEqual(['5', '99+']);
    expect(texts(page, '.badge')).toEqual(['审核中', '已归档', '未通过审核']);
    const [today, yesterday] = texts(page, '.time');
    expect(today).toMatch(/^\d\d:\d\d$/);
    expect(yesterday).toBe('昨天');
    expect(texts(page, '.me-name')).toEqual([ME.name]);
  });

  test('paging: one request per page at the bottom, and only the new rows travel to the view', async () => {
    for (let i = 0; i < 25; i++) scenes.add({ title: `第${i + 1}场` }, i);
    const page = await open('scenes');
    expect(page.querySelectorAll('.scene')).toHaveLength(20);
    expect(scenes.count('sceneList')).toBe(1);
    const calls = recordSetData(page);
    await pageInstance(page).onReachBottom();
    await sleep();
    expect(scenes.count('sceneList')).toBe(2);
    expect(texts(page, '.title').slice(-5)).toEqual(['第21场', '第22场', '第23场', '第24场', '第25场']);
    const rowKeys = calls.flatMap((call) => Object.keys(call)).filter((key) => key.startsWith('scenes'));
    expect(rowKeys).toEqual(['scenes[20]', 'scenes[21]', 'scenes[22]', 'scenes[23]', 'scenes[24]']);
    expect(texts(page, '.more')).toEqual(['没有更多场景了']);
    await pageInstance(page).onReachBottom();
    expect(scenes.count('sceneList')).toBe(2);
  });

  test('a page that fails says so at the bottom, and a tap there tries again', async () => {
    jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    for (let i = 0; i < 22; i++) scenes.add({}, i);
    const page = await open('scenes');
    scenes.failNext('sceneList');
    await pageInstance(page).onReachBottom();
    await sleep();
    expect(texts(page, '.more')).toEqual(['加载失败，点按重试']);
    expect(page.querySelectorAll('.scene')).toHaveLength(20);
    await tap(page.querySelector('.more')!);
    expect(page.querySelectorAll('.scene')).toHaveLength(22);
    expect(texts(page, '.more')).toEqual(['没有更多场景了']);
  });

  test('pull to refresh asks for the first page again and stops the spinner; so does coming back to the list', async () => {
    scenes.add({ title: '旧' }, 0);
    const stop = jest.spyOn(wx, 'stopPullDownRefresh');
    const page = await open('scenes');
    scenes.scenes[0].title = '新';
    scenes.scenes[0].unread = 3;
    await pageInstance(page).onPullDownRefresh();
    await sleep();
    expect(stop).toHaveBeenCalled();
    expect(texts(page, '.title')).toEqual(['新']);
    scenes.scenes[0].unread = 0;
    await pageInstance(page).onShow();
    await sleep();
    expect(texts(page, '.unread')).toEqual([]);
    expect(scenes.count('sceneList')).toBe(3);
  });

  test('nothing loads: the reason with a retry, which loads the list', async () => {
    jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    scenes.add({ title: '江湖客栈' }, 0);
    scenes.failNext('sceneList');
    const page = await open('scenes');
    expect(texts(page, '.notice-text')).toEqual([zh.scenesLoadFailed]);
    await tap(page.querySelector('.reload')!);
    expect(texts(page, '.title')).toEqual(['江湖客栈']);
  });

  test('who is here: one entry per person whatever their devices; each change is one setData under 200 bytes', async () => {
    for (let i = 0; i < 20; i++) scenes.add({}, i);
    const page = await open('scenes');
    expect(presence.joinedAs).toBe(PERSON);
    const calls = recordSetData(page);
    presence.emitSync({ alice: [{ scene_id: 3 }, { scene_id: 3 }], bob: [{ scene_id: 3 }], carol: [{ scene_id: 12 }] });
    await sleep();
    const heres = () => data(page).scenes.map((scene: { here: string }) => scene.here);
    expect(heres()[2]).toBe('2 人在场');
    expect(heres()[11]).toBe('1 人在场');
    expect(texts(page, '.here')).toEqual(['2 人在场', '1 人在场']);
    presence.emitSync({ alice: [{ scene_id: 3 }], bob: [{ scene_id: 3 }], carol: [{ scene_id: 12 }] });
    presence.emitSync({ bob: [{ scene_id: 3 }], carol: [{ scene_id: 12 }] });
    await sleep();
    expect(texts(page, '.here')).toEqual(['1 人在场', '1 人在场']);
    expect(calls).toEqual([{ 'scenes[2].here': '2 人在场', 'scenes[11].here': '1 人在场' }, { 'scenes[2].here': '1 人在场' }]);
    for (const call of calls) expect(Buffer.byteLength(JSON.stringify(call))).toBeLessThanOrEqual(200);
  });

  test('tapping a scene enters its room; 开新场景 opens the form; the chip opens the characters; the policy is a tap away', async () => {
    scenes.add({ slug: 'lobby', title: '江湖客栈' }, 0);
    scenes.add({ title: '夜探蝙蝠岛' }, 1);
    const navigate = jest.spyOn(wx, 'navigateTo');
    const page = await open('scenes');
    await tap(page.querySelectorAll('.scene')[1]);
    await tap(page.querySelectorAll('.scene')[0]);
    await tap(page.querySelector('.open')!);
    await tap(page.querySelector('.me')!);
    // The policy, from the first screen, as WeChat's review expects.
    await tap(page.querySelector('.policy')!.querySelector('.privacy-link')!);
    expect(navigate.mock.calls.map(([options]) => options.url)).toEqual([
      '/pages/room/index?scene=s-2',
      '/pages/room/index?scene=lobby',
      '/pages/scene-settings/index',
      '/pages/characters/index',
      '/pages/privacy/index',
    ]);
  });

  test("转发: a long press opens the scene's sheet; its share card opens the scene's room; the menu shares the list", async () => {
    scenes.add({ title: '别人的场' }, 0);
    const mine = scenes.add({ title: '我的场', host: PERSON }, 1);
    const navigate = jest.spyOn(wx, 'navigateTo');
    const page = await open('scenes');
    page.querySelectorAll('.scene')[0].dispatchEvent('longpress');
    await sleep();
    expect(texts(page, '.sheet-title')).toEqual(['别人的场']);
    expect(texts(page, '.sheet-action')).toEqual(['转发到微信群', '取消']);
    await tap(page.querySelector('.mask')!);
    expect(data(page).menu).toBeNull();

    page.querySelectorAll('.scene')[1].dispatchEvent('longpress');
    await sleep();
    expect(texts(page, '.sheet-action')).toEqual(['转发到微信群', '场景设置', '取消']);
    const share = pageInstance(page).onShareAppMessage({ from: 'button', target: { dataset: { slug: mine.slug } } });
    expect(share).toEqual({ title: '来「我的场」一起玩吧', path: `/pages/room/index?scene=${mine.slug}` });
    await sleep();
    expect(data(page).menu).toBeNull();

    page.querySelectorAll('.scene')[1].dispatchEvent('longpress');
    await sleep();
    await tap(page.querySelectorAll('.sheet-action')[1]);
    expect(navigate).toHaveBeenCalledWith(expect.objectContaining({ url: `/pages/scene-settings/index?scene=${mine.slug}` }));

    expect(pageInstance(page).onShareAppMessage({ from: 'menu' })).toEqual({ title: zh.shareAppTitle, path: '/pages/scenes/index' });
    expect(pageInstance(page).onShareTimeline()).toEqual({ title: zh.shareAppTitle });
  });

  test('the page holds only the sentences it shows', async () => {
    const page = await open('scenes');
    expect(Object.keys(data(page).t).sort()).toEqual(textIdsShownBy('pages/scenes'));
  });
});

describe('the scene form', () => {
  async function type(page: PageWrapper, selector: string, value: string): Promise<void> {
    page.querySelector(selector)!.dispatchEvent('input', { detail: { value } });
    await sleep();
  }

  test("opening a scene: the title is required, the counters count, then the new scene's room opens", async () => {
    const redirect = jest.spyOn(wx, 'redirectTo');
    const page = await open('scene-settings');
    expect(texts(page, '.problem')).toEqual([]);
    expect(texts(page, '.save')).toEqual(['开场']);
    await tap(page.querySelector('.save')!);
    expect(texts(page, '.problem')).toEqual([zh.titleEmpty]);
    expect(scenes.count('openScene')).toBe(0);
    await type(page, '.title-input', '题'.repeat(49));
    expect(texts(page, '.problem')).toEqual(['标题最多 48 字']);
    expect(texts(page, '.counter')).toEqual(['49/48', '0/500']);
    await type(page, '.title-input', '夜探蝙蝠岛');
    await type(page, '.topic-input', '月黑风高，众人登岛。');
    expect(texts(page, '.counter')).toEqual(['5/48', '10/500']);
    await tap(page.querySelector('.save')!);
    const opened = scenes.scenes[0];
    expect(opened).toMatchObject({ title: '夜探蝙蝠岛', topic: '月黑风高，众人登岛。', host: PERSON });
    expect(redirect).toHaveBeenCalledWith(expect.objectContaining({ url: `/pages/room/index?scene=${opened.slug}` }));
  });

  test("the fourth scene of a day: the database's limit as a sentence, and the form keeps what was typed", async () => {
    for (let i = 0; i < 3; i++) await scenes.openScene({ title: `第${i + 1}场`, topic: '' });
    const redirect = jest.spyOn(wx, 'redirectTo');
    const page = await open('scene-settings');
    await type(page, '.title-input', '第四场');
    await tap(page.querySelector('.save')!);
    expect(texts(page, '.problem')).toEqual(['每人每天最多开 3 个场景，明天再来吧']);
    expect(data(page)).toMatchObject({ title: '第四场', saving: false });
    expect(redirect).not.toHaveBeenCalled();
  });

  test("host settings: title and 背景 saved, archived after confirming, and shared with the scene's path", async () => {
    const scene = scenes.add({ host: PERSON, title: '旧题', topic: '旧背景' });
    const back = jest.spyOn(wx, 'navigateBack');
    const page = await open('scene-settings', { scene: scene.slug });
    expect(data(page)).toMatchObject({ title: '旧题', topic: '旧背景', isHost: true, lockedText: '' });
    expect(pageInstance(page).onShareAppMessage()).toEqual({ title: '来「旧题」一起玩吧', path: `/pages/room/index?scene=${scene.slug}` });
    await type(page, '.title-input', '新题');
    await tap(page.querySelector('.save')!);
    expect(scene).toMatchObject({ title: '新题', topic: '旧背景' });
    expect(back).toHaveBeenCalledTimes(1);

    const modal = jest.spyOn(wx, 'showModal').mockImplementation((options) => {
      options.success?.({ confirm: true, cancel: false, content: '', errMsg: 'showModal:ok' });
      return undefined as never;
    });
    await tap(page.querySelector('.archive')!);
    expect(modal).toHaveBeenCalledWith(expect.objectContaining({ title: '归档这个场景？' }));
    expect(scene.archived).toBe(true);
    expect(back).toHaveBeenCalledTimes(2);
  });

  test("someone else's scene, or an archived one: the fields are locked and say why", async () => {
    const theirs = scenes.add({ host: SOMEONE, title: '别人的' });
    const archived = scenes.add({ host: PERSON, archived: true });
    const locked = await open('scene-settings', { scene: theirs.slug });
    expect(texts(locked, '.locked')).toEqual([zh.sceneHostOnly]);
    expect(locked.querySelector('.save')).toBeUndefined();
    expect(locked.querySelector('.archive')).toBeUndefined();
    expect(texts(await open('scene-settings', { scene: archived.slug }), '.locked')).toEqual([zh.sceneArchivedNote]);
    expect(texts(await open('scene-settings', { scene: 's-404' }), '.locked')).toEqual([zh.sceneNotFound]);
  });

  test('the page holds only the sentences it shows', async () => {
    const page = await open('scene-settings');
    expect(Object.keys(data(page).t).sort()).toEqual(textIdsShownBy('pages/scene-settings'));
  });
});

describe('the character list', () => {
  test('who speaks is marked; a tap on another makes it speak, remembered on the device', async () => {
    const second = characters.add({ name: '胡铁花', note: '好酒', status: 'pending' });
    const page = await open('characters');
    expect(texts(page, '.name')).toEqual(['楚留香', '胡铁花']);
    expect(texts(page, '.tag')).toEqual(['发言中']);
    expect(texts(page, '.note')).toEqual(['还没有写人设', '好酒']);
    expect(texts(page, '.verdict')).toEqual(['审核中，通过后其他人才能看到']);
    expect(texts(page, '.count')).toEqual(['2/10 张']);
    await tap(page.querySelectorAll('.character')[1]);
    expect(data(page).characters.map((item: { speaking: boolean }) => item.speaking)).toEqual([false, true]);
    const next = new CharacterStore(characters, device);
    await next.load();
    expect(next.current()!.characterId).toBe(second.id);
  });

  test('delete asks first; the last character has no delete; ten characters leave no room for another', async () => {
    characters.add({ name: '胡铁花' });
    const navigate = jest.spyOn(wx, 'navigateTo');
    jest.spyOn(wx, 'showModal').mockImplementation((options) => {
      options.success?.({ confirm: true, cancel: false, content: '', errMsg: 'showModal:ok' });
      return undefined as never;
    });
    const page = await open('characters');
    await tap(page.querySelectorAll('.delete')[1]);
    expect(characters.rows.map((row) => row.name)).toEqual(['楚留香']);
    expect(page.querySelectorAll('.delete')).toHaveLength(0);
    await tap(page.querySelector('.action')!);
    expect(navigate).toHaveBeenLastCalledWith(expect.objectContaining({ url: `/pages/role/index?id=${characters.rows[0].id}` }));
    await tap(page.querySelector('.add')!);
    expect(navigate).toHaveBeenLastCalledWith(expect.objectContaining({ url: '/pages/role/index' }));

    for (let i = 2; i <= 10; i++) characters.add({ name: `化身${i}` });
    await pageInstance(page).onShow();
    await sleep();
    expect(texts(page, '.full')).toEqual(['人设卡最多 10 张，请先删除一张']);
    navigate.mockClear();
    await tap(page.querySelector('.add')!);
    expect(navigate).not.toHaveBeenCalled();
  });

  test('the page holds only the sentences it shows', async () => {
    const page = await open('characters');
    expect(Object.keys(data(page).t).sort()).toEqual(textIdsShownBy('pages/characters'));
  });
});

describe('the character card', () => {
  const simulate = simulator();
  const id = simulate.load(path.join(MINIPROGRAM_ROOT, 'components', 'character-card', 'index'), { rootPath: MINIPROGRAM_ROOT });

  function renderCard(card: CharacterCard | null) {
    const component = simulate.render(id, { card });
    component.attach(document.createElement('parent-wrapper'));
    return component;
  }

  test("a tapped avatar's card: portrait or initial, name and 人设; a tap outside or on 关闭 closes it", async () => {
    const store = new CharacterStore(characters, device);
    const theirs = characters.add({ owner: SOMEONE, name: '石观音', avatar_color: '#6a1b9a', note: '大漠之中\n美艳无双' });
    const card = renderCard(await store.characterCard(theirs.id));
    expect(texts(card, '.name')).toEqual(['石观音']);
    expect(texts(card, '.note')).toEqual(['大漠之中\n美艳无双']);
    expect(card.querySelector('.head >>> .avatar')!.dom!.textContent).toBe('石');
    const closed: string[] = [];
    // j-component's root component takes listeners for the events the component triggers; its typings leave that out.
    (card as unknown as { addEventListener(name: string, listener: () => void): void }).addEventListener('close', () =>
      closed.push('close'),
    );
    card.querySelector('.card')!.dispatchEvent('tap');
    card.querySelector('.close')!.dispatchEvent('tap');
    card.querySelector('.mask')!.dispatchEvent('tap');
    await sleep();
    expect(closed).toEqual(['close', 'close']);
  });

  test('nothing shows without a card; an empty 人设 says so', async () => {
    expect(renderCard(null).querySelector('.card')).toBeUndefined();
    const empty = renderCard({ id: 1, name: '无名', color: '#1f618d', initial: '无', portraitUrl: '', note: '', verdict: '' });
    expect(texts(empty, '.note')).toEqual([zh.noteEmpty]);
  });
});
