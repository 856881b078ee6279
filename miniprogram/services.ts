// Builds the app's long-lived objects once: the backend client, the person's characters, the scene
// list, who is where, and one room session per scene. Pages ask for them here instead of
// constructing them, so tests can hand the pages their own (setServicesForTest) and a page never
// owns a connection.
import { ROOM_SLUG } from './config';
import { CharacterStore } from './core/characters';
import { PresenceDirectory } from './core/presence-directory';
import { RoomSession } from './core/room-session';
import { SceneDirectory } from './core/scenes';
import { SupabaseBackend } from './core/supabase-backend';
import { SupabaseRoleplay } from './core/supabase-roleplay';
import type { PickedImage, Profile, RoomView } from './core/types';
import { createPlatform, type WechatPlatform } from './platform/index';

export interface Services {
  /** The person's characters, and which one speaks. */
  characters: CharacterStore;
  scenes: SceneDirectory;
  /** Who is in which scene now (one presence channel for the whole app). */
  presence: PresenceDirectory;
  /** A scene's session (the lobby without a slug): one per scene for the whole app run. */
  room(slug?: string): RoomView;
  /** Lets the user pick an image and compresses it; null when they cancel. */
  pickImage(): Promise<PickedImage | null>;
  /** Lets the user pick an image, crop it square and shrink it; null when they cancel. */
  pickPortrait(): Promise<PickedImage | null>;
  /** The speaking character's name and colour, as the room page reads its role. */
  profiles: { load(): Promise<Profile | null> };
}

/** The speaking character as a role; null when the person has none (or none could be read). */
export function speakingProfile(characters: CharacterStore): Services['profiles'] {
  return {
    async load() {
      if (!characters.loaded) await characters.load().catch(() => undefined);
      const speaking = characters.current();
      return speaking && { name: speaking.name, color: speaking.color };
    },
  };
}

let current: Services | null = null;

/** The real services over a WeChat platform (a test may pass one built on its own `wx`). */
export function createServices(platform: WechatPlatform = createPlatform()): Services {
  const backend = new SupabaseBackend(platform.supabase, platform.uploader, platform.login);
  const roleplay = new SupabaseRoleplay(platform.supabase, backend);
  const characters = new CharacterStore(roleplay, platform.store);
  const sessions = new Map<string, RoomSession>();
  return {
    characters,
    scenes: new SceneDirectory(roleplay),
    presence: new PresenceDirectory(roleplay),
    room(slug = ROOM_SLUG) {
      const known = sessions.get(slug);
      if (known) return known;
      const room = new RoomSession({
        backend,
        store: platform.store,
        roomSlug: slug,
        // Read at each send; with no character the core refuses the send with a message, never sends it.
        speaker: () => characters.current(),
        reconnectTransport: () => platform.app.reconnect(),
      });
      // Back from the background or the network returned: fetch what was missed, send what waits.
      platform.app.subscribe((event) => {
        if (event === 'foreground' || event === 'online') room.resume();
      });
      sessions.set(slug, room);
      return room;
    },
    pickImage: () => platform.pickImage(),
    pickPortrait: () => platform.pickPortrait(),
    profiles: speakingProfile(characters),
  };
}

export function getServices(): Services {
  if (!current) current = createServices();
  return current;
}

/** Replaces the app's services (tests, screenshots); null rebuilds the real ones on next use. */
export function setServicesForTest(services: Services | null): void {
  current = services;
}
