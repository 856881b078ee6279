// Who is typing: the throttle on the typist's side, the expiry and the arrival of a message on the
// reader's side, over a broadcast channel that two Typing instances share as two phones would.
import { SIGNAL_INTERVAL_MS, SILENCE_MS, Typing, typingText, type TypingPort, type TypingSignal } from '../miniprogram/core/typing';
import { ManualClock } from './support/core-fakes';

/** One scene's broadcast: every signal reaches every other member (Realtime's broadcast without self). */
class FakeBroadcast implements TypingPort {
  readonly sent: TypingSignal[] = [];
  private members: Array<{ scene: number; heard: (signal: TypingSignal) => void }> = [];

  join(scene: number, heard: (signal: TypingSignal) => void) {
    const member = { scene, heard };
    this.members.push(member);
    return {
      send: (signal: TypingSignal) => {
        this.sent.push(signal);
        for (const other of this.members) if (other !== member && other.scene === scene) other.heard(signal);
      },
      stop: () => {
        this.members = this.members.filter((other) => other !== member);
      },
    };
  }

  /** A signal from a person who is not in this test, or a malformed one. */
  inject(scene: number, signal: unknown): void {
    for (const member of this.members) if (member.scene === scene) member.heard(signal as TypingSignal);
  }
}

let clock: ManualClock;
let broadcast: FakeBroadcast;

beforeEach(() => {
  clock = new ManualClock();
  broadcast = new FakeBroadcast();
});

function phone(userId: string, scene = 1) {
  const lines: string[] = [];
  const typing = new Typing(
    broadcast,
    scene,
    () => userId,
    (text) => lines.push(text),
    clock,
  );
  return { typing, lines, shown: () => lines[lines.length - 1] ?? '' };
}

test('typing fast sends one signal per 2 s; the line after sending signals at once', async () => {
  const a = phone('a');
  for (let i = 0; i < 25; i++) {
    a.typing.typed('楚留香');
    await clock.advance(200);
  }
  // 5 s of typing: at 0, 2 s and 4 s.
  expect(broadcast.sent).toHaveLength(Math.ceil((25 * 200) / SIGNAL_INTERVAL_MS));
  a.typing.sent();
  a.typing.typed('楚留香');
  expect(broadcast.sent).toHaveLength(4);
});

test('a reader shows the name until 5 s of silence, or until that person speaks', async () => {
  const a = phone('a');
  const b = phone('b');
  a.typing.typed('楚留香');
  expect(b.shown()).toBe('楚留香 正在输入…');
  expect(a.lines).toEqual([]);
  await clock.advance(SILENCE_MS - 1);
  expect(b.shown()).toBe('楚留香 正在输入…');
  await clock.advance(1);
  expect(b.shown()).toBe('');

  a.typing.typed('楚留香');
  expect(b.shown()).toBe('楚留香 正在输入…');
  b.typing.spoke('a');
  expect(b.shown()).toBe('');
  // Its old expiry was cancelled: a new signal is not cut short by it.
  await clock.advance(SIGNAL_INTERVAL_MS);
  a.typing.typed('楚留香');
  await clock.advance(SILENCE_MS - SIGNAL_INTERVAL_MS);
  expect(b.shown()).toBe('楚留香 正在输入…');
});

test('one entry per person, whatever their devices; a new name replaces the old one', () => {
  const reader = phone('reader');
  const laptop = phone('a');
  const mobile = phone('a');
  laptop.typing.typed('楚留香');
  mobile.typing.typed('香帅');
  expect(reader.shown()).toBe('香帅 正在输入…');
  // Their own other device never shows them as typing.
  expect(laptop.lines).toEqual([]);
});

test('two names, then the first and a count; other scenes and malformed signals are not heard', () => {
  const reader = phone('reader');
  phone('elsewhere', 2).typing.typed('陆小凤');
  broadcast.inject(1, null);
  broadcast.inject(1, { userId: 'x' });
  broadcast.inject(1, { userId: 'x', name: '' });
  expect(reader.lines).toEqual([]);
  phone('a').typing.typed('楚留香');
  phone('b').typing.typed('任盈盈');
  expect(reader.shown()).toBe('楚留香、任盈盈 正在输入…');
  phone('c').typing.typed('令狐冲');
  expect(reader.shown()).toBe('楚留香 等 3 人正在输入…');
  expect(typingText([])).toBe('');
});

test('a reader that left hears nothing and keeps no timers', async () => {
  const reader = phone('reader');
  phone('a').typing.typed('楚留香');
  reader.typing.stop();
  expect(clock.pending()).toEqual([]);
  phone('b').typing.typed('任盈盈');
  await clock.advance(SILENCE_MS);
  expect(reader.lines).toEqual(['楚留香 正在输入…']);
});
