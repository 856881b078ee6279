// "楚留香 正在输入…": who in the scene is typing, over a Realtime broadcast channel of the scene.
// Nothing is stored. A typist sends at most one signal per SIGNAL_INTERVAL_MS however fast they
// type; a reader drops a name SILENCE_MS after its last signal, or at once when that person's
// message arrives.
import { t } from './strings';
import { systemClock, type Clock, type TimerHandle } from './ports';

export const SIGNAL_INTERVAL_MS = 2000;
export const SILENCE_MS = 5000;

/** What one signal carries: the person (one entry however many devices) and the name they type as. */
export interface TypingSignal {
  userId: string;
  name: string;
}

export interface TypingChannel {
  /** Best effort: a signal lost on the way only shortens how long the name shows. */
  send(signal: TypingSignal): void;
  stop(): void;
}

/** The scene's broadcast channel under the backend. */
export interface TypingPort {
  join(sceneId: number, heard: (signal: TypingSignal) => void): TypingChannel;
}

/** The line under the list: one or two names, or the first name and how many in all. */
export function typingText(names: string[]): string {
  if (names.length === 0) return '';
  if (names.length <= 2) return t('typing', { names: names.join('、') });
  return t('typingMany', { name: names[0], count: names.length });
}

export class Typing {
  private readonly channel: TypingChannel;
  private readonly typists = new Map<string, { name: string; expires: TimerHandle }>();
  private lastSent = -Infinity;
  private text = '';

  constructor(
    port: TypingPort,
    sceneId: number,
    /** This person: their own signals (from another device) are not shown. */
    private readonly me: () => string | null,
    private readonly changed: (text: string) => void,
    private readonly clock: Clock = systemClock,
  ) {
    this.channel = port.join(sceneId, (signal) => this.heard(signal));
  }

  /** The reader typed (the draft changed and is not empty). */
  typed(name: string): void {
    const userId = this.me();
    const now = this.clock.now();
    if (!userId || now - this.lastSent < SIGNAL_INTERVAL_MS) return;
    this.lastSent = now;
    this.channel.send({ userId, name });
  }

  /** The reader sent their line: the next keystroke signals again at once. */
  sent(): void {
    this.lastSent = -Infinity;
  }

  /** A message from this person arrived: they are done typing it. */
  spoke(userId: string): void {
    if (this.forget(userId)) this.update();
  }

  stop(): void {
    this.channel.stop();
    for (const userId of [...this.typists.keys()]) this.forget(userId);
  }

  private heard(signal: TypingSignal): void {
    if (!signal || typeof signal.userId !== 'string' || typeof signal.name !== 'string' || !signal.name) return;
    if (signal.userId === this.me()) return;
    this.forget(signal.userId);
    const expires = this.clock.setTimeout(() => this.spoke(signal.userId), SILENCE_MS);
    this.typists.set(signal.userId, { name: signal.name, expires });
    this.update();
  }

  private forget(userId: string): boolean {
    const typist = this.typists.get(userId);
    if (!typist) return false;
    this.clock.clearTimeout(typist.expires);
    this.typists.delete(userId);
    return true;
  }

  private update(): void {
    const text = typingText([...this.typists.values()].map((typist) => typist.name));
    if (text === this.text) return;
    this.text = text;
    this.changed(text);
  }
}
