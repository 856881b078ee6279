// A role's name and avatar colour: the rules the database's CHECKs also hold (rules.ts), random 江湖
// names, a palette whose colours keep white initials readable, and the avatar's initial. Characters
// (characters.ts) are built from them; messages carry the name and colour at send time.
import { t } from './strings';
import { checkColor, checkName, NAME_MAX, type NameProblem } from './rules';
import type { Profile } from './types';

/** Surnames of the wuxia world, compound ones included. */
// biome-ignore format: a word list, laid out in rows
const SURNAMES = [
  '令狐', '慕容', '欧阳', '上官', '东方', '独孤', '南宫', '西门', '公孙', '司徒',
  '萧', '燕', '楚', '花', '陆', '林', '沈', '叶', '谢', '段', '岳', '柳', '白', '顾',
];

// biome-ignore format: a word list, laid out in rows
const GIVEN_NAMES = [
  '长风', '听雨', '无痕', '惊鸿', '寻欢', '孤城', '晚晴', '青衣', '如烟', '逍遥',
  '天涯', '明月', '小楼', '飞雪', '一刀', '不语', '清秋', '断水', '流云', '归鸿',
  '冲', '复', '锋', '影', '寒', '尘',
];

/**
 * Avatar colours, each dark enough that white initials on it reach WCAG AA contrast (4.5:1);
 * test/core-profile.test.ts checks every one.
 */
export const PALETTE = [
  '#c0392b',
  '#a04000',
  '#9a5b00',
  '#7d6608',
  '#2e7d32',
  '#117a65',
  '#00695c',
  '#1f618d',
  '#283593',
  '#6a1b9a',
  '#884ea0',
  '#ad1457',
  '#5d4037',
  '#455a64',
];

function pick<T>(items: readonly T[], random: () => number): T {
  return items[Math.floor(random() * items.length)];
}

/** A random 江湖-style name: surname + given name, always within the rules. */
export function randomName(random: () => number = Math.random): string {
  return pick(SURNAMES, random) + pick(GIVEN_NAMES, random);
}

export function randomProfile(random: () => number = Math.random): Profile {
  return { name: randomName(random), color: pick(PALETTE, random) };
}

/** The WCAG 2 contrast ratio of white text on `color` (#rrggbb). */
export function contrastWithWhite(color: string): number {
  const channel = (offset: number) => {
    const value = parseInt(color.slice(offset, offset + 2), 16) / 255;
    return value <= 0.03928 ? value / 12.92 : ((value + 0.055) / 1.055) ** 2.4;
  };
  const luminance = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
  return 1.05 / (luminance + 0.05);
}

const NAME_PROBLEM_MESSAGES: Record<NameProblem, () => string> = {
  empty: () => t('nameEmpty'),
  too_long: () => t('nameTooLong', { max: NAME_MAX }),
  untrimmed: () => t('nameUntrimmed'),
  invisible_chars: () => t('nameInvisibleChars'),
};

/** The Chinese sentence for a name the rules refuse, null when the name is fine. */
export function nameProblemMessage(name: string): string | null {
  const problem = checkName(name);
  return problem ? NAME_PROBLEM_MESSAGES[problem]() : null;
}

/** What is wrong with a role, as the user should read it; null when it can be used. */
export function profileProblem(profile: Profile): string | null {
  return nameProblemMessage(profile.name) || (checkColor(profile.color) ? null : t('colorInvalid'));
}

/** The avatar's letter: the name's first character (a whole code point), '?' for an empty name. */
export function initialOf(name: string): string {
  for (const character of name.trim()) return character;
  return '?';
}
