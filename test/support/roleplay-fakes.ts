// In-memory ports for characters, scenes and presence, answering as the database and Realtime do
// (supabase/migrations/20261206150000_roleplay.sql): the tenth character is the last (RCCHR), three
// scenes a day (RCSCN), host-only edits (42501), the scene list newest activity first with its
// cursor, presence keyed by person. Tests inject failures per method. Also the Services pages get
// in simulate tests: these stores over these ports, and the test's own room.
import { CharacterStore, type CharacterDraft, type CharacterPort, type CharacterRow } from '../../miniprogram/core/characters';
import { BackendFailure, type ChannelStatus, type KeyValueStore } from '../../miniprogram/core/ports';
import { memoryStore } from './memory-store';
import {
  PresenceDirectory,
  type PresenceChannel,
  type PresenceMeta,
  type PresencePort,
  type PresenceState,
} from '../../miniprogram/core/presence-directory';
import { CHARACTERS_MAX, SCENES_PER_DAY } from '../../miniprogram/core/rules';
import {
  SceneDirectory,
  type SceneCursor,
  type SceneDraft,
  type SceneListRow,
  type ScenePort,
  type SceneRow,
} from '../../miniprogram/core/scenes';
import type { PickedImage, Profile, RoomView } from '../../miniprogram/core/types';
import type { Services } from '../../miniprogram/services';
import { Typing, type TypingChannel, type TypingPort, type TypingSignal } from '../../miniprogram/core/typing';
import { FakeRoom } from './simulate';

export const PERSON = '33333333-3333-4333-8333-333333333333';
export const SOMEONE = '44444444-4444-4444-8444-444444444444';
const NETWORK_DOWN = () => new BackendFailure(0, '', 'request:fail net::ERR_INTERNET_DISCONNECTED');

/** Calls that fail next, by method name: each queued failure is thrown once. */
class Failures {
  private queued = new Map<string, BackendFailure[]>();
  /** Every call, in order, by method name. */
  readonly calls: string[] = [];

  failNext(method: string, failure: BackendFailure = NETWORK_DOWN()): void {
    this.queued.set(method, (this.queued.get(method) || []).concat(failure));
  }

  enter(method: string): void {
    this.calls.push(method);
    const failure = (this.queued.get(method) || []).shift();
    if (failure) throw failure;
  }

  count(method: string): number {
    return this.calls.filter((call) => call === method).length;
  }
}

export class FakeCharacterPort extends Failures implements CharacterPort {
  rows: CharacterRow[] = [];
  /** Storage paths uploaded, with the image each came from. */
  readonly uploads = new Map<string, PickedImage>();
  /** The state a saved character starts in: 'visible' with moderation off, 'pending' with it on. */
  savedStatus = 'visible';
  private nextId = 1;

  constructor(readonly me = PERSON) {
    super();
  }

  /** A character stored directly (someone else's, or one the person made on another phone). */
  add(fields: Partial<CharacterRow> & { name: string }): CharacterRow {
    const row: CharacterRow = {
      id: this.nextId++,
      owner: this.me,
      avatar_color: '#1f618d',
      note: '',
      portrait_path: null,
      status: 'visible',
      label: null,
      changed_at: '2026-11-21T12:00:00Z',
      created_at: '2026-11-21T12:00:00Z',
      ...fields,
    };
    this.rows.push(row);
    return row;
  }

  async userId(): Promise<string> {
    this.enter('userId');
    return this.me;
  }

  async ownCharacters(owner: string): Promise<CharacterRow[]> {
    this.enter('ownCharacters');
    return this.rows.filter((row) => row.owner === owner).map((row) => ({ ...row }));
  }

  async saveCharacter(id: number | null, draft: CharacterDraft): Promise<CharacterRow> {
    this.enter('saveCharacter');
    if (draft.portraitPath && !draft.portraitPath.startsWith(`${this.me}/portraits/`)) {
      throw new BackendFailure(400, '23514', 'new row for relation "characters" violates check constraint "characters_portrait_check"');
    }
    const fields = {
      name: draft.name,
      avatar_color: draft.color,
      note: draft.note,
      portrait_path: draft.portraitPath,
      status: this.savedStatus,
      label: null,
    };
    if (id === null) {
      if (this.rows.filter((row) => row.owner === this.me).length >= CHARACTERS_MAX) {
        throw new BackendFailure(400, 'RCCHR', 'a person keeps at most 10 characters');
      }
      return { ...this.add(fields) };
    }
    const row = this.rows.find((each) => each.id === id && each.owner === this.me);
    if (!row) throw new BackendFailure(403, '42501', `no character ${id} of yours`);
    Object.assign(row, fields);
    return { ...row };
  }

  async deleteCharacter(id: number): Promise<void> {
    this.enter('deleteCharacter');
    this.rows = this.rows.filter((row) => !(row.id === id && row.owner === this.me));
  }

  async characterById(id: number): Promise<CharacterRow | null> {
    this.enter('characterById');
    const row = this.rows.find((each) => each.id === id && (each.owner === this.me || each.status === 'visible'));
    return row ? { ...row } : null;
  }

  async uploadPortrait(storagePath: string, image: PickedImage): Promise<void> {
    this.enter('uploadPortrait');
    this.uploads.set(storagePath, image);
  }

  publicImageUrl(storagePath: string): string {
    return `https://example.test/storage/v1/object/public/images/${storagePath}`;
  }
}

export interface FakeScene extends SceneListRow {
  created_at: string;
  label: number | null;
}

const BASE_TIME = Date.parse('2026-11-21T12:00:00+08:00');

export class FakeScenePort extends Failures implements ScenePort {
  scenes: FakeScene[] = [];
  /** The messages each read marker reached: scene id → message id. */
  readonly markers = new Map<number, number>();
  /** The state a new scene starts in ('pending' with moderation on). */
  openedStatus = 'visible';
  private nextId = 1;

  constructor(readonly me = PERSON) {
    super();
  }

  /** A scene whose last activity was `minutesAgo` before a fixed time; override any field. */
  add(fields: Partial<FakeScene> = {}, minutesAgo = this.scenes.length): FakeScene {
    const id = this.nextId++;
    const at = new Date(BASE_TIME - minutesAgo * 60_000).toISOString();
    const scene: FakeScene = {
      id,
      slug: `s-${id}`,
      title: `场景${id}`,
      topic: '',
      host: SOMEONE,
      archived: false,
      status: 'visible',
      last_activity_at: at,
      last_message: null,
      unread: 0,
      created_at: at,
      label: null,
      ...fields,
    };
    this.scenes.push(scene);
    return scene;
  }

  async userId(): Promise<string> {
    this.enter('userId');
    return this.me;
  }

  async sceneList(after: SceneCursor | null, pageSize: number): Promise<SceneListRow[]> {
    this.enter('sceneList');
    const key = (scene: { last_activity_at: string; id: number }) => [Date.parse(scene.last_activity_at), scene.id];
    const before = (a: number[], b: number[]) => a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
    return this.scenes
      .filter((scene) => scene.status === 'visible' || scene.host === this.me)
      .filter((scene) => !after || before(key(scene), [Date.parse(after.activity), after.id]))
      .sort((a, b) => (before(key(a), key(b)) ? 1 : -1))
      .slice(0, pageSize)
      .map(({ created_at: _created, label: _label, ...row }) => ({ ...row }));
  }

  async openScene(draft: SceneDraft): Promise<SceneRow> {
    this.enter('openScene');
    const today = this.scenes.filter((scene) => scene.host === this.me && Date.parse(scene.created_at) > BASE_TIME - 86_400_000);
    if (today.length >= SCENES_PER_DAY) throw new BackendFailure(400, 'RCSCN', 'a person opens at most 3 scenes a day');
    return this.rowOf(this.add({ ...draft, host: this.me, status: this.openedStatus }, -1));
  }

  async sceneBySlug(slug: string): Promise<SceneRow | null> {
    this.enter('sceneBySlug');
    const scene = this.scenes.find((each) => each.slug === slug && (each.status === 'visible' || each.host === this.me));
    return scene ? this.rowOf(scene) : null;
  }

  async updateScene(id: number, draft: SceneDraft): Promise<void> {
    this.enter('updateScene');
    Object.assign(this.hosted(id), draft);
  }

  async archiveScene(id: number): Promise<void> {
    this.enter('archiveScene');
    this.hosted(id).archived = true;
  }

  async markRead(id: number, messageId: number): Promise<void> {
    this.enter('markRead');
    this.markers.set(id, Math.max(this.markers.get(id) || 0, messageId));
  }

  private hosted(id: number): FakeScene {
    const scene = this.scenes.find((each) => each.id === id);
    if (!scene || scene.host !== this.me) throw new BackendFailure(403, '42501', `only the host of scene ${id} may do this`);
    return scene;
  }

  private rowOf(scene: FakeScene): SceneRow {
    return {
      id: scene.id,
      slug: scene.slug,
      title: scene.title,
      topic: scene.topic,
      host: scene.host,
      archived: scene.archived,
      status: scene.status,
      label: scene.label,
      pinned_message_id: null,
      last_message_id: scene.last_message ? scene.last_message.id : null,
      last_activity_at: scene.last_activity_at,
      changed_at: scene.last_activity_at,
      created_at: scene.created_at,
    };
  }
}

/** Presence the test drives: it sets the state everyone sees and the channel's status. */
export class FakePresencePort extends Failures implements PresencePort {
  /** Metas this device tracked, in order (null: untracked). */
  readonly tracked: Array<PresenceMeta | null> = [];
  joinedAs: string | null = null;
  private sync: ((state: PresenceState) => void) | null = null;
  private status: ((status: ChannelStatus) => void) | null = null;

  constructor(readonly me = PERSON) {
    super();
  }

  async userId(): Promise<string> {
    this.enter('userId');
    return this.me;
  }

  join(key: string, sync: (state: PresenceState) => void, status: (status: ChannelStatus) => void): PresenceChannel {
    this.enter('join');
    this.joinedAs = key;
    this.sync = sync;
    this.status = status;
    return {
      track: async (meta) => {
        this.enter('track');
        this.tracked.push(meta);
      },
      untrack: async () => {
        this.enter('untrack');
        this.tracked.push(null);
      },
    };
  }

  emitStatus(status: ChannelStatus): void {
    this.status?.(status);
  }

  emitSync(state: PresenceState): void {
    this.sync?.(state);
  }
}

/** A scene's broadcast channel in memory: what this device sent, and signals others send. */
export class FakeTypingPort implements TypingPort {
  readonly sent: TypingSignal[] = [];
  private readonly listeners = new Map<number, (signal: TypingSignal) => void>();

  join(sceneId: number, heard: (signal: TypingSignal) => void): TypingChannel {
    this.listeners.set(sceneId, heard);
    return {
      send: (signal) => void this.sent.push(signal),
      stop: () => void this.listeners.delete(sceneId),
    };
  }

  /** Someone else in the scene typed. */
  emit(sceneId: number, signal: TypingSignal): void {
    this.listeners.get(sceneId)?.(signal);
  }

  joined(sceneId: number): boolean {
    return this.listeners.has(sceneId);
  }
}

export interface TestServicesOptions {
  room?: (slug?: string) => RoomView;
  /** The person's only character (none: first launch). */
  character?: Profile;
  characters?: FakeCharacterPort;
  scenes?: FakeScenePort;
  presence?: FakePresencePort;
  device?: KeyValueStore;
  pickImage?: () => Promise<PickedImage | null>;
  typing?: FakeTypingPort;
  pickPortrait?: () => Promise<PickedImage | null>;
}

/** The Services a page gets in a simulate test: the real stores over the fake ports. */
export function testServices(options: TestServicesOptions = {}): Services {
  const characterPort = options.characters || new FakeCharacterPort();
  if (options.character) characterPort.add({ name: options.character.name, avatar_color: options.character.color });
  const characters = new CharacterStore(characterPort, options.device || memoryStore());
  const room = options.room || (() => new FakeRoom());
  return {
    characters,
    scenes: new SceneDirectory(options.scenes || new FakeScenePort()),
    presence: new PresenceDirectory(options.presence || new FakePresencePort()),
    room: (slug) => room(slug),
    pickImage: options.pickImage || (async () => null),
    pickPortrait: options.pickPortrait || (async () => null),
    typing: (sceneId, changed) => new Typing(options.typing || new FakeTypingPort(), sceneId, () => PERSON, changed),
  };
}
