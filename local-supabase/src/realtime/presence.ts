// Phoenix Presence for one server: per topic, what each joined channel tracks under its key.
// Several channels may track the same key (one user, two tabs): each is one meta of that key.
import { randomBytes } from 'node:crypto';

export type Meta = Record<string, unknown> & { phx_ref: string; phx_ref_prev?: string };
export type PresenceState = Record<string, { metas: Meta[] }>;
export interface PresenceDiff {
  joins: PresenceState;
  leaves: PresenceState;
}

interface Entry {
  key: string;
  payload: string;
  meta: Meta;
}

const newRef = () => randomBytes(9).toString('base64url');

function single(key: string, meta: Meta): PresenceState {
  return { [key]: { metas: [meta] } };
}

export class Presence<Member> {
  private readonly topics = new Map<string, Map<Member, Entry>>();

  state(topic: string): PresenceState {
    // No prototype: a presence key is client-chosen, and "__proto__" must be just another key.
    const state: PresenceState = Object.create(null);
    for (const { key, meta } of this.topics.get(topic)?.values() ?? []) {
      state[key] ??= { metas: [] };
      state[key].metas.push(meta);
    }
    return state;
  }

  /** Returns the diff to broadcast, or undefined when nothing changed (an identical re-track). */
  track(topic: string, member: Member, key: string, payload: Record<string, unknown>): PresenceDiff | undefined {
    const members = this.topics.get(topic) ?? new Map<Member, Entry>();
    this.topics.set(topic, members);
    const previous = members.get(member);
    const serialized = JSON.stringify(payload);
    if (previous && previous.key === key && previous.payload === serialized) return undefined;
    const meta: Meta = { ...payload, phx_ref: newRef() };
    if (previous && previous.key === key) meta.phx_ref_prev = previous.meta.phx_ref;
    members.set(member, { key, payload: serialized, meta });
    return { joins: single(key, meta), leaves: previous ? single(previous.key, previous.meta) : {} };
  }

  untrack(topic: string, member: Member): PresenceDiff | undefined {
    const members = this.topics.get(topic);
    const previous = members?.get(member);
    if (!members || !previous) return undefined;
    members.delete(member);
    if (members.size === 0) this.topics.delete(topic);
    return { joins: {}, leaves: single(previous.key, previous.meta) };
  }
}
