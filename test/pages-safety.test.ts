// The 管理 and 屏蔽名单 pages against the real stack: each page in miniprogram-simulate, its
// services built by the app's own code in a WeChat-like realm over wx-node (loopback HTTP,
// WebSocket and wx.login through the fake WeChat API), local-supabase with moderation on. What
// is checked is what the page shows and what the database then holds.
import type * as ServicesModule from '../miniprogram/services';
import { setSafetyServicesForTest } from '../miniprogram/services';
import { zh } from '../miniprogram/core/strings';
import { QUEUE_PAGE_SIZE } from '../miniprogram/core/moderation-desk';
import { startTestServer, superuserQuery, textMessage, wechatUser, type TestServer } from './support/server';
import { installDom, loadPage, pageInstance, simulator, texts, type PageWrapper } from './support/simulate';
import { launchWechatApp, type WechatApp } from './support/wechat-realm';
import type { PrivacyOptions } from './support/wx-node';
import { waitFor } from './support/wait';

jest.setTimeout(90000);

type Person = Awaited<ReturnType<typeof wechatUser>>;

let server: TestServer;
let roomId: number;
let renderManage: () => PageWrapper;
let renderBlocked: () => PageWrapper;
const apps: WechatApp[] = [];
const pages: PageWrapper[] = [];
const sleep = () => simulator().sleep(0);

const sql = <T extends Record<string, unknown> = Record<string, unknown>>(text: string, params: unknown[] = []) =>
  superuserQuery<T>(server.dbUrl, text, params).then((r) => r.rows);

beforeAll(async () => {
  installDom();
  renderManage = loadPage('manage');
  renderBlocked = loadPage('blocked');
  server = await startTestServer({ moderation: true });
  roomId = Number((await sql(`select id from public.rooms where slug = 'lobby'`))[0].id);
  const moderator = await wechatUser(server, { person: '版主' });
  await sql('insert into public.moderators (user_id, note) values ($1, $2)', [moderator.id, '测试版主']);
}, 60000);

afterEach(async () => {
  setSafetyServicesForTest(null);
  for (const page of pages.splice(0)) (page as unknown as { detach(): void }).detach();
  for (const app of apps.splice(0)) await app.close();
});

afterAll(() => server?.stop());

/** A phone signed into `person`'s WeChat account; its safety services go to the pages. */
function phone(person: string, privacy?: PrivacyOptions): WechatApp {
  const app = launchWechatApp(server, { wechat: { apiBase: server.wechat!.url, person }, privacy });
  const { createSafetyServices } = app.realm.require<typeof ServicesModule>('services');
  setSafetyServicesForTest(createSafetyServices(app.platform));
  apps.push(app);
  return app;
}

async function open(render: () => PageWrapper): Promise<PageWrapper> {
  const page = render();
  pages.push(page);
  await pageInstance(page).onLoad({});
  await sleep();
  return page;
}

/** Opens a page whose loading waits for the person (a consent sheet): onLoad is left running. */
function openWaiting(render: () => PageWrapper): PageWrapper {
  const page = render();
  pages.push(page);
  void pageInstance(page).onLoad({});
  return page;
}

async function tap(element: { dispatchEvent(name: string, options?: object): void } | undefined): Promise<void> {
  if (!element) throw new Error('nothing to tap');
  element.dispatchEvent('tap');
  await sleep();
}

async function send(person: Person, body: string): Promise<number> {
  const { data, error } = await person.sb.from('messages').insert(textMessage(roomId, { body })).select().single();
  if (error) throw new Error(`${error.code}: ${error.message}`);
  return (data as { id: number }).id;
}

async function statusOf(id: number): Promise<string> {
  return String((await sql('select status from public.messages where id = $1', [id]))[0].status);
}

async function settled(id: number, status: string): Promise<number> {
  await waitFor(`message ${id} ${status}`, async () => (await statusOf(id)) === status, 30000);
  return id;
}

/** What the page shows of the message `id`. */
function entry(page: PageWrapper, id: number): Record<string, unknown> | undefined {
  return (pageInstance(page).data.items as Array<Record<string, unknown>>).find((item) => item.id === id);
}

function button(page: PageWrapper, id: number, kind: string) {
  return page.querySelector(`#entry-${id} .${kind}`);
}

let authors = 0;
/** A fresh author each time: the database allows each person 10 messages in 10 seconds. */
const newAuthor = () => wechatUser(server, { person: `作者${++authors}` });

describe('管理', () => {
  test('someone who is not a moderator reads why not, and the database refuses their actions', async () => {
    const author = await newAuthor();
    const id = await settled(await send(author, '待审测试词：路人不能管'), 'held');
    const app = phone('路人');
    const page = await open(renderManage);
    await waitFor('the refusal', () => texts(page, '.notice-text')[0] === zh.deskNotModerator);
    expect(page.querySelector('.entry')).toBeUndefined();
    // The same person calling the action anyway: 403 from the database, said as a sentence.
    const { createSafetyServices } = app.realm.require<typeof ServicesModule>('services');
    const desk = createSafetyServices(app.platform).desk();
    expect(await desk.hide(id)).toMatchObject({ ok: false, message: zh.deskNotModerator });
    expect(await desk.ban(id, '越权')).toMatchObject({ ok: false, message: zh.deskNotModerator });
    expect(await statusOf(id)).toBe('held');
    expect(await sql('select * from public.bans')).toEqual([]);
  });

  test('held and reported messages show with their reports, content and state', async () => {
    const author = await newAuthor();
    const held = await settled(await send(author, '待审测试词：请版主看看'), 'held');
    const reported = await settled(await send(author, '有人举报的话'), 'visible');
    const reporters = await Promise.all(['举报甲', '举报乙', '举报丙'].map((person) => wechatUser(server, { person })));
    const hidden = await settled(await send(author, '三人举报就隐藏'), 'visible');
    for (const [i, reporter] of reporters.entries()) {
      expect((await reporter.sb.from('reports').insert({ message_id: hidden, reason: i === 0 ? 'abuse' : 'spam' })).error).toBeNull();
    }
    expect((await reporters[0].sb.from('reports').insert({ message_id: reported, reason: 'sexual' })).error).toBeNull();
    await settled(hidden, 'hidden');

    phone('版主');
    const page = await open(renderManage);
    await waitFor('the queue', () => entry(page, hidden));
    expect(entry(page, held)).toMatchObject({ statusText: '待审核', text: '待审测试词：请版主看看', reportsText: '', banned: false });
    expect(entry(page, reported)).toMatchObject({ statusText: '显示中', reportsText: '被举报 1 次：色情低俗 1', restoreText: '驳回举报' });
    // Withheld from everyone else, shown to the moderator.
    expect(entry(page, hidden)).toMatchObject({
      statusText: '已隐藏',
      text: '三人举报就隐藏',
      reportsText: '被举报 3 次：广告或刷屏 2 · 辱骂或人身攻击 1',
    });
    expect(entry(page, hidden)!.openid).toBe(server.wechat!.openidOf(author.person));
    const order = (pageInstance(page).data.items as Array<{ id: number }>).map((item) => item.id);
    expect(order).toEqual([...order].sort((a, b) => b - a));
  });

  test('隐藏 hides a reported message from everyone', async () => {
    const author = await newAuthor();
    const reader = await wechatUser(server, { person: '读者' });
    const id = await settled(await send(author, '版主要隐藏的话'), 'visible');
    expect((await reader.sb.from('reports').insert({ message_id: id, reason: 'abuse' })).error).toBeNull();
    phone('版主');
    const page = await open(renderManage);
    await waitFor('the entry', () => entry(page, id));
    await tap(button(page, id, 'hide'));
    await waitFor('the note', () => entry(page, id)?.note === zh.deskHidden);
    expect(entry(page, id)).toMatchObject({ statusText: '已隐藏', canHide: false, restoreText: '恢复显示' });
    expect(await statusOf(id)).toBe('hidden');
    const { data } = await reader.sb.from('messages').select('status, body').eq('id', id);
    expect(data).toEqual([{ status: 'hidden', body: null }]);
  });

  test('恢复显示 shows a held message to everyone', async () => {
    const author = await newAuthor();
    const reader = await wechatUser(server, { person: '读者' });
    const id = await settled(await send(author, '待审测试词：其实没问题'), 'held');
    phone('版主');
    const page = await open(renderManage);
    await waitFor('the entry', () => entry(page, id));
    await tap(button(page, id, 'restore'));
    await waitFor('the note', () => entry(page, id)?.note === zh.deskRestored);
    expect(await statusOf(id)).toBe('visible');
    const { data } = await reader.sb.from('messages').select('body').eq('id', id);
    expect(data).toEqual([{ body: '待审测试词：其实没问题' }]);
  });

  test('封禁 needs a reason, then bans the author by WeChat identity; 解封 lets them post again', async () => {
    const author = await newAuthor();
    const id = await settled(await send(author, '待审测试词：广告广告'), 'held');
    const openid = server.wechat!.openidOf(author.person);
    phone('版主');
    const page = await open(renderManage);
    await waitFor('the entry', () => entry(page, id));

    await tap(button(page, id, 'ban'));
    await tap(page.querySelector(`#entry-${id} .confirm`));
    await waitFor('the reason asked for', () => pageInstance(page).data.banProblem === zh.banReasonEmpty);
    expect(await sql('select * from public.bans')).toEqual([]);

    page.querySelector('.ban-reason')!.dispatchEvent('input', { detail: { value: '多次发布广告' } });
    await sleep();
    await tap(page.querySelector(`#entry-${id} .confirm`));
    await waitFor('banned on the page', () => entry(page, id)?.banned === true);
    expect(entry(page, id)!.note).toBe(`已封禁「${entry(page, id)!.name}」`);
    expect(texts(page, `#entry-${id} .banned`)).toEqual([zh.manageAuthorBanned]);
    expect(await sql('select openid, reason from public.bans')).toEqual([{ openid, reason: '多次发布广告' }]);
    const refused = await author.sb.from('messages').insert(textMessage(roomId, { body: '还想说' }));
    expect(refused.error).toMatchObject({ code: 'RCBAN' });

    // The bans tab lists the ban; 解封 there lifts it.
    await tap(page.querySelectorAll('.tab')[1]);
    expect(texts(page, '.openid')).toEqual([openid]);
    expect(texts(page, '.ban-row .since')[0]).toContain('多次发布广告');
    await tap(page.querySelector('.ban-row .unban'));
    await waitFor('the ban gone from the list', () => texts(page, '.openid').length === 0);
    expect(texts(page, '.notice')).toEqual([zh.manageBansEmpty]);
    expect(await sql('select * from public.bans')).toEqual([]);
    expect(entry(page, id)!.banned).toBe(false);
    await send(author, '解封之后可以说话了');
  });

  test('解封 on the entry lifts the ban too', async () => {
    const author = await newAuthor();
    const id = await settled(await send(author, '待审测试词：再犯'), 'held');
    const moderator = await wechatUser(server, { person: '版主' });
    expect((await moderator.sb.rpc('ban_author', { message: id, reason: '再犯' })).error).toBeNull();
    phone('版主');
    const page = await open(renderManage);
    await waitFor('the entry, banned', () => entry(page, id)?.banned === true);
    await tap(button(page, id, 'unban'));
    await waitFor('unbanned on the page', () => entry(page, id)?.banned === false);
    expect(entry(page, id)!.note).toBe(zh.deskUnbanned);
    expect(await sql('select * from public.bans where openid = $1', [server.wechat!.openidOf(author.person)])).toEqual([]);
  });

  test('复制 openid puts the author’s openid on the clipboard', async () => {
    const author = await newAuthor();
    const id = await settled(await send(author, '待审测试词：谁发的'), 'held');
    const app = phone('版主');
    const page = await open(renderManage);
    await waitFor('the entry', () => entry(page, id));
    await tap(button(page, id, 'copy'));
    await waitFor('copied', () => app.nodeWx.clipboard() === server.wechat!.openidOf(author.person));
  });

  test('加载更多 pages with before_id until the queue ends, showing each message once', async () => {
    // More held messages than a page: inserted with moderation off (landing visible), then held.
    const people = await Promise.all([1, 2, 3].map(() => newAuthor()));
    const ids: number[] = [];
    await sql('update private.moderation_settings set enabled = false');
    try {
      for (const person of people) for (let n = 0; n < 8; n++) ids.push(await send(person, `翻页 ${n}`));
    } finally {
      await sql('update private.moderation_settings set enabled = true');
    }
    await sql(`update public.messages set status = 'held' where id = any($1)`, [ids]);
    const queued = (
      await sql<{ n: string }>(`select count(*) as n from public.messages m
      where m.status in ('held', 'hidden') or exists (select 1 from public.reports r where r.message_id = m.id and not r.resolved)`)
    )[0].n;

    phone('版主');
    const page = await open(renderManage);
    await waitFor('the first page', () => (pageInstance(page).data.items as unknown[]).length === QUEUE_PAGE_SIZE);
    expect(pageInstance(page).data.hasMore).toBe(true);
    while (pageInstance(page).data.hasMore) {
      const before = (pageInstance(page).data.items as unknown[]).length;
      await tap(page.querySelector('.load-more'));
      await waitFor(
        'the next page',
        () => (pageInstance(page).data.items as unknown[]).length > before || !pageInstance(page).data.hasMore,
      );
    }
    const shown = (pageInstance(page).data.items as Array<{ id: number }>).map((item) => item.id);
    expect(shown).toHaveLength(Number(queued));
    expect(new Set(shown).size).toBe(shown.length);
    expect(shown).toEqual([...shown].sort((a, b) => b - a));
    for (const id of ids) expect(shown).toContain(id);
    expect(texts(page, '.more')).toEqual([zh.manageNoMore]);
  });

  test('a login refused for privacy says what to do; retrying asks again, and agreeing opens the desk', async () => {
    const app = phone('版主-新手机', { agreed: false, guarded: ['chooseMedia', 'setClipboardData', 'login'] });
    const moderator = await wechatUser(server, { person: '版主-新手机' });
    await sql('insert into public.moderators (user_id) values ($1)', [moderator.id]);
    const page = openWaiting(renderManage);
    const sheet = () => page.querySelector('.consent-sheet')!;
    await waitFor('the consent sheet', () => sheet().querySelector('.sheet') !== undefined);
    expect(app.nodeWx.privacy.pending()).toEqual(['login']);
    await tap(sheet().querySelector('.disagree'));
    await waitFor('the sentence', () => texts(page, '.notice-text')[0] === zh.loginPrivacyDenied);
    expect(app.nodeWx.privacy.pending()).toEqual([]);

    await tap(page.querySelector('.retry'));
    await waitFor('the sheet again', () => sheet().querySelector('.sheet') !== undefined);
    const agree = sheet().querySelector('.agree')!;
    app.nodeWx.privacy.tapAgreeButton((agree as unknown as { _exparserNode: { id: string } })._exparserNode.id);
    agree.dispatchEvent('agreeprivacyauthorization');
    await waitFor('the desk open', () => pageInstance(page).data.ready === true);
    expect(texts(page, '.notice-text')).toEqual([]);
  });
});

describe('屏蔽名单', () => {
  test('block → listed → unblock → gone, and the blocked person’s messages follow', async () => {
    const other = await newAuthor();
    const id = await settled(await send(other, '你会屏蔽我吗'), 'visible');
    phone('屏蔽者');
    const { getSafetyServices } = jest.requireActual<typeof ServicesModule>('../miniprogram/services');
    // The room's long-press 屏蔽 calls this with the name shown on the message.
    expect(await getSafetyServices().blocks.block(other.id, '讨厌的人')).toEqual({
      ok: true,
      message: '已屏蔽「讨厌的人」，TA 的消息不再显示',
    });
    const me = await wechatUser(server, { person: '屏蔽者' });
    expect((await me.sb.from('messages').select('id').eq('id', id)).data).toEqual([]);

    const page = await open(renderBlocked);
    await waitFor('the list', () => texts(page, '.name').length === 1);
    expect(texts(page, '.name')).toEqual(['讨厌的人']);
    expect(texts(page, '.since')[0]).toBe('今天屏蔽');
    await tap(page.querySelector('.unblock'));
    await waitFor('gone from the list', () => texts(page, '.name').length === 0);
    expect(texts(page, '.notice')).toEqual([zh.blockedEmpty]);
    expect(await sql('select * from public.blocks where blocked = $1', [other.id])).toEqual([]);
    expect((await me.sb.from('messages').select('id').eq('id', id)).data).toEqual([{ id }]);
  });

  test('a list that cannot load says so and loads on 重新加载', async () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const app = phone('离线者');
    app.nodeWx.setOffline(true);
    const page = await open(renderBlocked);
    await waitFor('the failure', () => texts(page, '.notice-text')[0] === zh.connectFailed);
    app.nodeWx.setOffline(false);
    await tap(page.querySelector('.reload'));
    await waitFor('the empty list', () => texts(page, '.notice')[0] === zh.blockedEmpty);
    expect(warn).toHaveBeenCalledWith('loading the block list failed', expect.objectContaining({ code: 'wx_login_failed' }));
    warn.mockRestore();
  });
});
