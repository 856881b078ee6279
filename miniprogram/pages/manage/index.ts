// 管理: the moderators' desk (core/moderation-desk.ts). Held, hidden and reported messages, newest
// first in pages, each with its reports, its content (withheld or not) and its author's ban state;
// hide, restore, ban the author (with a reason) and unban, each answering with a sentence on the
// message and in a toast. A second tab lists the bans. The room links here for moderators only;
// anyone else who opens it reads why not, as the database refuses them anyway.
import { dayLabel, imageBox } from '../../components/message-item/format';
import { featureProblem } from '../../core/failures';
import { pickTexts, t, type MessageId } from '../../core/strings';
import { reasonText, type BanRow, type DeskEntry, type MessageStatus, type ModerationDesk, type Outcome } from '../../core/moderation-desk';
import { initialOf } from '../../core/profile';
import { getSafetyServices } from '../../services';

const STATUS_TEXT: Record<MessageStatus, MessageId> = {
  pending: 'deskStatusPending',
  visible: 'deskStatusVisible',
  blocked: 'deskStatusBlocked',
  held: 'deskStatusHeld',
  hidden: 'deskStatusHidden',
  recalled: 'deskStatusRecalled',
};

/** One queue entry as WXML renders it: strings, numbers and flags only. */
interface DeskItem {
  id: number;
  name: string;
  color: string;
  initial: string;
  time: string;
  status: MessageStatus;
  statusText: string;
  isImage: boolean;
  text: string;
  url: string;
  imageLabel: string;
  width: number;
  height: number;
  reportsText: string;
  banned: boolean;
  openid: string;
  note: string;
  noteFailed: boolean;
  canHide: boolean;
  /** 恢复显示 (held, hidden), 驳回举报 (visible), or '' when restoring makes no sense (recalled). */
  restoreText: string;
}

interface BanItem {
  openid: string;
  since: string;
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function when(iso: string, now: Date): string {
  const at = new Date(iso);
  return `${dayLabel(at, now)} ${pad(at.getHours())}:${pad(at.getMinutes())}`;
}

function restoreTextOf(status: MessageStatus): string {
  if (status === 'held' || status === 'hidden') return t('manageRestore');
  return status === 'visible' ? t('manageDismiss') : '';
}

function toItem(entry: DeskEntry, now: Date, noteFailed = false): DeskItem {
  const isImage = entry.imageUrl !== null;
  const box = isImage ? imageBox(entry.imageWidth, entry.imageHeight) : { width: 0, height: 0 };
  const total = entry.reports.reduce((sum, report) => sum + report.count, 0);
  const reasons = entry.reports.map((report) => t('manageReportCount', { reason: reasonText(report.reason), count: report.count }));
  return {
    id: entry.id,
    name: entry.username,
    color: entry.avatarColor,
    initial: initialOf(entry.username),
    time: when(entry.createdAt, now),
    status: entry.status,
    statusText: t(STATUS_TEXT[entry.status]),
    isImage,
    text: entry.body ?? '',
    url: entry.imageUrl ?? '',
    imageLabel: isImage ? t('imageLabel', { name: entry.username }) : '',
    width: box.width,
    height: box.height,
    reportsText: total > 0 ? t('manageReports', { count: total, reasons: reasons.join(' · ') }) : '',
    banned: entry.banned,
    openid: entry.openid ?? '',
    note: entry.note,
    noteFailed,
    canHide: entry.status === 'visible' || entry.status === 'held' || entry.status === 'pending',
    restoreText: restoreTextOf(entry.status),
  };
}

function toBanItem(ban: BanRow, now: Date): BanItem {
  return { openid: ban.openid, since: t('manageBanSince', { date: dayLabel(new Date(ban.created_at), now), reason: ban.reason }) };
}

function toast(title: string): void {
  wx.showToast({ title, icon: 'none', duration: 2500 });
}

/** Each page instance's desk (kept off `data`, which goes to the view). */
const desks = new WeakMap<object, ModerationDesk>();

function deskOf(page: object): ModerationDesk {
  const desk = desks.get(page);
  if (!desk) throw new Error('manage page used before onLoad');
  return desk;
}

type Event<D extends WechatMiniprogram.IAnyObject> = WechatMiniprogram.TouchEvent<
  WechatMiniprogram.IAnyObject,
  WechatMiniprogram.IAnyObject,
  D
>;

Component({
  data: {
    t: pickTexts(
      'manageTabQueue',
      'manageTabBans',
      'manageReload',
      'manageEmpty',
      'manageBansEmpty',
      'manageLoadMore',
      'manageLoadingMore',
      'manageNoMore',
      'manageHide',
      'manageBan',
      'manageUnban',
      'manageCopyOpenid',
      'manageBanReasonLabel',
      'manageBanReasonPlaceholder',
      'manageBanConfirm',
      'manageBanCancel',
      'manageAuthorBanned',
      'loadErrorRetry',
    ),
    /** Why this person may not use the desk ('' once they may). */
    refusal: '',
    ready: false,
    loadError: '',
    tab: 'queue',
    items: [] as DeskItem[],
    bans: [] as BanItem[],
    hasMore: false,
    loadingMore: false,
    /** The message whose author is being banned (0: none), the reason typed so far, and its problem. */
    banning: 0,
    banReason: '',
    banProblem: '',
    /** An action under way: buttons wait for it. */
    busy: false,
  },
  methods: {
    async onLoad() {
      wx.setNavigationBarTitle({ title: t('manageTitle') });
      desks.set(this, getSafetyServices().desk());
      await this.open();
    },

    async open() {
      const refusal = await deskOf(this).refusal();
      if (refusal) {
        this.setData({ refusal, ready: false });
        return;
      }
      this.setData({ refusal: '' });
      await this.reload();
    },

    async reload() {
      const desk = deskOf(this);
      const outcome = await desk.reload();
      if (!outcome.ok) {
        this.setData({ loadError: outcome.message });
        return;
      }
      this.setData({ ready: true, loadError: '', banning: 0 });
      this.showAll();
    },

    showAll() {
      const desk = deskOf(this);
      const now = new Date();
      this.setData({ items: Array.from(desk.entries, (entry) => toItem(entry, now)), bans: this.banItems(now), hasMore: desk.hasMore });
    },

    /**
     * Render data is built with Array.from rather than the core's own map(): arrays made by the page
     * are the page's, whichever realm built the desk (the tests build it in a WeChat-like one).
     */
    banItems(now: Date): BanItem[] {
      return Array.from(deskOf(this).bans, (ban) => toBanItem(ban, now));
    },

    /** Redraws the entries an action changed, and the bans; says how it went. */
    showOutcome(outcome: Outcome) {
      const desk = deskOf(this);
      const now = new Date();
      const data: Record<string, unknown> = { bans: this.banItems(now), busy: false };
      for (const index of outcome.changed) data[`items[${index}]`] = toItem(desk.entries[index], now, !outcome.ok);
      this.setData(data);
      toast(outcome.message);
    },

    async act(run: (desk: ModerationDesk) => Promise<Outcome>) {
      if (this.data.busy) return;
      this.setData({ busy: true });
      this.showOutcome(await run(deskOf(this)));
    },

    onRetry() {
      this.setData({ loadError: '', refusal: '' });
      return this.open();
    },

    onReload() {
      return this.reload();
    },

    onTab(event: Event<{ tab: string }>) {
      this.setData({ tab: event.currentTarget.dataset.tab });
    },

    async onLoadMore() {
      if (this.data.loadingMore || !this.data.hasMore) return;
      this.setData({ loadingMore: true });
      const desk = deskOf(this);
      const outcome = await desk.loadMore();
      const now = new Date();
      const data: Record<string, unknown> = { loadingMore: false, hasMore: desk.hasMore };
      for (const index of outcome.changed) data[`items[${index}]`] = toItem(desk.entries[index], now);
      this.setData(data);
      if (!outcome.ok) toast(outcome.message);
    },

    onHide(event: Event<{ id: number }>) {
      const id = event.currentTarget.dataset.id;
      return this.act((desk) => desk.hide(id));
    },

    onRestore(event: Event<{ id: number }>) {
      const id = event.currentTarget.dataset.id;
      return this.act((desk) => desk.restore(id));
    },

    onBan(event: Event<{ id: number }>) {
      this.setData({ banning: event.currentTarget.dataset.id, banReason: '', banProblem: '' });
    },

    onBanInput(event: WechatMiniprogram.Input) {
      this.setData({ banReason: event.detail.value, banProblem: '' });
    },

    onBanCancel() {
      this.setData({ banning: 0, banReason: '', banProblem: '' });
    },

    async onBanConfirm() {
      if (this.data.busy) return;
      const id = this.data.banning;
      this.setData({ busy: true });
      const outcome = await deskOf(this).ban(id, this.data.banReason);
      this.showOutcome(outcome);
      this.setData(outcome.ok ? { banning: 0, banReason: '' } : { banProblem: outcome.message });
    },

    onUnban(event: Event<{ openid: string }>) {
      const openid = event.currentTarget.dataset.openid;
      return this.act((desk) => desk.unban(openid));
    },

    async onCopyOpenid(event: Event<{ openid: string }>) {
      try {
        // WeChat confirms a copy with its own toast.
        await getSafetyServices().copyText(event.currentTarget.dataset.openid);
      } catch (error) {
        console.warn('copying failed', error);
        toast(featureProblem('clipboard', error));
      }
    },

    onPreview(event: Event<{ url: string }>) {
      wx.previewImage({ current: event.currentTarget.dataset.url, urls: [event.currentTarget.dataset.url] });
    },
  },
});
