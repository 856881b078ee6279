// How one scene looks in the list: every field a string WXML prints as it is. Pure functions, so
// the page only decides what to render and when.
import { dayLabel } from '../../components/message-item/format';
import { outcomeText } from '../../core/dice';
import { t, type MessageId } from '../../core/strings';
import type { LastMessage, SceneSummary } from '../../core/scenes';

/** The list shows "99+" beyond this; the database counts up to 100 for that reason. */
export const UNREAD_SHOWN_MAX = 99;

export interface SceneItem {
  id: number;
  slug: string;
  title: string;
  /** 背景, drawn on one line. */
  topic: string;
  /** 审核中, 未通过审核, 等待人工审核 or 已归档; '' for a scene open to all. */
  badge: string;
  preview: string;
  time: string;
  /** '' when nothing is unread, else the count ("99+" beyond 99). */
  unread: string;
  /** "3 人在场"; '' when nobody is. */
  here: string;
}

/** The last message in one line: who, and what they said, did or rolled. */
export function previewOf(message: LastMessage | null): string {
  if (!message) return t('previewNone');
  const name = message.username;
  if (message.status === 'recalled') return t('previewRecalled', { name });
  if (message.status === 'hidden') return t('previewHidden', { name });
  if (message.kind === 'image') return t('previewImage', { name });
  if (message.kind === 'roll') {
    if (message.hidden || !message.roll) return t('previewHiddenRoll', { name });
    const { total, outcome } = message.roll;
    const expression = message.body || '';
    const said = outcomeText(outcome);
    return said ? t('previewCheck', { name, expression, total, outcome: said }) : t('previewRoll', { name, expression, total });
  }
  // Only the first line: the list row has room for one.
  const text = (message.body || '').split('\n')[0];
  if (message.kind === 'action') return t('previewAction', { name, text });
  if (message.kind === 'ooc') return t('previewOoc', { name, text });
  return t('previewSay', { name, text });
}

/** The hour today, else the day (昨天, 11月20日 …), as chat lists show it. */
export function listTime(iso: string, now: Date): string {
  const at = new Date(iso);
  const day = dayLabel(at, now);
  return day === t('today') ? `${String(at.getHours()).padStart(2, '0')}:${String(at.getMinutes()).padStart(2, '0')}` : day;
}

export function unreadText(unread: number): string {
  if (unread <= 0) return '';
  return unread > UNREAD_SHOWN_MAX ? t('unreadMany') : String(unread);
}

export function hereText(count: number): string {
  return count > 0 ? t('herePeople', { count }) : '';
}

const STATUS_BADGES: Record<string, MessageId> = { pending: 'sceneBadgePending', blocked: 'verdictBlocked', held: 'verdictHeld' };

/** Only the host sees a scene content security has not passed; everyone sees an archived one. */
function badgeOf(scene: SceneSummary): string {
  const status = STATUS_BADGES[scene.status];
  if (status) return t(status);
  return scene.archived ? t('sceneBadgeArchived') : '';
}

export function sceneItem(scene: SceneSummary, here: number, now: Date): SceneItem {
  return {
    id: scene.id,
    slug: scene.slug,
    title: scene.title,
    topic: scene.topic,
    badge: badgeOf(scene),
    preview: previewOf(scene.lastMessage),
    time: listTime(scene.lastMessage ? scene.lastMessage.created_at : scene.lastActivityAt, now),
    unread: unreadText(scene.unread),
    here: hereText(here),
  };
}
