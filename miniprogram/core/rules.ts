// The message and role rules. The database enforces the same limits as CHECK constraints
// (supabase/migrations); test/database-rules.test.ts proves both agree at every boundary.

export const NAME_MAX = 24;
export const TEXT_MAX = 2000;
/** A character's 人设 note. */
export const NOTE_MAX = 300;
/** Characters one person keeps. */
export const CHARACTERS_MAX = 10;
/** A scene's title and its 背景. */
export const TITLE_MAX = 48;
export const TOPIC_MAX = 500;
/** Scenes one person may open within a day. */
export const SCENES_PER_DAY = 3;
export const IMAGE_SIDE_MAX = 8192;
/** Messages a user may send within RATE_WINDOW_SECONDS before the database refuses more. */
export const RATE_LIMIT = 10;
export const RATE_WINDOW_SECONDS = 10;
export const COLOR_PATTERN = /^#[0-9a-fA-F]{6}$/;
/**
 * Characters a name may not contain: controls, zero-width and bidirectional overrides, which
 * let one role impersonate another or scramble the room's layout.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this pattern finds
export const FORBIDDEN_NAME_CHARS = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/;

export type NameProblem = 'empty' | 'too_long' | 'untrimmed' | 'invisible_chars';

/** Length as Postgres' char_length counts it: code points, not UTF-16 units. */
export function charLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

export function checkName(name: string): NameProblem | null {
  if (name.trim().length === 0) return 'empty';
  if (name !== name.trim()) return 'untrimmed';
  if (FORBIDDEN_NAME_CHARS.test(name)) return 'invisible_chars';
  if (charLength(name) > NAME_MAX) return 'too_long';
  return null;
}

export function checkColor(color: string): boolean {
  return COLOR_PATTERN.test(color);
}

export type TextProblem = 'empty' | 'too_long';

export function checkText(text: string): TextProblem | null {
  if (text.trim().length === 0) return 'empty';
  if (charLength(text) > TEXT_MAX) return 'too_long';
  return null;
}

export function checkNote(note: string): 'too_long' | null {
  return charLength(note) > NOTE_MAX ? 'too_long' : null;
}

export type TitleProblem = 'empty' | 'too_long';

/** A title is 1–48 characters and not blank (the database counts the characters; the client also refuses blanks). */
export function checkTitle(title: string): TitleProblem | null {
  if (title.trim().length === 0) return 'empty';
  if (charLength(title) > TITLE_MAX) return 'too_long';
  return null;
}

export function checkTopic(topic: string): 'too_long' | null {
  return charLength(topic) > TOPIC_MAX ? 'too_long' : null;
}
