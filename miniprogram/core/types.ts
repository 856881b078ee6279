// The contract between the core and its two neighbours: the backend below (rows as PostgREST
// and Realtime deliver them) and the pages above (render-ready messages and small patches).
// Row types derive from the generated database types (`npm run gen:types`).
import type { Tables } from '../../typings/database.types';

/**
 * The kinds messages_kind_check allows. The generated types say only `string` for a text column
 * with a CHECK; test/database-types.test.ts keeps this union equal to the constraint.
 */
export type MessageKind = 'text' | 'image';

/** A row of public.messages exactly as the REST API and realtime payloads carry it. */
export type MessageRow = Omit<Tables<'messages'>, 'kind'> & { kind: MessageKind };

/** The columns of public.rooms the app reads. */
export type RoomRow = Pick<Tables<'rooms'>, 'id' | 'slug' | 'title' | 'topic'>;

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
  kind: MessageKind;
  body: string | null;
  /** Displayable image source: the public URL once uploaded, the local file before. */
  imageUrl: string | null;
  imageWidth: number | null;
  imageHeight: number | null;
  /** ISO timestamp: the server's once sent, the device's while pending. */
  createdAt: string;
  status: DeliveryStatus;
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
  | { type: 'error'; message: string; detail: string };

export interface Profile {
  name: string;
  color: string;
}

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
  /** False when the core refuses it (an error patch says why): the page keeps the draft. */
  sendText(text: string): boolean;
  /** False when the core refuses it (an error patch says why). */
  sendImage(image: PickedImage): boolean;
  retry(key: string): void;
  /** Manual reconnect (the header's retry when offline). */
  reconnect(): void;
}
