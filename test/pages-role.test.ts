/**
 * @jest-environment jsdom
 */
// The role page in miniprogram-simulate over the real ProfileStore: live validation with the
// core's rules, the random name, the palette, the preview, and the role remembered on the device.
import { PALETTE, ProfileStore } from '../miniprogram/core/profile';
import { memoryStore } from '../miniprogram/core/ports';
import { setServicesForTest } from '../miniprogram/services';
import { FakeRoom, loadPage, pageInstance, simulator, textIdsShownBy, texts, type PageWrapper } from './support/simulate';

let render: () => PageWrapper;
let device: ReturnType<typeof memoryStore>;

beforeAll(() => {
  render = loadPage('role');
});

beforeEach(() => {
  device = memoryStore();
  setServicesForTest({ profiles: new ProfileStore(device), room: () => new FakeRoom(), pickImage: async () => null });
});

afterEach(() => {
  jest.restoreAllMocks();
  setServicesForTest(null);
});

const sleep = () => simulator().sleep(0);

async function openRole(query: Record<string, string> = {}): Promise<PageWrapper> {
  const page = render();
  await pageInstance(page).onLoad(query);
  await sleep();
  return page;
}

async function typeName(page: PageWrapper, value: string): Promise<void> {
  page.querySelector('.name-input')!.dispatchEvent('input', { detail: { value } });
  await sleep();
}

function saveDisabled(page: PageWrapper): boolean {
  return !!pageInstance(page).data.problem;
}

test('first launch offers a valid random role, a palette of readable colours and a live preview', async () => {
  const page = await openRole({ first: '1' });
  const { name, color } = pageInstance(page).data;
  expect(name.length).toBeGreaterThan(0);
  expect(PALETTE).toContain(color);
  expect(saveDisabled(page)).toBe(false);
  expect(page.querySelectorAll('.swatch').length).toBeGreaterThanOrEqual(12);
  expect(texts(page, '.sample-name')).toEqual([name]);
  expect(page.querySelector('.preview >>> .avatar')!.dom!.textContent).toBe([...name][0]);
  expect(texts(page, '.save')).toEqual(['进入聊天室']);
});

test('the name is checked as it is typed, with the reason under the field', async () => {
  const page = await openRole({ first: '1' });
  const cases: Array<[string, string]> = [
    ['', '请输入角色名'],
    ['   ', '请输入角色名'],
    [' 小李飞刀', '角色名首尾不能有空格'],
    ['一二三四五六七八九十一二三四五六七八九十一二三四五', '角色名最多 24 个字'],
    ['令狐\u200b冲', '角色名不能包含不可见字符'],
  ];
  for (const [name, reason] of cases) {
    await typeName(page, name);
    expect(texts(page, '.problem')).toEqual([reason]);
    expect(saveDisabled(page)).toBe(true);
  }
  await typeName(page, '一二三四五六七八九十一二三四五六七八九十一二三四');
  expect(texts(page, '.problem')).toEqual([]);
  expect(texts(page, '.sample-name')).toEqual(['一二三四五六七八九十一二三四五六七八九十一二三四']);
  expect(saveDisabled(page)).toBe(false);
});

test('随机 replaces the name with a new valid one; a swatch picks the colour', async () => {
  const page = await openRole({ first: '1' });
  await typeName(page, '');
  page.querySelector('.random')!.dispatchEvent('tap');
  await sleep();
  expect(pageInstance(page).data.name).not.toBe('');
  expect(texts(page, '.problem')).toEqual([]);

  const swatch = page.querySelectorAll('.swatch')[5];
  swatch.dispatchEvent('tap');
  await sleep();
  expect(pageInstance(page).data.color).toBe(PALETTE[5]);
  expect(swatch.dom!.className).toContain('picked');
  expect(page.querySelector('.preview >>> .avatar')!.dom!.getAttribute('style')).toContain(`background: ${PALETTE[5]}`);
});

test('saving remembers the role on the device and enters the room', async () => {
  const redirect = jest.spyOn(wx, 'redirectTo');
  const page = await openRole({ first: '1' });
  await typeName(page, '小李飞刀');
  page.querySelectorAll('.swatch')[2].dispatchEvent('tap');
  await sleep();
  page.querySelector('.save')!.dispatchEvent('tap');
  await sleep();
  expect(redirect).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/room/index' }));
  // A fresh store over the same device storage: what the next launch reads.
  expect(await new ProfileStore(device).load()).toEqual({ name: '小李飞刀', color: PALETTE[2] });
});

test('changing role later starts from the saved one and goes back to the room', async () => {
  await new ProfileStore(device).save({ name: '楚留香', color: PALETTE[1] });
  const back = jest.spyOn(wx, 'navigateBack');
  const page = await openRole();
  expect(pageInstance(page).data).toMatchObject({ name: '楚留香', color: PALETTE[1], firstLaunch: false });
  expect(texts(page, '.save')).toEqual(['保存角色']);
  await typeName(page, '花满楼');
  page.querySelector('.save')!.dispatchEvent('tap');
  await sleep();
  expect(back).toHaveBeenCalled();
  expect(await new ProfileStore(device).load()).toEqual({ name: '花满楼', color: PALETTE[1] });
});

test('an invalid name is never saved', async () => {
  await new ProfileStore(device).save({ name: '楚留香', color: PALETTE[1] });
  const back = jest.spyOn(wx, 'navigateBack');
  const page = await openRole();
  await typeName(page, '楚留香 ');
  page.querySelector('.save')!.dispatchEvent('tap');
  await sleep();
  expect(back).not.toHaveBeenCalled();
  expect(await new ProfileStore(device).load()).toEqual({ name: '楚留香', color: PALETTE[1] });
});

test('a role that cannot be stored (device storage full) shows the reason and stays on the page', async () => {
  const full = memoryStore();
  full.set = () => {
    throw new Error('setStorageSync:fail exceed storage max size 10M');
  };
  setServicesForTest({ profiles: new ProfileStore(full), room: () => new FakeRoom(), pickImage: async () => null });
  const redirect = jest.spyOn(wx, 'redirectTo');
  const page = await openRole({ first: '1' });
  page.querySelector('.save')!.dispatchEvent('tap');
  await sleep();
  expect(redirect).not.toHaveBeenCalled();
  expect(texts(page, '.problem')).toEqual(['保存失败，请检查手机存储空间']);
});

test('each colour swatch has a whole-sentence label from the message table', async () => {
  const page = await openRole({ first: '1' });
  // miniprogram-simulate drops aria-* attributes, so the render data the WXML binds is checked.
  expect(pageInstance(page).data.swatchLabels[2]).toBe('头像颜色 3');
});

test('the page holds only the sentences it shows, not the whole message table', async () => {
  const page = await openRole({ first: '1' });
  expect(Object.keys(pageInstance(page).data.t).sort()).toEqual(textIdsShownBy('pages/role'));
});
