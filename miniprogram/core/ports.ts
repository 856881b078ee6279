// The small interfaces the core talks through. WeChat (miniprogram/platform), the terminal client
// (scripts/chat.ts) and the unit tests each plug their own implementations in; the core never
// touches `wx`, Node or DOM globals.
import type { HiddenRollRow, MessageRow, PickedImage, ReportReason, RoomRow } from './types';

/**
 * A failed backend call, reduced to what the core decides on. `status` is the HTTP status, 0 when
 * the request never got an answer (network down, server unreachable); `code` is the backend's code
 * (SQLSTATE such as 23514 / PT429 / 42501, PGRSTxxx, or the storage error name), '' when absent.
 */
export class BackendFailure extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'BackendFailure';
    this.status = status;
    this.code = code;
    // ES2017 output keeps Error subclasses' prototype only when set explicitly.
    Object.setPrototypeOf(this, BackendFailure.prototype);
  }

  /** Developer detail: the backend's code and message, as shown in logs and `error` patches. */
  get detail(): string {
    return `${this.status || 'network'} ${this.code || '-'}: ${this.message}`;
  }
}

/** Anything thrown by a Backend, as a BackendFailure (a plain Error counts as a network failure). */
export function asBackendFailure(error: unknown): BackendFailure {
  if (error instanceof BackendFailure) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new BackendFailure(0, '', message);
}

/** A message row as the client inserts it; the database fills the rest (id, user, state, roll, quote…). */
export type NewMessage = Pick<
  MessageRow,
  | 'room_id'
  | 'username'
  | 'avatar_color'
  | 'kind'
  | 'body'
  | 'image_path'
  | 'image_width'
  | 'image_height'
  | 'client_id'
  | 'character_id'
  | 'reply_to'
  | 'hidden'
>;

/** What a room's channel hears. */
export interface RoomChannelHandlers {
  /** A message inserted or changed (turned visible, recalled, hidden): the whole row. */
  row(row: MessageRow): void;
  /** A hidden roll's result: heard only by the roller and the scene's host. */
  hiddenRoll(row: HiddenRollRow): void;
  /** The scene's row changed (its host edited, pinned or archived it). */
  room(row: RoomRow): void;
  /** Every (re)join, error and close. */
  status(status: ChannelStatus, detail?: string): void;
}

export type ChannelStatus = 'subscribed' | 'error' | 'closed';

export interface Subscription {
  unsubscribe(): void;
}

export interface UploadTask {
  /** Resolves once the object is stored; rejects with a BackendFailure. */
  done: Promise<void>;
  /** Stops the transfer; `done` then rejects. */
  cancel(): void;
}

/**
 * An UploadTask over a transfer that cannot itself be aborted: cancel() rejects `done` at once.
 * The transfer may still finish on the server; a retry then meets a duplicate, which counts as uploaded.
 */
export function cancellableUpload(transfer: Promise<void>): UploadTask {
  let cancel = (): void => undefined;
  const cancelled = new Promise<never>((_, reject) => {
    cancel = () => reject(new BackendFailure(0, 'cancelled', 'upload cancelled'));
  });
  // Once the transfer settled, a late cancel() rejects a promise nobody awaits any more.
  cancelled.catch(() => undefined);
  return { done: Promise.race([transfer, cancelled]), cancel };
}

/** Puts an image's bytes into the `images` bucket. The platform provides it (wx.uploadFile in WeChat). */
export interface ImageUploader {
  upload(storagePath: string, image: PickedImage, onProgress: (percent: number) => void): UploadTask;
  /** The message with this image is stored or gone: its local file (kept across restarts) can go. */
  release?(image: PickedImage): void;
  /**
   * At launch: removes the image files saved before this launch that no pending message uses
   * (`inUse`: their paths). Files saved during this launch stay, as a picked image may not have
   * reached the outbox yet.
   */
  prune?(inUse: string[]): void;
}

/**
 * What a room needs from the backend. List methods return rows in ascending id order (oldest
 * first), whatever order the query used. Every method rejects with a BackendFailure.
 */
export interface Backend {
  /** The signed-in user's id; signs in with WeChat first when there is no valid session. */
  userId(): Promise<string>;
  findRoom(slug: string): Promise<RoomRow>;
  /** The newest `limit` messages of the room. */
  newestMessages(roomId: number, limit: number): Promise<MessageRow[]>;
  /** The `limit` messages just before `beforeId`. */
  messagesBefore(roomId: number, beforeId: number, limit: number): Promise<MessageRow[]>;
  /** The first `limit` messages after `afterId` (gap-fill). */
  messagesAfter(roomId: number, afterId: number, limit: number): Promise<MessageRow[]>;
  /** A message by its client_id, to tell our own earlier insert from a foreign one on a duplicate. */
  messageByClientId(clientId: string): Promise<MessageRow | null>;
  /** Inserts and returns the stored row. A duplicate client_id rejects with code 23505 (HTTP 409). */
  insertMessage(message: NewMessage): Promise<MessageRow>;
  uploadImage(storagePath: string, image: PickedImage, onProgress: (percent: number) => void): UploadTask;
  /** See ImageUploader.release. */
  releaseImage?(image: PickedImage): void;
  /** See ImageUploader.prune. */
  /** Messages up to `throughId` whose state changed at or after `since`, oldest change first. */
  messagesChangedSince(roomId: number, since: string, throughId: number, limit: number): Promise<MessageRow[]>;
  /** The hidden rolls among these messages that the caller may read (as roller or host). */
  hiddenRolls(messageIds: number[]): Promise<HiddenRollRow[]>;
  /** Takes back one of the caller's messages (recall_message); RCLAT after 2 minutes. */
  recallMessage(id: number): Promise<void>;
  /** Reports a message; a second report by the same person rejects with 23505. */
  reportMessage(id: number, reason: ReportReason): Promise<void>;
  /** Moves the caller's read marker of the room forward to this message. */
  markRead(roomId: number, messageId: number): Promise<void>;
  /** One message by id (the 公告 may be older than anything loaded); null when the caller may not see it. */
  messageById(id: number): Promise<MessageRow | null>;
  /** Host only (pin_message): the scene's 公告, or none with null; 42501 for anyone else. */
  pinMessage(roomId: number, messageId: number | null): Promise<void>;
  /**
   * One channel for the room: its messages' INSERTs and UPDATEs, the hidden rolls the caller may
   * read, and changes to the scene's own row.
   */
  subscribe(roomId: number, handlers: RoomChannelHandlers): Subscription;
  publicImageUrl(storagePath: string): string;
}

/**
 * Device storage of JSON-able values. WeChat's storage is synchronous, files and IndexedDB are
 * not, so every method may answer either way; the core always awaits.
 */
export interface KeyValueStore {
  get<T>(key: string): T | null | Promise<T | null>;
  set<T>(key: string, value: T): void | Promise<void>;
  remove(key: string): void | Promise<void>;
  /** Every key stored (the launch reads each scene's outbox through it). */
  keys(): string[] | Promise<string[]>;
}

/**
 * Runs a store call and always answers with a promise: a synchronous store (wx.setStorageSync)
 * throws when storage is full, which `Promise.resolve(store.set(…)).catch` would not catch.
 */
export function settle<T>(run: () => T | Promise<T>): Promise<T> {
  try {
    return Promise.resolve(run());
  } catch (error) {
    return Promise.reject(error);
  }
}

export type TimerHandle = unknown;

/** Time and timers, injected so tests control backoff and timestamps. */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Generates client_ids and storage object names. */
export type IdGenerator = () => string;
