// One room, kept correct through reconnects, retries and restarts: paints from the device cache,
// loads the newest page, subscribes to its messages' INSERTs and UPDATEs, fills every gap after a
// (re)subscribe or an app show (new rows by id, changed states by time), and merges all of it
// (plus our own outbox) into one list in the server's id order. A message others see only once
// content security passed it arrives as an UPDATE; our own show their state (审核中, 未通过审核…).
import { MessageList, PAGE_SIZE, type ServerMessage } from './message-list';
import { t, type MessageId } from './strings';
import { Retry } from './backoff';
import { Outbox, OUTBOX_MAX_BYTES, outboxKey, type OutboxEvent, type OutboxItem } from './outbox';
import {
  asBackendFailure,
  settle,
  systemClock,
  type Backend,
  type BackendFailure,
  type Clock,
  type IdGenerator,
  type KeyValueStore,
  type Subscription,
  type TimerHandle,
} from './ports';
import { diceProblem, type DiceProblem } from './dice';
import { connectProblem } from './failures';
import { randomId } from './ids';
import { profileProblem } from './profile';
import { checkText, TEXT_MAX } from './rules';
import type {
  ChatMessage,
  ConnectionState,
  HiddenRollRow,
  MessageKind,
  MessageRow,
  ModerationState,
  PickedImage,
  ReportReason,
  RoomPatch,
  RoomRow,
  RoomView,
  Speaker,
  Voice,
} from './types';
import { ROOM_COLUMNS } from './types';

/**
 * How far below the newest known id a gap-fill re-reads. Ids are taken at insert but rows become
 * visible at commit, so a row with a smaller id can appear after a larger one was delivered.
 */
export const GAP_OVERLAP_IDS = 50;
/** A gap longer than this many pages is not filled page by page: the room reloads its newest page. */
export const MAX_GAP_PAGES = 10;
/** Cache writes are batched: a busy room would otherwise rewrite storage on every message. */
export const CACHE_SAVE_DELAY_MS = 1000;
/**
 * Scenes whose newest page stays on the device; the others load from the network when opened.
 * A cache may pass 300 KB (50 posts of 2,000 characters) and the app has 10 MB in all
 * (wx.setStorage), which every scene visited would otherwise fill up.
 */
export const MAX_ROOM_CACHES = 12;
const ROOM_CACHE_PREFIX = 'room:';
/** The cached scenes' keys, the one saved last first. */
const RECENT_ROOMS_KEY = 'rooms:recent';

/** Once per launch: every scene's cache but those of the MAX_ROOM_CACHES saved last is removed. */
// Promise chains rather than async functions here: WeChat's compiler turns each async function
// into a regenerator state machine, which the main package pays for in bytes.
export function pruneRoomCaches(store: KeyValueStore): Promise<void> {
  return settle(() => store.keys()).then((keys) =>
    settle(() => store.get<string[]>(RECENT_ROOMS_KEY)).then((listed) => {
      const cached = keys.filter((key) => key.indexOf(ROOM_CACHE_PREFIX) === 0);
      const recent = (listed || []).filter((key) => cached.indexOf(key) >= 0);
      // Caches from before the list was kept count as the oldest.
      const order = recent.concat(cached.filter((key) => recent.indexOf(key) < 0));
      const removed = order.slice(MAX_ROOM_CACHES).map((key) => settle(() => store.remove(key)));
      return Promise.all(removed).then(() => settle(() => store.set(RECENT_ROOMS_KEY, order.slice(0, MAX_ROOM_CACHES))));
    }),
  );
}

/** How long the room may stay unreachable before pending sends show as failed (tap retries). */
export const UNREACHABLE_FAIL_MS = 60 * 1000;
/**
 * How far before the newest change seen a state catch-up re-reads: a change's time is taken in its
 * transaction but becomes visible at commit, so one stamped earlier can appear after a later one.
 */
export const CHANGE_OVERLAP_MS = 10 * 1000;
/** State changes read per request while catching up; more than this reloads the newest page. */
export const CHANGES_PAGE = 100;
/** What others see of a message: the rest only its author (and moderators, who review elsewhere). */
const PUBLIC_STATES: ModerationState[] = ['visible', 'hidden', 'recalled'];
/**
 * `.r 2d6+3` rolls in the open, `.rh …` hides the result from all but the roller and the host (a
 * space is optional, as dice bots take `.rd100`; a line like `.really` is just text).
 */
const ROLL_COMMAND = /^\.r(h?)(?=$|[\sd\d])\s*(.*)$/i;
/** `/me 拔剑而起` is an action; `((…))`, in either width, steps out of character. */
const ACTION_COMMAND = /^\/me(?:\s+([\s\S]*))?$/;
const OOC_LINE = /^(?:\(\(|（（)([\s\S]*?)(?:\)\)|））)$/;

const DICE_PROBLEMS: Record<DiceProblem, MessageId> = {
  empty: 'diceEmpty',
  syntax: 'diceSyntax',
  no_die: 'diceNoDie',
  faces: 'diceFaces',
  too_many: 'diceTooMany',
  too_big: 'diceTooBig',
  too_long: 'diceTooLong',
};

/** How a typed line is said: the commands win over the composer's voice. */
function voiceOf(text: string, voice: Voice): { kind: MessageKind; body: string } {
  const line = text.trim();
  const action = ACTION_COMMAND.exec(line);
  if (action) return { kind: 'action', body: (action[1] || '').trim() };
  const ooc = OOC_LINE.exec(line);
  if (ooc) return { kind: 'ooc', body: ooc[1].trim() };
  return { kind: voice, body: text };
}

export interface RoomSessionOptions {
  backend: Backend;
  store: KeyValueStore;
  roomSlug: string;
  /** Who speaks, read at each send: a change applies to new messages only (null: no character yet). */
  speaker: () => Speaker | null;
  clock?: Clock;
  newId?: IdGenerator;
  /**
   * Replaces the realtime connection itself (the platform's). A manual reconnect uses it first:
   * after a network change the old socket may look open while dead, and rejoining on it would
   * change nothing.
   */
  reconnectTransport?: () => Promise<void>;
}

/**
 * Where the session is in its life. It changes only through setPhase, as matrix-js-sdk's SyncApi
 * changes its SyncState only through updateSyncState (matrix-org/matrix-js-sdk, src/sync.ts).
 * The phase owns the room's channel: a phase change that leaves a channel behind unsubscribes it,
 * so two channels are never open. It also owns the connect retry: every phase change cancels a
 * waiting one, and the two phases that wait (`connecting` after a failure, `resubscribing`)
 * schedule theirs after entering.
 */
type Phase =
  /** Not started yet, or stopped: nothing runs and nothing is reported. */
  | { name: 'stopped' }
  /**
   * Signing in, finding the room and loading its newest page, or waiting to try that again.
   * `failingSince`: when the current run of failed attempts began (null: none failed yet).
   */
  | { name: 'connecting'; failingSince: number | null }
  /** Refused for good (the room does not exist): no retry can change that; resume() or reconnect() try again. */
  | { name: 'refused'; failure: BackendFailure }
  /** The channel is joining: a first join, a manual reconnect, or realtime-js rejoining after a drop. */
  | { name: 'joining'; channel: Subscription }
  /** The channel was closed; a new one is subscribed after a backoff delay. */
  | { name: 'resubscribing' }
  /**
   * The channel is joined. `caughtUp`: a gap-fill started after the join has finished, so the live
   * rows since then continue what we have seen without a hole, and may advance syncedId.
   */
  | { name: 'joined'; channel: Subscription; caughtUp: boolean };

function channelOf(phase: Phase): Subscription | null {
  return phase.name === 'joining' || phase.name === 'joined' ? phase.channel : null;
}

/** What the device keeps per room so the next launch paints before the network answers. */
interface RoomCache {
  room: RoomRow;
  userId: string;
  rows: MessageRow[];
  syncedId?: number | null;
  changedSince?: string | null;
}

export class RoomSession implements RoomView {
  private readonly backend: Backend;
  private readonly store: KeyValueStore;
  private readonly clock: Clock;
  private readonly newId: IdGenerator;
  private readonly outbox: Outbox;
  private readonly list: MessageList;
  private readonly listeners: Array<(patch: RoomPatch) => void> = [];

  private phase: Phase = { name: 'stopped' };
  /** What the header was last told: each change is reported once. */
  private connection: ConnectionState | null = null;
  /** Connect attempts and channel resubscribes: one backoff, one timer. */
  private readonly connectRetry: Retry;
  /** Failed gap-fills are retried with backoff, so no message stays missing. */
  private readonly catchUpRetry: Retry;

  private room: RoomRow | null = null;
  /** The scene's 公告 as last found (it may be older than any loaded page). */
  private pinned: ChatMessage | null = null;
  private userId: string | null = null;
  /** Every row up to this id has been seen (the gap-fill's starting point). */
  private syncedId: number | null = null;
  /** The newest state change seen (changed_at): the state catch-up's starting point. */
  private changedSince: string | null = null;
  /** Results of hidden rolls we may read (as roller or host), by message id. */
  private readonly hiddenResults = new Map<number, HiddenRollRow['roll']>();
  /**
   * The room and the user the rows on screen were loaded for (null: nothing loaded yet, or a cache
   * written before it recorded them); a newest page that fails to load leaves them as they were.
   */
  private shownRoomId: number | null = null;
  private shownUserId: string | null = null;
  private newestLoaded = false;
  private cacheTimer: TimerHandle | null = null;

  private connecting: Promise<void> | null = null;
  /** The running gap-fill; `again`: asked for while it ran, so it fills once more before ending. */
  private filling: { done: Promise<void>; again: boolean } | null = null;
  private loadingOlder: Promise<boolean> | null = null;

  constructor(private readonly options: RoomSessionOptions) {
    this.backend = options.backend;
    this.store = options.store;
    this.clock = options.clock || systemClock;
    this.newId = options.newId || randomId;
    this.connectRetry = new Retry(this.clock);
    this.catchUpRetry = new Retry(this.clock);
    this.list = new MessageList((patch) => this.emit(patch));
    this.outbox = new Outbox({
      backend: this.backend,
      store: this.store,
      storeKey: outboxKey(options.roomSlug),
      clock: this.clock,
      newId: this.newId,
      onEvent: (event) => this.onOutboxEvent(event),
    });
  }

  onPatch(listener: (patch: RoomPatch) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const index = this.listeners.indexOf(listener);
      if (index >= 0) this.listeners.splice(index, 1);
    };
  }

  /**
   * The current list, as the patches so far describe it. Pages render from patches only; this is
   * for the terminal client (scripts/chat.ts) and tests.
   */
  messages(): ChatMessage[] {
    return this.list.messages();
  }

  /** Whether older messages can be loaded (the chaos tests page through the whole room with it). */
  get hasOlder(): boolean {
    return this.list.hasOlder;
  }

  async start(): Promise<void> {
    if (this.active) return;
    this.setPhase({ name: 'connecting', failingSince: null });
    await this.paintFromDevice();
    this.setConnection('connecting');
    await this.connect();
  }

  stop(): void {
    this.setPhase({ name: 'stopped' });
    this.catchUpRetry.cancel();
    this.outbox.stop();
    if (this.cacheTimer !== null) this.saveCache();
  }

  /** Resolves once device writes made so far are stored (tests, and a clean exit). */
  async flush(): Promise<void> {
    if (this.cacheTimer !== null) this.saveCache();
    await this.outbox.flush();
  }

  async loadOlder(): Promise<boolean> {
    if (!this.loadingOlder) {
      this.loadingOlder = this.fetchOlder();
      this.loadingOlder.then(
        () => (this.loadingOlder = null),
        () => (this.loadingOlder = null),
      );
    }
    return this.loadingOlder;
  }

  sendText(text: string, options: { voice?: Voice; replyTo?: number | null } = {}): boolean {
    const line = text.trim();
    const roll = ROLL_COMMAND.exec(line);
    if (roll) {
      // `.r` alone rolls a d100, as dice bots do.
      const expression = (roll[2] || 'd100').trim();
      const problem = diceProblem(expression);
      if (problem) {
        this.emitError(t(DICE_PROBLEMS[problem]), `dice ${problem}: ${expression}`);
        return false;
      }
      return this.send({ kind: 'roll', body: expression, image: null, hidden: roll[1] === 'h', replyTo: options.replyTo ?? null });
    }
    const { kind, body } = voiceOf(text, options.voice || 'text');
    const problem = checkText(body);
    if (problem) {
      this.emitError(problem === 'empty' ? t('textEmpty') : t('textTooLong', { max: TEXT_MAX }), `text ${problem}`);
      return false;
    }
    return this.send({ kind, body, image: null, replyTo: options.replyTo ?? null });
  }

  sendImage(image: PickedImage): boolean {
    const accepted = this.send({ kind: 'image', body: null, image: { ...image, storagePath: null, uploaded: false } });
    // Refused, it will never be sent: its saved copy can go now rather than at the next launch.
    if (!accepted && this.backend.releaseImage) this.backend.releaseImage(image);
    return accepted;
  }

  retry(key: string): void {
    this.outbox.retry(key);
  }

  async recall(key: string): Promise<string | null> {
    const message = this.list.messages().find((m) => m.key === key);
    if (!message || message.id === null || !message.mine) return t('recallNotYours');
    try {
      await this.backend.recallMessage(message.id);
    } catch (error) {
      const failure = asBackendFailure(error);
      return failure.code === 'RCLAT' ? t('recallTooLate') : failure.status === 0 ? t('actionNetwork') : t('recallFailed');
    }
    // Everyone, us included, gets the recalled row by Realtime; showing it now spares the wait.
    this.list.update(key, { state: 'recalled', body: null, imageUrl: null, roll: null });
    return null;
  }

  async report(key: string, reason: ReportReason): Promise<string | null> {
    const message = this.list.messages().find((m) => m.key === key);
    if (!message || message.id === null || message.mine) return t('reportFailed');
    try {
      await this.backend.reportMessage(message.id, reason);
    } catch (error) {
      const failure = asBackendFailure(error);
      // Reported before (on this or another device): the report stands.
      if (failure.code === '23505') return null;
      return failure.status === 0 ? t('actionNetwork') : t('reportFailed');
    }
    return null;
  }

  async pin(key: string | null): Promise<string | null> {
    const room = this.room;
    if (!room) return t('actionNetwork');
    const message = key === null ? null : this.list.messages().find((m) => m.key === key);
    if (message === undefined || (message && message.id === null)) return t('pinNotVisible');
    try {
      await this.backend.pinMessage(room.id, message ? message.id : null);
    } catch (error) {
      const failure = asBackendFailure(error);
      if (failure.code === '42501') return t('sceneHostOnly');
      if (failure.code === 'RCSCN') return t('pinNotVisible');
      return failure.status === 0 ? t('actionNetwork') : t('pinFailed');
    }
    // Everyone, us included, gets the scene's new row by Realtime; showing it now spares the wait.
    this.room = { ...room, pinned_message_id: message ? message.id : null };
    this.pinned = message;
    this.showScene(this.room);
    return null;
  }

  forgetAuthor(userId: string): void {
    this.list.removeServer((message) => message.userId === userId && !message.mine);
    this.scheduleCacheSave();
  }

  async loadUntil(id: number): Promise<boolean> {
    while (!this.list.byId(id)) {
      if (!this.list.hasOlder || !(await this.loadOlder())) return !!this.list.byId(id);
    }
    return true;
  }

  markRead(): void {
    const newest = this.list.newestId();
    if (!this.room || newest === null) return;
    // Unread counts are a convenience: a failed marker only leaves the count higher until next time.
    this.backend.markRead(this.room.id, newest).catch(() => undefined);
  }

  /** Subscribes again from scratch (the header's retry when offline). */
  reconnect(): void {
    if (!this.active) return;
    const transport = this.options.reconnectTransport;
    if (!transport) return this.rejoin();
    this.setConnection('connecting');
    transport().then(
      () => this.rejoin(),
      (error) => {
        this.emitError(t('loadFailed'), asBackendFailure(error).detail);
        this.rejoin();
      },
    );
  }

  private rejoin(): void {
    if (!this.active) return;
    if (!this.room) {
      this.connectNow();
      return;
    }
    this.setConnection('connecting');
    this.subscribe(this.room);
  }

  /**
   * The app came back to the foreground or the network returned: fetch what was inserted in the
   * meantime and send what waits. The platform calls this; realtime reconnects on its own.
   */
  resume(): void {
    if (!this.active) return;
    if (!this.room) {
      // Failures while in the background (WeChat cuts the network there) do not count.
      this.setPhase({ name: 'connecting', failingSince: null });
      this.connectNow();
      return;
    }
    if (this.phase.name === 'resubscribing') {
      // A closed channel waiting out its backoff (up to 30 s): the network is back, so join now.
      this.connectRetry.cancel();
      this.subscribe(this.room);
    }
    void this.catchUp();
    this.outbox.resume();
  }

  private async paintFromDevice(): Promise<void> {
    // The outbox read starts first, so a send typed while the store answers cannot overwrite it.
    const restoring = this.outbox.load();
    const cache = await this.store.get<RoomCache>(this.cacheKey());
    await restoring;
    if (cache) this.userId = cache.userId;
    this.shownRoomId = cache?.room ? cache.room.id : null;
    this.shownUserId = cache ? cache.userId : null;
    const rows = cache ? cache.rows : [];
    this.syncedId = cache && cache.syncedId !== undefined ? cache.syncedId : null;
    // A cache saved before it kept changedSince: its rows' states may be of any age, so the first
    // state catch-up starts from the beginning (once; a very long one reloads the newest page).
    this.changedSince = cache?.changedSince ? cache.changedSince : cache?.rows.length ? new Date(0).toISOString() : null;
    // fromServer first: what the cache shows as ours was delivered just before the app was killed.
    const server = this.fromServer(rows);
    this.list.reset(server, this.pendingMessages(), rows.length >= PAGE_SIZE);
    if (cache?.room) this.showScene(cache.room);
  }

  private connectNow(): void {
    this.connectRetry.cancel();
    void this.connect();
  }

  /** Resolves the room and the user, loads the newest page and subscribes; retries until it can. */
  private connect(): Promise<void> {
    if (!this.connecting) {
      this.connecting = this.tryConnect().then(
        () => {
          this.connecting = null;
        },
        () => {
          this.connecting = null;
        },
      );
    }
    return this.connecting;
  }

  private async tryConnect(): Promise<void> {
    try {
      const userId = await this.backend.userId();
      const room = await this.backend.findRoom(this.options.roomSlug);
      if (!this.active) return;
      // The cache was written for another room under this slug (the database was reset or the room
      // recreated): its ids, and so syncedId, mean nothing here; a gap-fill from them would find nothing.
      const sameRoom = this.shownRoomId === null || this.shownRoomId === room.id;
      if (!sameRoom) {
        this.syncedId = null;
        this.changedSince = null;
      }
      // The cache was painted for another user (the device's session was lost): its "mine" marks are wrong.
      const cacheIsOurs = sameRoom && (this.shownUserId === null || this.shownUserId === userId);
      this.userId = userId;
      this.room = room;
      this.outbox.start({ roomId: room.id, userId });
      await this.loadNewest(room, cacheIsOurs);
      this.shownRoomId = room.id;
      this.shownUserId = userId;
      await this.findPinned(room);
      this.connectRetry.succeeded();
      if (this.active) this.subscribe(room);
    } catch (error) {
      if (!this.active) return;
      const failure = asBackendFailure(error);
      this.room = null;
      const problem = connectProblem(failure, this.options.roomSlug);
      if (problem.final) {
        // No retry can change it (the room does not exist, WeChat refuses the person): say why,
        // fail what waits to be sent, and stop.
        this.setPhase({ name: 'refused', failure });
        this.setConnection('offline');
        this.emitError(problem.message, failure.detail);
        this.outbox.failUndeliverable(failure);
        return;
      }
      // Retries run every few seconds while offline: only the change to offline is reported.
      if (this.setConnection('offline')) this.emitError(problem.message, failure.detail);
      const phase = this.phase;
      const failingSince = phase.name === 'connecting' && phase.failingSince !== null ? phase.failingSince : this.clock.now();
      this.setPhase({ name: 'connecting', failingSince });
      if (this.clock.now() - failingSince >= UNREACHABLE_FAIL_MS) this.outbox.failUndeliverable(failure);
      this.connectRetry.schedule(() => void this.connect());
    }
  }

  private async loadNewest(room: RoomRow, keepShown = true): Promise<void> {
    const rows = await this.backend.newestMessages(room.id, PAGE_SIZE);
    if (!this.active) return;
    const messages = this.fromServer(rows);
    const full = rows.length === PAGE_SIZE;
    const newest = this.list.newestId();
    if (newest !== null && keepShown && (!full || rows[0].id <= (this.syncedId ?? 0))) {
      // The cached rows below this page stay, as they were when cached: the state catch-up must
      // start from the cache's changes, not this page's, or a recall among them would be missed.
      this.list.mergeServer(messages);
    } else {
      if (newest === null) {
        // Nothing from the server on screen yet (no cache): the page goes in front of our pending ones.
        this.list.prependOlder(messages, full);
      } else {
        // More than a page arrived since the cached paint, or it was painted for another user.
        this.list.reset(messages, this.pendingMessages(), full);
      }
      for (const row of rows) this.noteChange(row);
    }
    this.newestLoaded = true;
    this.syncedId = Math.max(this.syncedId ?? 0, rows.length ? rows[rows.length - 1].id : 0);
    this.scheduleCacheSave();
    await this.fetchHiddenRolls(rows);
  }

  /** A new channel for the room; the phase change unsubscribes any earlier one. */
  private subscribe(room: RoomRow): void {
    const channel: Subscription = this.backend.subscribe(room.id, {
      row: (row) => {
        const phase = this.phase;
        if (channelOf(phase) !== channel || row.room_id !== room.id) return;
        this.mergeRows([row]);
        if (phase.name === 'joined' && phase.caughtUp) {
          this.syncedId = Math.max(this.syncedId ?? 0, row.id);
          this.noteChange(row);
        }
        this.scheduleCacheSave();
      },
      hiddenRoll: (result) => {
        if (channelOf(this.phase) !== channel || result.room_id !== room.id) return;
        this.revealRolls([result]);
      },
      room: (row) => {
        if (channelOf(this.phase) !== channel || row.id !== room.id) return;
        // Every message moves the scene's last activity, an UPDATE that changes nothing the room shows.
        const scene = row;
        const known = this.room;
        if (known && ROOM_COLUMNS.every((column) => scene[column] === known[column])) return;
        this.room = scene;
        this.scheduleCacheSave();
        void this.findPinned(scene);
      },
      status: (status, detail) => {
        if (channelOf(this.phase) !== channel) return;
        if (status === 'subscribed') {
          this.connectRetry.succeeded();
          this.setPhase({ name: 'joined', channel, caughtUp: false });
          this.setConnection('connected');
          void this.catchUp();
          this.outbox.kick();
          return;
        }
        // Only the first failure is reported: the client retries every few seconds while offline.
        if (this.setConnection('reconnecting')) this.emitError(t('connectFailed'), `realtime ${status}: ${detail || ''}`);
        if (status === 'error') {
          // realtime-js rejoins this channel by itself.
          this.setPhase({ name: 'joining', channel });
          return;
        }
        // A closed channel is ours to replace.
        this.setPhase({ name: 'resubscribing' });
        this.connectRetry.schedule(() => this.subscribe(room));
      },
    });
    this.setPhase({ name: 'joining', channel });
  }

  /** Gap-fill, one at a time: a request arriving during a run makes that run fill once more. */
  private catchUp(): Promise<void> {
    if (this.filling) {
      this.filling.again = true;
      return this.filling.done;
    }
    const filling = { done: Promise.resolve(), again: false };
    this.filling = filling;
    filling.done = this.runCatchUp(filling);
    return filling.done;
  }

  private async runCatchUp(filling: { again: boolean }): Promise<void> {
    try {
      do {
        filling.again = false;
        await this.fillGap();
      } while (filling.again && this.active);
      this.catchUpRetry.succeeded();
      const phase = this.phase;
      if (phase.name === 'joined') {
        this.setPhase({ ...phase, caughtUp: true });
        // A REST failure may have shown 'offline' while the channel stayed up; now both work again.
        this.setConnection('connected');
      }
    } catch (error) {
      const failure = asBackendFailure(error);
      const wentOffline = failure.status === 0 && this.setConnection('offline');
      // The retries below repeat while the failure lasts: only the first one is reported.
      if (wentOffline || this.catchUpRetry.count === 0) this.emitError(t('loadFailed'), failure.detail);
      // Nothing else would fetch the missed rows while the channel stays up (e.g. after a 503):
      // try again later, backing off like the connection does.
      if (this.active) this.catchUpRetry.schedule(() => void this.catchUp());
    } finally {
      this.filling = null;
    }
  }

  private async fillGap(): Promise<void> {
    const room = this.room;
    if (!room || !this.active) return;
    const newest = this.list.newestId();
    if (newest === null || !this.newestLoaded) {
      await this.loadNewest(room);
      return;
    }
    // Captured first: the new rows read below must not move the start of the state catch-up past
    // an older row's change.
    const changedSince = this.changedSince;
    const floor = Math.max(0, (this.syncedId ?? newest) - GAP_OVERLAP_IDS);
    let after = floor;
    const read: MessageRow[] = [];
    for (let pages = 1; ; pages++) {
      const rows = await this.backend.messagesAfter(room.id, after, PAGE_SIZE);
      if (!this.active) return;
      this.mergeRows(rows);
      read.push(...rows);
      if (rows.length) this.syncedId = Math.max(this.syncedId ?? 0, rows[rows.length - 1].id);
      this.scheduleCacheSave();
      await this.fetchHiddenRolls(rows);
      if (rows.length < PAGE_SIZE) break;
      if (pages >= MAX_GAP_PAGES) {
        await this.reloadNewest(room);
        return;
      }
      after = rows[rows.length - 1].id;
    }
    if (changedSince !== null) await this.catchUpChanges(room, changedSince, floor);
    for (const row of read) this.noteChange(row);
  }

  /**
   * States that changed while we were away among rows older than the ones just read: a message
   * that passed content security (others see it only now), one recalled or hidden.
   */
  private async catchUpChanges(room: RoomRow, changedSince: string, throughId: number): Promise<void> {
    const since = new Date(Date.parse(changedSince) - CHANGE_OVERLAP_MS).toISOString();
    const rows = await this.backend.messagesChangedSince(room.id, since, throughId, CHANGES_PAGE);
    if (!this.active) return;
    if (rows.length === CHANGES_PAGE) {
      // Too much changed to patch in place: the newest page is the room now.
      await this.reloadNewest(room);
      return;
    }
    this.mergeRows(rows);
    for (const row of rows) this.noteChange(row);
    this.scheduleCacheSave();
    await this.fetchHiddenRolls(rows);
  }

  /** After a very long gap: the newest page replaces the list instead of hundreds of inserts. */
  private async reloadNewest(room: RoomRow): Promise<void> {
    const rows = await this.backend.newestMessages(room.id, PAGE_SIZE);
    if (!this.active) return;
    this.list.reset(this.fromServer(rows), this.pendingMessages(), rows.length === PAGE_SIZE);
    if (rows.length) this.syncedId = rows[rows.length - 1].id;
    for (const row of rows) this.noteChange(row);
    this.scheduleCacheSave();
    await this.fetchHiddenRolls(rows);
  }

  private async fetchOlder(): Promise<boolean> {
    const oldest = this.list.oldestId();
    if (!this.room || oldest === null || !this.list.hasOlder) return false;
    try {
      const rows = await this.backend.messagesBefore(this.room.id, oldest, PAGE_SIZE);
      // The list was reset (newest page reloaded) while this page was on its way: it belongs in
      // front of a list that is gone and would leave a hole in front of the new one.
      if (!this.active || this.list.oldestId() !== oldest) return false;
      this.list.prependOlder(this.fromServer(rows), rows.length === PAGE_SIZE);
      await this.fetchHiddenRolls(rows);
      return rows.length > 0;
    } catch (error) {
      // hasOlder stays true, so the page can ask again; the error patch tells the user why not now.
      this.emitError(t('loadFailed'), asBackendFailure(error).detail);
      return false;
    }
  }

  /** False when refused; the reason goes out as an error patch, and the caller keeps the content. */
  private send(content: Pick<OutboxItem, 'kind' | 'body' | 'image' | 'replyTo' | 'hidden'>): boolean {
    const speaker = this.options.speaker();
    const problem = speaker ? profileProblem(speaker) : t('noCharacter');
    if (!speaker || problem) {
      this.emitError(problem || t('noCharacter'), `speaker ${speaker ? `${speaker.name} ${speaker.color}` : 'none'}`);
      return false;
    }
    const item: OutboxItem = {
      ...content,
      key: this.newId(),
      username: speaker.name,
      avatarColor: speaker.color,
      characterId: speaker.characterId,
      createdAt: new Date(this.clock.now()).toISOString(),
      status: 'sending',
      attempts: 0,
      error: null,
    };
    const size = this.outbox.sizeWith(item);
    if (size > OUTBOX_MAX_BYTES) {
      this.emitError(t('outboxFull'), `outbox full: ${size} of ${OUTBOX_MAX_BYTES} bytes`);
      return false;
    }
    this.list.addPending(this.pendingMessage(item));
    this.outbox.add(item);
    // Nowhere to send it (the room does not exist): it fails at once, as the others did.
    if (this.phase.name === 'refused') this.outbox.failUndeliverable(this.phase.failure);
    return true;
  }

  private onOutboxEvent(event: OutboxEvent): void {
    switch (event.type) {
      case 'status': {
        const { item } = event;
        this.list.update(item.key, {
          status: item.status,
          error: item.error ? item.error.reason : '',
          errorDetail: item.error ? item.error.detail : '',
        });
        return;
      }
      case 'progress':
        this.list.update(event.key, { progress: event.percent });
        return;
      case 'sent':
        this.mergeRows([event.row]);
        this.scheduleCacheSave();
        return;
      case 'rekeyed':
        this.list.removePending(event.oldKey);
        this.list.addPending(this.pendingMessage(event.item));
        return;
      case 'store-failed':
        this.emitError(t('storageFailed'), `outbox not saved: ${event.detail}`);
        return;
      case 'throttled':
        this.emitError(t('sendRateLimited'), event.detail);
        return;
    }
  }

  /** Rows entering the list; our own among them are delivered, whatever the outbox still thinks. */
  private fromServer(rows: MessageRow[]): ServerMessage[] {
    for (const row of rows) if (row.user_id === this.userId) this.outbox.confirm(row.client_id);
    return rows.filter((row) => this.shows(row)).map((row) => this.serverMessage(row));
  }

  /** Rows from the server in any order: new ones placed, known ones updated, ones no longer ours to see dropped. */
  private mergeRows(rows: MessageRow[]): void {
    const gone = rows.filter((row) => !this.shows(row)).map((row) => row.client_id);
    if (gone.length) this.list.removeServer((message) => gone.indexOf(message.key) >= 0);
    this.list.mergeServer(this.fromServer(rows));
    const room = this.room;
    const pinnedRow = room && rows.find((row) => row.id === room.pinned_message_id);
    if (room && pinnedRow) {
      this.pinned = pinnedRow.status === 'visible' ? this.serverMessage(pinnedRow).message : null;
      this.showScene(room);
    }
  }

  /** The 公告: from the loaded list when it is there, else one request; then the scene is shown. */
  private async findPinned(room: RoomRow): Promise<void> {
    const id = room.pinned_message_id;
    let pinned: ChatMessage | null = null;
    if (id !== null) {
      pinned = this.list.byId(id) ?? (this.pinned && this.pinned.id === id ? this.pinned : null);
      if (!pinned) {
        try {
          const row = await this.backend.messageById(id);
          pinned = row && row.status === 'visible' ? this.serverMessage(row).message : null;
        } catch (error) {
          // The scene is shown without its 公告; the next connect looks again.
          this.emitError(t('loadFailed'), asBackendFailure(error).detail);
        }
      }
    }
    if (this.room !== room) return;
    this.pinned = pinned;
    this.showScene(room);
  }

  private showScene(room: RoomRow): void {
    const pinned = this.pinned && this.pinned.id === room.pinned_message_id ? this.pinned : null;
    this.emit({
      type: 'scene',
      scene: {
        id: room.id,
        slug: room.slug,
        title: room.title,
        topic: room.topic,
        archived: room.archived,
        isHost: room.host !== null && room.host === this.userId,
        pinned,
      },
    });
  }

  /**
   * What the room shows: everything of ours, and what is public of others. Moderators' rows of
   * others that wait for a verdict belong to the 管理 page, not the conversation.
   */
  private shows(row: MessageRow): boolean {
    // Rows cached before messages had a state were all public.
    return row.user_id === this.userId || !row.status || PUBLIC_STATES.indexOf(row.status) >= 0;
  }

  private noteChange(row: MessageRow): void {
    if (row.changed_at && (this.changedSince === null || Date.parse(row.changed_at) > Date.parse(this.changedSince))) {
      this.changedSince = row.changed_at;
    }
  }

  /** The results of hidden rolls among these rows that we may read: one request, only if there are any. */
  private async fetchHiddenRolls(rows: MessageRow[]): Promise<void> {
    const ids = rows.filter((row) => row.hidden && !this.hiddenResults.has(row.id)).map((row) => row.id);
    if (!ids.length) return;
    try {
      this.revealRolls(await this.backend.hiddenRolls(ids));
    } catch (error) {
      // The rolls stay shown as hidden; the next load asks again.
      this.emitError(t('loadFailed'), asBackendFailure(error).detail);
    }
  }

  private revealRolls(results: HiddenRollRow[]): void {
    for (const result of results) {
      this.hiddenResults.set(result.message_id, result.roll);
      const message = this.list.byId(result.message_id);
      if (message) this.list.update(message.key, { roll: result.roll });
    }
  }

  private serverMessage(row: MessageRow): ServerMessage {
    return {
      row,
      message: {
        key: row.client_id,
        id: row.id,
        userId: row.user_id,
        username: row.username,
        avatarColor: row.avatar_color,
        characterId: row.character_id ?? null,
        kind: row.kind,
        body: row.body,
        imageUrl: row.image_path ? this.backend.publicImageUrl(row.image_path) : null,
        imageWidth: row.image_width,
        imageHeight: row.image_height,
        createdAt: row.created_at,
        status: 'sent',
        state: row.status || 'visible',
        label: row.label ?? null,
        roll: row.roll || this.hiddenResults.get(row.id) || null,
        hidden: !!row.hidden,
        replyTo: row.reply_to ?? null,
        replyPreview: row.reply_preview ?? null,
        mine: row.user_id === this.userId,
      },
    };
  }

  private pendingMessage(item: OutboxItem): ChatMessage {
    const image = item.image;
    const message: ChatMessage = {
      key: item.key,
      id: null,
      userId: this.userId || '',
      username: item.username,
      avatarColor: item.avatarColor,
      characterId: item.characterId ?? null,
      kind: item.kind,
      body: item.body,
      imageUrl: image ? image.path : null,
      imageWidth: image ? image.width : null,
      imageHeight: image ? image.height : null,
      createdAt: item.createdAt,
      status: item.status,
      state: null,
      label: null,
      roll: null,
      hidden: !!item.hidden,
      replyTo: item.replyTo ?? null,
      replyPreview: this.quoteOf(item.replyTo ?? null),
      mine: true,
    };
    if (image) message.progress = image.uploaded ? 100 : 0;
    if (item.error) {
      message.error = item.error.reason;
      message.errorDetail = item.error.detail;
    }
    return message;
  }

  /** The quote a pending reply shows until the database's own arrives. */
  private quoteOf(id: number | null): ChatMessage['replyPreview'] {
    const replied = id === null ? undefined : this.list.byId(id);
    if (!replied) return null;
    const text =
      replied.state === 'hidden' || replied.state === 'recalled' || replied.kind === 'image' || replied.hidden
        ? null
        : (replied.body || '').split('\n')[0].slice(0, 60);
    return { username: replied.username, text, kind: replied.kind, status: replied.state || 'visible' };
  }

  private pendingMessages(): ChatMessage[] {
    return this.outbox.list().map((item) => this.pendingMessage(item));
  }

  private scheduleCacheSave(): void {
    if (this.cacheTimer !== null) return;
    this.cacheTimer = this.clock.setTimeout(() => this.saveCache(), CACHE_SAVE_DELAY_MS);
  }

  private saveCache(): void {
    if (this.cacheTimer !== null) this.clock.clearTimeout(this.cacheTimer);
    this.cacheTimer = null;
    if (!this.room || !this.userId) return;
    const cache: RoomCache = {
      room: this.room,
      userId: this.userId,
      rows: this.list.newestRows(PAGE_SIZE),
      syncedId: this.syncedId,
      changedSince: this.changedSince,
    };
    settle(() => this.store.set(this.cacheKey(), cache))
      .then(() => this.noteCacheSaved())
      .catch((error) => this.emitError(t('storageFailed'), `cache not saved: ${asBackendFailure(error).message}`));
  }

  /** This scene's cache is the one saved last (pruneRoomCaches keeps the newest). */
  private noteCacheSaved(): Promise<void> {
    const key = this.cacheKey();
    return settle(() => this.store.get<string[]>(RECENT_ROOMS_KEY)).then((recent) => {
      if (recent && recent[0] === key) return;
      return settle(() => this.store.set(RECENT_ROOMS_KEY, [key].concat((recent || []).filter((known) => known !== key))));
    });
  }

  private cacheKey(): string {
    return ROOM_CACHE_PREFIX + this.options.roomSlug;
  }

  private get active(): boolean {
    return this.phase.name !== 'stopped';
  }

  /** The one place the phase changes: what the old phase owned and the new one does not is let go. */
  private setPhase(next: Phase): void {
    const previous = this.phase;
    this.phase = next;
    this.connectRetry.cancel();
    const channel = channelOf(previous);
    if (channel && channel !== channelOf(next)) channel.unsubscribe();
  }

  /** True when the state changed. */
  private setConnection(state: ConnectionState): boolean {
    if (this.connection === state) return false;
    this.connection = state;
    this.emit({ type: 'connection', state });
    return true;
  }

  private emitError(message: string, detail: string): void {
    this.emit({ type: 'error', message, detail });
  }

  private emit(patch: RoomPatch): void {
    for (const listener of this.listeners.slice()) listener(patch);
  }
}
