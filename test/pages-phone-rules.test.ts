// Rules a page must keep to be usable on a phone, checked on the WXML and WXSS themselves so that
// a page or component added later is held to them too:
// - every tap target is at least 88 rpx (44 pt) in both directions, declared in its WXSS;
// - no text is smaller than 24 rpx (12 pt);
// - a long-press handler and selectable text never share an element: on iOS the system's text
//   selection menu and the app's long-press action would both fire.
import fs from 'node:fs';
import path from 'node:path';
import { MINIPROGRAM_ROOT } from './support/simulate';

const MIN_TARGET_RPX = 88;
const MIN_TEXT_RPX = 24;
/** miniprogram-simulate parses WXML with j-component's parser; so does this test. */
// biome-ignore lint/style/noCommonJs: j-component ships no ES module or typings for its parser
const parseWxml = require('j-component/src/template/parse') as (
  wxml: string,
  handler: {
    start(tag: string, attrs: Array<{ name: string; value: string | true }>, unary: boolean): void;
    end(tag: string): void;
  },
) => void;

interface Element {
  tag: string;
  attributes: Map<string, string | true>;
  /** The classes always present (parts inside {{ }} are conditional and left out). */
  classes: string[];
  children: Element[];
}

interface Rule {
  /** Classes of the selector's last compound (`.mine .bubble` → ['bubble']). */
  classes: string[];
  declarations: Map<string, string>;
}

/** The pages and components, each a folder with index.wxml and index.wxss. */
const folders = ['pages', 'components'].flatMap((kind) =>
  fs.readdirSync(path.join(MINIPROGRAM_ROOT, kind)).map((name) => `${kind}/${name}`),
);

function readTree(folder: string): Element {
  const root: Element = { tag: 'root', attributes: new Map(), classes: [], children: [] };
  const stack = [root];
  parseWxml(fs.readFileSync(path.join(MINIPROGRAM_ROOT, folder, 'index.wxml'), 'utf8'), {
    start(tag, attrs, unary) {
      const attributes = new Map(attrs.map(({ name, value }) => [name, value]));
      const classes = String(attributes.get('class') ?? '')
        .replace(/\{\{.*?\}\}/g, ' ')
        .split(/\s+/)
        .filter(Boolean);
      const element = { tag, attributes, classes, children: [] };
      stack[stack.length - 1].children.push(element);
      if (!unary) stack.push(element);
    },
    end() {
      stack.pop();
    },
  });
  return root;
}

function* walk(element: Element): Generator<Element> {
  yield element;
  for (const child of element.children) yield* walk(child);
}

function readRules(file: string): Rule[] {
  const css = fs.readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
  const rules: Rule[] = [];
  // Innermost blocks only: a rule inside @media is read like any other.
  for (const [, selectors, body] of css.matchAll(/([^{}]+)\{([^{}]*)\}/g)) {
    const declarations = new Map(
      body
        .split(';')
        .map((line) => line.split(':'))
        .filter((pair) => pair.length >= 2)
        .map(([name, ...value]) => [name.trim(), value.join(':').trim()]),
    );
    for (const selector of selectors.split(',')) {
      const last = selector.trim().split(/\s+/).pop()!;
      rules.push({ classes: Array.from(last.matchAll(/\.([\w-]+)/g), (match) => match[1]), declarations });
    }
  }
  return rules;
}

function rulesFor(element: Element, rules: Rule[]): Rule[] {
  return rules.filter((rule) => rule.classes.length > 0 && rule.classes.every((name) => element.classes.includes(name)));
}

/** A length in rpx (px count double on a 375-wide screen); null for anything else. */
function rpx(value: string): number | null {
  const match = /^(-?[\d.]+)(rpx|px)$/.exec(value);
  if (!match) return null;
  return Number(match[1]) * (match[2] === 'px' ? 2 : 1);
}

const TAP = /^(bind|catch|capture-bind|capture-catch):?(tap|longpress|longtap)$/;
const LONG_PRESS = /^(bind|catch|capture-bind|capture-catch):?(longpress|longtap)$/;

function isTapTarget(element: Element): boolean {
  // A scroll-view's tap (closing the keyboard) is a tap anywhere on the list, which fills the screen.
  if (element.tag === 'scroll-view') return false;
  return ['button', 'input', 'textarea'].includes(element.tag) || [...element.attributes.keys()].some((name) => TAP.test(name));
}

/**
 * Why the element's size along one axis may be under the minimum, or null when its WXSS declares
 * `min-<axis>` or `<axis>` of at least the minimum (or 100% of its parent) and nothing smaller.
 */
function sizeProblem(rules: Rule[], axis: 'width' | 'height'): string | null {
  const values = (name: string) => rules.flatMap((rule) => (rule.declarations.has(name) ? [rule.declarations.get(name)!] : []));
  const small = [...values(axis), ...values(`max-${axis}`)].filter((value) => (rpx(value) ?? Infinity) < MIN_TARGET_RPX);
  if (small.length > 0) return `${axis} ${small.join(', ')}`;
  const enough = [...values(axis), ...values(`min-${axis}`)].some((value) => value === '100%' || (rpx(value) ?? 0) >= MIN_TARGET_RPX);
  return enough ? null : `no ${axis} or min-${axis} of at least ${MIN_TARGET_RPX}rpx`;
}

test.each(folders)('%s: every tap target is at least 88 rpx each way', (folder) => {
  const rules = readRules(path.join(MINIPROGRAM_ROOT, folder, 'index.wxss'));
  const problems: string[] = [];
  const targets = [...walk(readTree(folder))].filter(isTapTarget);
  for (const element of targets) {
    const matching = rulesFor(element, rules);
    for (const axis of ['width', 'height'] as const) {
      const problem = sizeProblem(matching, axis);
      if (problem) problems.push(`<${element.tag} class="${element.classes.join(' ')}">: ${problem}`);
    }
  }
  expect(problems).toEqual([]);
});

test.each(folders)('%s: no text under 24 rpx', (folder) => {
  const problems: string[] = [];
  for (const rule of readRules(path.join(MINIPROGRAM_ROOT, folder, 'index.wxss'))) {
    const size = rule.declarations.get('font-size');
    if (size !== undefined && !((rpx(size) ?? 0) >= MIN_TEXT_RPX)) problems.push(`.${rule.classes.join('.')} { font-size: ${size} }`);
  }
  // A size computed in the template cannot be checked here, so inline styles may not set one.
  for (const element of walk(readTree(folder))) {
    const style = String(element.attributes.get('style') ?? '');
    if (/font-size/.test(style)) problems.push(`<${element.tag} style="${style}">`);
  }
  expect(problems).toEqual([]);
});

test.each(folders)('%s: long-press and selectable text never share an element', (folder) => {
  const problems: string[] = [];
  for (const element of walk(readTree(folder))) {
    if (![...element.attributes.keys()].some((name) => LONG_PRESS.test(name))) continue;
    for (const inside of walk(element)) {
      const selectable = ['user-select', 'selectable'].filter((name) => inside.attributes.has(name));
      if (selectable.length > 0) problems.push(`<${inside.tag} ${selectable.join(' ')}> inside a long-press target`);
    }
  }
  expect(problems).toEqual([]);
});

test('the rules see every tap target and text size of the pages (the scan is not empty)', () => {
  const targets = folders.flatMap((folder) => [...walk(readTree(folder))].filter(isTapTarget));
  expect(targets.length).toBeGreaterThanOrEqual(15);
  const sizes = folders.flatMap((folder) =>
    readRules(path.join(MINIPROGRAM_ROOT, folder, 'index.wxss')).filter((rule) => rule.declarations.has('font-size')),
  );
  expect(sizes.length).toBeGreaterThanOrEqual(15);
});
