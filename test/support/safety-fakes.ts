// In-memory ports of the moderation desk and the block list (core/moderation-desk.ts,
// core/blocks.ts), with failure injection, for unit tests. They keep the database's rules that the
// core relies on: the queue is newest first below before_id; moderate answers the new status;
// a second block is a 23505; only moderators may act (42501, HTTP 403).
import { BlockList, type BlockPort, type BlockRow } from '../../miniprogram/core/blocks';
import {
  ModerationDesk,
  type BanRow,
  type MessageStatus,
  type ModerationPort,
  type QueueRow,
} from '../../miniprogram/core/moderation-desk';
import { BackendFailure } from '../../miniprogram/core/ports';
import { ConsentRequests, type PrivacyGate } from '../../miniprogram/core/privacy';
import type { SafetyServices } from '../../miniprogram/services';

type DeskCall = 'isModerator' | 'queue' | 'moderate' | 'banAuthor' | 'unban' | 'bans';

const NOT_A_MODERATOR = () => new BackendFailure(403, '42501', 'only moderators may do this');

/** A queue item of the given id; override any field. */
export function queueRow(id: number, fields: Partial<QueueRow> = {}): QueueRow {
  return {
    id,
    room_id: 1,
    user_id: `user-${id}`,
    username: `作者${id}`,
    avatar_color: '#1f618d',
    kind: 'text',
    status: 'held',
    label: 21000,
    created_at: new Date(Date.UTC(2026, 11, 6, 4, 0, id)).toISOString(),
    body: `待审的第 ${id} 条`,
    image_path: null,
    image_width: null,
    image_height: null,
    openid: `openid-${id}`,
    banned: false,
    reports: {},
    ...fields,
  };
}

export class FakeModerationPort implements ModerationPort {
  moderator = true;
  rows: QueueRow[] = [];
  banList: BanRow[] = [];
  calls: Array<{ call: DeskCall; args: unknown[] }> = [];
  private failures: Partial<Record<DeskCall, BackendFailure[]>> = {};

  failNext(call: DeskCall, failure: BackendFailure): void {
    this.failures[call] = (this.failures[call] ?? []).concat(failure);
  }

  async isModerator(): Promise<boolean> {
    this.enter('isModerator', []);
    return this.moderator;
  }

  async queue(beforeId: number | null, pageSize: number): Promise<QueueRow[]> {
    this.enter('queue', [beforeId, pageSize], true);
    return this.rows
      .filter((row) => beforeId === null || row.id < beforeId)
      .sort((a, b) => b.id - a.id)
      .slice(0, pageSize)
      .map((row) => ({ ...row, reports: { ...row.reports } }));
  }

  async moderate(messageId: number, action: 'hide' | 'restore'): Promise<MessageStatus> {
    this.enter('moderate', [messageId, action], true);
    const row = this.row(messageId);
    row.status = action === 'hide' ? 'hidden' : 'visible';
    if (action === 'restore') row.reports = {};
    return row.status;
  }

  async banAuthor(messageId: number, reason: string): Promise<string> {
    this.enter('banAuthor', [messageId, reason], true);
    const openid = this.row(messageId).openid!;
    this.banList = [{ openid, reason, created_at: new Date().toISOString() }].concat(this.banList.filter((ban) => ban.openid !== openid));
    for (const row of this.rows) if (row.openid === openid) row.banned = true;
    return openid;
  }

  async unban(openid: string): Promise<void> {
    this.enter('unban', [openid], true);
    this.banList = this.banList.filter((ban) => ban.openid !== openid);
    for (const row of this.rows) if (row.openid === openid) row.banned = false;
  }

  async bans(): Promise<BanRow[]> {
    this.enter('bans', [], true);
    return this.banList.slice();
  }

  imageUrl(storagePath: string): string {
    return `https://example.test/storage/v1/object/public/images/${storagePath}`;
  }

  private row(messageId: number): QueueRow {
    const row = this.rows.find((candidate) => candidate.id === messageId);
    if (!row) throw new BackendFailure(404, 'P0002', `no message ${messageId}`);
    return row;
  }

  /** Records the call; throws an injected failure, or 42501 when only moderators may call it. */
  private enter(call: DeskCall, args: unknown[], moderatorsOnly = false): void {
    this.calls.push({ call, args });
    const failure = this.failures[call]?.shift();
    if (failure) throw failure;
    if (moderatorsOnly && !this.moderator) throw NOT_A_MODERATOR();
  }
}

export class FakeBlockPort implements BlockPort {
  rows: BlockRow[] = [];
  private failures: BackendFailure[] = [];

  constructor(private readonly me = 'user-me') {}

  failNext(failure: BackendFailure): void {
    this.failures.push(failure);
  }

  async list(): Promise<BlockRow[]> {
    this.enter();
    return this.rows.slice().reverse();
  }

  async block(userId: string, name: string): Promise<void> {
    this.enter();
    if (userId === this.me) throw new BackendFailure(400, '23514', 'new row violates check constraint "blocks_check"');
    if (this.rows.some((row) => row.blocked === userId))
      throw new BackendFailure(409, '23505', 'duplicate key value violates unique constraint "blocks_pkey"');
    this.rows.push({ blocked: userId, blocked_name: name, created_at: new Date().toISOString() });
  }

  async unblock(userId: string): Promise<void> {
    this.enter();
    this.rows = this.rows.filter((row) => row.blocked !== userId);
  }

  private enter(): void {
    const failure = this.failures.shift();
    if (failure) throw failure;
  }
}

/** The guide's name as a fake WeChat gives it. */
export const FAKE_CONTRACT_NAME = '《角色扮演聊天室小程序隐私保护指引》';

/**
 * SafetyServices over the fakes, for pages rendered with fake services (a page that places the
 * consent sheet reads them as soon as it renders): WeChat's consent requests are the test's to make
 * (`requests.request(resolve)` shows the sheet), and copies are recorded.
 */
export function fakeSafetyServices(
  desk = new FakeModerationPort(),
  blocks = new FakeBlockPort(),
): SafetyServices & { requests: ConsentRequests; copied: string[] } {
  const requests = new ConsentRequests();
  const copied: string[] = [];
  const privacy: PrivacyGate = {
    supported: true,
    present: (sheet) => requests.present(sheet),
    agree: (buttonId) => requests.agree(buttonId),
    disagree: () => requests.disagree(),
    openContract: async () => true,
    setting: async () => ({ needed: true, contractName: FAKE_CONTRACT_NAME }),
    ask: async () => true,
  };
  return {
    requests,
    copied,
    privacy,
    blocks: new BlockList(blocks),
    desk: () => new ModerationDesk(desk),
    copyText: async (text) => {
      copied.push(text);
    },
  };
}
