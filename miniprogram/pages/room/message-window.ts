// The room's render model. The page keeps every message the core has sent it (`model`, plain
// memory, not render data) and renders a bounded window of it as fixed-size chunks:
//
//   data.chunkOrder = ['c7', 'c3', 'c4']        order of the rendered chunks, top to bottom
//   data.chunks.c3 = [MessageItem × ≤ 20]
//
// so that every change is one setData whose keys are short paths ('chunks.c4[7].status',
// 'chunks.c9'), whatever the number of messages loaded. Chunk ids only grow, so a prepended
// chunk never renames the ones below it; their order lives in the small chunkOrder array.
// How one message looks (its MessageItem) is the message-item component's business (format.ts).
import type { ChatMessage } from '../../core/types';
import { t } from '../../core/strings';
import { dayLabel, toItem, type MessageItem } from '../../components/message-item/format';

export const CHUNK_SIZE = 20;
/**
 * Messages rendered per step when the reader scrolls past the window's edge (not the core's
 * PAGE_SIZE, which is how many rows one request loads).
 */
export const RENDER_STEP = 50;
/**
 * Most messages rendered at once, plus up to one chunk of slack. WeChat's guide asks for fewer
 * than ~1000 WXML nodes; a message item is about ten. Older messages stay in `model` and render
 * again when the reader scrolls up to them.
 */
export const MAX_RENDERED = 80;

export type RenderData = Record<string, unknown>;
/** The page's setData; the callback runs once the view has applied the data. */
export type SetData = (data: RenderData, callback?: () => void) => void;

/**
 * A message as the view receives it: MessageItem without its empty fields ('', false, null). Most
 * messages use few of the fields a roll, a quote or a state needs, and every byte of a rendered
 * message is sent to the view; the template reads an absent field as empty.
 */
export type ViewItem = Partial<MessageItem> & Pick<MessageItem, 'key'>;

export function viewItem(item: MessageItem): ViewItem {
  const shown: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(item)) if (value !== '' && value !== false && value !== null) shown[field] = value;
  return shown as ViewItem;
}

interface Chunk {
  id: string;
  items: ViewItem[];
}

export interface MessageWindowOptions {
  setData: SetData;
  now?: () => Date;
}

/**
 * Applies the core's patches to the page's render data. Every method makes at most one setData
 * call, and its size depends on what changed, never on how many messages are loaded.
 */
export class MessageWindow {
  /** Every message the core has given the page, oldest first, mirroring the core's list. */
  private model: ChatMessage[] = [];
  /** The rendered window is model[start, end). */
  private start = 0;
  private end = 0;
  private chunks: Chunk[] = [];
  private nextChunkId = 0;
  private readonly setData: SetData;
  private readonly now: () => Date;
  /** Whether the reader is at the bottom: new messages then scroll into view. */
  private following = true;
  /** The day the rendered separators were labelled on: 今天 and 昨天 move at midnight. */
  private labelledDay = '';
  private unseen = 0;

  constructor(options: MessageWindowOptions) {
    this.setData = options.setData;
    this.now = options.now ?? (() => new Date());
  }

  get size(): number {
    return this.model.length;
  }

  get renderedCount(): number {
    return this.end - this.start;
  }

  get hasHiddenBelow(): boolean {
    return this.end < this.model.length;
  }

  /** Every image of the room the page knows, for wx.previewImage. */
  imageUrls(): string[] {
    const urls: string[] = [];
    for (const message of this.model) if (message.kind === 'image' && message.imageUrl) urls.push(message.imageUrl);
    return urls;
  }

  /** A whole new list (cache paint, then the network's newest page): render its newest page. */
  reset(messages: ChatMessage[], extra: RenderData = {}): void {
    this.model = messages.slice();
    this.end = this.model.length;
    this.start = Math.max(0, this.end - RENDER_STEP);
    this.following = true;
    this.unseen = 0;
    this.chunks = this.buildChunks(this.start, this.end, 'fill-last');
    this.labelledDay = this.now().toDateString();
    const chunks: RenderData = {};
    for (const chunk of this.chunks) chunks[chunk.id] = chunk.items;
    // `chunks` as a whole replaces every earlier chunk in the view.
    this.setData({
      chunks,
      chunkOrder: this.chunkOrder(),
      anchor: this.anchorOfLast(),
      unseen: 0,
      empty: this.model.length === 0,
      ...extra,
    });
  }

  append(messages: ChatMessage[]): void {
    const firstIndex = this.model.length;
    this.model.push(...messages);
    // More new messages than the window holds (a long gap filled): start over at the newest.
    if (this.following && this.model.length - this.end > MAX_RENDERED) return this.reset(this.model);
    const data: RenderData = {};
    if (firstIndex === 0) data.empty = false;
    // A reader who scrolled up keeps a bounded window too: what does not fit waits below, counted
    // by the pill, until they scroll down or tap it.
    while (this.end < this.model.length && (this.following || this.renderedCount < MAX_RENDERED)) {
      this.renderAtEnd(this.end, data);
    }
    if (this.following) {
      this.trimTop(data);
      data.anchor = this.anchorOfLast();
    } else {
      this.unseen += messages.length;
      data.unseen = this.unseen;
      data.unseenText = t('newMessages', { count: this.unseen });
    }
    this.relabel(data);
    this.setData(data);
  }

  /** The page is shown again (perhaps on another day): separators say 今天 and 昨天 of today. */
  refreshDays(): void {
    const data: RenderData = {};
    this.relabel(data);
    if (Object.keys(data).length > 0) this.setData(data);
  }

  /** Adds to `data` the separators whose label changed since the day they were written on. */
  private relabel(data: RenderData): void {
    const now = this.now();
    if (now.toDateString() === this.labelledDay) return;
    this.labelledDay = now.toDateString();
    for (const chunk of this.chunks) {
      chunk.items.forEach((item, slot) => {
        if (!item.day) return;
        const day = dayLabel(new Date(this.model[this.indexOf(item.key)].createdAt), now);
        if (day === item.day) return;
        item.day = day;
        // A chunk sent whole in this data already carries the new label.
        if (!(`chunks.${chunk.id}` in data)) data[`chunks.${chunk.id}[${slot}].day`] = day;
      });
    }
  }

  /** A message placed before the end (a gap-filled row that sorts before our pending sends). */
  insert(index: number, message: ChatMessage): void {
    if (index >= this.model.length) return this.append([message]);
    this.model.splice(index, 0, message);
    const data: RenderData = { empty: false };
    if (index < this.start) {
      this.start++;
      this.end++;
    } else if (index < this.end) {
      // The message now at index + 1 was rendered; put the new one into that message's chunk.
      const place = this.locate(this.model[index + 1].key)!;
      this.end++;
      place.chunk.items.splice(place.slot, 0, this.itemAt(index));
      place.chunk.items[place.slot + 1] = this.itemAt(index + 1);
      data[`chunks.${place.chunk.id}`] = place.chunk.items;
      // A full chunk passes its last message to a new chunk right below it: chunks stay ≤ CHUNK_SIZE.
      if (place.chunk.items.length > CHUNK_SIZE) {
        const overflow = this.newChunk(place.chunk.items.splice(CHUNK_SIZE));
        this.chunks.splice(this.chunks.indexOf(place.chunk) + 1, 0, overflow);
        data[`chunks.${overflow.id}`] = overflow.items;
        data.chunkOrder = this.chunkOrder();
      }
    } else {
      this.unseen++;
      data.unseen = this.unseen;
      data.unseenText = t('newMessages', { count: this.unseen });
    }
    this.setData(data);
  }

  /** Older messages from the core (a loaded page): shown at once when the window reaches the top. */
  prepend(messages: ChatMessage[], extra: RenderData = {}): void {
    const atTop = this.start === 0;
    this.model.unshift(...messages);
    this.start += messages.length;
    this.end += messages.length;
    const data: RenderData = { ...extra, empty: this.model.length === 0 };
    // The message that was first now has a predecessor: its separator and grouping may change.
    this.refreshItem(messages.length, data);
    if (atTop) this.renderAbove(data);
    this.setData(data);
  }

  /** The core dropped its `count` oldest messages (it bounds its memory); they stay re-loadable. */
  trim(count: number, extra: RenderData = {}): void {
    this.model.splice(0, count);
    const data: RenderData = { ...extra };
    // Only a trim that stops short of the window leaves it untouched: one that reaches it, even
    // exactly up to its first message, takes that message's predecessor away (re-rendered below).
    if (count < this.start) {
      this.start -= count;
      this.end -= count;
    } else {
      let leaving = Math.min(count, this.end) - this.start;
      while (leaving > 0 && this.chunks.length > 0) {
        const first = this.chunks[0];
        if (first.items.length <= leaving) {
          leaving -= first.items.length;
          this.chunks.shift();
          data[`chunks.${first.id}`] = null;
        } else {
          first.items.splice(0, leaving);
          data[`chunks.${first.id}`] = first.items;
          leaving = 0;
        }
      }
      data.chunkOrder = this.chunkOrder();
      this.start = 0;
      this.end = Math.max(0, this.end - count);
      this.refreshItem(0, data);
    }
    // Everything rendered was trimmed away but newer messages remain: an empty window would show
    // a blank list, so render the newest page instead.
    if (this.renderedCount === 0 && this.model.length > 0) return this.reset(this.model, extra);
    data.empty = this.model.length === 0;
    this.setData(data);
  }

  /** Renders the next older page already in memory. Returns false when the window is at the top. */
  showOlder(extra: RenderData = {}): boolean {
    if (this.start === 0) return false;
    const data: RenderData = { ...extra };
    this.renderAbove(data);
    this.setData(data);
    return true;
  }

  /** Renders the next newer page already in memory (the window was trimmed at the bottom). */
  showNewer(): boolean {
    if (!this.hasHiddenBelow) return false;
    const data: RenderData = {};
    const stop = Math.min(this.model.length, this.end + RENDER_STEP);
    for (let i = this.end; i < stop; i++) this.renderAtEnd(i, data);
    this.trimTop(data);
    this.setData(data);
    return true;
  }

  update(key: string, changes: Partial<ChatMessage>, index?: number): void {
    const at = index !== undefined && this.model[index]?.key === key ? index : this.indexOf(key);
    if (at < 0) return;
    this.model[at] = { ...this.model[at], ...changes };
    const data: RenderData = {};
    this.refreshItem(at, data);
    // A new timestamp or name can change how the next message groups with this one.
    if ('createdAt' in changes || 'username' in changes) this.refreshItem(at + 1, data);
    if (Object.keys(data).length > 0) this.setData(data);
  }

  remove(key: string): void {
    const at = this.indexOf(key);
    if (at < 0) return;
    const place = this.locate(key);
    this.model.splice(at, 1);
    const data: RenderData = { empty: this.model.length === 0 };
    if (at < this.start) {
      this.start--;
      this.end--;
      // The first rendered message may have lost its predecessor: its separator and grouping may change.
      this.refreshItem(this.start, data);
    } else if (place) {
      this.end--;
      place.chunk.items.splice(place.slot, 1);
      if (place.chunk.items.length > 0) {
        data[`chunks.${place.chunk.id}`] = place.chunk.items;
      } else {
        this.chunks.splice(this.chunks.indexOf(place.chunk), 1);
        data[`chunks.${place.chunk.id}`] = null;
        data.chunkOrder = this.chunkOrder();
      }
      this.refreshItem(at, data);
    }
    this.setData(data);
  }

  /** The reader scrolled away from the bottom (true) or back to it (false). */
  setFollowing(following: boolean): void {
    if (following === this.following) return;
    this.following = following;
    if (following && this.unseen > 0 && !this.hasHiddenBelow) {
      this.unseen = 0;
      this.setData({ unseen: 0 });
    }
  }

  /** The pill's tap: show the newest messages and follow them again. */
  jumpToNewest(): void {
    this.following = true;
    this.unseen = 0;
    if (this.hasHiddenBelow) return this.reset(this.model);
    this.scrollToNewest({ unseen: 0 });
  }

  /** The message with this key, as the page was given it. */
  messageOf(key: string): ChatMessage | undefined {
    const index = this.indexOf(key);
    return index < 0 ? undefined : this.model[index];
  }

  /**
   * Scrolls to the message with this server id (a reply's quote was tapped), rendering a window
   * around it when it is outside the rendered one. False when the page does not have it.
   */
  reveal(id: number): boolean {
    let index = -1;
    for (let i = this.model.length - 1; i >= 0 && index < 0; i--) if (this.model[i].id === id) index = i;
    if (index < 0) return false;
    const key = this.model[index].key;
    if (index >= this.start && index < this.end) {
      this.setData({ anchor: '' }, () => this.setData({ anchor: anchorOf(key) }));
      return true;
    }
    this.start = Math.max(0, index - Math.floor(RENDER_STEP / 2));
    this.end = Math.min(this.model.length, this.start + RENDER_STEP);
    this.following = !this.hasHiddenBelow;
    this.chunks = this.buildChunks(this.start, this.end, 'fill-last');
    this.labelledDay = this.now().toDateString();
    const chunks: RenderData = {};
    for (const chunk of this.chunks) chunks[chunk.id] = chunk.items;
    this.setData({ chunks, chunkOrder: this.chunkOrder(), anchor: '' }, () => this.setData({ anchor: anchorOf(key) }));
    return true;
  }

  /** The list changed height (the keyboard): a reader at the bottom still sees the newest message. */
  keepNewestInView(): void {
    if (this.following && !this.hasHiddenBelow) this.scrollToNewest({});
  }

  private indexOf(key: string): number {
    for (let i = this.model.length - 1; i >= 0; i--) if (this.model[i].key === key) return i;
    return -1;
  }

  private itemAt(index: number): ViewItem {
    return viewItem(toItem(this.model[index], this.model[index - 1], this.now()));
  }

  private locate(key: string): { chunk: Chunk; slot: number } | null {
    for (const chunk of this.chunks) {
      for (let slot = 0; slot < chunk.items.length; slot++) if (chunk.items[slot].key === key) return { chunk, slot };
    }
    return null;
  }

  /** Re-renders model[index] if it is in the window, sending only the fields that changed. */
  private refreshItem(index: number, data: RenderData): void {
    if (index < this.start || index >= this.end) return;
    const place = this.locate(this.model[index].key);
    if (!place) return;
    const before = place.chunk.items[place.slot];
    const after = this.itemAt(index);
    place.chunk.items[place.slot] = after;
    // A field left out of `after` is empty now: the view is told so, or it would keep the old value.
    const fields = new Set([...Object.keys(before), ...Object.keys(after)] as (keyof MessageItem)[]);
    fields.forEach((field) => {
      if (after[field] === before[field]) return;
      const emptied = typeof before[field] === 'boolean' ? false : '';
      data[`chunks.${place.chunk.id}[${place.slot}].${field}`] = after[field] ?? emptied;
    });
  }

  private newChunk(items: ViewItem[]): Chunk {
    return { id: `c${this.nextChunkId++}`, items };
  }

  /**
   * Chunks for model[from, to). 'fill-last' leaves the short chunk at the end (so appends fill
   * it), 'fill-first' at the start (a prepended page meets the full chunks below it).
   */
  private buildChunks(from: number, to: number, short: 'fill-last' | 'fill-first'): Chunk[] {
    const chunks: Chunk[] = [];
    const count = to - from;
    let cut = from + (short === 'fill-first' ? count % CHUNK_SIZE || CHUNK_SIZE : CHUNK_SIZE);
    let items: ViewItem[] = [];
    for (let i = from; i < to; i++) {
      if (i === cut) {
        chunks.push(this.newChunk(items));
        items = [];
        cut += CHUNK_SIZE;
      }
      items.push(this.itemAt(i));
    }
    if (items.length > 0) chunks.push(this.newChunk(items));
    return chunks;
  }

  private renderAtEnd(index: number, data: RenderData): void {
    const last = this.chunks[this.chunks.length - 1];
    const item = this.itemAt(index);
    if (last && last.items.length < CHUNK_SIZE) {
      data[`chunks.${last.id}[${last.items.length}]`] = item;
      last.items.push(item);
    } else {
      const chunk = this.newChunk([item]);
      this.chunks.push(chunk);
      data[`chunks.${chunk.id}`] = chunk.items;
      data.chunkOrder = this.chunkOrder();
    }
    this.end = index + 1;
  }

  /** Renders up to one page above the window and keeps the reader's place. */
  private renderAbove(data: RenderData): void {
    const firstKey = this.start < this.end ? this.model[this.start].key : null;
    const from = Math.max(0, this.start - RENDER_STEP);
    const added = this.buildChunks(from, this.start, 'fill-first');
    for (const chunk of added) data[`chunks.${chunk.id}`] = chunk.items;
    this.chunks = added.concat(this.chunks);
    this.start = from;
    this.trimBottom(data);
    data.chunkOrder = this.chunkOrder();
    // Content grew above the reader: pin the message they were looking at.
    if (firstKey) data.anchor = anchorOf(firstKey);
  }

  /** Drops whole chunks at the top while the window is over its bound (the reader is at the bottom). */
  private trimTop(data: RenderData): void {
    while (this.chunks.length > 1 && this.renderedCount - this.chunks[0].items.length >= MAX_RENDERED) {
      const dropped = this.chunks.shift()!;
      this.start += dropped.items.length;
      data[`chunks.${dropped.id}`] = null;
      data.chunkOrder = this.chunkOrder();
    }
  }

  /** Drops whole chunks at the bottom while the window is over its bound (the reader is at the top). */
  private trimBottom(data: RenderData): void {
    while (this.chunks.length > 1 && this.renderedCount - this.chunks[this.chunks.length - 1].items.length >= MAX_RENDERED) {
      const dropped = this.chunks.pop()!;
      this.end -= dropped.items.length;
      data[`chunks.${dropped.id}`] = null;
      this.following = false;
    }
  }

  private chunkOrder(): string[] {
    return this.chunks.map((chunk) => chunk.id);
  }

  /** scroll-into-view acts only on a change, so the anchor is cleared first, then set. */
  private scrollToNewest(extra: RenderData): void {
    this.setData({ ...extra, anchor: '' }, () => this.setData({ anchor: this.anchorOfLast() }));
  }

  private anchorOfLast(): string {
    return this.end > this.start ? anchorOf(this.model[this.end - 1].key) : '';
  }
}

/** The element id scroll-into-view targets (ids must not start with a digit). */
export function anchorOf(key: string): string {
  return `m-${key}`;
}
