// 屏蔽: the people this person blocked. A block is stored server-side per reader (public.blocks),
// and the messages policy hides the blocked person's messages from the blocker on every device
// (supabase/migrations/20261206140000_moderation.sql). The room blocks from a message's long-press
// menu; the 屏蔽名单 page lists and unblocks. Listeners hear of each change, so a room on screen can
// drop or fetch that person's messages.
import { t } from './strings';
import { asBackendFailure } from './ports';
import { NAME_MAX } from './rules';

/** A row of public.blocks as its owner reads it. */
export interface BlockRow {
  blocked: string;
  blocked_name: string;
  created_at: string;
}

/** public.blocks for the signed-in person (core/supabase-safety.ts over supabase-js; a fake in tests). */
export interface BlockPort {
  /** Newest first. */
  list(): Promise<BlockRow[]>;
  /** Rejects with code 23505 when the person is blocked already. */
  block(userId: string, name: string): Promise<void>;
  unblock(userId: string): Promise<void>;
}

export interface BlockedPerson {
  userId: string;
  name: string;
  blockedAt: string;
}

export type BlockChange = { type: 'blocked' | 'unblocked'; userId: string };

export interface BlockOutcome {
  ok: boolean;
  message: string;
}

/** What a failed block or unblock tells the person. */
function blockProblem(error: unknown, unblocking: boolean): string {
  const failure = asBackendFailure(error);
  // public.blocks' check (blocker <> blocked).
  if (failure.code === '23514') return t('blockSelf');
  if (failure.status === 0) return t('connectFailed');
  return t(unblocking ? 'unblockFailed' : 'blockFailed');
}

export class BlockList {
  private listeners: Array<(change: BlockChange) => void> = [];

  constructor(private readonly port: BlockPort) {}

  /** Rejects with a BackendFailure; blockListProblem says what it means. */
  async list(): Promise<BlockedPerson[]> {
    const rows = await this.port.list();
    return rows.map((row) => ({ userId: row.blocked, name: row.blocked_name, blockedAt: row.created_at }));
  }

  /** `name` is the name the person saw on the message (a role name). */
  async block(userId: string, name: string): Promise<BlockOutcome> {
    // blocked_name holds 1–24 characters: the role name's own limit, which older rows may exceed.
    const shown = Array.from(name.trim()).slice(0, NAME_MAX).join('') || t('blockUnnamed');
    try {
      await this.port.block(userId, shown);
    } catch (error) {
      // Blocked already (another device, a double tap): that is what the person wanted.
      if (asBackendFailure(error).code !== '23505') return { ok: false, message: blockProblem(error, false) };
    }
    this.emit({ type: 'blocked', userId });
    return { ok: true, message: t('blockDone', { name: shown }) };
  }

  async unblock(userId: string, name: string): Promise<BlockOutcome> {
    try {
      await this.port.unblock(userId);
    } catch (error) {
      return { ok: false, message: blockProblem(error, true) };
    }
    this.emit({ type: 'unblocked', userId });
    return { ok: true, message: t('unblockDone', { name }) };
  }

  onChange(listener: (change: BlockChange) => void): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((other) => other !== listener);
    };
  }

  private emit(change: BlockChange): void {
    for (const listener of this.listeners.slice()) listener(change);
  }
}

/** What a failed list load tells the person. */
export function blockListProblem(error: unknown): string {
  const failure = asBackendFailure(error);
  return t(failure.status === 0 ? 'connectFailed' : 'blockListFailed');
}
