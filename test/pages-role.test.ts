// The character editor in miniprogram-simulate over the real CharacterStore (its port a fake that
// answers as the database does): first launch creates the first character and goes on, live
// validation with the core's rules, the tenth character as the last, the portrait picked, cropped
// and shrunk by the platform's own code over the wx fake (chooseMedia, cropImage, compressImage on
// real files), content security's state after saving, and refusals as sentences.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CharacterStore } from '../miniprogram/core/characters';
import { zh } from '../miniprogram/core/strings';
import { memoryStore } from './support/memory-store';
import { PALETTE } from '../miniprogram/core/profile';
import { pickPortrait } from '../miniprogram/platform/images';
import { setSafetyServicesForTest, setServicesForTest } from '../miniprogram/services';
import { gradientPng, readImageHeader } from './support/png';
import { FakeCharacterPort, PERSON, testServices, type TestServicesOptions } from './support/roleplay-fakes';
import { fakeSafetyServices } from './support/safety-fakes';
import { installDom, loadPage, pageInstance, simulator, textIdsShownBy, texts, type PageWrapper } from './support/simulate';
import { waitFor } from './support/wait';
import { createNodeWx, type NodeWx } from './support/wx-node';

let render: () => PageWrapper;
let port: FakeCharacterPort;
let device: ReturnType<typeof memoryStore>;

beforeAll(() => {
  // A Node environment with a DOM (not jest's jsdom one): the wx fake needs Node's timers.
  installDom();
  render = loadPage('role');
});

function useServices(options: TestServicesOptions = {}): void {
  setServicesForTest(testServices({ characters: port, device, ...options }));
}

beforeEach(() => {
  port = new FakeCharacterPort();
  device = memoryStore();
  useServices();
  // The page places the consent sheet, which reads the safety services as it attaches.
  setSafetyServicesForTest(fakeSafetyServices());
});

afterEach(() => {
  jest.restoreAllMocks();
  setServicesForTest(null);
  setSafetyServicesForTest(null);
});

const sleep = () => simulator().sleep(0);

async function openEditor(query: Record<string, string> = {}): Promise<PageWrapper> {
  const page = render();
  await pageInstance(page).onLoad(query);
  await sleep();
  return page;
}

async function type(page: PageWrapper, selector: string, value: string): Promise<void> {
  page.querySelector(selector)!.dispatchEvent('input', { detail: { value } });
  await sleep();
}

async function tap(page: PageWrapper, selector: string): Promise<void> {
  page.querySelector(selector)!.dispatchEvent('tap');
  await sleep();
  await sleep();
}

const data = (page: PageWrapper) => pageInstance(page).data;

/** What the next launch reads from this device and the backend. */
async function reloaded(): Promise<CharacterStore> {
  const store = new CharacterStore(port, device);
  await store.load();
  return store;
}

test('first launch offers a valid random character, a palette of readable colours and a live preview', async () => {
  const page = await openEditor({ first: '1' });
  const { name, color } = data(page);
  expect(name.length).toBeGreaterThan(0);
  expect(PALETTE).toContain(color);
  expect(data(page).blocked).toBe(false);
  expect(page.querySelectorAll('.swatch').length).toBeGreaterThanOrEqual(12);
  expect(texts(page, '.sample-name')).toEqual([name]);
  expect(page.querySelector('.preview >>> .avatar')!.dom!.textContent).toBe([...name][0]);
  expect(texts(page, '.save')).toEqual(['开始']);
  expect(texts(page, '.counter')).toEqual(['0/300']);
});

test('first launch: the first character is created through the store, then the person goes where they were going', async () => {
  const redirect = jest.spyOn(wx, 'redirectTo');
  const page = await openEditor({ first: '1', next: encodeURIComponent('/pages/room/index?scene=s-5') });
  await type(page, '.name-input', '小李飞刀');
  await type(page, '.note-input', '例不虚发');
  page.querySelectorAll('.swatch')[2].dispatchEvent('tap');
  await tap(page, '.save');
  expect(redirect).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/room/index?scene=s-5' }));
  expect(port.rows).toEqual([expect.objectContaining({ owner: PERSON, name: '小李飞刀', avatar_color: PALETTE[2], note: '例不虚发' })]);
  expect((await reloaded()).current()).toMatchObject({ name: '小李飞刀', color: PALETTE[2] });
});

test('first launch without a `next` goes to the scene list; with characters already (another phone) it goes on at once', async () => {
  const redirect = jest.spyOn(wx, 'redirectTo');
  const page = await openEditor({ first: '1', next: encodeURIComponent('https://evil.example/') });
  await tap(page, '.save');
  expect(redirect).toHaveBeenLastCalledWith(expect.objectContaining({ url: '/pages/scenes/index' }));
  expect(port.rows).toHaveLength(1);

  useServices();
  await openEditor({ first: '1' });
  expect(redirect).toHaveBeenCalledTimes(2);
  expect(port.rows).toHaveLength(1);
});

test('the name and the 人设 note are checked as they are typed, with the reason under the field', async () => {
  const page = await openEditor({ first: '1' });
  const cases: Array<[string, string]> = [
    ['', '请输入角色名'],
    ['   ', '请输入角色名'],
    [' 小李飞刀', '角色名首尾不能有空格'],
    ['一二三四五六七八九十一二三四五六七八九十一二三四五', '角色名最多 24 个字'],
    ['令狐\u200b冲', '角色名不能包含不可见字符'],
  ];
  for (const [name, reason] of cases) {
    await type(page, '.name-input', name);
    expect(texts(page, '.problem')).toEqual([reason]);
    expect(data(page).blocked).toBe(true);
  }
  await type(page, '.name-input', '一二三四五六七八九十一二三四五六七八九十一二三四');
  expect(texts(page, '.problem')).toEqual([]);
  expect(data(page).blocked).toBe(false);

  await type(page, '.note-input', '注'.repeat(301));
  expect(texts(page, '.problem')).toEqual(['人设最多 300 字']);
  expect(texts(page, '.counter')).toEqual(['301/300']);
  expect(data(page).blocked).toBe(true);
  await tap(page, '.save');
  expect(port.count('saveCharacter')).toBe(0);
  await type(page, '.note-input', '🐉'.repeat(300));
  expect(texts(page, '.counter')).toEqual(['300/300']);
  expect(data(page).blocked).toBe(false);
});

test('随机 replaces the name with a new valid one; a swatch picks the colour', async () => {
  const page = await openEditor({ first: '1' });
  await type(page, '.name-input', '');
  await tap(page, '.random');
  expect(data(page).name).not.toBe('');
  expect(texts(page, '.problem')).toEqual([]);
  const swatch = page.querySelectorAll('.swatch')[5];
  swatch.dispatchEvent('tap');
  await sleep();
  expect(data(page).color).toBe(PALETTE[5]);
  expect(swatch.dom!.className).toContain('picked');
  expect(page.querySelector('.preview >>> .avatar')!.dom!.getAttribute('style')).toContain(`background: ${PALETTE[5]}`);
});

test("the tenth character is saved; the eleventh shows the database's limit as a sentence and stays", async () => {
  for (let i = 1; i <= 9; i++) port.add({ name: `化身${i}` });
  const back = jest.spyOn(wx, 'navigateBack');
  const tenth = await openEditor();
  expect(texts(tenth, '.save')).toEqual(['保存人设卡']);
  await type(tenth, '.name-input', '第十个');
  await tap(tenth, '.save');
  expect(back).toHaveBeenCalledTimes(1);
  // The new one speaks from now on.
  expect((await reloaded()).current()).toMatchObject({ name: '第十个' });

  const eleventh = await openEditor();
  await type(eleventh, '.name-input', '第十一个');
  await tap(eleventh, '.save');
  expect(texts(eleventh, '.save-problem')).toEqual(['人设卡最多 10 张，请先删除一张']);
  expect(back).toHaveBeenCalledTimes(1);
  expect(port.rows).toHaveLength(10);
  expect(data(eleventh)).toMatchObject({ saving: false, blocked: false });
});

test('editing starts from the character and keeps its id; a network failure says so and keeps the edit', async () => {
  const row = port.add({ name: '楚留香', avatar_color: PALETTE[1], note: '盗帅' });
  const back = jest.spyOn(wx, 'navigateBack');
  const page = await openEditor({ id: String(row.id) });
  expect(data(page)).toMatchObject({ name: '楚留香', color: PALETTE[1], note: '盗帅', editing: true, firstLaunch: false });
  expect(texts(page, '.note')).toEqual(['更换角色只影响之后发送的消息']);
  await type(page, '.name-input', '花满楼');
  port.failNext('saveCharacter');
  await tap(page, '.save');
  expect(texts(page, '.save-problem')).toEqual([zh.networkFailed]);
  expect(back).not.toHaveBeenCalled();
  await tap(page, '.save');
  expect(back).toHaveBeenCalled();
  expect(port.rows).toEqual([expect.objectContaining({ id: row.id, name: '花满楼', note: '盗帅' })]);
});

test('after saving, a character content security has not passed shows its state until the person goes on', async () => {
  port.savedStatus = 'pending';
  const redirect = jest.spyOn(wx, 'redirectTo');
  const page = await openEditor({ first: '1' });
  await tap(page, '.save');
  expect(texts(page, '.verdict')).toEqual(['审核中，通过后其他人才能看到']);
  expect(texts(page, '.save')).toEqual(['继续']);
  expect(redirect).not.toHaveBeenCalled();
  await tap(page, '.save');
  expect(redirect).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/scenes/index' }));
  expect(port.rows).toHaveLength(1);
});

test("a blocked character shows what content security found, with the label's meaning", async () => {
  const row = port.add({ name: '恶人', status: 'blocked', label: 20003 });
  const page = await openEditor({ id: String(row.id) });
  expect(texts(page, '.verdict')).toEqual(['未通过审核：含辱骂内容']);
});

describe('the portrait, through the platform and the wx fake', () => {
  let nodeWx: NodeWx;
  let restore: () => void;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pages-role-'));
  const photo = path.join(dir, 'photo.png');
  /** Every pick the page started, to wait for each to end (picked, cancelled or failed). */
  const picks: Array<Promise<unknown> | undefined> = [];
  const picked = async (n: number) => {
    // Wrapped: waitFor would wait for the pick itself, not for it to start.
    const { pick } = await waitFor(`pick ${n + 1} to start`, () => picks[n] && { pick: picks[n]! });
    await pick.catch(() => undefined);
    await sleep();
  };

  beforeAll(() => fs.writeFileSync(photo, gradientPng(720, 540)));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  beforeEach(() => {
    nodeWx = createNodeWx();
    // A phone's media and files; simulate's wx for the rest of the page (navigation, toasts).
    const media = nodeWx.wx as unknown as Record<string, unknown>;
    const phone = { ...(wx as unknown as Record<string, unknown>) };
    for (const name of ['chooseMedia', 'cropImage', 'compressImage', 'getImageInfo', 'getFileSystemManager']) phone[name] = media[name];
    const global = globalThis as unknown as { wx: unknown };
    const before = global.wx;
    global.wx = phone;
    restore = () => {
      global.wx = before;
    };
    picks.length = 0;
    useServices({
      pickPortrait: () => {
        const pick = pickPortrait();
        picks.push(pick);
        return pick;
      },
    });
  });

  afterEach(() => {
    restore();
    nodeWx.close();
  });

  async function pickedPage(): Promise<PageWrapper> {
    const page = await openEditor({ first: '1' });
    nodeWx.chooseNext([photo]);
    page.querySelector('.portrait-pick')!.dispatchEvent('tap');
    await waitFor('the portrait to show', () => data(page).portrait, 5000);
    return page;
  }

  test("picked, cropped square (540 × 540) and shrunk to 480 px, shown, then uploaded into the person's folder on save", async () => {
    const page = await pickedPage();
    const shown = data(page).portrait as string;
    expect(shown).toMatch(/^wxfile:\/\/store\//);
    const file = readImageHeader(fs.readFileSync(nodeWx.realPath(shown)));
    expect(file).toMatchObject({ type: 'png', width: 480, height: 480 });
    expect(page.querySelector('.preview >>> .portrait')).toBeTruthy();
    expect(texts(page, '.portrait-hint')).toEqual(['更换头像']);

    await tap(page, '.save');
    const [[storagePath, image]] = [...port.uploads];
    expect(storagePath).toMatch(new RegExp(`^${PERSON}/portraits/[0-9a-f-]{36}\\.png$`));
    expect(image).toMatchObject({ path: shown, width: 480, height: 480, mime: 'image/png' });
    expect(port.rows[0].portrait_path).toBe(storagePath);
  });

  test('cancelling the picker or the cropper changes nothing; 去掉头像 removes a picked one', async () => {
    const page = await openEditor({ first: '1' });
    page.querySelector('.portrait-pick')!.dispatchEvent('tap');
    await picked(0);
    expect(data(page).portrait).toBe('');
    nodeWx.chooseNext([photo]);
    nodeWx.cancelNextCrop();
    page.querySelector('.portrait-pick')!.dispatchEvent('tap');
    await picked(1);
    expect(picks).toHaveLength(2);
    expect(data(page).portrait).toBe('');
    expect(texts(page, '.portrait-hint')).toEqual(['添加头像']);

    const withPortrait = await pickedPage();
    await tap(withPortrait, '.portrait-remove');
    expect(data(withPortrait).portrait).toBe('');
    await tap(withPortrait, '.save');
    expect(port.uploads.size).toBe(0);
    expect(port.rows[0].portrait_path).toBeNull();
  });

  test('an image the phone cannot read is reported in Chinese', async () => {
    const toast = jest.spyOn(wx, 'showToast');
    jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const broken = path.join(dir, 'broken.png');
    fs.writeFileSync(broken, 'not an image');
    const page = await openEditor({ first: '1' });
    nodeWx.chooseNext([broken]);
    page.querySelector('.portrait-pick')!.dispatchEvent('tap');
    await picked(0);
    await waitFor('the toast', () => toast.mock.calls.length > 0);
    expect(toast).toHaveBeenCalledWith(expect.objectContaining({ title: zh.pickImageFailed }));
    expect(data(page).portrait).toBe('');
  });
});

test('the page holds only the sentences it shows, not the whole message table', async () => {
  const page = await openEditor({ first: '1' });
  expect(Object.keys(data(page).t).sort()).toEqual(textIdsShownBy('pages/role'));
});
