// Loading the mini program's pages in miniprogram-simulate, and a RoomView the test drives by hand.
// Needs a DOM: jest suites use the jsdom environment, scripts call installDom() first.
import nodeModule from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import type { ChatMessage, PickedImage, ReportReason, RoomPatch, RoomView, Voice } from '../../miniprogram/core/types';

export const MINIPROGRAM_ROOT = path.join(__dirname, '..', '..', 'miniprogram');

/**
 * Gives a plain Node process (tsx scripts) the browser globals simulate renders into. Returns what
 * puts the process back as it was: with `window` and `document` present, libraries such as
 * supabase-js take the process for a browser.
 */
export function installDom(): () => void {
  if (typeof (globalThis as { document?: unknown }).document !== 'undefined') return () => undefined;
  // biome-ignore lint/style/noCommonJs: loaded only when there is no DOM yet (jest's jsdom environment brings its own)
  const { JSDOM } = require('jsdom') as typeof import('jsdom');
  const dom = new JSDOM('<!doctype html><html><head></head><body></body></html>', { pretendToBeVisual: true });
  const names = [
    'window',
    'document',
    'navigator',
    'Node',
    'HTMLElement',
    'Element',
    'Event',
    'CustomEvent',
    'MutationObserver',
    'getComputedStyle',
  ];
  const before = names.map((name) => Object.getOwnPropertyDescriptor(globalThis, name));
  const globals = globalThis as unknown as Record<string, unknown>;
  for (const name of names) {
    const value = (dom.window as unknown as Record<string, unknown>)[name];
    globals[name] = typeof value === 'function' && name === 'getComputedStyle' ? (value as CallableFunction).bind(dom.window) : value;
  }
  return () => {
    names.forEach((name, i) => {
      const descriptor = before[i];
      if (descriptor) Object.defineProperty(globalThis, name, descriptor);
      else delete globals[name];
    });
    dom.window.close();
  };
}

type Simulate = typeof import('miniprogram-simulate');

/**
 * simulate loads a component's code with `require('<dir>/index')`. Node tries the extensions in
 * registration order, so under tsx it finds index.json before index.ts; moving .json to the end
 * makes it find the code. (Jest resolves by its own moduleFileExtensions, ts first.)
 */
function preferCodeOverJson(): void {
  const extensions = (nodeModule as unknown as { _extensions: Record<string, unknown> })._extensions;
  const json = extensions['.json'];
  delete extensions['.json'];
  extensions['.json'] = json;
}

export function simulator(): Simulate {
  preferCodeOverJson();
  // biome-ignore lint/style/noCommonJs: required lazily, because simulate touches `window` as it loads and installs the mocked `wx` global
  const simulate = require('miniprogram-simulate') as Simulate;
  replayDefinitions();
  return simulate;
}

interface SimulateUtils {
  runJs(file: string): void;
  replaying?: boolean;
}

/**
 * simulate runs a component's code with require() and then deletes it from require.cache, so that
 * the next load of that component (a second page using it) runs its Component() call again. Jest's
 * module registry ignores require.cache: the second load would register the component without its
 * definition (no data, no methods, no lifetimes). The definition each file gives Component() the
 * first time is kept and handed to Component() again on later loads.
 */
function replayDefinitions(): void {
  // biome-ignore lint/style/noCommonJs: simulate's own module, whose runJs its loader reads at each load
  const utils = require('miniprogram-simulate/src/utils') as SimulateUtils;
  if (utils.replaying) return;
  utils.replaying = true;
  const definitions = new Map<string, unknown>();
  const run = utils.runJs;
  const holder = globalThis as unknown as { Component: (definition: unknown) => unknown };
  utils.runJs = (file) => {
    const known = definitions.get(file);
    if (known) {
      holder.Component(known);
      return;
    }
    const register = holder.Component;
    holder.Component = (definition) => {
      definitions.set(file, definition);
      return register(definition);
    };
    try {
      run(file);
    } finally {
      holder.Component = register;
    }
  };
}

export type PageWrapper = ReturnType<Simulate['render']>;

/** Registers a page (once per path per module registry) and returns a function that renders it. */
export function loadPage(
  name: 'room' | 'role' | 'scenes' | 'characters' | 'scene-settings' | 'privacy' | 'manage' | 'blocked',
): () => PageWrapper {
  return loadFolder(path.join('pages', name));
}

/** The same for a component on its own (`folder` under miniprogram/components). */
export function loadComponent(name: string): () => PageWrapper {
  return loadFolder(path.join('components', name));
}

function loadFolder(folder: string): () => PageWrapper {
  const simulate = simulator();
  const id = simulate.load(path.join(MINIPROGRAM_ROOT, folder, 'index'), { rootPath: MINIPROGRAM_ROOT });
  return () => {
    const page = simulate.render(id);
    page.attach(document.createElement('parent-wrapper'));
    return page;
  };
}

// biome-ignore lint/suspicious/noExplicitAny: simulate's typings do not know a page's own methods and data, which tests use freely
type Untyped = any;

/** The page's own methods (onLoad, onScroll …), which simulate's typings do not know. */
export function pageInstance<T = Record<string, (...args: Untyped[]) => Untyped>>(
  page: PageWrapper,
): T & { data: Record<string, Untyped> } {
  return page.instance as unknown as T & { data: Record<string, Untyped> };
}

/**
 * A component's data minus its properties: what WeChat sends to the view when it creates the
 * component (the property values arrive in the parent's setData, counted there). The property names
 * come from the component's definition, which j-component keeps on its exparser node.
 */
export function componentOwnData(component: PageWrapper): Record<string, unknown> {
  const node = (component.instance as unknown as { _exparserNode: { __behavior: { properties: object } } })._exparserNode;
  const properties = new Set(Object.keys(node.__behavior.properties));
  return Object.fromEntries(Object.entries(component.data as object).filter(([key]) => !properties.has(key)));
}

/** The message-table ids a page's or component's WXML shows (`{{t.someId}}`), sorted. */
export function textIdsShownBy(folder: string): string[] {
  const wxml = fs.readFileSync(path.join(MINIPROGRAM_ROOT, folder, 'index.wxml'), 'utf8');
  return [...new Set(Array.from(wxml.matchAll(/\bt\.(\w+)/g), (match) => match[1]))].sort();
}

/** Records the page's setData calls from now on (each call's data, as the view receives it). */
export function recordSetData(page: PageWrapper): Array<Record<string, unknown>> {
  const calls: Array<Record<string, unknown>> = [];
  const instance = page.instance as unknown as { setData: (data: Record<string, unknown>, callback?: () => void) => void };
  const original = instance.setData.bind(instance);
  instance.setData = (data, callback) => {
    calls.push(data);
    original(data, callback);
  };
  return calls;
}

/** Text of every element matching the selector, trimmed. */
/**
 * Answers every wx.showActionSheet by tapping the item with the given label (the next label for
 * the next sheet); `offered` lists what each sheet showed.
 */
export function chooseFromSheet(...labels: string[]) {
  const lists: string[][] = [];
  const spy = jest.spyOn(wx, 'showActionSheet').mockImplementation((options: WechatMiniprogram.ShowActionSheetOption) => {
    lists.push(options.itemList);
    const tapIndex = options.itemList.indexOf(labels[lists.length - 1]);
    if (tapIndex < 0) options.fail?.({ errMsg: 'showActionSheet:fail cancel' });
    else options.success?.({ tapIndex, errMsg: 'showActionSheet:ok' });
  });
  return { offered: () => lists, restore: () => spy.mockRestore() };
}

export function texts(page: PageWrapper, selector: string): string[] {
  return page.querySelectorAll(selector).map((element) => (element.dom?.textContent ?? '').trim());
}

/** A RoomView whose patches the test emits and whose intents it records. */
export class FakeRoom implements RoomView {
  readonly calls: Array<{ intent: string; argument?: unknown }> = [];
  private listeners: Array<(patch: RoomPatch) => void> = [];
  /** What loadOlder does: by default it emits nothing and answers false. */
  onLoadOlder: () => Promise<boolean> = async () => false;
  /** What sends answer: false plays the core refusing one (the outbox full, say). */
  accepts = true;

  emit(patch: RoomPatch): void {
    for (const listener of this.listeners.slice()) listener(patch);
  }

  onPatch(listener: (patch: RoomPatch) => void): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((other) => other !== listener);
    };
  }

  async start(): Promise<void> {
    this.calls.push({ intent: 'start' });
  }

  stop(): void {
    this.calls.push({ intent: 'stop' });
  }

  loadOlder(): Promise<boolean> {
    this.calls.push({ intent: 'loadOlder' });
    return this.onLoadOlder();
  }

  sendText(text: string, options?: { voice?: Voice; replyTo?: number | null }): boolean {
    this.calls.push({ intent: 'sendText', argument: { text, voice: options?.voice ?? 'text', replyTo: options?.replyTo ?? null } });
    return this.accepts;
  }

  sendImage(image: PickedImage): boolean {
    this.calls.push({ intent: 'sendImage', argument: image });
    return this.accepts;
  }

  retry(key: string): void {
    this.calls.push({ intent: 'retry', argument: key });
  }

  reconnect(): void {
    this.calls.push({ intent: 'reconnect' });
  }

  /** What recall and report answer (an error sentence, or null for done). */
  actionAnswer: string | null = null;

  async recall(key: string): Promise<string | null> {
    this.calls.push({ intent: 'recall', argument: key });
    return this.actionAnswer;
  }

  async report(key: string, reason: ReportReason): Promise<string | null> {
    this.calls.push({ intent: 'report', argument: { key, reason } });
    return this.actionAnswer;
  }

  forgetAuthor(userId: string): void {
    this.calls.push({ intent: 'forgetAuthor', argument: userId });
  }

  async loadUntil(id: number): Promise<boolean> {
    this.calls.push({ intent: 'loadUntil', argument: id });
    return true;
  }

  markRead(): void {
    this.calls.push({ intent: 'markRead' });
  }

  async pin(key: string | null): Promise<string | null> {
    this.calls.push({ intent: 'pin', argument: key });
    return this.actionAnswer;
  }

  intents(name: string): unknown[] {
    return this.calls.filter((call) => call.intent === name).map((call) => call.argument);
  }
}

const die = (faces: number, dice: number[]) => ({ sign: 1 as const, count: dice.length, faces, dice });

/**
 * What someone else may send, one of each kind: 动作, 场外, a roll with a modifier, a check, a hidden
 * roll, an image and a reply (the fields over chatMessage's 对白 of 令狐冲).
 */
export const EVERY_KIND: Array<Partial<ChatMessage>> = [
  { kind: 'action', body: '拔剑而起，剑尖斜指，衣袂在夜风里猎猎作响，一步步逼近船舱' },
  { kind: 'ooc', body: '我十点前得下线，先跟着大家走，有事私聊' },
  { kind: 'roll', body: '4d6+2', roll: { expression: '4d6+2', terms: [die(6, [6, 3, 5, 1]), { sign: 1, value: 2 }], total: 17 } },
  {
    kind: 'roll',
    body: 'd100<=60',
    roll: { expression: 'd100<=60', terms: [die(100, [97])], total: 97, check: { op: '<=', target: 60, outcome: 'critical_failure' } },
  },
  { kind: 'roll', body: 'd100', hidden: true, roll: null },
  {
    kind: 'image',
    body: null,
    imageUrl:
      'https://abcdefghijklmnopqrst.supabase.co/storage/v1/object/public/images/5b1f7a2c-0d3e-4f56-8a9b-000000000001/2026-11/7f3c2a10-4b1d-4e8a-9c3b-000000000001.jpg',
    imageWidth: 1280,
    imageHeight: 960,
  },
  {
    replyTo: 5,
    replyPreview: { username: '任盈盈', text: '今夜月色正好，诸位不妨移步后山，共饮一杯，再论剑法高低。', kind: 'text', status: 'visible' },
  },
];

const BASE_TIME = Date.parse('2026-11-20T12:00:00+08:00');

/** A sent text message from someone else, `n` minutes after a fixed base time; override any field. */
export function chatMessage(n: number, overrides: Partial<ChatMessage> = {}): ChatMessage {
  return {
    key: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    id: n,
    userId: 'user-other',
    username: '令狐冲',
    avatarColor: '#1f618d',
    kind: 'text',
    body: `第 ${n} 条消息`,
    imageUrl: null,
    imageWidth: null,
    imageHeight: null,
    createdAt: new Date(BASE_TIME + n * 60_000).toISOString(),
    status: 'sent',
    state: 'visible',
    label: null,
    characterId: null,
    roll: null,
    hidden: false,
    replyTo: null,
    replyPreview: null,
    mine: false,
    ...overrides,
  };
}

export function imageMessage(n: number, width: number, height: number, overrides: Partial<ChatMessage> = {}): ChatMessage {
  return chatMessage(n, {
    kind: 'image',
    body: null,
    imageUrl: `https://example.test/images/${n}.png`,
    imageWidth: width,
    imageHeight: height,
    ...overrides,
  });
}
