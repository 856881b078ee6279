// Who is in which scene now, for the whole app over one Realtime presence channel (topic
// `presence:scenes`). Each person joins under their user id as the presence key, so all their
// devices and sockets make one entry, and a device in a scene tracks {scene_id, name, color}: the
// character it speaks as. A scene's count is the number of distinct keys with a meta in it.
// Presence is never stored: a closed socket leaves.
import { Retry } from './backoff';
import { systemClock, type ChannelStatus, type Clock } from './ports';

export const PRESENCE_TOPIC = 'presence:scenes';

export interface PresenceMeta {
  scene_id: number;
  /** The character this device speaks as (absent from metas tracked before characters existed). */
  name?: string;
  color?: string;
}

/** One person in a scene, as the header's list shows them. */
export interface PresentPerson {
  key: string;
  name: string;
  color: string;
}

/** Presence key (a user id) → one meta per device or socket tracking under it. */
export type PresenceState = Record<string, PresenceMeta[]>;

export interface PresenceChannel {
  /** Replaces this socket's meta; rejects when the server did not take it. */
  track(meta: PresenceMeta): Promise<void>;
  untrack(): Promise<void>;
}

/** The channel under the backend. Every method rejects with a BackendFailure. */
export interface PresencePort {
  userId(): Promise<string>;
  /**
   * Joins PRESENCE_TOPIC under `key`. `sync` gets the whole state after every change; `status`
   * fires on every (re)join, error and close: what was tracked is gone after a rejoin.
   */
  join(key: string, sync: (state: PresenceState) => void, status: (status: ChannelStatus) => void): PresenceChannel;
}

export type PresenceCounts = ReadonlyMap<number, number>;

/** People per scene: each key counts once in every scene it has a meta in. */
export function countPeople(state: PresenceState): Map<number, number> {
  const counts = new Map<number, number>();
  for (const key of Object.keys(state)) {
    const scenes = new Set(state[key].map((meta) => meta.scene_id));
    scenes.forEach((scene) => counts.set(scene, (counts.get(scene) || 0) + 1));
  }
  return counts;
}

function sameCounts(a: PresenceCounts, b: PresenceCounts): boolean {
  if (a.size !== b.size) return false;
  for (const [scene, count] of a) if (b.get(scene) !== count) return false;
  return true;
}

export class PresenceDirectory {
  private channel: PresenceChannel | null = null;
  private starting = false;
  private joined = false;
  /** The scene this device is in, tracked again after every rejoin. */
  private here: PresenceMeta | null = null;
  private state: PresenceState = {};
  private counts: PresenceCounts = new Map();
  private listeners: Array<(counts: PresenceCounts) => void> = [];
  private readonly retry: Retry;

  constructor(
    private readonly port: PresencePort,
    clock: Clock = systemClock,
  ) {
    this.retry = new Retry(clock);
  }

  /** Calls `listener` whenever a scene's count changes; joins the channel on first use. */
  watch(listener: (counts: PresenceCounts) => void): () => void {
    this.listeners.push(listener);
    this.start();
    return () => {
      this.listeners = this.listeners.filter((other) => other !== listener);
    };
  }

  /** How many people are in the scene now. */
  count(sceneId: number): number {
    return this.counts.get(sceneId) || 0;
  }

  /**
   * Who is in the scene now: one entry per person, under the character their newest meta there
   * names (a person on two devices shows once).
   */
  people(sceneId: number): PresentPerson[] {
    const people: PresentPerson[] = [];
    for (const key of Object.keys(this.state)) {
      const metas = this.state[key].filter((meta) => meta.scene_id === sceneId && meta.name);
      const meta = metas[metas.length - 1];
      if (meta) people.push({ key, name: meta.name as string, color: meta.color || '' });
    }
    return people;
  }

  /**
   * This device is in the scene (the room page is open), speaking as `speaker`: others count it
   * until it leaves. Entering again (another character) replaces what it tracked.
   */
  enter(sceneId: number, speaker: { name: string; color: string }): void {
    this.here = { scene_id: sceneId, name: speaker.name, color: speaker.color };
    this.start();
    this.track();
  }

  /** This device left the scene (the room page closed); leaving another scene changes nothing. */
  leave(sceneId: number): void {
    if (!this.here || this.here.scene_id !== sceneId) return;
    this.here = null;
    if (this.channel && this.joined) this.channel.untrack().catch(() => undefined);
  }

  private start(): void {
    if (this.channel || this.starting) return;
    this.starting = true;
    this.port.userId().then(
      (key) => {
        this.starting = false;
        this.retry.succeeded();
        this.channel = this.port.join(
          key,
          (state) => this.synced(state),
          (status) => this.statusChanged(status),
        );
      },
      () => {
        // Not signed in yet and no network: try again later, as the room's connect loop does.
        this.starting = false;
        this.retry.schedule(() => this.start());
      },
    );
  }

  private statusChanged(status: ChannelStatus): void {
    this.joined = status === 'subscribed';
    this.track();
  }

  /** Best effort: a meta the server did not take is sent again at the next rejoin. */
  private track(): void {
    if (this.channel && this.joined && this.here) this.channel.track(this.here).catch(() => undefined);
  }

  private synced(state: PresenceState): void {
    this.state = state;
    const counts = countPeople(state);
    if (sameCounts(counts, this.counts)) return;
    this.counts = counts;
    for (const listener of this.listeners.slice()) listener(counts);
  }
}
