// Content security's verdict on something a person wrote (a character, a scene), as its author reads
// it. The database sets the state and WeChat's label (supabase/migrations/20261206140000_moderation.sql):
// pending until WeChat answers, visible, blocked with the label of what WeChat found, or held for a
// moderator.
import { t, type MessageId } from './strings';

export type ModerationStatus = 'pending' | 'visible' | 'blocked' | 'held';

/** WeChat's msgSecCheck / mediaCheckAsync labels (100 is 正常, which never blocks). */
const LABELS: Record<number, MessageId> = {
  10001: 'labelAd',
  20001: 'labelPolitics',
  20002: 'labelPorn',
  20003: 'labelAbuse',
  20006: 'labelIllegal',
  20008: 'labelFraud',
  20012: 'labelVulgar',
  20013: 'labelCopyright',
  21000: 'labelOther',
};

/** What the author reads about the state: '' once visible. */
export function verdictText(status: string, label: number | null): string {
  if (status === 'pending') return t('verdictPending');
  if (status === 'held') return t('verdictHeld');
  if (status !== 'blocked') return '';
  const meaning = label === null ? undefined : LABELS[label];
  return meaning ? t('verdictBlockedBecause', { reason: t(meaning) }) : t('verdictBlocked');
}

/** The column's text as one of the states (a state the app does not know reads as pending). */
export function moderationStatus(status: string): ModerationStatus {
  return status === 'visible' || status === 'blocked' || status === 'held' ? status : 'pending';
}
