// Phoenix channel framing. vsn 1.0.0: one JSON object per text frame. vsn 2.0.0: one JSON array
// [join_ref, ref, topic, event, payload] per text frame, plus binary user broadcasts (kind 3 from
// the client, kind 4 to the client).
import { MAX_REENCODED_DEPTH, nestingDepth } from '../http';

export type Vsn = '1.0.0' | '2.0.0';
export const VSNS: readonly Vsn[] = ['1.0.0', '2.0.0'];

export interface Message {
  joinRef: string | null;
  ref: string | null;
  topic: string;
  event: string;
  payload: unknown;
}

/** A user broadcast's content: JSON, or raw bytes (vsn 2 binary encoding). */
export type BroadcastBody = { json: unknown } | { bytes: Buffer };

export class FrameError extends Error {}

const USER_BROADCAST_PUSH = 3;
const USER_BROADCAST = 4;
const BINARY_ENCODING = 0;
const JSON_ENCODING = 1;

const refOrNull = (v: unknown): string | null => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null);

export function decodeFrame(data: Buffer, isBinary: boolean, vsn: Vsn): Message {
  if (isBinary) {
    if (vsn !== '2.0.0') throw new FrameError('binary frames need vsn 2.0.0');
    return decodeUserBroadcastPush(data);
  }
  const text = data.toString('utf8');
  checkDepth(text);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new FrameError('frame is not JSON');
  }
  let fields: unknown[];
  if (vsn === '2.0.0') {
    if (!Array.isArray(parsed) || parsed.length !== 5) throw new FrameError('expected [join_ref, ref, topic, event, payload]');
    fields = parsed;
  } else {
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new FrameError('expected a JSON object');
    const m = parsed as Record<string, unknown>;
    fields = [m.join_ref, m.ref, m.topic, m.event, m.payload];
  }
  const [joinRef, ref, topic, event, payload] = fields;
  if (typeof topic !== 'string' || typeof event !== 'string') throw new FrameError('topic and event must be strings');
  return { joinRef: refOrNull(joinRef), ref: refOrNull(ref), topic, event, payload: payload ?? {} };
}

/** Payloads are encoded again for every subscriber: nesting JSON.stringify cannot take is refused here. */
function checkDepth(text: string): void {
  if (nestingDepth(text) > MAX_REENCODED_DEPTH) throw new FrameError(`frame nests deeper than ${MAX_REENCODED_DEPTH} levels`);
}

function decodeUserBroadcastPush(data: Buffer): Message {
  const HEADER = 7;
  if (data.length < HEADER || data[0] !== USER_BROADCAST_PUSH) throw new FrameError('unknown binary frame kind');
  const lengths = [data[1], data[2], data[3], data[4], data[5]];
  const encoding = data[6];
  let offset = HEADER;
  // The metadata (5th field) is always empty: realtime-js allows no metadata keys.
  const [joinRef, ref, topic, event] = lengths.map((length) => {
    if (offset + length > data.length) throw new FrameError('truncated binary frame');
    const s = data.toString('utf8', offset, offset + length);
    offset += length;
    return s;
  });
  const body = data.subarray(offset);
  let content: BroadcastBody;
  if (encoding === JSON_ENCODING) {
    const text = body.toString('utf8');
    checkDepth(text);
    try {
      content = { json: JSON.parse(text) };
    } catch {
      throw new FrameError('broadcast payload is not JSON');
    }
  } else if (encoding === BINARY_ENCODING) content = { bytes: Buffer.from(body) };
  else throw new FrameError('unknown broadcast payload encoding');
  const payload = new UserBroadcast(event, content);
  return { joinRef: joinRef || null, ref: ref || null, topic, event: 'broadcast', payload };
}

/**
 * What a binary kind-3 frame decodes to; JSON broadcasts carry `{type, event, payload}` instead. A
 * class, so that no JSON frame can pass for one (JSON.parse never makes an instance).
 */
export class UserBroadcast {
  readonly type = 'broadcast';
  constructor(
    readonly event: string,
    readonly content: BroadcastBody,
  ) {}
}

export function isUserBroadcast(payload: unknown): payload is UserBroadcast {
  return payload instanceof UserBroadcast;
}

export function encodeMessage(vsn: Vsn, m: Message): string {
  if (vsn === '2.0.0') return JSON.stringify([m.joinRef, m.ref, m.topic, m.event, m.payload]);
  return JSON.stringify({ join_ref: m.joinRef, ref: m.ref, topic: m.topic, event: m.event, payload: m.payload });
}

/**
 * encodeMessage's text for any topic, the rest encoded once: a change sent to many channels costs
 * one encoding of its payload, not one per channel. The payload must be JSON (not undefined).
 */
export function encodeForTopics(vsn: Vsn, m: Omit<Message, 'topic'>): (topic: string) => string {
  const json = JSON.stringify;
  const [head, tail] =
    vsn === '2.0.0'
      ? [`[${json(m.joinRef)},${json(m.ref)},`, `,${json(m.event)},${json(m.payload)}]`]
      : [`{"join_ref":${json(m.joinRef)},"ref":${json(m.ref)},"topic":`, `,"event":${json(m.event)},"payload":${json(m.payload)}}`];
  return (topic) => head + json(topic) + tail;
}

/**
 * A broadcast as a subscriber of `vsn` receives it: binary kind 4 for vsn 2 (what Supabase sends),
 * the JSON `broadcast` message otherwise. Raw bytes cannot be expressed in vsn 1: undefined.
 */
export function encodeBroadcast(vsn: Vsn, topic: string, event: string, content: BroadcastBody): string | Buffer | undefined {
  const bytes = 'bytes' in content ? content.bytes : Buffer.from(JSON.stringify(content.json));
  const topicBytes = Buffer.from(topic);
  const eventBytes = Buffer.from(event);
  if (vsn === '2.0.0' && topicBytes.length <= 255 && eventBytes.length <= 255) {
    const header = Buffer.from([
      USER_BROADCAST,
      topicBytes.length,
      eventBytes.length,
      0,
      'bytes' in content ? BINARY_ENCODING : JSON_ENCODING,
    ]);
    return Buffer.concat([header, topicBytes, eventBytes, bytes]);
  }
  if ('bytes' in content) return undefined;
  return encodeMessage(vsn, {
    joinRef: null,
    ref: null,
    topic,
    event: 'broadcast',
    payload: { type: 'broadcast', event, payload: content.json },
  });
}
