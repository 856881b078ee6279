// The chat room. The page holds only render data: the core's RoomView owns the messages and
// sends patches, MessageWindow turns each patch into one small path-keyed setData.
import { TEXT_MAX, checkText } from '../../core/rules';
import { connectionText, pickTexts, t } from '../../core/messages';
import type { ConnectionState, RoomPatch, RoomView } from '../../core/types';
import { initialOf } from '../../core/profile';
import { getServices, type Services } from '../../services';
import { MessageWindow } from './message-window';

/** Distance from the bottom, in px, within which the reader counts as following new messages. */
const FOLLOW_DISTANCE = 80;
const ROLE_PAGE = '/pages/role/index';

/** What a room page instance holds besides render data (kept off `data`, so never sent to the view). */
interface RoomPageState {
  /** Taken once at load: the page keeps talking to the objects it started with. */
  services: Services;
  view: RoomView;
  list: MessageWindow;
  stopListening: () => void;
  viewportHeight: number;
}

const pageStates = new WeakMap<object, RoomPageState>();

function stateOf(page: object): RoomPageState {
  const state = pageStates.get(page);
  if (!state) throw new Error('room page used before onLoad');
  return state;
}

function toast(title: string): void {
  wx.showToast({ title, icon: 'none', duration: 2500 });
}

Component({
  data: {
    t: pickTexts(
      'connectionRetry', 'connectionRetryLabel', 'changeRole', 'loadingOlder', 'noOlder', 'loadErrorRetry', 'loadingRoom',
      'emptyRoom', 'newMessagesLabel', 'sendImageLabel', 'composerPlaceholder', 'composerLabel', 'send', 'sendLabel',
    ),
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
    /** px the keyboard covers; the composer sits above it (the input does not push the page). */
    keyboardHeight: 0,
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
      pageStates.set(this, { services, view, list, stopListening, viewportHeight: wx.getWindowInfo().windowHeight });
      this.measureViewport();
      await this.startRoom();
    },

    /** Back from the role page: the header shows the role new messages will carry. */
    async onShow() {
      const state = pageStates.get(this);
      if (!state) return;
      const profile = await state.services.profiles.load();
      if (profile) this.showRole(profile.name, profile.color);
    },

    onUnload() {
      const state = pageStates.get(this);
      if (!state) return;
      state.stopListening();
      state.view.stop();
      pageStates.delete(this);
    },

    showRole(name: string, color: string) {
      this.setData({ roleName: name, roleLabel: t('changeRoleLabel', { name }), roleColor: color, roleInitial: initialOf(name) });
    },

    measureViewport() {
      wx.createSelectorQuery()
        .in(this)
        .select('.messages')
        .boundingClientRect((rect) => {
          const state = pageStates.get(this);
          if (state && rect && rect.height > 0) state.viewportHeight = rect.height;
        })
        .exec();
    },

    async startRoom() {
      try {
        await stateOf(this).view.start();
      } catch (error) {
        console.warn('room start failed', error);
        this.setData({ loadError: t('loadFailed') });
      }
    },

    applyPatch(patch: RoomPatch) {
      const { list } = stateOf(this);
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
      const { list, view } = stateOf(this);
      if (this.data.loadingOlder || list.showOlder()) return;
      if (!this.data.hasOlder) return;
      this.setData({ loadingOlder: true });
      // The core reports a failed load itself (an error patch, toasted above); it never rejects.
      try {
        await view.loadOlder();
      } finally {
        if (this.data.loadingOlder) this.setData({ loadingOlder: false });
      }
    },

    onReachBottom() {
      const { list } = stateOf(this);
      if (!list.showNewer()) list.setFollowing(true);
    },

    onScroll(event: WechatMiniprogram.ScrollViewScroll) {
      const state = stateOf(this);
      const { scrollTop, scrollHeight } = event.detail;
      const fromBottom = scrollHeight - scrollTop - state.viewportHeight;
      state.list.setFollowing(fromBottom <= FOLLOW_DISTANCE && !state.list.hasHiddenBelow);
    },

    onJumpToNewest() {
      stateOf(this).list.jumpToNewest();
    },

    onRetry(event: WechatMiniprogram.CustomEvent<{ key: string }>) {
      stateOf(this).view.retry(event.detail.key);
    },

    onPreview(event: WechatMiniprogram.CustomEvent<{ url: string }>) {
      wx.previewImage({ current: event.detail.url, urls: stateOf(this).list.imageUrls() });
    },

    onReconnect() {
      stateOf(this).view.reconnect();
    },

    onReload() {
      this.setData({ loadError: '' });
      stateOf(this).view.reconnect();
    },

    onChangeRole() {
      wx.navigateTo({ url: ROLE_PAGE });
    },

    /**
     * The keyboard opened, closed or changed height. With adjust-position off, WeChat no longer
     * pushes the whole 100vh page (header included) up: the page reserves the keyboard's height
     * below the composer, and the shorter list keeps its newest message in view.
     */
    onKeyboardHeight(event: WechatMiniprogram.CustomEvent<{ height: number }>) {
      this.setData({ keyboardHeight: event.detail.height }, () => {
        this.measureViewport();
        stateOf(this).list.keepNewestInView();
      });
    },

    /** hold-keyboard keeps the keyboard up for taps on the page; a tap on the list closes it. */
    onTapList() {
      if (this.data.keyboardHeight > 0) wx.hideKeyboard();
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
      if (!stateOf(this).view.sendText(text)) return;
      this.setData({ draft: '', canSend: false });
    },

    async onPickImage() {
      try {
        const image = await stateOf(this).services.pickImage();
        if (image) stateOf(this).view.sendImage(image);
      } catch (error) {
        console.warn('picking an image failed', error);
        toast(t('pickImageFailed'));
      }
    },
  },
});
