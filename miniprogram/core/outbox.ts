// Our messages on their way to the server. Each is persisted before it is sent, so a message
// survives the app being killed, and keeps its client_id across retries, so a retry of a message
// that already landed is a duplicate the server refuses (23505) and we count as success.
//
// Messages go one at a time, in the order they were written: ids are assigned at insert, so
// sending in order keeps the room's order the writer's. A transient failure holds the queue and
// retries with exponential backoff, capped; the rate limit holds it until the window has room;
// a rejection fails that message and the queue moves on. When the cap is reached, everything
// waiting fails with the message (nothing may overtake it), and all of it goes again, in order,
// whenever the queue starts over: the network returns, the room is reached, the user sends or taps.
import { retryDelay } from './backoff';
import { extensionOf } from './image-info';
import { classifyFailure } from './failures';
import { t } from './strings';
import {
  settle,
  asBackendFailure,
  type Backend,
  type BackendFailure,
  type Clock,
  type IdGenerator,
  type KeyValueStore,
  type NewMessage,
  type TimerHandle,
  type UploadTask,
} from './ports';
import { RATE_LIMIT, RATE_WINDOW_SECONDS } from './rules';
import type { MessageKind, MessageRow, PickedImage } from './types';

/** Attempts per message before a transient failure turns it 'failed' (then only a tap resends). */
export const MAX_ATTEMPTS = 6;
/**
 * The wait after a rate-limit refusal. A user sending at the limit gets one slot of the window
 * back every window ÷ limit, on average; waiting that long asks again as soon as one may be free.
 */
export const RATE_LIMIT_WAIT_MS = (RATE_WINDOW_SECONDS * 1000) / RATE_LIMIT;
/**
 * The most the queue may take in device storage, as UTF-8 bytes of its JSON (never fewer than the
 * UTF-16 units a store may count instead). WeChat's setStorage takes at most 1 MB per key and
 * 10 MB per app (developers.weixin.qq.com/miniprogram/dev/api/storage/wx.setStorageSync.html).
 * The platform may wrap the JSON in a JSON string once more, which at most doubles it (only quotes
 * and backslashes grow), so 400 KB stays within one key and leaves most of the 10 MB to the room
 * cache and the session.
 */
export const OUTBOX_MAX_BYTES = 400 * 1024;

export interface OutboxImage extends PickedImage {
  /** Chosen at the first upload attempt and kept, so a retry overwrites nothing and re-picks nothing. */
  storagePath: string | null;
  uploaded: boolean;
}

export interface OutboxItem {
  /** The client_id. */
  key: string;
  kind: MessageKind;
  body: string | null;
  image: OutboxImage | null;
  /** The role at the time of writing: changing role later applies to new messages only. */
  username: string;
  avatarColor: string;
  /** The character speaking (the database takes the name and colour from it); absent in queues saved before characters. */
  characterId?: number | null;
  /** The message this one replies to. */
  replyTo?: number | null;
  /** 暗骰: a roll whose result only the roller and the host read. */
  hidden?: boolean;
  createdAt: string;
  status: 'sending' | 'failed';
  /** Failed for a reason that may pass (the network, an upload): it goes again when the queue starts over. */
  transient?: boolean;
  /** Transient failures so far; the rate limit does not count. */
  attempts: number;
  /**
   * Short Chinese reason and the backend's code + message: why it failed, or, while it is still
   * sending, why it waits (the rate limit).
   */
  error: { reason: string; detail: string } | null;
}

export type OutboxEvent =
  | { type: 'status'; item: OutboxItem }
  | { type: 'progress'; key: string; percent: number }
  | { type: 'sent'; key: string; row: MessageRow }
  /** A foreign row holds our client_id (collision or a guessed id): the message goes on under a new one. */
  | { type: 'rekeyed'; oldKey: string; item: OutboxItem }
  /** The device storage refused a write (full, or gone): pending messages may not survive a restart. */
  | { type: 'store-failed'; detail: string }
  /** The rate limit holds the queue; it resends by itself. Reported once until the queue has emptied. */
  | { type: 'throttled'; detail: string };

/** Each scene's queue is stored under its own key. */
const OUTBOX_KEY_PREFIX = 'outbox:';

export function outboxKey(roomSlug: string): string {
  return OUTBOX_KEY_PREFIX + roomSlug;
}

/**
 * The saved image files some scene's outbox still needs. Run once per launch, before any send:
 * images saved for messages no longer in any outbox (sent, or lost with a killed app) would stay on
 * the device for good, and only all the outboxes together say which are still needed.
 */
export async function imagesStillNeeded(store: KeyValueStore): Promise<string[]> {
  const keys = (await settle(() => store.keys())).filter((key) => key.indexOf(OUTBOX_KEY_PREFIX) === 0);
  const paths: string[] = [];
  for (const key of keys) {
    const items = (await settle(() => store.get<OutboxItem[]>(key))) || [];
    for (const item of items) if (item.image) paths.push(item.image.path);
  }
  return paths;
}

export interface OutboxOptions {
  backend: Backend;
  store: KeyValueStore;
  /** Storage key of this room's queue. */
  storeKey: string;
  clock: Clock;
  newId: IdGenerator;
  onEvent: (event: OutboxEvent) => void;
}

/** Where the room's messages are sent: known once the room and the user are resolved. */
export interface Destination {
  roomId: number;
  userId: string;
}

/** `<uid>/<yyyy-mm>/<uuid>.<ext>`: the folder the storage policy and the messages CHECK require. */
export function imageStoragePath(userId: string, mime: PickedImage['mime'], now: number, id: string): string {
  const date = new Date(now);
  const month = String(date.getUTCMonth() + 1);
  return `${userId}/${date.getUTCFullYear()}-${month.length < 2 ? '0' + month : month}/${id}.${extensionOf(mime)}`;
}

/** How long to wait before trying the same message again; null when it is settled (sent, failed, gone). */
type Outcome = number | null;

export class Outbox {
  private items: OutboxItem[] = [];
  private destination: Destination | null = null;
  private running = false;
  private stopped = false;
  private retryTimer: TimerHandle | null = null;
  private upload: UploadTask | null = null;
  /** The rate limit has held the queue since it was last empty: the user was told once. */
  private throttled = false;
  /** Writes are chained so an asynchronous store can never persist an older queue last. */
  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly options: OutboxOptions) {}

  /**
   * Reads the persisted queue in front of anything added meanwhile (a send typed before the
   * store answered); interrupted sends start over with a full set of attempts.
   */
  load(): Promise<OutboxItem[]> {
    const restoring = settle(() => this.options.store.get<OutboxItem[]>(this.options.storeKey)).then((stored) => {
      const restored = (stored || [])
        .filter((item) => !this.find(item.key))
        .map((item) => (item.status === 'sending' ? { ...item, attempts: 0, error: null } : item));
      this.items = restored.concat(this.items);
      return this.list();
    });
    // No write may land before the read: it would replace the stored queue with the new items only.
    this.saving = this.saving.then(() => restoring).then(() => undefined);
    return restoring;
  }

  list(): OutboxItem[] {
    return this.items.map(copy);
  }

  /** The queue's size in storage with `item` added, in bytes (see OUTBOX_MAX_BYTES). */
  sizeWith(item: OutboxItem): number {
    return utf8Length(JSON.stringify(this.items.concat(item)));
  }

  /** Starts sending to `destination`; sends nothing before. */
  start(destination: Destination): void {
    this.destination = destination;
    this.stopped = false;
    this.startOver();
  }

  stop(): void {
    this.stopped = true;
    this.clearRetryTimer();
    if (this.upload) this.upload.cancel();
  }

  add(item: OutboxItem): void {
    this.items.push(copy(item));
    this.persist();
    this.startOver();
  }

  /**
   * The server already has our row (its echo or a page brought it first): nothing is left to send,
   * and an attempt still in flight must not report on it any more.
   */
  confirm(key: string): void {
    const item = this.find(key);
    if (!item) return;
    this.items = this.items.filter((candidate) => candidate !== item);
    this.persist();
    this.release(item);
  }

  /** Sends a failed message again, with a fresh set of attempts. */
  retry(key: string): boolean {
    const item = this.find(key);
    if (item?.status !== 'failed') return false;
    this.resend(item);
    this.startOver();
    return true;
  }

  /** Sends now instead of waiting out a backoff delay (the connection just came back). */
  kick(): void {
    if (this.stopped || !this.destination || this.running) return;
    this.clearRetryTimer();
    // run() settles every attempt itself; anything escaping it is a bug and surfaces as unhandled.
    void this.run();
  }

  /**
   * The app is back in the foreground: attempts made while WeChat cut the network in the
   * background say nothing about the network now, so waiting messages get a full set again.
   */
  resume(): void {
    for (const item of this.items) if (item.status === 'sending') item.attempts = 0;
    this.startOver();
  }

  /**
   * Messages the network failed go again, in the order they were written, before anything newer.
   * Without a destination (the room cannot be reached) they stay failed: nothing would send them.
   */
  private startOver(): void {
    if (this.destination) for (const item of this.items) if (item.status === 'failed' && item.transient) this.resend(item);
    this.kick();
  }

  private resend(item: OutboxItem): void {
    item.status = 'sending';
    item.transient = undefined;
    item.attempts = 0;
    item.error = null;
    this.persist();
    this.emit({ type: 'status', item: copy(item) });
  }

  /**
   * There is nowhere to send to (the room cannot be reached at all): rather than 发送中… forever,
   * waiting messages fail with the network reason, and a tap sends them again.
   */
  failUndeliverable(failure: BackendFailure): void {
    if (this.destination) return; // With a destination, attempts fail them by themselves.
    this.failWaiting(failure);
  }

  /** Everything still waiting fails with the network reason, to go again when the queue starts over. */
  private failWaiting(failure: BackendFailure): void {
    for (const item of this.items) if (item.status === 'sending') this.fail(item, t('sendNetwork'), failure, true);
  }

  /** Resolves once every write so far is in the store (tests, and a clean shutdown). */
  flush(): Promise<void> {
    return this.saving;
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      for (;;) {
        const item = this.items.filter((candidate) => candidate.status === 'sending')[0];
        // Everything waiting went out: a later refusal is a new burst, worth telling again.
        if (!item) this.throttled = false;
        if (!item || this.stopped || !this.destination) return;
        const wait = await this.attempt(item, this.destination);
        if (wait !== null) {
          this.retryTimer = this.options.clock.setTimeout(() => {
            this.retryTimer = null;
            this.kick();
          }, wait);
          return;
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async attempt(item: OutboxItem, destination: Destination): Promise<Outcome> {
    const image = item.image;
    if (image?.storagePath && image.storagePath.indexOf(`${destination.userId}/`) !== 0) {
      // Chosen under an earlier anonymous user (the session was lost): that folder is not ours any
      // more, so the insert's CHECK would refuse it. Upload again into the current user's folder.
      image.storagePath = null;
      image.uploaded = false;
      this.persist();
    }
    try {
      if (item.image && !item.image.uploaded) await this.uploadImage(item, item.image, destination.userId);
      const row = await this.insert(item, destination);
      if (row) this.finish(item, row);
      return null;
    } catch (error) {
      return this.handleFailure(item, asBackendFailure(error));
    }
  }

  private async uploadImage(item: OutboxItem, image: OutboxImage, userId: string): Promise<void> {
    if (!image.storagePath) {
      image.storagePath = imageStoragePath(userId, image.mime, this.options.clock.now(), this.options.newId());
      this.persist();
    }
    this.upload = this.options.backend.uploadImage(image.storagePath, image, (percent) =>
      this.emit({ type: 'progress', key: item.key, percent }),
    );
    try {
      await this.upload.done;
    } catch (error) {
      // The object is already there: an earlier attempt stored it and lost the answer. The path is
      // inside our own folder, so nobody else can have put it there.
      if (classifyFailure(asBackendFailure(error)).kind !== 'duplicate') throw error;
    } finally {
      this.upload = null;
    }
    image.uploaded = true;
    this.persist();
  }

  /** The stored row, or null when the message went on under a new client_id. */
  private async insert(item: OutboxItem, destination: Destination): Promise<MessageRow | null> {
    try {
      return await this.options.backend.insertMessage(newMessage(item, destination.roomId));
    } catch (error) {
      if (classifyFailure(asBackendFailure(error)).kind !== 'duplicate') throw error;
    }
    const existing = await this.options.backend.messageByClientId(item.key);
    if (existing && existing.user_id === destination.userId) return existing;
    this.rekey(item);
    return null;
  }

  private rekey(item: OutboxItem): void {
    const oldKey = item.key;
    item.key = this.options.newId();
    item.attempts = 0;
    this.persist();
    this.emit({ type: 'rekeyed', oldKey, item: copy(item) });
  }

  private handleFailure(item: OutboxItem, failure: BackendFailure): Outcome {
    if (this.items.indexOf(item) < 0) return null;
    const verdict = classifyFailure(failure);
    if (verdict.kind === 'rejected') {
      this.fail(item, verdict.reason, failure);
      return null;
    }
    if (this.stopped) return null;
    if (verdict.kind === 'throttled') {
      this.waitForRateLimit(item, failure);
      return RATE_LIMIT_WAIT_MS;
    }
    item.attempts++;
    if (item.attempts < MAX_ATTEMPTS) return retryDelay(item.attempts);
    this.fail(item, item.image && !item.image.uploaded ? t('uploadFailed') : t('sendNetwork'), failure, true);
    // What waits behind it would otherwise go first the moment the network is back.
    this.failWaiting(failure);
    return null;
  }

  /** Never a failure: the message stays 发送中 with the reason it waits, and goes once there is room. */
  private waitForRateLimit(item: OutboxItem, failure: BackendFailure): void {
    if (!this.throttled) {
      this.throttled = true;
      this.emit({ type: 'throttled', detail: failure.detail });
    }
    if (item.error) return;
    item.error = { reason: t('sendRateLimited'), detail: failure.detail };
    this.emit({ type: 'status', item: copy(item) });
  }

  private fail(item: OutboxItem, reason: string, failure: BackendFailure, transient = false): void {
    item.status = 'failed';
    item.transient = transient || undefined;
    item.error = { reason, detail: failure.detail };
    this.persist();
    this.emit({ type: 'status', item: copy(item) });
  }

  private finish(item: OutboxItem, row: MessageRow): void {
    // The echo may have confirmed (and released) it already while the insert's answer was on its way.
    const queued = this.items.indexOf(item) >= 0;
    this.items = this.items.filter((candidate) => candidate !== item);
    this.persist();
    if (queued) this.release(item);
    this.emit({ type: 'sent', key: item.key, row });
  }

  /** The message is stored: its picked image's local copy is no longer needed. */
  private release(item: OutboxItem): void {
    const { backend } = this.options;
    if (item.image && backend.releaseImage) backend.releaseImage(item.image);
  }

  private find(key: string): OutboxItem | null {
    return this.items.filter((item) => item.key === key)[0] || null;
  }

  private clearRetryTimer(): void {
    if (this.retryTimer === null) return;
    this.options.clock.clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private persist(): void {
    const snapshot = this.list();
    const { store, storeKey } = this.options;
    this.saving = this.saving
      .then(() => (snapshot.length ? store.set(storeKey, snapshot) : store.remove(storeKey)))
      .catch((error) => this.emit({ type: 'store-failed', detail: asBackendFailure(error).message }));
  }

  private emit(event: OutboxEvent): void {
    this.options.onEvent(event);
  }
}

/** UTF-8 length without TextEncoder, which WeChat's runtime lacks. */
function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    // A surrogate pair is one 4-byte character: 2 bytes for each of its halves.
    bytes += unit < 0x80 ? 1 : unit < 0x800 ? 2 : unit >= 0xd800 && unit <= 0xdfff ? 2 : 3;
  }
  return bytes;
}

function copy(item: OutboxItem): OutboxItem {
  return { ...item, image: item.image ? { ...item.image } : null, error: item.error ? { ...item.error } : null };
}

function newMessage(item: OutboxItem, roomId: number): NewMessage {
  const image = item.image;
  return {
    room_id: roomId,
    username: item.username,
    avatar_color: item.avatarColor,
    kind: item.kind,
    body: item.body,
    image_path: image ? image.storagePath : null,
    image_width: image ? image.width : null,
    image_height: image ? image.height : null,
    client_id: item.key,
    character_id: item.characterId ?? null,
    reply_to: item.replyTo ?? null,
    hidden: item.hidden ?? false,
  };
}
