// Role rules at every boundary (the same rules.ts the SQL tests use), random 江湖 names, the
// avatar palette's contrast with white initials; and the client_id generator.
import { uuidV4 } from '../miniprogram/core/ids';
import { zh } from '../miniprogram/core/strings';
import { contrastWithWhite, nameProblemMessage, PALETTE, profileProblem, randomName, randomProfile } from '../miniprogram/core/profile';
import { charLength, checkColor, checkName, checkText, NAME_MAX, TEXT_MAX } from '../miniprogram/core/rules';

/** A deterministic Math.random stand-in (mulberry32), so failures reproduce. */
function seededRandom(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

describe('name rules', () => {
  test.each([
    ['', 'empty'],
    ['   ', 'empty'],
    ['\u3000', 'empty'],
    [' 楚留香', 'untrimmed'],
    ['楚留香 ', 'untrimmed'],
    ['楚\u200b留香', 'invisible_chars'],
    ['楚\u200f留香', 'invisible_chars'],
    ['楚\u2066留香', 'invisible_chars'],
    ['楚\u2069留香', 'invisible_chars'],
    ['楚\u202e留香', 'invisible_chars'],
    ['楚\u0007留香', 'invisible_chars'],
    ['楚\ufeff留香', 'invisible_chars'],
    ['字'.repeat(NAME_MAX + 1), 'too_long'],
    ['😀'.repeat(NAME_MAX + 1), 'too_long'],
  ])('%j is refused (%s)', (name, problem) => {
    expect(checkName(name)).toBe(problem);
    expect(nameProblemMessage(name)).toBeTruthy();
  });

  test.each([['楚'], ['字'.repeat(NAME_MAX)], ['😀'.repeat(NAME_MAX)], ['a b'], ['Lu Xiaofeng']])('%j is accepted', (name) => {
    expect(checkName(name)).toBeNull();
    expect(nameProblemMessage(name)).toBeNull();
  });

  test('lengths count code points, as Postgres char_length does', () => {
    expect('😀'.length).toBe(2);
    expect(charLength('😀楚')).toBe(2);
  });

  test('each problem has its Chinese sentence', () => {
    expect(nameProblemMessage('')).toBe(zh.nameEmpty);
    expect(nameProblemMessage('字'.repeat(25))).toBe('角色名最多 24 个字');
    expect(nameProblemMessage(' a')).toBe(zh.nameUntrimmed);
    expect(nameProblemMessage('a\u200bb')).toBe(zh.nameInvisibleChars);
  });
});

test.each([
  ['#c0392b', true],
  ['#C0392B', true],
  ['#c0392', false],
  ['#c0392bb', false],
  ['c0392b', false],
  ['#g0392b', false],
  ['red', false],
])('colour %s valid: %s', (color, valid) => {
  expect(checkColor(color)).toBe(valid);
  expect(profileProblem({ name: '楚留香', color }) === null).toBe(valid);
});

test('text rules at the boundaries', () => {
  expect(checkText('')).toBe('empty');
  expect(checkText(' \n\t')).toBe('empty');
  expect(checkText('a')).toBeNull();
  expect(checkText('字'.repeat(TEXT_MAX))).toBeNull();
  expect(checkText('字'.repeat(TEXT_MAX + 1))).toBe('too_long');
  // Characters outside the BMP count once, as Postgres' char_length counts them.
  expect(checkText('😀'.repeat(TEXT_MAX))).toBeNull();
  expect(checkText('😀'.repeat(TEXT_MAX + 1))).toBe('too_long');
});

test('random 江湖 names are always valid, Chinese, and varied', () => {
  const random = seededRandom(42);
  const names = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const name = randomName(random);
    expect(checkName(name)).toBeNull();
    expect(name).toMatch(/^[\u4e00-\u9fff]{2,4}$/);
    names.add(name);
  }
  expect(names.size).toBeGreaterThan(300);
  const profile = randomProfile(random);
  expect(profileProblem(profile)).toBeNull();
  expect(PALETTE).toContain(profile.color);
});

test('the palette has at least 12 distinct valid colours, each readable under white initials (WCAG ≥ 4.5:1)', () => {
  expect(new Set(PALETTE.map((color) => color.toLowerCase())).size).toBe(PALETTE.length);
  expect(PALETTE.length).toBeGreaterThanOrEqual(12);
  for (const color of PALETTE) {
    expect(checkColor(color)).toBe(true);
    expect(contrastWithWhite(color)).toBeGreaterThanOrEqual(4.5);
  }
});

test('the contrast formula matches known values', () => {
  expect(contrastWithWhite('#000000')).toBeCloseTo(21, 5);
  expect(contrastWithWhite('#ffffff')).toBeCloseTo(1, 5);
  // #767676 is the classic lightest grey that passes AA on white.
  expect(contrastWithWhite('#767676')).toBeCloseTo(4.54, 2);
  expect(contrastWithWhite('#777777')).toBeLessThan(4.5);
});

test('client ids are version-4 UUIDs that Postgres accepts, and do not repeat', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 10000; i++) {
    const id = uuidV4();
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    seen.add(id);
  }
  expect(seen.size).toBe(10000);
  // The variant nibble covers all four values.
  const variants = new Set([0, 0.25, 0.5, 0.99].map((r) => uuidV4(() => r)[19]));
  expect([...variants].sort()).toEqual(['8', '9', 'a', 'b']);
});
