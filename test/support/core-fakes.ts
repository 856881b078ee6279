// In-memory implementations of the core's own interfaces (Backend, Clock) for the unit tests,
// and a patch applier that renders patches the way a page would.
import {
  BackendFailure,
  cancellableUpload,
  type Backend,
  type ChannelStatus,
  type Clock,
  type IdGenerator,
  type NewMessage,
  type RoomChannelHandlers,
  type UploadTask,
} from '../../miniprogram/core/ports';
import { memoryStore } from './memory-store';
import { RoomSession } from '../../miniprogram/core/room-session';
import type {
  ChatMessage,
  HiddenRollRow,
  MessageRow,
  ModerationState,
  PickedImage,
  ReportReason,
  RoomPatch,
  RoomRow,
  Roll,
  Speaker,
} from '../../miniprogram/core/types';

export const ROOM: RoomRow = { id: 1, slug: 'lobby', title: '大堂', topic: '', host: null, archived: false, pinned_message_id: null };
export const ME = '11111111-1111-4111-8111-111111111111';
export const OTHER = '22222222-2222-4222-8222-222222222222';

/** A text row from someone else; its client_id and timestamp follow from the id. */
export function messageRow(id: number, fields: Partial<MessageRow> = {}): MessageRow {
  return {
    id,
    room_id: ROOM.id,
    user_id: OTHER,
    username: '路人甲',
    avatar_color: '#1f618d',
    kind: 'text',
    body: `message ${id}`,
    image_path: null,
    image_width: null,
    image_height: null,
    client_id: `00000000-0000-4000-8000-${String(id).padStart(12, '0')}`,
    created_at: new Date(Date.UTC(2026, 10, 21, 11, 0, id)).toISOString(),
    changed_at: new Date(Date.UTC(2026, 10, 21, 11, 0, id)).toISOString(),
    status: 'visible',
    label: null,
    character_id: null,
    reply_to: null,
    reply_preview: null,
    roll: null,
    hidden: false,
    ...fields,
  };
}

/** Timers that fire only when the test advances time. */
export class ManualClock implements Clock {
  private time = Date.UTC(2026, 10, 21, 12, 0, 0);
  private timers: Array<{ id: number; at: number; callback: () => void }> = [];
  private nextId = 1;

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): number {
    const id = this.nextId++;
    this.timers.push({ id, at: this.time + ms, callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((timer) => timer.id !== handle);
  }

  pending(): number[] {
    return this.timers.map((timer) => timer.at - this.time);
  }

  /** Moves time forward, firing due timers in order and letting promises settle after each. */
  async advance(ms: number): Promise<void> {
    // Work already under way schedules its timers at the current time, not after the jump.
    await settle();
    const end = this.time + ms;
    for (;;) {
      const due = this.timers.filter((timer) => timer.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((timer) => timer !== due);
      this.time = Math.max(this.time, due.at);
      due.callback();
      await settle();
    }
    this.time = end;
    await settle();
  }
}

/** Lets every queued promise callback run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

type Method =
  | 'userId'
  | 'findRoom'
  | 'newest'
  | 'before'
  | 'after'
  | 'byClientId'
  | 'insert'
  | 'upload'
  | 'changed'
  | 'hiddenRolls'
  | 'recall'
  | 'report'
  | 'markRead'
  | 'messageById'
  | 'pin';

interface FakeSubscription extends RoomChannelHandlers {
  roomId: number;
  active: boolean;
}

/** The fake's dice: every die shows its highest face, so results are known in advance. */
function fakeRoll(expression: string): Roll {
  const match = /^(\d*)d(\d+)$/.exec(expression);
  const count = match ? Number(match[1] || 1) : 1;
  const faces = match ? Number(match[2]) : 6;
  const dice = Array.from({ length: count }, () => faces);
  return { expression, terms: [{ sign: 1, count, faces, dice }], total: count * faces };
}

/** A room database in memory, with failure injection and manual realtime delivery. */
export class FakeBackend implements Backend {
  rows: MessageRow[] = [];
  objects = new Set<string>();
  subscriptions: FakeSubscription[] = [];
  calls: string[] = [];
  /** Every call fails as if the network were down. */
  offline = false;
  /** Live INSERTs reach subscribers as soon as a row is inserted. */
  deliverLive = true;
  /** New subscriptions report 'subscribed' right away. */
  autoSubscribe = true;
  /** The next inserts are stored but their answer is lost (the connection drops mid-request). */
  loseInsertAnswers = 0;
  /** The next uploads are stored but their answer is lost. */
  loseUploadAnswers = 0;
  /** The messages trigger's rate limit, on the test's clock: at most `limit` inserts of ours per window. */
  rateLimit: { clock: Clock; limit: number; windowMs: number } | null = null;
  /** Content moderation on: our text lands pending until setState gives the verdict. */
  moderate = false;
  /** We host the room: hidden rolls of others are ours to read too. */
  hosting = false;
  /** Hidden rolls' results, by message id, as the database keeps them apart. */
  hiddenResults = new Map<number, Roll>();
  reports: Array<{ id: number; reason: ReportReason }> = [];
  /** The scene as the database holds it; pinMessage and setScene change it. */
  scene: RoomRow = { ...ROOM };
  readMarkers: number[] = [];
  private insertTimes: number[] = [];
  /** Orders state changes: each gets a later changed_at than any before it. */
  private changes = 0;
  private nextId = 1;
  private failures: Partial<Record<Method, BackendFailure[]>> = {};
  private uploadGate: Promise<void> | null = null;

  constructor(public me = ME) {}

  /** The next calls of `method` fail with these failures, in order. */
  failNext(method: Method, ...failures: BackendFailure[]): void {
    this.failures[method] = (this.failures[method] || []).concat(failures);
  }

  /** Uploads report 50% and then wait until the returned function is called. */
  holdUploads(): () => void {
    let release: () => void = () => undefined;
    this.uploadGate = new Promise<void>((resolve) => (release = resolve));
    return () => {
      this.uploadGate = null;
      release();
    };
  }

  /** A row written by someone (stored now, delivered live unless told otherwise). */
  insertRow(fields: Partial<MessageRow> & { body?: string | null }, options: { deliver?: boolean; id?: number } = {}): MessageRow {
    const id = options.id ?? this.nextId++;
    this.nextId = Math.max(this.nextId, id + 1);
    const row = messageRow(id, fields);
    this.rows.push(row);
    if (options.deliver ?? this.deliverLive) this.deliver(row);
    return row;
  }

  /** Reserves the next id without committing a row yet (a transaction still open). */
  reserveId(): number {
    return this.nextId++;
  }

  deliver(row: MessageRow): void {
    for (const sub of this.subscriptions) if (sub.active && sub.roomId === row.room_id) sub.row(row);
  }

  /** A stored row changes state (a verdict, a recall…), stamped later than every change before. */
  setState(id: number, status: ModerationState, fields: Partial<MessageRow> = {}, options: { deliver?: boolean } = {}): MessageRow {
    const index = this.rows.findIndex((row) => row.id === id);
    const changedAt = new Date(Date.UTC(2026, 10, 22, 0, 0, 0) + ++this.changes * 1000).toISOString();
    const row = { ...this.rows[index], ...fields, status, changed_at: changedAt };
    this.rows[index] = row;
    if (options.deliver ?? this.deliverLive) this.deliver(row);
    return row;
  }

  /** Reports a channel status on every active subscription (drop = 'error', rejoin = 'subscribed'). */
  channelStatus(status: ChannelStatus, detail?: string): void {
    for (const sub of this.subscriptions) if (sub.active) sub.status(status, detail);
  }

  activeSubscriptions(): number {
    return this.subscriptions.filter((sub) => sub.active).length;
  }

  messagesOf(clientId: string): MessageRow[] {
    return this.rows.filter((row) => row.client_id === clientId);
  }

  async userId(): Promise<string> {
    await this.enter('userId');
    return this.me;
  }

  async findRoom(slug: string): Promise<RoomRow> {
    await this.enter('findRoom');
    if (slug !== ROOM.slug) throw new BackendFailure(404, 'room_not_found', slug);
    return this.scene;
  }

  async newestMessages(roomId: number, limit: number): Promise<MessageRow[]> {
    await this.enter('newest');
    return this.room(roomId).slice(-limit);
  }

  async messagesBefore(roomId: number, beforeId: number, limit: number): Promise<MessageRow[]> {
    await this.enter('before');
    return this.room(roomId)
      .filter((row) => row.id < beforeId)
      .slice(-limit);
  }

  async messagesAfter(roomId: number, afterId: number, limit: number): Promise<MessageRow[]> {
    await this.enter('after');
    return this.room(roomId)
      .filter((row) => row.id > afterId)
      .slice(0, limit);
  }

  async messageByClientId(clientId: string): Promise<MessageRow | null> {
    await this.enter('byClientId');
    return this.messagesOf(clientId)[0] || null;
  }

  async insertMessage(message: NewMessage): Promise<MessageRow> {
    await this.enter('insert');
    if (this.messagesOf(message.client_id).length) {
      throw new BackendFailure(409, '23505', 'duplicate key value violates unique constraint "messages_client_id_key"');
    }
    if (message.image_path && !this.objects.has(message.image_path)) {
      throw new BackendFailure(400, '23514', `image not uploaded: ${message.image_path}`);
    }
    if (this.rateLimit) {
      const { clock, limit, windowMs } = this.rateLimit;
      this.insertTimes = this.insertTimes.filter((at) => at > clock.now() - windowMs);
      if (this.insertTimes.length >= limit) throw new BackendFailure(429, 'PT429', 'rate limit exceeded');
      this.insertTimes.push(clock.now());
    }
    const roll = message.kind === 'roll' ? fakeRoll(message.body ?? '') : null;
    const status: ModerationState = this.moderate && message.kind !== 'roll' ? 'pending' : 'visible';
    const row = this.insertRow({ ...message, user_id: this.me, status, roll: message.hidden ? null : roll });
    if (message.hidden && roll) this.hiddenResults.set(row.id, roll);
    if (this.loseInsertAnswers > 0) {
      this.loseInsertAnswers--;
      throw new BackendFailure(0, '', 'TypeError: socket hang up');
    }
    return row;
  }

  uploadImage(storagePath: string, _image: PickedImage, onProgress: (percent: number) => void): UploadTask {
    return cancellableUpload(
      (async () => {
        await this.enter('upload');
        if (this.objects.has(storagePath)) throw new BackendFailure(409, 'Duplicate', 'The resource already exists');
        onProgress(50);
        if (this.uploadGate) await this.uploadGate;
        this.objects.add(storagePath);
        if (this.loseUploadAnswers > 0) {
          this.loseUploadAnswers--;
          throw new BackendFailure(0, '', 'TypeError: socket hang up');
        }
        onProgress(100);
      })(),
    );
  }

  async messagesChangedSince(roomId: number, since: string, throughId: number, limit: number): Promise<MessageRow[]> {
    await this.enter('changed');
    return this.room(roomId)
      .filter((row) => row.id <= throughId && Date.parse(row.changed_at) >= Date.parse(since))
      .sort((a, b) => Date.parse(a.changed_at) - Date.parse(b.changed_at))
      .slice(0, limit);
  }

  async hiddenRolls(messageIds: number[]): Promise<HiddenRollRow[]> {
    await this.enter('hiddenRolls');
    return this.rows
      .filter((row) => messageIds.indexOf(row.id) >= 0 && this.hiddenResults.has(row.id) && (row.user_id === this.me || this.hosting))
      .map((row) => ({
        message_id: row.id,
        room_id: row.room_id,
        roller: row.user_id,
        roll: this.hiddenResults.get(row.id)!,
        created_at: row.created_at,
      }));
  }

  /** The hidden roll's result reaches the roller and the host as its own INSERT. */
  deliverHiddenRoll(id: number): void {
    const row = this.rows.find((candidate) => candidate.id === id)!;
    const result = {
      message_id: id,
      room_id: row.room_id,
      roller: row.user_id,
      roll: this.hiddenResults.get(id)!,
      created_at: row.created_at,
    };
    for (const sub of this.subscriptions) if (sub.active && sub.roomId === row.room_id) sub.hiddenRoll(result);
  }

  async recallMessage(id: number): Promise<void> {
    await this.enter('recall');
    const row = this.rows.find((candidate) => candidate.id === id);
    if (!row || row.user_id !== this.me) throw new BackendFailure(403, '42501', 'only its author can recall a message');
    this.setState(id, 'recalled', { body: null, image_path: null, image_width: null, image_height: null, roll: null });
  }

  async reportMessage(id: number, reason: ReportReason): Promise<void> {
    await this.enter('report');
    if (this.reports.some((report) => report.id === id))
      throw new BackendFailure(409, '23505', 'duplicate key value violates unique constraint "reports_pkey"');
    this.reports.push({ id, reason });
  }

  async messageById(id: number): Promise<MessageRow | null> {
    await this.enter('messageById');
    return this.rows.find((row) => row.id === id) ?? null;
  }

  async pinMessage(_roomId: number, messageId: number | null): Promise<void> {
    await this.enter('pin');
    if (this.scene.host !== this.me) throw new BackendFailure(403, '42501', 'only the host may do this');
    const row = this.rows.find((candidate) => candidate.id === messageId);
    if (messageId !== null && row?.status !== 'visible')
      throw new BackendFailure(400, 'RCSCN', 'only a visible message of this scene can be pinned');
    this.setScene({ pinned_message_id: messageId }, { deliver: false });
  }

  /** The host edits, pins or archives: the row reaches subscribers as Realtime's UPDATE. */
  setScene(changes: Partial<RoomRow>, options: { deliver?: boolean } = {}): void {
    this.scene = { ...this.scene, ...changes };
    if (options.deliver ?? this.deliverLive)
      for (const sub of this.subscriptions) if (sub.active && sub.roomId === this.scene.id) sub.room(this.scene);
  }

  async markRead(_roomId: number, messageId: number): Promise<void> {
    await this.enter('markRead');
    this.readMarkers.push(messageId);
  }

  subscribe(roomId: number, handlers: RoomChannelHandlers) {
    this.calls.push('subscribe');
    const sub: FakeSubscription = { ...handlers, roomId, active: true };
    this.subscriptions.push(sub);
    if (this.autoSubscribe) void Promise.resolve().then(() => sub.active && handlers.status('subscribed'));
    return {
      unsubscribe: () => {
        sub.active = false;
      },
    };
  }

  /** Images the core said it no longer needs (the platform removes their saved files). */
  released: string[] = [];

  releaseImage(image: PickedImage): void {
    this.released.push(image.path);
  }

  publicImageUrl(storagePath: string): string {
    return `https://cdn.test/images/${storagePath}`;
  }

  private room(roomId: number): MessageRow[] {
    return this.rows.filter((row) => row.room_id === roomId).sort((a, b) => a.id - b.id);
  }

  /** Answers a tick later, like any request: nothing the caller does synchronously sees the result. */
  private async enter(method: Method): Promise<void> {
    await Promise.resolve();
    this.calls.push(method);
    if (this.offline) throw new BackendFailure(0, '', 'TypeError: fetch failed');
    const queued = this.failures[method];
    if (queued?.length) throw queued.shift();
  }
}

/** Renders patches into an array exactly as a page would, so tests can compare with the session. */
export class RenderedList {
  messages: ChatMessage[] = [];
  hasOlder = false;
  patches: RoomPatch[] = [];

  apply = (patch: RoomPatch): void => {
    this.patches.push(patch);
    this.render(patch);
    // Pages key their items by message key (wx:key): a key shown twice breaks every later patch.
    const keys = this.messages.map((message) => message.key);
    expect(new Set(keys).size).toBe(keys.length);
  };

  private render(patch: RoomPatch): void {
    switch (patch.type) {
      case 'reset':
        this.messages = patch.messages.slice();
        this.hasOlder = patch.hasOlder;
        return;
      case 'append':
        this.messages.push(...patch.messages);
        return;
      case 'insert':
        this.messages.splice(patch.index, 0, patch.message);
        return;
      case 'prepend':
        this.messages.unshift(...patch.messages);
        this.hasOlder = patch.hasOlder;
        return;
      case 'update':
        expect(this.messages[patch.index].key).toBe(patch.key);
        this.messages[patch.index] = { ...this.messages[patch.index], ...patch.changes };
        return;
      case 'remove':
        expect(this.messages[patch.index].key).toBe(patch.key);
        this.messages.splice(patch.index, 1);
        return;
      case 'trim':
        this.messages.splice(0, patch.count);
        this.hasOlder = patch.hasOlder;
        return;
      case 'connection':
      case 'error':
        return;
    }
  }

  of(type: RoomPatch['type']): RoomPatch[] {
    return this.patches.filter((patch) => patch.type === type);
  }

  ids(): Array<number | null> {
    return this.messages.map((message) => message.id);
  }

  bodies(): Array<string | null> {
    return this.messages.map((message) => message.body);
  }
}

export function picked(path = '/tmp/photo.jpg'): PickedImage {
  return { path, width: 640, height: 480, size: 12345, mime: 'image/jpeg' };
}

export interface OpenRoomOptions {
  backend?: FakeBackend;
  store?: ReturnType<typeof memoryStore>;
  clock?: ManualClock;
  newId?: IdGenerator;
  reconnectTransport?: () => Promise<void>;
}

/** A RoomSession over fakes, with its patches rendered; `check` compares the render with the session. */
export function openRoom(options: OpenRoomOptions = {}) {
  const backend = options.backend ?? new FakeBackend();
  const store = options.store ?? memoryStore();
  const clock = options.clock ?? new ManualClock();
  const rendered = new RenderedList();
  let speaker: Speaker | null = { name: '楚留香', color: '#c0392b', characterId: 7 };
  const session = new RoomSession({
    backend,
    store,
    roomSlug: ROOM.slug,
    speaker: () => speaker,
    clock,
    newId: options.newId,
    reconnectTransport: options.reconnectTransport,
  });
  session.onPatch(rendered.apply);
  return {
    backend,
    store,
    clock,
    rendered,
    session,
    setSpeaker(next: Speaker | null) {
      speaker = next;
    },
    check() {
      expect(rendered.messages).toEqual(session.messages());
    },
  };
}

/** Small real images (Python's imghdr test files, 16×16), base64. */
export const IMAGE_FIXTURES = {
  jpeg: '/9j/4AAQSkZJRgABAQEAAQABAAD/2wBDAAMCAgICAgMCAgIDAwMDBAYEBAQEBAgGBgUGCQgKCgkICQkKDA8MCgsOCwkJDRENDg8QEBEQCgwSExIQEw8QEBD/2wBDAQMDAwQDBAgEBAgQCwkLEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBD/wAARCAAQABADASIAAhEBAxEB/8QAFgABAQEAAAAAAAAAAAAAAAAABwQF/8QAJBAAAQQBBAICAwAAAAAAAAAAAQIDBAYFBwgSExEiABQJMTL/xAAVAQEBAAAAAAAAAAAAAAAAAAAABv/EACMRAAECBQMFAAAAAAAAAAAAAAECEQMEBQYhABIxFRZhgeH/2gAMAwEAAhEDEQA/ABSm0mobc8HmExLUlRzzEWPkJWW+ulrsaUVAseUgslSlH9LKuPryIKuWPZdskzXmm3fX5m2nF4GlVxx/HOpx4ks51+MiU/Iaad7UcUo4tILoS4kqcWkezS0hO/HvuRp0rO6hWnWO1UisZVuFi4GFeyEpmGepa5S5SWVPuciFKRFLgSrwetnyPIB+Vb4N9mKhQMzo5po9XLdDs9d6ZVix2VEhiL9kuNPxw2gEKcDQ/rs8AuA8VAe0vdl7VOYn+27flGAUgmITjbhSmCg3BYlyeWDkMolvw4KOp1KM6iCNvngZHwetf//Z',
  webp: 'UklGRqgBAABXRUJQVlA4WAoAAAAQAAAADwAADwAAQUxQSMMAAAABJ6KokSTleucYX+ffKpmImP90cY3gJjDi4Yt3MsjBEVyDKzDosHgVjnhRNcEIDAJPkqBqsFUZHNa2bUYvTsZ2PLbtd/uvKa4hov9J0f2PkPe6REkkGzolkTTzFG0Ox9PlFiD0CxS+kOGDtxoynjaCfx0pfk52CPuInrOR75lzRugygtv4zEiy90UwfSD9NheMITJWLaXWayO8XeOlWRXVnIGk2W6WdYoYMQ+KqixQNPowgt+6a1BSKbUtz+lUFAoBAAAAVlA4IL4AAACQAgCdASoQABAAAwA0JbACdDBPCIUMfAMdCCz96AD+/XSg/QKbH4r3Q3ycN/bSDK/T/zVo4u6nvclvG/SqxWOuup+XhN9BojvaW+Tv+MvxvX/hr/o/5Qns9LtmX/+qKdl/yWznhuasl7nkxvSTI4xf3Y85VSB/lU/8Ofj/b9JrA+ifvIOYZm2x1RP/dhfmsf5diuSfR7+z+r/+HR3zEo/+XM/B+vkYw73Pzx+ROaAB/ZoBSzEs3rzZe6qsAAAA',
  png: 'iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAMAAAAoLQ9TAAAAIGNIUk0AAHomAACAhAAA+gAAAIDoAAB1MAAA6mAAADqYAAAXcJy6UTwAAAHFUExURQAAAE6NwEqGujxxnjdolgAAAAAAAAAAAAAAAAAAAE6PxEyKv0iFtkN9rT10oTlsljZmkAAAAAAAAFKRxv3dSvnVPgAAADJghwAAAP3VNgAAADVokgAAAOzORQAAADZpkxsxRQAAAAAAAOLDRf3ZQQAAAEaBsjZnkQAAAPLhbv3pav3LG0N9rhwyS/Xjb/PBGkB1oz1zogAAAMKaEgAAAAAAAAAAAAAAAAAAAOjHPevFNOvCKuu+Ieu7GMabEgAAAAAAAAAAAAAAAAAAAAAAAAAAAP3eTgAAAAAAAAAAAAAAAPHQP/rTOf3SL/rHGcCXEgAAAAAAAAAAAAAAAAAAAAAAAEiDtER+rUB4p0yKvP///0V/r0F5qD50ojpvmzZplEmFt0aAsUJ7qj51oztwnTdqljhsl0+NwUuIu0R9rUB4pj1zoDltmf/iVVCPw0yJvEiEtT10of/eS//aQU2LvkaAsDtwnP/aQv/WN//TLUqHuUeBskN8qz92pf/XOP/PI//mYf/jV//fTf/bQv/TLv/PJP/rbP/nYf/bQ//XOf/MHDpwnP/nYv/jWP/fTv/TL//bRP/XOv/TMP/QJf/YOv/UMP/QJpJJAAIAAABWdFJOUwCv7feSCwMoQRV+oKGjp6qqSBi994IKtkPtJPdPiD22XExHa/dG96pOpvf311uzwm/3S3o0CCE8NaqpqampeSACCRMSLB73QBwFAUzM99h7Ox1CRTgf+DIQcQAAAAFiS0dEWgO7paIAAAD1SURBVBjTY2AAAkamsPAIZhZWNgYoiIyKjomNi2dnhQkkJCYlp6TGc3CCeVzcPLx8/AJp8fGCQiC+cHpGWGZWdk48UCBXRFSMIS+/IDqmMA7IF5coKpaUYihJKE1KLkuNlxaXkS2vqJRjqKquqZVXUBRU4lBWqausV2VQy8xS19DUamhsaq5radVWYtCJKdTVa2tvbOrobGnt0udgMDDsNmrr6e3r6Oxv7eoyNmEwNTO3APItraxtbG3tOOwZHBydnHv7JkycNLmLw8LFFeJ6twlTpk6L0nb3cPT0Agt4+/hO6/LzD3CGec400CJIKTgk1BTIBgBAYkJ/yC2b5QAAACV0RVh0ZGF0ZTpjcmVhdGUAMjAxNC0wMS0yNlQyMDo1OTozNyswMjowMPuaB3cAAAAldEVYdGRhdGU6bW9kaWZ5ADIwMTQtMDEtMjZUMjA6NTk6MDArMDI6MDDB74amAAAAAElFTkSuQmCC',
  gif: 'R0lGODlhEAAQAPZkAOu7GOu+IfPBGvrHGf3LG//MHOvCKv/PI//PJP/QJf/QJv/TLf3SL//TLv/TL+vFNOjHPf/TMP/UMP3VNv/WN/rTOf/XOP/XOf/XOvnVPv/YOuzORf3ZQf/aQf/aQv/bQv/bQ//bRP3dSv/eS//fTf3eTv/fTv/iVf/jV//jWP/mYf/nYf/nYvLhbvXjb/3pav/rbDJghzZmkDZnkTVokjZpkzZplDdoljdqljlsljhslzltmTpvmzpwnDtwnDtwnTxxnj1zoD1zoj10oT50oj51oz92pUB4pkB4p0F5qEJ7qkN8q0N9rUN9rkR9rUR+rUV/r0aAsEaAsUaBskeBskiDtEiEtUiFtkmFt0qHuUqGukuIu0yJvEyKvE2LvkyKv06NwE+NwVCPw1KRxv///wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAACH5BAEAAGUAIf8LSW1hZ2VNYWdpY2sHZ2FtbWE9MAAsAAAAABAAEAAAB6iAZYJlYVpSTEZAN4OMgl1kUkpEPTiNjFeRRD44NZZlX1dMRDkyOTiVjGNhXFVQR0A8NadlJyMZZWJfVFBKsDW/MWUjHROfV1SSQKczwRvEC2XHS0edjR0XCwdlh0czZS0vLCcmHRoLCARlTJJlLjAsKSYhFxEIBQKCQj5l7/Hl5wUKWIJnAsIDAwEAAPAUb16EBAI9lZF3QUICMukklqnwsMAAjSAHBQIAOw==',
};
