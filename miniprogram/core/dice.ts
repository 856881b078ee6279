// Dice expressions as the database's private.roll_dice accepts them (supabase/migrations/
// *_roleplay.sql): terms NdF (N 1–20, F 2–1000) or whole numbers up to 10000, joined by + or -,
// at most 20 dice in all, an optional check (<=, <, >=, >) against a target up to 10000. The
// database rolls and decides; this answers at once, in the person's language, before sending.
// test/support/dice-cases.ts holds one table both must agree with.
import { t, type MessageId } from './strings';

export const MAX_DICE = 20;
export const MAX_FACES = 1000;
export const MAX_NUMBER = 10000;
/** A roll message's body is its expression, at most this many characters (messages_roll_check). */
export const MAX_EXPRESSION = 64;

export type DiceProblem = 'empty' | 'syntax' | 'no_die' | 'faces' | 'too_many' | 'too_big' | 'too_long';

const SHAPE = /^[+-]?([0-9]*d[0-9]+|[0-9]+)([+-]([0-9]*d[0-9]+|[0-9]+))*$/;
const TERM = /([+-]?)([0-9]*d[0-9]+|[0-9]+)/g;
const CHECK = /^(.*?)(<=|>=|<|>)([0-9]+)$/;

/** What is wrong with an expression, or null when the database will roll it. */
export function diceProblem(expression: string): DiceProblem | null {
  const source = expression.replace(/\s/g, '').toLowerCase();
  if (source === '') return 'empty';
  if ([...expression].length > MAX_EXPRESSION) return 'too_long';
  const check = CHECK.exec(source);
  const rest = check ? check[1] : source;
  if (rest === '' || !SHAPE.test(rest)) return 'syntax';
  if (check && (check[3].length > 5 || Number(check[3]) > MAX_NUMBER)) return 'too_big';
  let dice = 0;
  for (const match of rest.matchAll(TERM)) {
    const term = /^([0-9]*)d([0-9]+)$/.exec(match[2]);
    if (!term) {
      if (match[2].length > 5 || Number(match[2]) > MAX_NUMBER) return 'too_big';
      continue;
    }
    if (term[1].length > 3 || term[2].length > 5) return 'too_many';
    const count = term[1] === '' ? 1 : Number(term[1]);
    const faces = Number(term[2]);
    if (count < 1) return 'no_die';
    if (faces < 2 || faces > MAX_FACES) return 'faces';
    dice += count;
    if (dice > MAX_DICE) return 'too_many';
  }
  return dice === 0 ? 'no_die' : null;
}

const OUTCOMES: Record<string, MessageId> = {
  success: 'outcomeSuccess',
  failure: 'outcomeFailure',
  critical_success: 'outcomeCriticalSuccess',
  critical_failure: 'outcomeCriticalFailure',
};

/** A check's outcome as players say it (成功, 大失败…); '' for none or one the app does not know. */
export function outcomeText(outcome: string | null | undefined): string {
  return outcome && OUTCOMES[outcome] ? t(OUTCOMES[outcome]) : '';
}
