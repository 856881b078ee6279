// Builds the app's long-lived objects once: the backend client, the room session and the profile
// store. Pages ask for them here instead of constructing them, so tests can hand the pages their
// own (setServicesForTest) and a page never owns a connection.
import { ROOM_SLUG } from './config';
import { ProfileStore } from './core/profile';
import { RoomSession } from './core/room-session';
import { SupabaseBackend } from './core/supabase-backend';
import type { PickedImage, RoomView } from './core/types';
import { createPlatform, type WechatPlatform } from './platform/index';

export interface Services {
  profiles: ProfileStore;
  /** The room session; the same one for the whole app run. */
  room(): RoomView;
  /** Lets the user pick an image and compresses it; null when they cancel. */
  pickImage(): Promise<PickedImage | null>;
}

let current: Services | null = null;

/** The real services over a WeChat platform (a test may pass one built on its own `wx`). */
export function createServices(platform: WechatPlatform = createPlatform()): Services {
  const profiles = new ProfileStore(platform.store);
  const backend = new SupabaseBackend(platform.supabase, platform.uploader, platform.login);
  let session: RoomSession | null = null;
  return {
    profiles,
    room() {
      if (session) return session;
      const room = new RoomSession({
        backend,
        store: platform.store,
        roomSlug: ROOM_SLUG,
        // Read at each send; without a role the core says so and sends nothing.
        speaker: () => {
          const profile = profiles.current();
          return profile ? { ...profile, characterId: null } : null;
        },
        reconnectTransport: () => platform.app.reconnect(),
      });
      // Back from the background or the network returned: fetch what was missed, send what waits.
      platform.app.subscribe((event) => {
        if (event === 'foreground' || event === 'online') room.resume();
      });
      session = room;
      return room;
    },
    pickImage: () => platform.pickImage(),
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
