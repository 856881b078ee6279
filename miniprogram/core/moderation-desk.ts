// The moderators' 管理 desk: held, hidden and reported messages with their reports and withheld
// content, newest first in pages, and the actions hide / restore / ban the author / unban, each of
// which answers with a sentence. Every action is a database function that checks the caller
// (supabase/migrations/20261206140000_moderation.sql), so a non-moderator gets a 403 whatever the
// app shows; the desk only turns that into a sentence.
import { loginProblem } from './failures';
import { t, type MessageId } from './strings';
import { asBackendFailure, type BackendFailure } from './ports';
import { charLength } from './rules';

export type ReportReason = 'spam' | 'abuse' | 'sexual' | 'illegal' | 'other';

/** The reasons public.reports accepts, in the order a report menu offers them. */
export const REPORT_REASONS: ReportReason[] = ['spam', 'abuse', 'sexual', 'illegal', 'other'];

const REASON_TEXT: Record<ReportReason, MessageId> = {
  spam: 'reasonSpam',
  abuse: 'reasonAbuse',
  sexual: 'reasonSexual',
  illegal: 'reasonIllegal',
  other: 'reasonOther',
};

export function reasonText(reason: ReportReason): string {
  return t(REASON_TEXT[reason]);
}

export type MessageStatus = 'pending' | 'visible' | 'blocked' | 'held' | 'hidden' | 'recalled';

/** One item of `moderation_queue` as the database answers it. */
export interface QueueRow {
  id: number;
  room_id: number;
  user_id: string;
  username: string;
  avatar_color: string;
  kind: string;
  status: MessageStatus;
  label: number | null;
  created_at: string;
  /** The content, withheld or not: moderators read what others no longer see. */
  body: string | null;
  image_path: string | null;
  image_width: number | null;
  image_height: number | null;
  /** The author's WeChat identity; null for an author without one (none can post). */
  openid: string | null;
  banned: boolean;
  /** Unresolved reports per reason. */
  reports: Partial<Record<ReportReason, number>>;
}

/** A row of public.bans as a moderator reads it. */
export interface BanRow {
  openid: string;
  reason: string;
  created_at: string;
}

/** The database functions the desk calls (core/supabase-safety.ts over supabase-js; a fake in tests). */
export interface ModerationPort {
  isModerator(): Promise<boolean>;
  /** Up to `pageSize` queue items with ids below `beforeId` (all when null), newest first. */
  queue(beforeId: number | null, pageSize: number): Promise<QueueRow[]>;
  /** Answers the message's new status. */
  moderate(messageId: number, action: 'hide' | 'restore'): Promise<MessageStatus>;
  /** Bans the message's author; answers their openid. */
  banAuthor(messageId: number, reason: string): Promise<string>;
  unban(openid: string): Promise<void>;
  /** Every ban, newest first. */
  bans(): Promise<BanRow[]>;
  imageUrl(storagePath: string): string;
}

export const QUEUE_PAGE_SIZE = 20;
/** public.bans.reason: 1–200 characters. */
export const BAN_REASON_MAX = 200;

/** A queue item as the desk keeps it; `note` is the outcome of the last action on it. */
export interface DeskEntry {
  id: number;
  userId: string;
  username: string;
  avatarColor: string;
  kind: string;
  status: MessageStatus;
  createdAt: string;
  body: string | null;
  imageUrl: string | null;
  imageWidth: number | null;
  imageHeight: number | null;
  openid: string | null;
  banned: boolean;
  reports: Array<{ reason: ReportReason; count: number }>;
  note: string;
}

export interface Outcome {
  ok: boolean;
  message: string;
  /** Indices of the entries the action changed. */
  changed: number[];
}

/** What a failed desk call tells the moderator. */
export function deskProblem(error: unknown): string {
  const failure: BackendFailure = asBackendFailure(error);
  if (failure.code === '42501' || failure.status === 401 || failure.status === 403) return t('deskNotModerator');
  // PostgREST answers the functions' "no message" (SQLSTATE P0002) with 404.
  if (failure.code === 'P0002') return t('deskMessageGone');
  const login = loginProblem(failure);
  if (login) return login.message;
  return t(failure.status === 0 ? 'connectFailed' : 'deskFailed');
}

/** Why a ban reason cannot be used, or null. */
export function banReasonProblem(reason: string): string | null {
  const length = charLength(reason.trim());
  if (length === 0) return t('banReasonEmpty');
  if (length > BAN_REASON_MAX) return t('banReasonTooLong', { max: BAN_REASON_MAX });
  return null;
}

export class ModerationDesk {
  entries: DeskEntry[] = [];
  bans: BanRow[] = [];
  hasMore = false;

  constructor(
    private readonly port: ModerationPort,
    private readonly pageSize = QUEUE_PAGE_SIZE,
  ) {}

  /** Whether the signed-in person is a moderator (false when that cannot be told): the room's 管理 entry. */
  async isModerator(): Promise<boolean> {
    return (await this.refusal()) === null;
  }

  /** Null when the caller may use the desk; otherwise the sentence that says why not. */
  async refusal(): Promise<string | null> {
    try {
      return (await this.port.isModerator()) ? null : t('deskNotModerator');
    } catch (error) {
      return deskProblem(error);
    }
  }

  /** The first page of the queue and every ban, anew. */
  async reload(): Promise<Outcome> {
    try {
      const [rows, bans] = await Promise.all([this.port.queue(null, this.pageSize), this.port.bans()]);
      this.entries = rows.map((row) => this.entryOf(row));
      this.hasMore = rows.length === this.pageSize;
      this.bans = bans;
      return { ok: true, message: '', changed: this.entries.map((_, index) => index) };
    } catch (error) {
      return failed(error);
    }
  }

  /** The next page, below the oldest entry shown. */
  async loadMore(): Promise<Outcome> {
    const oldest = this.entries[this.entries.length - 1];
    try {
      const rows = await this.port.queue(oldest ? oldest.id : null, this.pageSize);
      const start = this.entries.length;
      // An action between two pages can move an entry; never show one twice.
      const shown = new Set(this.entries.map((entry) => entry.id));
      for (const row of rows) if (!shown.has(row.id)) this.entries.push(this.entryOf(row));
      this.hasMore = rows.length === this.pageSize;
      return { ok: true, message: '', changed: range(start, this.entries.length) };
    } catch (error) {
      return failed(error);
    }
  }

  hide(messageId: number): Promise<Outcome> {
    return this.moderate(messageId, 'hide', 'deskHidden');
  }

  /** Shows a held or hidden message again; on a reported visible one, dismisses the reports. */
  restore(messageId: number): Promise<Outcome> {
    const entry = this.entry(messageId);
    return this.moderate(messageId, 'restore', entry && entry.status === 'visible' ? 'deskReportsDismissed' : 'deskRestored');
  }

  async ban(messageId: number, reason: string): Promise<Outcome> {
    const problem = banReasonProblem(reason);
    if (problem) return { ok: false, message: problem, changed: [] };
    const entry = this.entry(messageId);
    const name = entry ? entry.username : '';
    try {
      const openid = await this.port.banAuthor(messageId, reason.trim());
      // A second ban of the same person replaces the first (ban_author's upsert).
      const ban = { openid, reason: reason.trim(), created_at: new Date().toISOString() };
      this.bans = [ban].concat(this.bans.filter((other) => other.openid !== openid));
      return this.settled(this.setBanned(openid, true), t('deskBanned', { name }));
    } catch (error) {
      return this.note(messageId, failed(error));
    }
  }

  async unban(openid: string): Promise<Outcome> {
    try {
      await this.port.unban(openid);
      this.bans = this.bans.filter((ban) => ban.openid !== openid);
      return this.settled(this.setBanned(openid, false), t('deskUnbanned'));
    } catch (error) {
      const outcome = failed(error);
      return this.settled(this.entriesOf(openid), outcome.message, false);
    }
  }

  private async moderate(messageId: number, action: 'hide' | 'restore', done: MessageId): Promise<Outcome> {
    try {
      const status = await this.port.moderate(messageId, action);
      const index = this.entries.findIndex((entry) => entry.id === messageId);
      if (index >= 0) {
        this.entries[index].status = status;
        // A restored message's reports are resolved: they no longer count.
        if (action === 'restore') this.entries[index].reports = [];
      }
      return this.note(messageId, { ok: true, message: t(done), changed: [] });
    } catch (error) {
      return this.note(messageId, failed(error));
    }
  }

  private entryOf(row: QueueRow): DeskEntry {
    const reports = REPORT_REASONS.filter((reason) => (row.reports[reason] || 0) > 0).map((reason) => ({
      reason,
      count: row.reports[reason] || 0,
    }));
    return {
      id: row.id,
      userId: row.user_id,
      username: row.username,
      avatarColor: row.avatar_color,
      kind: row.kind,
      status: row.status,
      createdAt: row.created_at,
      body: row.body,
      imageUrl: row.image_path ? this.port.imageUrl(row.image_path) : null,
      imageWidth: row.image_width,
      imageHeight: row.image_height,
      openid: row.openid,
      banned: row.banned,
      reports,
      note: '',
    };
  }

  private entry(messageId: number): DeskEntry | undefined {
    return this.entries.find((entry) => entry.id === messageId);
  }

  private entriesOf(openid: string): number[] {
    return this.entries.flatMap((entry, index) => (entry.openid === openid ? [index] : []));
  }

  /** Marks every entry of the person; answers their indices. */
  private setBanned(openid: string, banned: boolean): number[] {
    const indices = this.entriesOf(openid);
    for (const index of indices) this.entries[index].banned = banned;
    return indices;
  }

  /** The outcome, noted on each changed entry. */
  private settled(changed: number[], message: string, ok = true): Outcome {
    for (const index of changed) this.entries[index].note = message;
    return { ok, message, changed };
  }

  /** The outcome, noted on the entry of the message. */
  private note(messageId: number, outcome: Outcome): Outcome {
    const index = this.entries.findIndex((entry) => entry.id === messageId);
    return index >= 0 ? this.settled([index], outcome.message, outcome.ok) : outcome;
  }
}

function failed(error: unknown): Outcome {
  return { ok: false, message: deskProblem(error), changed: [] };
}

function range(start: number, end: number): number[] {
  const indices: number[] = [];
  for (let index = start; index < end; index++) indices.push(index);
  return indices;
}
