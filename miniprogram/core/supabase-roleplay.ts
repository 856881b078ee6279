// Characters, scenes, presence and typing over an official SupabaseClient, as supabase-backend.ts does for
// messages: the same injected client (wx.request and wx.connectSocket in the mini program, Node in
// the terminal), the same sign-in, uploads and failures. Writes are POST (insert, rpc) or DELETE.
import type { SupabaseClient } from '@supabase/supabase-js';
import type { Database } from '../../typings/database.types';
import type { CharacterDraft, CharacterPort, CharacterRow } from './characters';
import { BackendFailure, type Backend, type ChannelStatus } from './ports';
import { PRESENCE_TOPIC, type PresenceChannel, type PresenceMeta, type PresencePort, type PresenceState } from './presence-directory';
import type { SceneCursor, SceneDraft, SceneListRow, ScenePort, SceneRow } from './scenes';
import { channelStatus, failureOf, restRows, type RestQuery } from './supabase-backend';
import type { PickedImage } from './types';
import type { TypingPort, TypingSignal } from './typing';

/** What an rpc, insert or delete answers, or its failure as a BackendFailure. */
async function answerOf(query: RestQuery): Promise<unknown> {
  const answer = await query.retry(false);
  if (answer.error) throw failureOf(answer);
  return answer.data;
}

export class SupabaseRoleplay implements CharacterPort, ScenePort, PresencePort {
  constructor(
    private readonly client: SupabaseClient<Database>,
    private readonly backend: Pick<Backend, 'userId' | 'uploadImage' | 'publicImageUrl'>,
  ) {}

  userId(): Promise<string> {
    return this.backend.userId();
  }

  ownCharacters(owner: string): Promise<CharacterRow[]> {
    return restRows<CharacterRow>(this.client.from('characters').select('*').eq('owner', owner).order('id'));
  }

  async saveCharacter(id: number | null, draft: CharacterDraft): Promise<CharacterRow> {
    // The generated Args type every parameter as non-null; the function creates a character for a null id.
    const args = {
      character_id: id as number,
      name: draft.name,
      avatar_color: draft.color,
      note: draft.note,
      portrait_path: draft.portraitPath as string,
    };
    return (await answerOf(this.client.rpc('save_character', args))) as CharacterRow;
  }

  async deleteCharacter(id: number): Promise<void> {
    await answerOf(this.client.from('characters').delete().eq('id', id));
  }

  async characterById(id: number): Promise<CharacterRow | null> {
    const rows = await restRows<CharacterRow>(this.client.from('characters').select('*').eq('id', id).limit(1));
    return rows[0] || null;
  }

  async uploadPortrait(storagePath: string, image: PickedImage): Promise<void> {
    try {
      await this.backend.uploadImage(storagePath, image, () => undefined).done;
    } catch (error) {
      // A retry of an upload whose answer was lost: the portrait is there.
      if (!(error instanceof BackendFailure && error.code === 'Duplicate')) throw error;
    }
  }

  publicImageUrl(storagePath: string): string {
    return this.backend.publicImageUrl(storagePath);
  }

  sceneList(after: SceneCursor | null, pageSize: number): Promise<SceneListRow[]> {
    const page = after ? { before_activity: after.activity, before_id: after.id, page_size: pageSize } : { page_size: pageSize };
    return restRows<SceneListRow>(this.client.rpc('scene_list', page));
  }

  async openScene(draft: SceneDraft): Promise<SceneRow> {
    const rows = await restRows<SceneRow>(this.client.from('rooms').insert(draft).select());
    if (!rows.length) throw new BackendFailure(500, '', 'insert returned no scene');
    return rows[0];
  }

  async sceneBySlug(slug: string): Promise<SceneRow | null> {
    const rows = await restRows<SceneRow>(this.client.from('rooms').select('*').eq('slug', slug).limit(1));
    return rows[0] || null;
  }

  async updateScene(id: number, draft: SceneDraft): Promise<void> {
    await answerOf(this.client.rpc('update_scene', { scene: id, title: draft.title, topic: draft.topic }));
  }

  async archiveScene(id: number): Promise<void> {
    await answerOf(this.client.rpc('archive_scene', { scene: id }));
  }

  async markRead(id: number, messageId: number): Promise<void> {
    await answerOf(this.client.rpc('mark_read', { scene: id, message: messageId }));
  }

  join(key: string, sync: (state: PresenceState) => void, status: (status: ChannelStatus) => void): PresenceChannel {
    const channel = this.client.channel(PRESENCE_TOPIC, { config: { presence: { key } } });
    channel.on('presence', { event: 'sync' }, () => sync(channel.presenceState<PresenceMeta>())).subscribe(channelStatus(status));
    const sent = async (answer: Promise<string>) => {
      const result = await answer;
      if (result !== 'ok') throw new BackendFailure(0, result, `presence ${result}`);
    };
    return {
      track: (meta) => sent(channel.track({ ...meta })),
      untrack: () => sent(channel.untrack()),
    };
  }
}

/**
 * "正在输入…" over the scene's Realtime broadcast channel `typing:<scene id>`: never stored, and not
 * echoed to the sender (self: false). A signal before the channel has joined is dropped rather
 * than sent over REST: it would be stale by the time anyone read it.
 */
export function supabaseTypingPort(client: SupabaseClient<Database>): TypingPort {
  return {
    join(sceneId, heard) {
      let joined = false;
      const channel = client
        .channel(`typing:${sceneId}`, { config: { broadcast: { self: false } } })
        .on('broadcast', { event: 'typing' }, (message) => heard(message.payload as TypingSignal))
        .subscribe((status) => {
          joined = status === 'SUBSCRIBED';
        });
      return {
        send(signal) {
          if (joined) void channel.send({ type: 'broadcast', event: 'typing', payload: signal });
        },
        stop() {
          void client.removeChannel(channel);
        },
      };
    },
  };
}
