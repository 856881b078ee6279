// Ties the client to the app's lifecycle and the network. In the background WeChat interrupts
// requests and sockets after a few seconds, so token refresh stops on hide; on show, and when
// the network comes back, the session is refreshed if due, realtime reconnects at once instead of
// waiting out phoenix's backoff, and listeners hear about it so a room can fetch what it missed.
import type { SupabaseClient } from '../vendor/supabase';

export type AppEvent = 'foreground' | 'background' | 'online' | 'offline';

export interface AppWatcher {
  /** Called after the client has resumed (foreground, online) or paused (background, offline). */
  subscribe(listener: (event: AppEvent) => void): () => void;
  /** A fresh realtime socket now: after a resume, and for the room's manual reconnect. */
  reconnect(): Promise<void>;
  stop(): void;
}

/** A fresh realtime socket, whatever state the old one is in: after a network change it may look
 * open while dead, and phoenix would only notice at the next missed heartbeat. */
export async function reconnectRealtime(supabase: SupabaseClient): Promise<void> {
  await supabase.realtime.disconnect();
  supabase.realtime.connect();
}

/** Hidden: token refresh stops, as WeChat interrupts a background app's requests anyway. */
export function pauseClient(supabase: SupabaseClient): Promise<void> {
  return supabase.auth.stopAutoRefresh();
}

/** Shown, or the network returned: refresh the session if due, then realtime if it is not up. */
export async function resumeClient(supabase: SupabaseClient, networkReturned: boolean): Promise<void> {
  await supabase.auth.startAutoRefresh();
  // Refreshes the access token if it expired while we were away, before realtime rejoins with it.
  await supabase.auth.getSession();
  if (networkReturned || !supabase.realtime.isConnected()) await reconnectRealtime(supabase);
}

export function watchApp(supabase: SupabaseClient): AppWatcher {
  const listeners: Array<(event: AppEvent) => void> = [];
  let online = true;
  const notify = (event: AppEvent) => {
    for (const listener of listeners.slice()) listener(event);
  };

  const resume = async (event: AppEvent) => {
    await resumeClient(supabase, event === 'online');
    notify(event);
  };

  const report = (error: unknown) => console.error('[platform] resume failed', error);
  const onShow = () => {
    resume('foreground').catch(report);
  };
  const onHide = () => {
    pauseClient(supabase).catch(report);
    notify('background');
  };
  const onNetwork = (result: WechatMiniprogram.OnNetworkStatusChangeListenerResult) => {
    if (result.isConnected === online) return;
    online = result.isConnected;
    if (online) resume('online').catch(report);
    else notify('offline');
  };

  wx.onAppShow(onShow);
  wx.onAppHide(onHide);
  wx.onNetworkStatusChange(onNetwork);

  return {
    subscribe(listener) {
      listeners.push(listener);
      return () => {
        const index = listeners.indexOf(listener);
        if (index >= 0) listeners.splice(index, 1);
      };
    },
    reconnect: () => reconnectRealtime(supabase),
    stop() {
      wx.offAppShow(onShow);
      wx.offAppHide(onHide);
      // The typings give off…Change a GeneralCallbackResult listener; WeChat wants the same function.
      wx.offNetworkStatusChange(onNetwork as unknown as WechatMiniprogram.OffNetworkStatusChangeCallback);
      listeners.length = 0;
    },
  };
}
