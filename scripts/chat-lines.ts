// How the terminal client prints a message: the same words the room draws (toItem in
// components/message-item/format.ts), laid out as one line of text per message.
import { toItem } from '../miniprogram/components/message-item/format';
import { t } from '../miniprogram/core/strings';
import { cliText } from './cli-strings';
import type { ChatMessage } from '../miniprogram/core/types';

function time(iso: string): string {
  return new Date(iso).toTimeString().slice(0, 8);
}

/** What the message says: 对白, 动作, 场外, a roll with every die, an image, or its recall. */
function content(message: ChatMessage): string {
  const item = toItem(message, undefined, new Date());
  const name = item.name;
  if (item.placeholder) return item.placeholder;
  switch (message.kind) {
    case 'image':
      return t('previewSay', {
        name,
        text: cliText('image', { width: message.imageWidth ?? 0, height: message.imageHeight ?? 0, url: item.url }),
      });
    case 'action':
      return t('previewAction', { name, text: item.text });
    case 'ooc':
      return t('previewOoc', { name, text: item.text });
    case 'roll':
      // No result yet: the database rolls as it stores the message (a hidden one stays hidden to others).
      if (!item.rollTotal)
        return message.hidden ? t('previewHiddenRoll', { name }) : cliText('rollPending', { name, expression: item.text });
      return cliText('roll', {
        name,
        expression: item.text,
        dice: item.rollDice,
        total: item.rollTotal,
        outcome: item.rollOutcome ? ` ${item.rollOutcome}` : '',
      });
    default:
      return t('previewSay', { name, text: item.text });
  }
}

/** `[21:03:05] 楚留香：在下楚留香 ↩ 回复 胡铁花：…（审核中）` */
export function describeMessage(message: ChatMessage): string {
  const item = toItem(message, undefined, new Date());
  const quote = item.quoteName ? ` ${cliText('quote', { name: item.quoteName, text: item.quoteText })}` : '';
  const state = item.stateText ? ` (${item.stateText})` : '';
  return `[${time(message.createdAt)}] ${content(message)}${quote}${state}`;
}
