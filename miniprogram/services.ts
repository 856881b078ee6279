// Builds the app's long-lived objects once: the backend client, the person's characters, the scene
// list, who is where, one room session per scene, and what the consent sheet, the privacy, blocked
// and manage pages need. Pages ask for them here instead of constructing them, so tests can hand
// the pages their own (setServicesForTest) and a page never owns a connection.
import type { SupabaseClient } from '@supabase/supabase-js';
import { ROOM_SLUG } from './config';
import { BlockList } from './core/blocks';
import { CharacterStore } from './core/characters';
import { ModerationDesk } from './core/moderation-desk';
import { PresenceDirectory } from './core/presence-directory';
import type { PrivacyGate } from './core/privacy';
import { imagesStillNeeded } from './core/outbox';
import { pruneRoomCaches, RoomSession } from './core/room-session';
import { SceneDirectory } from './core/scenes';
import { SupabaseBackend } from './core/supabase-backend';
import { SupabaseRoleplay, supabaseTypingPort } from './core/supabase-roleplay';
import { supabaseBlockPort, supabaseModerationPort } from './core/supabase-safety';
import type { PickedImage, RoomView } from './core/types';
import { Typing } from './core/typing';
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
  /** Who is typing in a scene, for as long as its room page is open (stop() leaves the channel). */
  typing(sceneId: number, changed: (text: string) => void): Typing;
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
  const backend = backendOf(platform);
  const roleplay = new SupabaseRoleplay(platform.supabase, backend);
  const characters = new CharacterStore(roleplay, platform.store);
  const sessions = new Map<string, RoomSession>();
  // Best effort: a store that cannot be read or written is reported when a scene saves its cache.
  void pruneRoomCaches(platform.store).catch(() => undefined);
  // Once per launch, across every scene's outbox (a session alone would drop another scene's images).
  const prune = platform.uploader.prune;
  if (prune)
    imagesStillNeeded(platform.store).then(
      (inUse) => prune(inUse),
      () => undefined,
    );
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
    typing(sceneId, changed) {
      // Typing asks who we are at every signal; the session is there by the time a room shows.
      let me: string | null = null;
      backend.userId().then(
        (id) => {
          me = id;
        },
        () => undefined,
      );
      return new Typing(supabaseTypingPort(platform.supabase), sceneId, () => me, changed);
    },
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
