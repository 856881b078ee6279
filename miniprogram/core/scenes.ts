// The scenes: the lobby and the rooms people open (title 1–48, 背景 up to 500, 3 a day each). The
// list comes in pages of one request each (rpc scene_list: newest activity first, each scene with
// its last message and the person's unread count); the opener hosts the scene and alone edits or
// archives it; a read marker per person and scene moves forward as they read.
import { requestProblem } from './failures';
import { t } from './strings';
import { checkTitle, checkTopic, SCENES_PER_DAY, TITLE_MAX, TOPIC_MAX } from './rules';
import { moderationStatus, type ModerationStatus } from './verdicts';
import type { Tables } from '../../typings/database.types';

export const SCENE_PAGE_SIZE = 20;

export type SceneRow = Tables<'rooms'>;

/** One item of rpc('scene_list') (supabase/migrations: public.scene_list). */
export interface SceneListRow {
  id: number;
  slug: string;
  title: string;
  topic: string;
  host: string | null;
  archived: boolean;
  status: string;
  last_activity_at: string;
  last_message: {
    id: number;
    username: string;
    kind: string;
    body: string | null;
    hidden: boolean;
    status: string;
    created_at: string;
    /** A public roll's total and a check's outcome; null for other kinds and for 暗骰. */
    roll: { total: number; outcome: string | null } | null;
  } | null;
  /** Others' messages after the person's read marker, counted up to 100. */
  unread: number;
}

export type LastMessage = NonNullable<SceneListRow['last_message']>;

export interface SceneSummary {
  id: number;
  slug: string;
  title: string;
  topic: string;
  /** The person opened it: they alone edit and archive it. */
  isHost: boolean;
  archived: boolean;
  status: ModerationStatus;
  lastActivityAt: string;
  lastMessage: LastMessage | null;
  unread: number;
}

/** A scene as its settings page shows it. */
export interface SceneDetails {
  id: number;
  slug: string;
  title: string;
  topic: string;
  archived: boolean;
  status: ModerationStatus;
  label: number | null;
  /** The person opened it: they alone edit and archive it. */
  isHost: boolean;
}

export interface SceneDraft {
  title: string;
  topic: string;
}

/** Where the next page starts: just after the last scene of the list so far. */
export interface SceneCursor {
  activity: string;
  id: number;
}

export type OpenResult = { ok: true; scene: SceneDetails } | { ok: false; problem: string };

/** What scenes need from the backend. Every method rejects with a BackendFailure. */
export interface ScenePort {
  userId(): Promise<string>;
  sceneList(after: SceneCursor | null, pageSize: number): Promise<SceneListRow[]>;
  /** Opens a scene hosted by the person (an insert the database limits to 3 a day). */
  openScene(draft: SceneDraft): Promise<SceneRow>;
  sceneBySlug(slug: string): Promise<SceneRow | null>;
  updateScene(id: number, draft: SceneDraft): Promise<void>;
  archiveScene(id: number): Promise<void>;
  markRead(id: number, messageId: number): Promise<void>;
}

/** What is wrong with a title or 背景, as the form shows it; null when both can be saved. */
export function sceneDraftProblem(draft: SceneDraft): string | null {
  const title = checkTitle(draft.title);
  if (title === 'empty') return t('titleEmpty');
  if (title === 'too_long') return t('titleTooLong', { max: TITLE_MAX });
  return checkTopic(draft.topic) ? t('topicTooLong', { max: TOPIC_MAX }) : null;
}

function summaryOf(row: SceneListRow, me: string): SceneSummary {
  return {
    id: row.id,
    slug: row.slug,
    title: row.title,
    topic: row.topic,
    isHost: row.host !== null && row.host === me,
    archived: row.archived,
    status: moderationStatus(row.status),
    lastActivityAt: row.last_activity_at,
    lastMessage: row.last_message,
    unread: row.unread,
  };
}

export class SceneDirectory {
  private scenes: SceneSummary[] = [];
  private more = true;
  /** Bumped by refresh(), so a page asked for before it is dropped rather than appended. */
  private generation = 0;
  private loading: Promise<SceneSummary[]> | null = null;

  constructor(private readonly port: ScenePort) {}

  list(): SceneSummary[] {
    return this.scenes;
  }

  /** False once a page came back shorter than a full one. */
  get hasMore(): boolean {
    return this.more;
  }

  /** The first page again (pull-to-refresh, coming back to the list): replaces the list. */
  async refresh(): Promise<SceneSummary[]> {
    const generation = ++this.generation;
    this.loading = null;
    const rows = await this.port.sceneList(null, SCENE_PAGE_SIZE);
    const me = await this.port.userId();
    if (generation === this.generation) {
      this.scenes = rows.map((row) => summaryOf(row, me));
      this.more = rows.length === SCENE_PAGE_SIZE;
    }
    return this.scenes;
  }

  /** The next page's scenes, appended ([] at the end); a second call while one loads shares it. */
  loadMore(): Promise<SceneSummary[]> {
    if (!this.more || this.scenes.length === 0) return Promise.resolve([]);
    if (!this.loading) {
      const loading = this.nextPage();
      // Not Promise#finally: ES2018, past the mini program's ES2017 target.
      const done = () => {
        if (this.loading === loading) this.loading = null;
      };
      loading.then(done, done);
      this.loading = loading;
    }
    return this.loading;
  }

  async open(draft: SceneDraft): Promise<OpenResult> {
    const problem = sceneDraftProblem(draft);
    if (problem) return { ok: false, problem };
    try {
      const row = await this.port.openScene(draft);
      return { ok: true, scene: await this.detailsOf(row) };
    } catch (error) {
      return { ok: false, problem: requestProblem(error, { RCSCN: t('sceneLimit', { max: SCENES_PER_DAY }) }, t('saveFailed')) };
    }
  }

  /** A scene by its slug; null when there is none the person may see. Rejects when unreachable. */
  async details(slug: string): Promise<SceneDetails | null> {
    const row = await this.port.sceneBySlug(slug);
    return row && this.detailsOf(row);
  }

  /** Host only: a new title and 背景. */
  async update(id: number, draft: SceneDraft): Promise<string | null> {
    const problem = sceneDraftProblem(draft);
    if (problem) return problem;
    return this.hostAction(
      () => this.port.updateScene(id, draft),
      (scene) => ({ ...scene, ...draft }),
      id,
    );
  }

  /** Host only: the scene stays readable and takes no more messages. */
  archive(id: number): Promise<string | null> {
    return this.hostAction(
      () => this.port.archiveScene(id),
      (scene) => ({ ...scene, archived: true }),
      id,
    );
  }

  /** The person has read up to `messageId`: the marker moves forward, the list shows 0 unread. */
  async markRead(id: number, messageId: number): Promise<void> {
    await this.port.markRead(id, messageId);
    this.scenes = this.scenes.map((scene) => (scene.id === id ? { ...scene, unread: 0 } : scene));
  }

  private async nextPage(): Promise<SceneSummary[]> {
    const generation = this.generation;
    const last = this.scenes[this.scenes.length - 1];
    const rows = await this.port.sceneList({ activity: last.lastActivityAt, id: last.id }, SCENE_PAGE_SIZE);
    const me = await this.port.userId();
    if (generation !== this.generation) return [];
    const known = new Set(this.scenes.map((scene) => scene.id));
    // A scene that moved up while the reader scrolled may come again: it shows once, where it was.
    const added = rows.map((row) => summaryOf(row, me)).filter((scene) => !known.has(scene.id));
    this.scenes = this.scenes.concat(added);
    this.more = rows.length === SCENE_PAGE_SIZE;
    return added;
  }

  private async hostAction(run: () => Promise<void>, change: (scene: SceneSummary) => SceneSummary, id: number): Promise<string | null> {
    try {
      await run();
    } catch (error) {
      return requestProblem(error, { '42501': t('sceneHostOnly') }, t('saveFailed'));
    }
    this.scenes = this.scenes.map((scene) => (scene.id === id ? change(scene) : scene));
    return null;
  }

  private async detailsOf(row: SceneRow): Promise<SceneDetails> {
    const me = await this.port.userId();
    return {
      id: row.id,
      slug: row.slug,
      title: row.title,
      topic: row.topic,
      archived: row.archived,
      status: moderationStatus(row.status),
      label: row.label,
      isHost: row.host !== null && row.host === me,
    };
  }
}
