// Where pages live and how a scene is linked: the room opens a scene from its `scene` query, a
// shared card carries that path, and the character editor can send the person on to where they
// were going. A value holding ? or & (a path) travels encoded, since WeChat splits the query at
// them; it is decoded here, which leaves an already decoded path as it is (it holds no %).
import { ROOM_SLUG } from '../config';
import { t } from './strings';

export const SCENES_PAGE = '/pages/scenes/index';
export const ROOM_PAGE = '/pages/room/index';
export const CHARACTERS_PAGE = '/pages/characters/index';
export const CHARACTER_EDITOR_PAGE = '/pages/role/index';
export const SCENE_SETTINGS_PAGE = '/pages/scene-settings/index';
export const MANAGE_PAGE = '/pages/manage/index';
export const BLOCKED_PAGE = '/pages/blocked/index';
export const PRIVACY_PAGE = '/pages/privacy/index';

/** What rooms.slug accepts (supabase/migrations/20261121000000_chat_schema.sql): 'lobby', 's-42'. */
const SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{0,31}$/;

export type PageQuery = Record<string, string | undefined>;

/** The room page of a scene: what the list opens and what a shared card carries. */
export function roomPath(slug: string): string {
  return `${ROOM_PAGE}?scene=${slug}`;
}

/** The scene a room page was opened for; the lobby when the query names none (or nonsense). */
export function sceneSlugOf(query: PageQuery): string {
  const slug = query.scene;
  return slug && SLUG_PATTERN.test(slug) ? slug : ROOM_SLUG;
}

/** The host's settings of a scene; without a slug, the form that opens a new scene. */
export function sceneSettingsPath(slug?: string): string {
  return slug ? `${SCENE_SETTINGS_PAGE}?scene=${slug}` : SCENE_SETTINGS_PAGE;
}

/**
 * The character editor: `first` for the first launch (it creates the person's first character,
 * then goes on to `next`, else the scene list), `id` to edit one.
 */
export function characterEditorPath(options: { first?: boolean; id?: number; next?: string } = {}): string {
  const query: string[] = [];
  if (options.first) query.push('first=1');
  if (options.id !== undefined) query.push(`id=${options.id}`);
  if (options.next) query.push(`next=${encodeURIComponent(options.next)}`);
  return query.length ? `${CHARACTER_EDITOR_PAGE}?${query.join('&')}` : CHARACTER_EDITOR_PAGE;
}

/** Where to go after the first character: the page given as `next` (one of ours), else the list. */
export function nextPathOf(query: PageQuery): string {
  let next = '';
  try {
    next = decodeURIComponent(query.next || '');
  } catch {
    // A malformed escape is no page of ours.
  }
  return /^\/pages\/[\w-]+\/index(\?|$)/.test(next) ? next : SCENES_PAGE;
}

/** onShareAppMessage's answer for the app itself: the card opens the scene list. */
export function shareApp(): { title: string; path: string } {
  return { title: t('shareAppTitle'), path: SCENES_PAGE };
}

/** onShareAppMessage's answer for a scene: the card opens the scene's room after login. */
export function shareScene(scene: { title: string; slug: string }): { title: string; path: string } {
  return { title: t('shareSceneTitle', { title: scene.title }), path: roomPath(scene.slug) };
}

/** onShareTimeline's answer for a scene: 朋友圈 opens the same page with this query. */
export function shareSceneToTimeline(scene: { title: string; slug: string }): { title: string; query: string } {
  return { title: t('shareSceneTitle', { title: scene.title }), query: `scene=${scene.slug}` };
}
