// The contract between the core and its two neighbours: the backend below (rows as PostgREST
// and Realtime deliver them) and the pages above (render-ready messages and small patches).
// Row types derive from the generated database types (`npm run gen:types`).
import type { Tables } from '../../typings/database.types';

/**
 * The kinds messages_kind_check allows: 对白, 动作, 场外, 掷骰 and 图片. The generated types say
 * only `string` for a text column with a CHECK; test/database-types.test.ts keeps this union equal
 * to the constraint.
 */
export type MessageKind = 'text' | 'action' | 'ooc' | 'roll' | 'image';

/**
 * A message's state, which only the database sets (messages_status_check): `pending` until WeChat's
 * content security answers, then `visible`, `blocked` (risky) or `held` (for a moderator); `hidden`
 * (reported, or hidden by a moderator) and `recalled` have their content withheld.
 */
export type ModerationState = 'pending' | 'visible' | 'blocked' | 'held' | 'hidden' | 'recalled';

/** One term of a roll: dice with every face thrown, or a plain number. */
export type RollTerm = { sign: 1 | -1; count: number; faces: number; dice: number[] } | { sign: 1 | -1; value: number };

/** What the database rolled (private.roll_dice). */
export interface Roll {
  expression: string;
  terms: RollTerm[];
  total: number;
  check?: { op: '<=' | '<' | '>=' | '>'; target: number; outcome: 'success' | 'failure' | 'critical_success' | 'critical_failure' };
}

/** The quote of a reply, set by the database from the replied message (text null when withheld). */
export interface ReplyPreview {
  username: string;
  text: string | null;
  kind: MessageKind;
  status: ModerationState;
}

/** A row of public.messages exactly as the REST API and realtime payloads carry it. */
export type MessageRow = Omit<Tables<'messages'>, 'kind' | 'status' | 'roll' | 'reply_preview'> & {
  kind: MessageKind;
  status: ModerationState;
  roll: Roll | null;
  reply_preview: ReplyPreview | null;
};

/** A row of public.hidden_rolls: a hidden roll's result, which only the roller and the host read. */
export type HiddenRollRow = Omit<Tables<'hidden_rolls'>, 'roll'> & { roll: Roll };

/** The columns of public.rooms the app reads. */
/** The columns of a scene the room shows (RoomRow), in the order REST is asked for them. */
export const ROOM_COLUMNS = ['id', 'slug', 'title', 'topic', 'host', 'archived', 'pinned_message_id'] as const;
export type RoomRow = Pick<Tables<'rooms'>, (typeof ROOM_COLUMNS)[number]>;

export type DeliveryStatus = 'sending' | 'failed' | 'sent';

/** A message as the room shows it: a server row, or one of ours still in the outbox. */
export interface ChatMessage {
  /** Stable across pending → sent: the client_id. */
  key: string;
  /** Server id; null while the message is only in the outbox. */
  id: number | null;
  userId: string;
  username: string;
  avatarColor: string;
  characterId: number | null;
  kind: MessageKind;
  body: string | null;
  /** Displayable image source: the public URL once uploaded, the local file before. */
  imageUrl: string | null;
  imageWidth: number | null;
  imageHeight: number | null;
  /** ISO timestamp: the server's once sent, the device's while pending. */
  createdAt: string;
  status: DeliveryStatus;
  /** The database's state once stored; null while the message is only in the outbox. */
  state: ModerationState | null;
  /** WeChat's label of a blocked or held message (shown to its author). */
  label: number | null;
  /** A roll's result; for a hidden roll, filled in only for the roller and the host. */
  roll: Roll | null;
  /** 暗骰: others see only that a roll was made. */
  hidden: boolean;
  replyTo: number | null;
  replyPreview: ReplyPreview | null;
  /** Upload progress 0–100 for our own pending images. */
  progress?: number;
  /** Short Chinese reason when status is 'failed'; while 'sending', why it waits (the rate limit). */
  error?: string;
  /** The backend's code and message behind `error`, for developers (logs, a long-press detail). */
  errorDetail?: string;
  mine: boolean;
}

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'offline';

/**
 * What changed in a room's list, small enough for one path-keyed setData each.
 * Indices refer to the session's list after the patch is applied.
 */
export type RoomPatch =
  | { type: 'reset'; messages: ChatMessage[]; hasOlder: boolean }
  | { type: 'append'; messages: ChatMessage[] }
  | { type: 'insert'; index: number; message: ChatMessage }
  | { type: 'prepend'; messages: ChatMessage[]; hasOlder: boolean }
  | { type: 'update'; key: string; index: number; changes: Partial<ChatMessage> }
  | { type: 'remove'; key: string; index: number }
  /**
   * The `count` oldest messages left the list (it keeps a bounded number in memory); they can be
   * loaded again with loadOlder, so hasOlder is true.
   */
  | { type: 'trim'; count: number; hasOlder: true }
  | { type: 'connection'; state: ConnectionState }
  /** The scene itself: at start, and whenever its host edits, pins or archives it. */
  | { type: 'scene'; scene: SceneState }
  | { type: 'error'; message: string; detail: string };

/** What the room's header and composer show of the scene. */
export interface SceneState {
  id: number;
  slug: string;
  title: string;
  topic: string;
  /** Read-only for everyone: the composer gives way to a note. */
  archived: boolean;
  /** The reader opened it: they may pin, edit and archive. */
  isHost: boolean;
  /** The 公告, the host's pinned message (null: none, or not found). */
  pinned: ChatMessage | null;
}

export interface Profile {
  name: string;
  color: string;
}

/** Who speaks: a character of the person's (or, before characters exist, a role on the device). */
export interface Speaker extends Profile {
  characterId: number | null;
}

/** How a line is said: 对白, 动作 or 场外. */
export type Voice = 'text' | 'action' | 'ooc';

/** Why someone reports a message (reports_reason_check). */
export type ReportReason = 'spam' | 'abuse' | 'sexual' | 'illegal' | 'other';

/** An image picked and compressed on the device, ready to upload. */
export interface PickedImage {
  /** Local file path (wx temp file, or a path on disk for the terminal client). */
  path: string;
  width: number;
  height: number;
  size: number;
  mime: 'image/jpeg' | 'image/png' | 'image/webp' | 'image/gif';
}

/** What a room page drives. The core implements it; pages only render its patches. */
export interface RoomView {
  /** Paints from the device cache at once, then loads the newest page and subscribes. */
  start(): Promise<void>;
  stop(): void;
  onPatch(listener: (patch: RoomPatch) => void): () => void;
  /** Loads the page before the oldest loaded message; resolves false when there is none. */
  loadOlder(): Promise<boolean>;
  /**
   * Sends a line typed in the composer: `/me …` is an action, `((…))` out of character, `.r …` a
   * roll and `.rh …` a hidden roll; otherwise `voice` says how it is said. False when the core
   * refuses it (an error patch says why): the page keeps the draft.
   */
  sendText(text: string, options?: { voice?: Voice; replyTo?: number | null }): boolean;
  /** False when the core refuses it (an error patch says why). */
  sendImage(image: PickedImage): boolean;
  retry(key: string): void;
  /** Manual reconnect (the header's retry when offline). */
  reconnect(): void;
  /** Takes back one of our messages within 2 minutes; resolves with an error sentence or null. */
  recall(key: string): Promise<string | null>;
  /** Reports someone else's message; resolves with an error sentence or null. */
  report(key: string, reason: ReportReason): Promise<string | null>;
  /** Drops a person's messages from the list (after blocking them). */
  forgetAuthor(userId: string): void;
  /** Loads older pages until the message with this id is in the list; false if it is not found. */
  loadUntil(id: number): Promise<boolean>;
  /** Records that the reader has seen the room up to its newest message (leaving the room). */
  markRead(): void;
  /** Host only: pins a message as the scene's 公告 (null unpins); resolves with an error sentence or null. */
  pin(key: string | null): Promise<string | null>;
}
