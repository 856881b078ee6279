// Loading the mini program's pages in miniprogram-simulate, and a RoomView the test drives by hand.
// Needs a DOM: jest suites use the jsdom environment, scripts call installDom() first.
import path from 'node:path';
import type { ChatMessage, PickedImage, RoomPatch, RoomView } from '../../miniprogram/core/types';

export const MINIPROGRAM_ROOT = path.join(__dirname, '..', '..', 'miniprogram');

/** Gives a plain Node process (tsx scripts) the browser globals simulate renders into. */
export function installDom(): void {
  if (typeof (globalThis as { document?: unknown }).document !== 'undefined') return;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { JSDOM } = require('jsdom') as typeof import('jsdom');
  const dom = new JSDOM('<!doctype html><html><head></head><body></body></html>', { pretendToBeVisual: true });
  const globals = globalThis as unknown as Record<string, unknown>;
  for (const name of ['window', 'document', 'navigator', 'Node', 'HTMLElement', 'Element', 'Event', 'CustomEvent', 'MutationObserver', 'getComputedStyle']) {
    const value = (dom.window as unknown as Record<string, unknown>)[name];
    globals[name] = typeof value === 'function' && name === 'getComputedStyle' ? (value as Function).bind(dom.window) : value;
  }
}

type Simulate = typeof import('miniprogram-simulate');

/**
 * simulate loads a component's code with `require('<dir>/index')`. Node tries the extensions in
 * registration order, so under tsx it finds index.json before index.ts; moving .json to the end
 * makes it find the code. (Jest resolves by its own moduleFileExtensions, ts first.)
 */
function preferCodeOverJson(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const extensions = (require('node:module') as { _extensions: Record<string, unknown> })._extensions;
  const json = extensions['.json'];
  delete extensions['.json'];
  extensions['.json'] = json;
}

export function simulator(): Simulate {
  preferCodeOverJson();
  // Required lazily: simulate touches `window` as it loads, and installs the mocked `wx` global.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('miniprogram-simulate') as Simulate;
}

export type PageWrapper = ReturnType<Simulate['render']>;

/** Registers a page (once per path per module registry) and returns a function that renders it. */
export function loadPage(name: 'room' | 'role'): () => PageWrapper {
  const simulate = simulator();
  const id = simulate.load(path.join(MINIPROGRAM_ROOT, 'pages', name, 'index'), { rootPath: MINIPROGRAM_ROOT });
  return () => {
    const page = simulate.render(id);
    page.attach(document.createElement('parent-wrapper'));
    return page;
  };
}

/** The page's own methods (onLoad, onScroll …), which simulate's typings do not know. */
export function pageInstance<T = Record<string, (...args: any[]) => any>>(page: PageWrapper): T & { data: Record<string, any> } {
  return page.instance as unknown as T & { data: Record<string, any> };
}

/** Text of every element matching the selector, trimmed. */
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

  sendText(text: string): boolean {
    this.calls.push({ intent: 'sendText', argument: text });
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

  intents(name: string): unknown[] {
    return this.calls.filter((call) => call.intent === name).map((call) => call.argument);
  }
}

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
