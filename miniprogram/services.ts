// Builds the app's long-lived objects once: the backend client, the room session and the profile
// store. Pages ask for them here instead of constructing them, so tests can hand the pages their
// own (setServicesForTest) and a page never owns a connection.
import type { SupabaseClient } from '@supabase/supabase-js';
import { ROOM_SLUG } from './config';
import { BlockList } from './core/blocks';
import { ModerationDesk } from './core/moderation-desk';
import type { PrivacyGate } from './core/privacy';
import { ProfileStore } from './core/profile';
import { RoomSession } from './core/room-session';
import { SupabaseBackend } from './core/supabase-backend';
import { supabaseBlockPort, supabaseModerationPort } from './core/supabase-safety';
import type { PickedImage, RoomView } from './core/types';
import { createPlatform, type WechatPlatform } from './platform/index';

export interface Services {
  profiles: ProfileStore;
  /** The room session; the same one for the whole app run. */
  room(): RoomView;
  /** Lets the user pick an image and compresses it; null when they cancel. */
  pickImage(): Promise<PickedImage | null>;
}

/** What the consent sheet, the privacy, blocked and manage pages need. */
export interface SafetyServices {
  privacy: PrivacyGate;
  /** The same list for the whole app run, so the room hears of changes made on the blocked page. */
  blocks: BlockList;
  /** A fresh desk for each visit of the manage page. */
  desk(): ModerationDesk;
  copyText(text: string): Promise<void>;
}

let current: Services | null = null;
let currentSafety: SafetyServices | null = null;
let sharedPlatform: WechatPlatform | null = null;
/** One backend per platform: the room and the safety pages share its session and login. */
const backends = new WeakMap<WechatPlatform, SupabaseBackend>();

/** The app's one platform, created at first use. */
function appPlatform(): WechatPlatform {
  if (!sharedPlatform) sharedPlatform = createPlatform();
  return sharedPlatform;
}

function backendOf(platform: WechatPlatform): SupabaseBackend {
  let backend = backends.get(platform);
  if (!backend) {
    backend = new SupabaseBackend(platform.supabase, platform.uploader, platform.login);
    backends.set(platform, backend);
  }
  return backend;
}

/** The real services over a WeChat platform (a test may pass one built on its own `wx`). */
export function createServices(platform: WechatPlatform = appPlatform()): Services {
  const profiles = new ProfileStore(platform.store);
  const backend = backendOf(platform);
  let session: RoomSession | null = null;
  return {
    profiles,
    room() {
      if (session) return session;
      const room = new RoomSession({
        backend,
        store: platform.store,
        roomSlug: ROOM_SLUG,
        // Read at each send; an empty role is refused by the core with a message, never sent.
        profile: () => profiles.current() || { name: '', color: '' },
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

/** The safety services over a WeChat platform, sharing the room's backend and session. */
export function createSafetyServices(platform: WechatPlatform = appPlatform()): SafetyServices {
  const backend = backendOf(platform);
  // The ports use tables and functions that typings/database.types.ts does not describe yet.
  const client: SupabaseClient = platform.supabase;
  return {
    privacy: platform.privacy,
    blocks: new BlockList(supabaseBlockPort(client, backend)),
    desk: () => new ModerationDesk(supabaseModerationPort(client, backend)),
    copyText: (text) => platform.copyText(text),
  };
}

export function getServices(): Services {
  if (!current) current = createServices();
  return current;
}

export function getSafetyServices(): SafetyServices {
  if (!currentSafety) currentSafety = createSafetyServices();
  return currentSafety;
}

/** Replaces the app's services (tests, screenshots); null rebuilds the real ones on next use. */
export function setServicesForTest(services: Services | null): void {
  current = services;
}

/** Replaces the app's safety services (tests, screenshots); null rebuilds the real ones on next use. */
export function setSafetyServicesForTest(services: SafetyServices | null): void {
  currentSafety = services;
}
