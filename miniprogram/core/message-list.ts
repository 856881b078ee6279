// The room's ordered message list and the patches that describe each change to it.
//
// Layout: server messages in ascending id order (the server's order), then our own messages still
// in the outbox, in the order they were sent. Every message's key is its client_id, unique per row,
// so one lookup finds duplicates (a row delivered by both realtime and gap-fill), our own echo
// (the server row of a pending message) and a newer state of a row already shown (turned visible,
// recalled, hidden), which updates it in place.
import type { ChatMessage, MessageRow, RoomPatch } from './types';

export const PAGE_SIZE = 50;
/** Server messages kept in memory and on screen; older ones are dropped and re-loadable. */
export const MAX_MESSAGES = 500;
/**
 * The bound while the reader has loaded older pages: their rows are what they are reading, so
 * live messages do not trim them away until the list gets this large (memory still stays bounded).
 */
export const MAX_MESSAGES_READING_HISTORY = 4 * MAX_MESSAGES;

interface Entry {
  message: ChatMessage;
  /** The server row, kept for the device cache; null while pending. */
  row: MessageRow | null;
}

export interface ServerMessage {
  row: MessageRow;
  message: ChatMessage;
}

export class MessageList {
  private entries: Entry[] = [];
  private serverCount = 0;
  private olderExists = false;
  /** An older page was loaded on request since the last reset: the reader may be up there. */
  private readingHistory = false;
  /** Consecutive appends are sent as one patch: buffered here until another patch must go out. */
  private appendBuffer: ChatMessage[] = [];

  constructor(private readonly emit: (patch: RoomPatch) => void) {}

  get hasOlder(): boolean {
    return this.olderExists;
  }

  messages(): ChatMessage[] {
    return this.entries.map((entry) => entry.message);
  }

  newestId(): number | null {
    return this.serverCount ? this.entries[this.serverCount - 1].message.id : null;
  }

  oldestId(): number | null {
    return this.serverCount ? this.entries[0].message.id : null;
  }

  /** The newest `count` server rows, oldest first (what the device cache keeps). */
  newestRows(count: number): MessageRow[] {
    return this.entries.slice(Math.max(0, this.serverCount - count), this.serverCount).map((entry) => entry.row as MessageRow);
  }

  /**
   * Replaces everything: the first paint, or a gap too large to fill. A pending message whose key
   * a server row already holds is left out: ours were confirmed before the call, so that row is
   * someone else's, and the outbox resends ours under a fresh key.
   */
  reset(server: ServerMessage[], pending: ChatMessage[], hasOlder: boolean): void {
    const sorted = server.slice().sort((a, b) => a.row.id - b.row.id);
    const seen: Record<string, true> = {};
    const entries: Entry[] = [];
    for (const { row, message } of sorted) {
      seen[message.key] = true;
      entries.push({ message, row });
    }
    const serverCount = entries.length;
    for (const message of pending) if (!seen[message.key]) entries.push({ message, row: null });
    this.entries = entries;
    this.serverCount = serverCount;
    this.olderExists = hasOlder;
    this.readingHistory = false;
    this.appendBuffer = [];
    this.emit({ type: 'reset', messages: this.messages(), hasOlder });
  }

  /**
   * Places server rows (a newer page, a gap-fill, a live INSERT or UPDATE, the answer to our
   * insert) at their id positions. A known row takes the newer state (by changed_at); a row
   * matching a pending message replaces it.
   */
  mergeServer(server: ServerMessage[]): void {
    const sorted = server.slice().sort((a, b) => a.row.id - b.row.id);
    for (const item of sorted) this.placeServer(item);
    this.flushAppends();
    this.trimOldest();
  }

  /**
   * An older page, loaded on request (or the first page when nothing from the server is shown):
   * goes in front of the oldest message. Rows that confirm our pending messages are merged instead.
   */
  prependOlder(server: ServerMessage[], hasOlder: boolean): void {
    const oldest = this.oldestId();
    const ours = server.filter(({ message }) => this.indexOf(message.key) >= this.serverCount);
    const older = server
      .filter(({ row, message }) => (oldest === null || row.id < oldest) && this.indexOf(message.key) < 0)
      .sort((a, b) => a.row.id - b.row.id);
    if (older.length || hasOlder !== this.olderExists) {
      // In front of rows already shown, this is a page the reader asked for (not the first page).
      if (oldest !== null && older.length) this.readingHistory = true;
      this.entries = older.map(({ row, message }): Entry => ({ message, row })).concat(this.entries);
      this.serverCount += older.length;
      this.olderExists = hasOlder;
      this.emit({ type: 'prepend', messages: older.map((entry) => entry.message), hasOlder });
    }
    if (ours.length) this.mergeServer(ours);
  }

  /** One of ours, just sent or restored from the outbox: shown at the end at once. */
  addPending(message: ChatMessage): void {
    if (this.indexOf(message.key) >= 0) return;
    this.entries.push({ message, row: null });
    this.bufferAppend(message);
    this.flushAppends();
  }

  /** Changes a message in place (status, progress, error of a pending one). */
  update(key: string, changes: Partial<ChatMessage>): void {
    const index = this.indexOf(key);
    if (index < 0) return;
    const entry = this.entries[index];
    entry.message = { ...entry.message, ...changes };
    this.emit({ type: 'update', key, index, changes });
  }

  /** Drops a pending message (its key changed: it was resent under a fresh client_id). */
  removePending(key: string): void {
    const index = this.indexOf(key);
    if (index < this.serverCount) return;
    this.entries.splice(index, 1);
    this.emit({ type: 'remove', key, index });
  }

  /** Drops the server messages that match (a blocked person's, one no longer ours to see). */
  removeServer(matches: (message: ChatMessage) => boolean): void {
    for (let index = this.serverCount - 1; index >= 0; index--) {
      const { message } = this.entries[index];
      if (!matches(message)) continue;
      this.entries.splice(index, 1);
      this.serverCount--;
      this.emitNow({ type: 'remove', key: message.key, index });
    }
  }

  /** The message with this server id, if loaded. */
  byId(id: number): ChatMessage | undefined {
    for (let i = this.serverCount - 1; i >= 0; i--) if (this.entries[i].message.id === id) return this.entries[i].message;
    return undefined;
  }

  private placeServer({ row, message }: ServerMessage): void {
    const existing = this.indexOf(message.key);
    if (existing >= 0 && existing < this.serverCount) {
      this.updateServer(existing, row, message);
      return;
    }
    const oldest = this.oldestId();
    if (this.olderExists && oldest !== null && row.id < oldest) {
      // Below the loaded window: placing it would leave a hole above it that nothing fills.
      // loadOlder brings it in its place; a pending copy of it is done.
      if (existing >= 0) {
        this.entries.splice(existing, 1);
        this.emitNow({ type: 'remove', key: message.key, index: existing });
      }
      return;
    }
    const index = this.insertionIndex(row.id);
    if (existing >= 0) {
      this.confirmPending(existing, index, row, message);
      return;
    }
    this.entries.splice(index, 0, { message, row });
    this.serverCount++;
    if (index === this.entries.length - 1) this.bufferAppend(message);
    else this.emitNow({ type: 'insert', index, message });
  }

  /** A row already shown arrived again: it may carry a newer state; an older copy changes nothing. */
  private updateServer(index: number, row: MessageRow, message: ChatMessage): void {
    const entry = this.entries[index];
    if (entry.row && Date.parse(entry.row.changed_at) > Date.parse(row.changed_at)) return;
    const changes = changedFields(entry.message, message);
    entry.row = row;
    if (!Object.keys(changes).length) return;
    entry.message = { ...entry.message, ...changes };
    this.emitNow({ type: 'update', key: message.key, index, changes });
  }

  /** Our pending message came back from the server: it takes the row's place in id order. */
  private confirmPending(pendingIndex: number, index: number, row: MessageRow, message: ChatMessage): void {
    if (pendingIndex === index) {
      const previous = this.entries[index].message;
      const changes = changedFields(previous, message);
      this.entries[index] = { message: { ...previous, ...changes }, row };
      this.serverCount++;
      this.emitNow({ type: 'update', key: message.key, index, changes });
      return;
    }
    this.entries.splice(pendingIndex, 1);
    this.emitNow({ type: 'remove', key: message.key, index: pendingIndex });
    this.entries.splice(index, 0, { message, row });
    this.serverCount++;
    this.emitNow({ type: 'insert', index, message });
  }

  /** Keeps memory and the page's node count bounded during a long session. */
  private trimOldest(): void {
    // Trimming only once the list is a page over the bound means one patch per page of new
    // messages rather than one per message.
    const bound = this.readingHistory ? MAX_MESSAGES_READING_HISTORY : MAX_MESSAGES;
    if (this.serverCount <= bound + PAGE_SIZE) return;
    const count = this.serverCount - bound;
    this.entries.splice(0, count);
    this.serverCount -= count;
    this.olderExists = true;
    this.emit({ type: 'trim', count, hasOlder: true });
  }

  /** Where a server row with this id belongs: after every server row with a smaller id. */
  private insertionIndex(id: number): number {
    let low = 0;
    let high = this.serverCount;
    while (low < high) {
      const mid = (low + high) >> 1;
      if ((this.entries[mid].message.id as number) < id) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  private indexOf(key: string): number {
    for (let i = this.entries.length - 1; i >= 0; i--) if (this.entries[i].message.key === key) return i;
    return -1;
  }

  private bufferAppend(message: ChatMessage): void {
    this.appendBuffer.push(message);
  }

  private emitNow(patch: RoomPatch): void {
    this.flushAppends();
    this.emit(patch);
  }

  private flushAppends(): void {
    if (!this.appendBuffer.length) return;
    const messages = this.appendBuffer;
    this.appendBuffer = [];
    this.emit({ type: 'append', messages });
  }
}

function changedFields(before: ChatMessage, after: ChatMessage): Partial<ChatMessage> {
  const changes: Partial<ChatMessage> = {};
  const target = changes as Record<string, unknown>;
  const source = after as unknown as Record<string, unknown>;
  const previous = before as unknown as Record<string, unknown>;
  for (const field of Object.keys(source)) if (!sameValue(source[field], previous[field])) target[field] = source[field];
  // A pending message's progress/error no longer apply once it is sent.
  if (before.progress !== undefined && after.progress === undefined) target.progress = 100;
  if (before.error !== undefined && after.error === undefined) target.error = '';
  return changes;
}

/** Rolls and quotes are objects parsed anew from every copy of a row: equal if their JSON is. */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  return typeof a === 'object' && typeof b === 'object' && a !== null && b !== null && JSON.stringify(a) === JSON.stringify(b);
}
