// How one message looks on screen: the MessageItem the message-item component draws, formatted
// from a ChatMessage and the message before it (for the day separator and sender grouping).
// Pure functions: the room page's MessageWindow decides which messages are rendered and when.
import { initialOf } from '../../core/profile';
import type { ChatMessage, DeliveryStatus, MessageKind, ModerationState, Roll, RollTerm } from '../../core/types';
import { outcomeText } from '../../core/dice';
import { t } from '../../core/strings';
import { verdictText } from '../../core/verdicts';

/** Consecutive messages from one sender closer than this share one avatar and name. */
export const GROUP_GAP_MS = 5 * 60 * 1000;
/** Display box of an image bubble, in rpx (750 = screen width). */
export const IMAGE_MAX_WIDTH = 300;
export const IMAGE_MAX_HEIGHT = 360;
export const IMAGE_MIN_SIDE = 120;

/** One message as WXML renders it: strings and numbers only, every field already formatted. */
export interface MessageItem {
  key: string;
  mine: boolean;
  name: string;
  color: string;
  initial: string;
  kind: MessageKind;
  text: string;
  url: string;
  /** The image's accessible label ('' for text), a whole sentence from the message table. */
  imageLabel: string;
  /** Image box in rpx, from the stored size, so the layout is final before the image loads. */
  width: number;
  height: number;
  time: string;
  /** Day separator label drawn above this message; '' when it continues the previous day. */
  day: string;
  /** First message of a group: shows the avatar and the name. */
  head: boolean;
  status: DeliveryStatus;
  /** The database's state ('' while only in the outbox). */
  state: ModerationState | '';
  /** Under the bubble: 发送中…, the reason once failed, 审核中 / 未通过审核… for our own; '' otherwise. */
  stateText: string;
  /** Shown instead of the content: a recall (某某撤回了一条消息) or a hidden message. */
  placeholder: string;
  /** A roll: each term's dice, the total and a check's outcome ('' when not a roll or not known). */
  rollDice: string;
  rollTotal: string;
  rollOutcome: string;
  /** The tag of an out-of-character line (场外); '' for every other kind. */
  kindLabel: string;
  /** The quote of a reply: its author and first line ('' when not a reply). */
  quoteName: string;
  quoteText: string;
  replyTo: number;
  /** The retry control's accessible label, a whole sentence; '' unless failed. */
  retryLabel: string;
  progress: number;
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function sameDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

export function dayLabel(date: Date, now: Date): string {
  if (sameDay(date, now)) return t('today');
  const yesterday = new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1);
  if (sameDay(date, yesterday)) return t('yesterday');
  const parts = { year: date.getFullYear(), month: date.getMonth() + 1, day: date.getDate() };
  return date.getFullYear() === now.getFullYear() ? t('dateThisYear', parts) : t('dateOtherYear', parts);
}

/** Fits width × height into the bubble's box, keeping the aspect ratio. */
export function imageBox(width: number | null, height: number | null): { width: number; height: number } {
  if (!width || !height) return { width: IMAGE_MAX_WIDTH, height: IMAGE_MAX_WIDTH };
  const scale = Math.min(IMAGE_MAX_WIDTH / width, IMAGE_MAX_HEIGHT / height);
  return {
    width: Math.max(IMAGE_MIN_SIDE, Math.round(width * scale)),
    height: Math.max(IMAGE_MIN_SIDE, Math.round(height * scale)),
  };
}

/**
 * The sentences that depend on a message's state travel with the message, not in each component's
 * data: a component's data is sent to the view once for every rendered message.
 */
function stateText(message: ChatMessage): string {
  if (message.status === 'sending') return t('statusSending');
  if (message.status === 'failed') return message.error ?? '';
  if (!message.mine) return '';
  // Under a message, a short word: it is usually there for a fraction of a second.
  if (message.state === 'pending') return t('statePending');
  return message.state ? verdictText(message.state, message.label) : '';
}

function placeholder(message: ChatMessage): string {
  if (message.state === 'recalled') return message.mine ? t('recalledByMe') : t('recalledBy', { name: message.username });
  if (message.state === 'hidden') return t('hiddenMessage');
  return '';
}

function term(part: RollTerm, first: boolean): string {
  const sign = part.sign < 0 ? '- ' : first ? '' : '+ ';
  return 'dice' in part ? `${sign}${part.dice.join(' ')}` : `${sign}${part.value}`;
}

/** `3 5 + 3` for 2d6+3: every die, then the modifiers; the expression is shown beside it. */
export function rollDice(roll: Roll): string {
  return roll.terms.map((part, index) => term(part, index === 0)).join(' ');
}

export function toItem(message: ChatMessage, previous: ChatMessage | undefined, now: Date): MessageItem {
  const at = new Date(message.createdAt);
  const before = previous ? new Date(previous.createdAt) : null;
  const newDay = !before || !sameDay(before, at);
  const sameSender =
    !!previous &&
    previous.userId === message.userId &&
    previous.username === message.username &&
    previous.avatarColor === message.avatarColor;
  const box = message.kind === 'image' ? imageBox(message.imageWidth, message.imageHeight) : { width: 0, height: 0 };
  const roll = message.roll;
  const quote = message.replyPreview;
  return {
    key: message.key,
    mine: message.mine,
    name: message.username,
    color: message.avatarColor,
    initial: initialOf(message.username),
    kind: message.kind,
    // A roll shows its expression; a hidden one, to everyone but the roller and the host, only that it happened.
    text: message.kind === 'roll' && message.hidden && !roll ? t('rolledHidden') : (message.body ?? ''),
    url: message.imageUrl ?? '',
    imageLabel: message.kind === 'image' ? t('imageLabel', { name: message.username }) : '',
    width: box.width,
    height: box.height,
    time: `${pad(at.getHours())}:${pad(at.getMinutes())}`,
    day: newDay ? dayLabel(at, now) : '',
    head: newDay || !sameSender || at.getTime() - before!.getTime() > GROUP_GAP_MS,
    status: message.status,
    state: message.state ?? '',
    stateText: stateText(message),
    placeholder: placeholder(message),
    rollDice: roll ? rollDice(roll) : '',
    rollTotal: roll ? String(roll.total) : '',
    rollOutcome: roll?.check ? outcomeText(roll.check.outcome) : '',
    kindLabel: message.kind === 'ooc' ? t('ooc') : '',
    quoteName: quote ? quote.username : '',
    quoteText: quote ? (quote.text ?? t(quote.kind === 'image' ? 'quoteImage' : 'quoteWithheld')) : '',
    replyTo: message.replyTo ?? 0,
    retryLabel: message.status === 'failed' ? t('retryLabel') : '',
    progress: message.progress ?? 0,
  };
}

/** The image's src: a retry after a broken load needs a different URL, or nothing reloads. */
export function imageSource(url: string, attempt: number): string {
  if (attempt === 0 || !/^https?:/.test(url)) return url;
  return `${url}${url.indexOf('?') >= 0 ? '&' : '?'}retry=${attempt}`;
}
