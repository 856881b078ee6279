// The role-play room's rules, in the database where a hostile client cannot get around them:
// characters, dice the database rolls, hidden rolls, scenes and their hosts, unread counts, replies.
import { randomUUID } from 'node:crypto';
import { DICE_CASES } from './support/dice-cases';
import { diceProblem, MAX_EXPRESSION } from '../miniprogram/core/dice';
import { subscribeChanges } from './support/realtime';
import { startTestServer, superuserQuery, textMessage, wechatUser, type TestServer } from './support/server';
import { sleep, waitFor } from './support/wait';
import type { Row } from './support/row';

jest.setTimeout(60000);

let server: TestServer;
let lobby: number;
let people = 0;

const sql = <T extends Record<string, unknown> = Row>(text: string, params: unknown[] = []) =>
  superuserQuery<T>(server.dbUrl, text, params).then((r) => r.rows);

/** A new person with one character, as first launch leaves them. */
async function player(name = `玩家${++people}`) {
  const person = await wechatUser(server, { person: `${name}-${randomUUID().slice(0, 6)}` });
  const { data, error } = await person.sb.rpc('save_character', { character_id: null, name, avatar_color: '#e4572e', note: '' });
  if (error) throw new Error(error.message);
  return { ...person, character: data as Row };
}
type Player = Awaited<ReturnType<typeof player>>;

async function say(who: Player, room: number, fields: Record<string, unknown> = {}) {
  return who.sb
    .from('messages')
    .insert(textMessage(room, { character_id: who.character.id, ...fields }))
    .select()
    .single();
}

async function roll(who: Player, room: number, expression: string, hidden = false) {
  return say(who, room, { kind: 'roll', body: expression, hidden });
}

beforeAll(async () => {
  server = await startTestServer();
  lobby = (await sql(`select id from public.rooms where slug = 'lobby'`))[0].id;
});
afterAll(() => server.stop());

describe('characters', () => {
  test('a message speaks as its character: the database takes the name and colour from it', async () => {
    const me = await player('楚留香');
    const { data, error } = await say(me, lobby, { username: '冒名顶替', avatar_color: '#000000' });
    expect(error).toBeNull();
    expect(data).toMatchObject({ character_id: me.character.id, username: '楚留香', avatar_color: '#e4572e' });
  });

  test('nobody creates, edits or speaks as a character of someone else', async () => {
    const owner = await player('主人');
    const other = await player('旁人');
    const spoof = await other.sb.from('characters').insert({ owner: owner.id, name: '冒充', avatar_color: '#123456' });
    expect(spoof.error).toMatchObject({ code: '42501' });
    const edit = await other.sb.rpc('save_character', {
      character_id: owner.character.id,
      name: '改名',
      avatar_color: '#123456',
      note: '',
    });
    expect(edit.error).toMatchObject({ code: '42501' });
    expect((await say(other, lobby, { character_id: owner.character.id })).error).toMatchObject({ code: '42501' });
    expect((await other.sb.from('characters').update({ name: '改名' }).eq('id', owner.character.id)).error).toMatchObject({
      code: '42501',
    });
    await other.sb.from('characters').delete().eq('id', owner.character.id);
    expect(await sql('select name from public.characters where id = $1', [owner.character.id])).toEqual([{ name: '主人' }]);
  });

  test('the tenth character is the last; the owner edits and deletes their own', async () => {
    const me = await player('多面人');
    for (let i = 2; i <= 10; i++) {
      expect(
        (await me.sb.rpc('save_character', { character_id: null, name: `化身${i}`, avatar_color: '#1f618d', note: '' })).error,
      ).toBeNull();
    }
    const eleventh = await me.sb.rpc('save_character', { character_id: null, name: '第十一个', avatar_color: '#1f618d', note: '' });
    expect(eleventh.error).toMatchObject({ code: 'RCCHR', message: expect.stringContaining('at most 10') });
    const edited = await me.sb.rpc('save_character', {
      character_id: me.character.id,
      name: '改过名',
      avatar_color: '#117a65',
      note: '人设：沉默寡言',
    });
    expect(edited.data).toMatchObject({ name: '改过名', avatar_color: '#117a65', note: '人设：沉默寡言' });
    expect((await me.sb.from('characters').delete().eq('id', me.character.id)).error).toBeNull();
    expect((await me.sb.from('characters').select('id').eq('owner', me.id)).data).toHaveLength(9);
  });

  test.each([
    [{ name: ' 空格' }, '23514'],
    [{ name: '名'.repeat(25) }, '23514'],
    [{ avatar_color: 'red' }, '23514'],
    [{ note: '注'.repeat(301) }, '23514'],
    [{ portrait_path: 'someone-else/portraits/x.png' }, '23514'],
  ])('a character %j is refused (%s)', async (fields, code) => {
    const me = await wechatUser(server);
    const row = { character_id: null, name: '合规', avatar_color: '#e4572e', note: '', portrait_path: null, ...fields };
    expect((await me.sb.rpc('save_character', row)).error).toMatchObject({ code });
  });
});

describe('dice', () => {
  test.each(DICE_CASES.valid)('%s rolls within its bounds', async (expression, { min, max, dice, check }) => {
    const [{ r }] = await sql('select private.roll_dice($1) as r', [expression]);
    expect(r.total).toBeGreaterThanOrEqual(min);
    expect(r.total).toBeLessThanOrEqual(max);
    const all = r.terms.flatMap((t: { dice?: number[] }) => t.dice ?? []);
    expect(all).toHaveLength(dice);
    if (check) expect(['success', 'failure', 'critical_success', 'critical_failure']).toContain(r.check.outcome);
    // Every die and the total agree.
    const sum = r.terms.reduce(
      (acc: number, t: { sign: number; dice?: number[]; value?: number }) =>
        acc + t.sign * (t.dice ? t.dice.reduce((a, b) => a + b, 0) : t.value!),
      0,
    );
    expect(r.total).toBe(sum);
  });

  test.each(DICE_CASES.invalid)('%s is refused, naming what is wrong', async (expression, message) => {
    await expect(sql('select private.roll_dice($1)', [expression])).rejects.toMatchObject({
      code: 'RCDIC',
      message: expect.stringContaining(message),
    });
  });

  test('an expression of 64 characters is rolled, one of 65 refused: by the core at once and by the database alike', async () => {
    const me = await player();
    const longest = `d20${'+1'.repeat(30)}1`;
    expect([...longest]).toHaveLength(MAX_EXPRESSION);
    for (const [expression, problem] of [
      [longest, null],
      [`${longest}1`, 'too_long'],
    ] as const) {
      expect(diceProblem(expression)).toBe(problem);
      const { error } = await roll(me, lobby, expression);
      if (problem) expect(error).toMatchObject({ code: '23514', message: expect.stringContaining('messages_roll_check') });
      else expect(error).toBeNull();
    }
  });

  test('a roll message: the database rolls; whatever result the client sends is overwritten; nobody can change it', async () => {
    const me = await player();
    const forged = { terms: [{ sign: 1, count: 2, faces: 6, dice: [6, 6] }], total: 12 };
    const { data, error } = await say(me, lobby, { kind: 'roll', body: '2d6+3', roll: forged, status: 'visible' });
    expect(error).toBeNull();
    expect(data.roll.expression).toBe('2d6+3');
    expect(data.roll.terms[1]).toEqual({ sign: 1, value: 3 });
    expect(data.roll.total).toBe(data.roll.terms[0].dice[0] + data.roll.terms[0].dice[1] + 3);
    expect((await me.sb.from('messages').update({ roll: forged }).eq('id', data.id)).error).toMatchObject({ code: '42501' });
    const bad = await roll(me, lobby, '21d6');
    expect(bad.error).toMatchObject({ code: 'RCDIC', message: 'at most 20 dice in one roll' });
  });

  test('10,000 rolls of 1d6: every face within 1,667 ± 150', async () => {
    const rows = await sql(`select (private.roll_dice('1d6') -> 'terms' -> 0 -> 'dice' ->> 0)::int as face, count(*)::int as n
                              from generate_series(1, 10000) group by 1 order by 1`);
    expect(rows.map((r) => r.face)).toEqual([1, 2, 3, 4, 5, 6]);
    for (const { n } of rows) expect(Math.abs(n - 1667)).toBeLessThanOrEqual(150);
  });

  test('a d100 check reads 大成功 on 1 and 大失败 on 100', async () => {
    const outcomes = new Map<number, string>();
    for (let i = 0; i < 40 && !(outcomes.has(1) && outcomes.has(100)); i++) {
      const rows = await sql(`select r -> 'total' as total, r -> 'check' ->> 'outcome' as outcome
                                from (select private.roll_dice('d100<=50') as r from generate_series(1, 500)) rolls`);
      for (const row of rows) outcomes.set(Number(row.total), row.outcome);
    }
    expect(outcomes.get(1)).toBe('critical_success');
    expect(outcomes.get(100)).toBe('critical_failure');
    expect(outcomes.get(50)).toBe('success');
    expect(outcomes.get(51)).toBe('failure');
  });
});

describe('scenes and hidden rolls', () => {
  async function openScene(host: Player, title = '夜探蝙蝠岛', topic = '月黑风高，众人登岛。') {
    const { data, error } = await host.sb.from('rooms').insert({ title, topic }).select().single();
    if (error) throw new Error(`${error.code}: ${error.message}`);
    return data as Row;
  }

  test('anyone opens a scene and hosts it; at most 3 a day', async () => {
    const host = await player('开团人');
    const scenes = [];
    for (let i = 0; i < 3; i++) scenes.push(await openScene(host, `第${i + 1}场`));
    expect(scenes.map((s) => s.host)).toEqual([host.id, host.id, host.id]);
    expect(scenes[0].slug).toBe(`s-${scenes[0].id}`);
    const fourth = await host.sb.from('rooms').insert({ title: '第四场', topic: '' });
    expect(fourth.error).toMatchObject({ code: 'RCSCN', message: expect.stringContaining('3 scenes a day') });
    const spoofed = await host.sb.from('rooms').insert({ title: '替人开', topic: '', host: (await player()).id });
    expect(spoofed.error).toMatchObject({ code: '42501' });
  });

  test('only the host edits, pins and archives; an archived scene is read but not written', async () => {
    const host = await player('主持');
    const guest = await player('客人');
    const scene = await openScene(host);
    const { data: line } = await say(guest, scene.id, { body: '有人吗' });
    for (const [fn, args] of [
      ['update_scene', { scene: scene.id, title: '改标题', topic: '' }],
      ['pin_message', { scene: scene.id, message: line!.id }],
      ['archive_scene', { scene: scene.id }],
    ] as const) {
      expect((await guest.sb.rpc(fn, args as never)).error).toMatchObject({ code: '42501' });
      expect((await host.sb.rpc(fn, args as never)).error).toBeNull();
    }
    expect(await sql('select title, pinned_message_id, archived from public.rooms where id = $1', [scene.id])).toEqual([
      { title: '改标题', pinned_message_id: line!.id, archived: true },
    ]);
    expect((await say(guest, scene.id, { body: '还能说吗' })).error).toMatchObject({
      code: 'RCSCN',
      message: expect.stringContaining('archived'),
    });
    expect((await guest.sb.from('messages').select('body').eq('room_id', scene.id)).data).toEqual([{ body: '有人吗' }]);
  });

  test('a hidden roll: everyone sees that it was rolled, only the roller and the host see the result, over REST and Realtime', async () => {
    const host = await player('暗骰主持');
    const roller = await player('掷骰人');
    const bystander = await player('旁观者');
    const scene = await openScene(host);
    const watchers = await Promise.all(
      [host, roller, bystander].map((p) =>
        subscribeChanges(p.sb, `hidden-${randomUUID()}`, [{ event: 'INSERT', table: 'hidden_rolls', filter: `room_id=eq.${scene.id}` }]),
      ),
    );
    const { data: message, error } = await roll(roller, scene.id, 'd100<=40', true);
    expect(error).toBeNull();
    expect(message).toMatchObject({ kind: 'roll', hidden: true, roll: null });
    const result = (p: Player) => p.sb.from('hidden_rolls').select('message_id, roll').eq('message_id', message!.id);
    for (const p of [host, roller])
      expect((await result(p)).data).toEqual([{ message_id: message!.id, roll: expect.objectContaining({ expression: 'd100<=40' }) }]);
    expect((await result(bystander)).data).toEqual([]);
    expect((await bystander.sb.from('messages').select('hidden, roll').eq('id', message!.id)).data).toEqual([{ hidden: true, roll: null }]);
    await waitFor('host and roller hear the result', () => watchers[0].changes.length > 0 && watchers[1].changes.length > 0);
    await sleep(500);
    expect(watchers[2].changes).toEqual([]);
    expect(watchers[0].changes[0].new).toMatchObject({ message_id: message!.id, roller: roller.id });
  });

  test("unread counts: others' visible messages after one's marker, in one request for the whole list", async () => {
    const host = await player('列表主持');
    const reader = await player('列表读者');
    const scene = await openScene(host, '计数场');
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push((await say(host, scene.id, { body: `第${i}句` })).data!.id);
    await say(reader, scene.id, { body: '我自己的不算' });
    const unread = async () => ((await reader.sb.rpc('scene_list')).data as Array<Row>).find((s) => s.id === scene.id)!;
    expect(await unread()).toMatchObject({ unread: 4, title: '计数场', last_message: expect.objectContaining({ body: '我自己的不算' }) });
    expect((await reader.sb.rpc('mark_read', { scene: scene.id, message: ids[1] })).error).toBeNull();
    expect((await unread()).unread).toBe(2);
    // The marker never moves back.
    await reader.sb.rpc('mark_read', { scene: scene.id, message: ids[0] });
    expect((await unread()).unread).toBe(2);
    const first = (await reader.sb.rpc('scene_list', { page_size: 1 })).data as Array<Row>;
    expect(first[0].id).toBe(scene.id);
    const next = (await reader.sb.rpc('scene_list', { before_activity: first[0].last_activity_at, before_id: first[0].id, page_size: 50 }))
      .data as Array<Row>;
    expect(next.map((s) => s.id)).not.toContain(scene.id);
    expect(next.map((s) => s.slug)).toContain('lobby');
  });

  test('replies quote the replied line; only within the scene and to what the sender can see', async () => {
    const a = await player('回复甲');
    const b = await player('回复乙');
    const scene = await openScene(a, '回复场');
    const { data: original } = await say(a, scene.id, { body: '第一行\n第二行' });
    const { data: reply, error } = await say(b, scene.id, {
      body: '回你',
      reply_to: original!.id,
      reply_preview: { username: '假', text: '假' },
    });
    expect(error).toBeNull();
    expect(reply!.reply_preview).toEqual({ username: '回复甲', text: '第一行', kind: 'text', status: 'visible' });
    const otherScene = await openScene(b, '别处');
    expect((await say(b, otherScene.id, { body: '跨场回复', reply_to: original!.id })).error).toMatchObject({ code: 'RCRPL' });
    await sql(`update public.messages set status = 'held' where id = $1`, [original!.id]);
    expect((await say(b, scene.id, { body: '回不了', reply_to: original!.id })).error).toMatchObject({ code: 'RCRPL' });
  });
});
