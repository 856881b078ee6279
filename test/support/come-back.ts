// Coming back, shared by test/come-back.test.ts and bench/come-back.ts: the app runs as on a
// phone (the vendor bundle, platform, services and core in a WeChat realm over wx-node) and reaches
// local-supabase through the fault proxy, which takes the path down while the phone is away.
// Someone else talks meanwhile; each round times the way back, from the network event (or the app
// show) until the room is connected and shows every missed message.
import crypto from 'node:crypto';
import type { ChatMessage, ConnectionState, RoomPatch } from '../../miniprogram/core/types';
import type * as ServicesModule from '../../miniprogram/services';
import { startFaultProxy } from './fault-proxy';
import { wechatUser } from './server';
import { launchWechatApp } from './wechat-realm';
import { sleep, waitFor } from './wait';

/**
 * Long enough for realtime to have passed the missed rows before the room rejoins, so they can
 * only come from the catch-up (a row committed just before a join may still be delivered live).
 */
const REALTIME_SETTLE_MS = 1000;

export interface ComeBack {
  /** The phone loses its network and gets it back: ms until connected and caught up. */
  networkReturns(): Promise<number>;
  /** The app goes to the background (WeChat cuts its sockets) and returns: ms until connected and caught up. */
  returnsToForeground(): Promise<number>;
  close(): Promise<void>;
}

export async function startComeBack(server: {
  url: string;
  anonKey: string;
  port: number;
  wechat?: { url: string } | null;
}): Promise<ComeBack> {
  const proxy = await startFaultProxy({ targetPort: server.port, seed: 1 });
  // The phone reaches the API through the proxy and WeChat's server directly, as on a phone.
  const app = launchWechatApp({ url: proxy.url, anonKey: server.anonKey, wechat: server.wechat });
  const { createServices } = app.realm.require<typeof ServicesModule>('services');
  const services = createServices(app.platform);
  const character = await services.characters.save(null, { name: '楚留香', color: '#c0392b', note: '', portraitPath: null });
  if (!character.ok) throw new Error(`the character was not saved: ${character.problem}`);
  const room = services.room();
  let connection: ConnectionState | null = null;
  room.onPatch((patch: RoomPatch) => {
    if (patch.type === 'connection') connection = patch.state;
  });
  // The list lives in the other realm: read it as plain data.
  const messages = (): ChatMessage[] => JSON.parse(JSON.stringify((room as unknown as { messages(): ChatMessage[] }).messages()));
  await room.start();
  await waitFor('the room to connect', () => connection === 'connected', 15000);

  /** Someone else talks while we are away; resolves once realtime has had time to pass the rows. */
  const saidMeanwhile = async (): Promise<string[]> => {
    // A new person each round, so nobody reaches the rate limit.
    const other = await wechatUser(server);
    const bodies = [1, 2, 3].map((n) => `趁你不在 ${n} ${crypto.randomUUID()}`);
    for (const body of bodies) {
      const { error } = await other.sb
        .from('messages')
        .insert({ room_id: 1, username: '陆小凤', avatar_color: '#2e86ab', kind: 'text', body, client_id: crypto.randomUUID() });
      if (error) throw error;
    }
    await sleep(REALTIME_SETTLE_MS);
    return bodies;
  };

  const timeBack = async (back: () => void, missed: string[]): Promise<number> => {
    proxy.setDown(false);
    const started = Date.now();
    back();
    await waitFor(
      'connected and caught up',
      () => connection === 'connected' && missed.every((body) => messages().some((message) => message.body === body)),
      15000,
      5,
    );
    return Date.now() - started;
  };

  return {
    async networkReturns() {
      proxy.setDown(true);
      app.nodeWx.setOffline(true);
      await waitFor('the drop to show', () => connection !== 'connected', 15000);
      return timeBack(() => app.nodeWx.setOffline(false), await saidMeanwhile());
    },
    async returnsToForeground() {
      await app.nodeWx.goBackground();
      proxy.setDown(true);
      await waitFor('the socket to be cut', () => app.nodeWx.openSockets() === 0, 15000);
      return timeBack(() => app.nodeWx.goForeground(), await saidMeanwhile());
    },
    async close() {
      await app.close();
      await proxy.close();
    },
  };
}
