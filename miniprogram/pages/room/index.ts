// The chat room. The page holds only render data: the core's RoomView owns the messages and
// sends patches, MessageWindow turns each patch into one small path-keyed setData.
import { TEXT_MAX, checkText } from '../../core/rules';
import { connectionText, t, zh } from '../../core/messages';
import type { ConnectionState, RoomPatch, RoomView } from '../../core/types';
import { initialOf } from '../../core/profile';
import { getServices, type Services } from '../../services';
import { MessageWindow } from './message-window';

/** Distance from the bottom, in px, within which the reader counts as following new messages. */
const FOLLOW_DISTANCE = 80;
const ROLE_PAGE = '/pages/role/index';


/** What a page instance holds besides render data (kept off `data`, so never sent to the view). */
interface RoomSession {
  /** Taken once at load: the page keeps talking to the objects it started with. */
  services: Services;
  view: RoomView;
  list: MessageWindow;
  stopListening: () => void;
  viewportHeight: number;
}

const sessions = new WeakMap<object, RoomSession>();

function sessionOf(page: object): RoomSession {
  const session = sessions.get(page);
  if (!session) throw new Error('room page used before onLoad');
  return session;
}

function toast(title: string): void {
  wx.showToast({ title, icon: 'none', duration: 2500 });
}

Component({
  data: {
    t: zh,
    connection: 'connecting' as ConnectionState,
    connectionText: connectionText('connecting'),
    roleName: '',
    /** The header's accessible label, a whole sentence from the message table. */
    roleLabel: '',
    roleColor: '',
    roleInitial: '',
    loadError: '',
    empty: false,
    hasOlder: false,
    loadingOlder: false,
    chunkOrder: [] as string[],
    chunks: {} as Record<string, unknown>,
    anchor: '',
    unseen: 0,
    unseenText: '',
    draft: '',
    canSend: false,
  },
  methods: {
    async onLoad() {
      wx.setNavigationBarTitle({ title: t('roomTitle') });
      const services = getServices();
      const profile = await services.profiles.load();
      if (!profile) {
        wx.redirectTo({ url: `${ROLE_PAGE}?first=1` });
        return;
      }
      this.showRole(profile.name, profile.color);
      const view = services.room();
      const list = new MessageWindow({ setData: (data, callback) => this.setData(data, callback) });
      const stopListening = view.onPatch((patch) => this.applyPatch(patch));
      sessions.set(this, { services, view, list, stopListening, viewportHeight: wx.getWindowInfo().windowHeight });
      this.measureViewport();
      await this.startRoom();
    },

    /** Back from the role page: the header shows the role new messages will carry. */
    async onShow() {
      const session = sessions.get(this);
      if (!session) return;
      const profile = await session.services.profiles.load();
      if (profile) this.showRole(profile.name, profile.color);
    },

    onUnload() {
      const session = sessions.get(this);
      if (!session) return;
      session.stopListening();
      session.view.stop();
      sessions.delete(this);
    },

    showRole(name: string, color: string) {
      this.setData({ roleName: name, roleLabel: t('changeRoleLabel', { name }), roleColor: color, roleInitial: initialOf(name) });
    },

    measureViewport() {
      wx.createSelectorQuery()
        .in(this)
        .select('.messages')
        .boundingClientRect((rect) => {
          const session = sessions.get(this);
          if (session && rect && rect.height > 0) session.viewportHeight = rect.height;
        })
        .exec();
    },

    async startRoom() {
      try {
        await sessionOf(this).view.start();
      } catch (error) {
        console.warn('room start failed', error);
        this.setData({ loadError: t('loadFailed') });
      }
    },

    applyPatch(patch: RoomPatch) {
      const { list } = sessionOf(this);
      switch (patch.type) {
        case 'reset':
          return list.reset(patch.messages, { hasOlder: patch.hasOlder });
        case 'append':
          return list.append(patch.messages);
        case 'insert':
          return list.insert(patch.index, patch.message);
        case 'prepend':
          return list.prepend(patch.messages, { hasOlder: patch.hasOlder, loadingOlder: false });
        case 'update':
          list.update(patch.key, patch.changes, patch.index);
          // A refused send (rate limit, a rule, no permission) also says why in a toast.
          if (patch.changes.status === 'failed' && patch.changes.error) toast(patch.changes.error);
          return;
        case 'remove':
          return list.remove(patch.key);
        case 'trim':
          return list.trim(patch.count, { hasOlder: patch.hasOlder });
        case 'connection': {
          const data: Record<string, unknown> = { connection: patch.state, connectionText: connectionText(patch.state) };
          if (patch.state === 'connected') data.loadError = '';
          return this.setData(data);
        }
        case 'error':
          // With nothing on screen the reason replaces the list; otherwise a toast is enough.
          if (list.size === 0) this.setData({ loadError: patch.message });
          console.warn(patch.message, patch.detail);
          return toast(patch.message);
      }
    },

    async onReachTop() {
      const { list, view } = sessionOf(this);
      if (this.data.loadingOlder || list.showOlder()) return;
      if (!this.data.hasOlder) return;
      this.setData({ loadingOlder: true });
      // The session reports a failed load itself (an error patch, toasted above); it never rejects.
      try {
        await view.loadOlder();
      } finally {
        if (this.data.loadingOlder) this.setData({ loadingOlder: false });
      }
    },

    onReachBottom() {
      const { list } = sessionOf(this);
      if (!list.showNewer()) list.setFollowing(true);
    },

    onScroll(event: WechatMiniprogram.ScrollViewScroll) {
      const session = sessionOf(this);
      const { scrollTop, scrollHeight } = event.detail;
      const fromBottom = scrollHeight - scrollTop - session.viewportHeight;
      session.list.setFollowing(fromBottom <= FOLLOW_DISTANCE && !session.list.hasHiddenBelow);
    },

    onJumpToNewest() {
      sessionOf(this).list.jumpToNewest();
    },

    onRetry(event: WechatMiniprogram.CustomEvent<{ key: string }>) {
      sessionOf(this).view.retry(event.detail.key);
    },

    onPreview(event: WechatMiniprogram.CustomEvent<{ url: string }>) {
      wx.previewImage({ current: event.detail.url, urls: sessionOf(this).list.imageUrls() });
    },

    onReconnect() {
      sessionOf(this).view.reconnect();
    },

    onReload() {
      this.setData({ loadError: '' });
      sessionOf(this).view.reconnect();
    },

    onChangeRole() {
      wx.navigateTo({ url: ROLE_PAGE });
    },

    onInput(event: WechatMiniprogram.Input) {
      const draft = event.detail.value;
      this.setData({ draft, canSend: checkText(draft) === null });
    },

    onSend() {
      const text = this.data.draft.trim();
      const problem = checkText(text);
      if (problem === 'too_long') return toast(t('textTooLong', { max: TEXT_MAX }));
      if (problem) return;
      if (!sessionOf(this).view.sendText(text)) return;
      this.setData({ draft: '', canSend: false });
    },

    async onPickImage() {
      try {
        const image = await sessionOf(this).services.pickImage();
        if (image) sessionOf(this).view.sendImage(image);
      } catch (error) {
        console.warn('picking an image failed', error);
        toast(t('pickImageFailed'));
      }
    },
  },
});
