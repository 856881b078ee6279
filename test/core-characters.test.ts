// The character store over its port (a fake answering as the database does): the rules checked
// before anything is sent, the tenth character as the last, portraits uploaded into the person's
// own folder first, who speaks remembered per person on the device, the list kept for offline
// launches, deletion, character cards, and every refusal as a sentence.
import { CHARACTERS_KEY, CharacterStore, speakingKey, type CharacterDraft } from '../miniprogram/core/characters';
import { zh } from '../miniprogram/core/strings';
import { BackendFailure } from '../miniprogram/core/ports';
import { memoryStore } from './support/memory-store';
import { checkNote, NOTE_MAX } from '../miniprogram/core/rules';
import type { PickedImage } from '../miniprogram/core/types';
import { verdictText } from '../miniprogram/core/verdicts';
import { FakeCharacterPort, PERSON, SOMEONE } from './support/roleplay-fakes';

const draft = (fields: Partial<CharacterDraft> = {}): CharacterDraft => ({
  name: '楚留香',
  color: '#c0392b',
  note: '',
  portraitPath: null,
  ...fields,
});
const portrait: PickedImage = { path: 'wxfile://store/saved_1.png', width: 480, height: 480, size: 2048, mime: 'image/png' };

let port: FakeCharacterPort;
let device: ReturnType<typeof memoryStore>;
let store: CharacterStore;

beforeEach(() => {
  port = new FakeCharacterPort();
  device = memoryStore();
  store = new CharacterStore(port, device, () => '55555555-5555-4555-8555-555555555555');
});

test('the note rule: 300 characters (code points) at most', () => {
  expect(checkNote('注'.repeat(NOTE_MAX))).toBeNull();
  expect(checkNote('注'.repeat(NOTE_MAX + 1))).toBe('too_long');
  expect(checkNote('🐉'.repeat(NOTE_MAX))).toBeNull();
  expect(checkNote('')).toBeNull();
});

test.each([
  [{ name: '' }, zh.nameEmpty],
  [{ name: ' 楚留香' }, zh.nameUntrimmed],
  [{ name: '楚\u200b留香' }, zh.nameInvisibleChars],
  [{ name: '名'.repeat(25) }, '角色名最多 24 个字'],
  [{ color: 'red' }, zh.colorInvalid],
  [{ note: '注'.repeat(NOTE_MAX + 1) }, '人设最多 300 字'],
])('a character %j is refused with its sentence, and nothing is sent', async (fields, sentence) => {
  expect(await store.save(null, draft(fields), portrait)).toEqual({ ok: false, problem: sentence });
  expect(port.calls.filter((call) => call !== 'userId')).toEqual([]);
});

test('first launch: no characters, then the first one created speaks', async () => {
  expect(await store.load()).toEqual([]);
  expect(store.current()).toBeNull();
  const saved = await store.save(null, draft({ note: '盗帅' }));
  expect(saved).toMatchObject({
    ok: true,
    character: { name: '楚留香', color: '#c0392b', note: '盗帅', status: 'visible', portraitUrl: '' },
  });
  expect(store.current()).toEqual({ characterId: port.rows[0].id, name: '楚留香', color: '#c0392b' });
});

test("the tenth character is the last: the eleventh is refused with the database's limit as a sentence", async () => {
  for (let i = 1; i <= 9; i++) port.add({ name: `化身${i}` });
  await store.load();
  expect(await store.save(null, draft({ name: '第十个' }))).toMatchObject({ ok: true });
  expect(store.list()).toHaveLength(10);
  expect(await store.save(null, draft({ name: '第十一个' }))).toEqual({ ok: false, problem: '人设卡最多 10 张，请先删除一张' });
  expect(store.list()).toHaveLength(10);
  expect(port.rows).toHaveLength(10);
});

test('who speaks is remembered per person on the device, and falls back to the first', async () => {
  const first = port.add({ name: '楚留香' });
  const second = port.add({ name: '胡铁花' });
  await store.load();
  expect(store.current()!.characterId).toBe(first.id);
  expect(await store.select(second.id)).toBeNull();
  expect(device.get(speakingKey(PERSON))).toBe(second.id);
  // The next launch, on the same device.
  const again = new CharacterStore(port, device);
  await again.load();
  expect(again.current()).toEqual({ characterId: second.id, name: '胡铁花', color: second.avatar_color });
  // Another person on this device does not speak as that character.
  const other = new FakeCharacterPort(SOMEONE);
  const theirs = other.add({ name: '姬冰雁' });
  const otherStore = new CharacterStore(other, device);
  await otherStore.load();
  expect(otherStore.current()!.characterId).toBe(theirs.id);
  // A character that is gone no longer speaks: the first one does.
  expect(await store.select(999)).toBe(zh.characterMissing);
  port.rows = port.rows.filter((row) => row.id !== second.id);
  await again.load();
  expect(again.current()!.characterId).toBe(first.id);
});

test("a portrait is uploaded first, into the person's own folder, and the character points at it", async () => {
  await store.load();
  const saved = await store.save(null, draft(), portrait);
  const path = `${PERSON}/portraits/55555555-5555-4555-8555-555555555555.png`;
  expect([...port.uploads.keys()]).toEqual([path]);
  expect(port.calls.filter((call) => call === 'uploadPortrait' || call === 'saveCharacter')).toEqual(['uploadPortrait', 'saveCharacter']);
  expect(saved).toMatchObject({ ok: true, character: { portraitPath: path, portraitUrl: port.publicImageUrl(path) } });
  // Editing without a new portrait keeps it; removing it clears it.
  const id = port.rows[0].id;
  expect(await store.save(id, draft({ name: '盗帅', portraitPath: path }))).toMatchObject({ ok: true, character: { portraitPath: path } });
  expect(await store.save(id, draft({ portraitPath: null }))).toMatchObject({
    ok: true,
    character: { portraitPath: null, portraitUrl: '' },
  });
  expect(port.uploads.size).toBe(1);
});

test('a failed portrait upload saves nothing and says so', async () => {
  await store.load();
  port.failNext('uploadPortrait', new BackendFailure(500, '', 'storage down'));
  expect(await store.save(null, draft(), portrait)).toEqual({ ok: false, problem: zh.portraitUploadFailed });
  port.failNext('uploadPortrait');
  expect(await store.save(null, draft(), portrait)).toEqual({ ok: false, problem: zh.networkFailed });
  expect(port.count('saveCharacter')).toBe(0);
  expect(store.list()).toEqual([]);
});

test.each([
  ['no answer', new BackendFailure(0, '', 'request:fail timeout'), zh.networkFailed],
  ['42501', new BackendFailure(403, '42501', 'no character 3 of yours'), zh.characterNoPermission],
  ['23514', new BackendFailure(400, '23514', 'characters_name_check'), zh.characterRejected],
  ['500', new BackendFailure(500, 'XX000', 'boom'), zh.saveFailed],
])('a refused save (%s) reads as a sentence and changes nothing', async (_what, failure, sentence) => {
  port.add({ name: '楚留香' });
  await store.load();
  port.failNext('saveCharacter', failure);
  expect(await store.save(null, draft({ name: '新人' }))).toEqual({ ok: false, problem: sentence });
  expect(store.list().map((character) => character.name)).toEqual(['楚留香']);
});

test('without an answer the list last read on this device is used; with none, load rejects', async () => {
  port.add({ name: '楚留香' });
  await store.load();
  port.failNext('ownCharacters');
  const offline = new CharacterStore(port, device);
  expect((await offline.load()).map((character) => character.name)).toEqual(['楚留香']);
  expect(offline.current()!.name).toBe('楚留香');

  port.failNext('ownCharacters');
  await expect(new CharacterStore(port, memoryStore()).load()).rejects.toMatchObject({ status: 0 });
  // Kept for this person only.
  const other = new FakeCharacterPort(SOMEONE);
  other.failNext('ownCharacters');
  await expect(new CharacterStore(other, device).load()).rejects.toBeInstanceOf(BackendFailure);
  expect(device.get(CHARACTERS_KEY)).toMatchObject({ owner: PERSON });
});

test('deleting: the last character stays; deleting the speaker hands over to the first; a failure keeps it', async () => {
  const first = port.add({ name: '楚留香' });
  const second = port.add({ name: '胡铁花' });
  await store.load();
  await store.select(second.id);
  port.failNext('deleteCharacter');
  expect(await store.remove(second.id)).toBe(zh.networkFailed);
  expect(store.list()).toHaveLength(2);
  expect(await store.remove(second.id)).toBeNull();
  expect(store.current()!.characterId).toBe(first.id);
  expect(await store.remove(first.id)).toBe(zh.characterKeepOne);
  expect(port.rows.map((row) => row.name)).toEqual(['楚留香']);
});

test("character cards: one's own from memory, another's visible one read once, an unknown one is null", async () => {
  const mine = port.add({ name: '楚留香', note: '盗帅' });
  const theirs = port.add({
    owner: SOMEONE,
    name: '石观音',
    avatar_color: '#6a1b9a',
    note: '大漠之中',
    portrait_path: `${SOMEONE}/portraits/a.jpg`,
  });
  const hidden = port.add({ owner: SOMEONE, name: '审核中的人', status: 'pending' });
  await store.load();
  const reads = () => port.count('characterById');

  expect(await store.characterCard(mine.id)).toEqual({
    id: mine.id,
    name: '楚留香',
    color: mine.avatar_color,
    initial: '楚',
    portraitUrl: '',
    note: '盗帅',
    verdict: '',
  });
  expect(reads()).toBe(0);
  expect(await store.characterCard(theirs.id)).toEqual({
    id: theirs.id,
    name: '石观音',
    color: '#6a1b9a',
    initial: '石',
    portraitUrl: port.publicImageUrl(`${SOMEONE}/portraits/a.jpg`),
    note: '大漠之中',
    verdict: '',
  });
  expect(await store.characterCard(theirs.id)).toMatchObject({ name: '石观音' });
  expect(reads()).toBe(1);
  expect(await store.characterCard(hidden.id)).toBeNull();
  expect(await store.characterCard(12345)).toBeNull();
});

test("a saved character shows content security's state to its owner until it passes", async () => {
  port.savedStatus = 'pending';
  await store.load();
  const saved = await store.save(null, draft());
  expect(saved).toMatchObject({ ok: true, character: { status: 'pending' } });
  expect(await store.characterCard(port.rows[0].id)).toMatchObject({ verdict: '审核中，通过后其他人才能看到' });
});

test.each([
  ['pending', null, '审核中，通过后其他人才能看到'],
  ['visible', null, ''],
  ['held', null, '等待人工审核'],
  ['blocked', 20003, '未通过审核：含辱骂内容'],
  ['blocked', 10001, '未通过审核：含广告'],
  ['blocked', 20006, '未通过审核：涉及违法犯罪'],
  ['blocked', 99999, '未通过审核'],
  ['blocked', null, '未通过审核'],
])('the verdict %s (label %s) reads "%s"', (status, label, text) => {
  expect(verdictText(status, label)).toBe(text);
});
