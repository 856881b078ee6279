// The chat room. The page holds only render data: the core's RoomView owns the messages and
// sends patches, MessageWindow turns each patch into one small path-keyed setData.
import { TEXT_MAX, checkText } from '../../core/rules';
import { connectionText, pickTexts, t, type MessageId } from '../../core/messages';
import type { ChatMessage, ConnectionState, ReportReason, RoomPatch, RoomView, Voice } from '../../core/types';
import { initialOf } from '../../core/profile';
import { getServices, type Services } from '../../services';
import { MessageWindow } from './message-window';

/** Distance from the bottom, in px, within which the reader counts as following new messages. */
const FOLLOW_DISTANCE = 80;
const ROLE_PAGE = '/pages/role/index';
/** The database takes a recall for 2 minutes after sending (recall_message). */
const RECALL_WINDOW_MS = 2 * 60 * 1000;
/** The composer's voices, in the order its toggle cycles through them. */
const VOICES: Voice[] = ['text', 'action', 'ooc'];
const VOICE_LABELS: Record<Voice, MessageId> = { text: 'voiceText', action: 'voiceAction', ooc: 'voiceOoc' };
const REPORT_REASONS: Array<[ReportReason, MessageId]> = [
  ['spam', 'reasonSpam'],
  ['abuse', 'reasonAbuse'],
  ['sexual', 'reasonSexual'],
  ['illegal', 'reasonIllegal'],
  ['other', 'reasonOther'],
];

type MenuAction = 'reply' | 'copy' | 'recall' | 'report';

/** What the long-press menu offers for a message, in order. */
function menuActions(message: ChatMessage, now: number): MenuAction[] {
  const actions: MenuAction[] = [];
  const stored = message.id !== null;
  const shown = message.state === 'visible' || message.state === 'pending' || message.state === 'held';
  if (stored && message.state === 'visible') actions.push('reply');
  if (message.body && (message.kind === 'text' || message.kind === 'action' || message.kind === 'ooc') && shown) actions.push('copy');
  if (message.mine && stored && shown && now - Date.parse(message.createdAt) < RECALL_WINDOW_MS) actions.push('recall');
  if (!message.mine && stored && message.state === 'visible') actions.push('report');
  return actions;
}

const MENU_LABELS: Record<MenuAction, MessageId> = { reply: 'menuReply', copy: 'menuCopy', recall: 'menuRecall', report: 'menuReport' };

/** The first line of a message, as a reply bar or a quote shows it. */
function firstLine(message: ChatMessage): string {
  if (message.kind === 'image') return t('quoteImage');
  return (message.body || '').split('\n')[0].slice(0, 60);
}

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
      'voiceLabel', 'replyCancelLabel',
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
    /** How the next line is said: 对白, 动作 or 场外 (the toggle left of the input). */
    voice: 'text' as Voice,
    voiceText: t('voiceText'),
    /** The message being replied to (0: none), and what the reply bar shows of it. */
    replyTo: 0,
    replyText: '',
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

    /** Leaving for another page or the background: what was on screen counts as read. */
    onHide() {
      const state = pageStates.get(this);
      if (state) state.view.markRead();
    },

    onUnload() {
      const state = pageStates.get(this);
      if (!state) return;
      state.view.markRead();
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

    /** Long-press on a message: what can be done with it, then that. */
    onMenu(event: WechatMiniprogram.CustomEvent<{ key: string }>) {
      const { list } = stateOf(this);
      const message = list.messageOf(event.detail.key);
      if (!message) return;
      const actions = menuActions(message, Date.now());
      if (!actions.length) return;
      wx.showActionSheet({
        itemList: actions.map((action) => t(MENU_LABELS[action])),
        success: (result) => void this.runMenu(actions[result.tapIndex], message),
      });
    },

    async runMenu(action: MenuAction, message: ChatMessage) {
      const { view } = stateOf(this);
      switch (action) {
        case 'reply':
          this.setData({ replyTo: message.id as number, replyText: t('replyingTo', { name: message.username, text: firstLine(message) }) });
          return;
        case 'copy':
          wx.setClipboardData({ data: message.body || '' });
          return;
        case 'recall': {
          const problem = await view.recall(message.key);
          if (problem) toast(problem);
          return;
        }
        case 'report':
          wx.showActionSheet({
            itemList: REPORT_REASONS.map(([, label]) => t(label)),
            success: async (result) => {
              const problem = await view.report(message.key, REPORT_REASONS[result.tapIndex][0]);
              toast(problem || t('reported'));
            },
          });
          return;
      }
    },

    onCancelReply() {
      this.setData({ replyTo: 0, replyText: '' });
    },

    /** A reply's quote: the replied message, loading older pages until it is there. */
    async onQuote(event: WechatMiniprogram.CustomEvent<{ id: number }>) {
      const { view, list } = stateOf(this);
      const found = (await view.loadUntil(event.detail.id)) && list.reveal(event.detail.id);
      if (!found) toast(t('quoteNotFound'));
    },

    onVoice() {
      const voice = VOICES[(VOICES.indexOf(this.data.voice) + 1) % VOICES.length];
      this.setData({ voice, voiceText: t(VOICE_LABELS[voice]) });
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
      if (!stateOf(this).view.sendText(text, { voice: this.data.voice, replyTo: this.data.replyTo || null })) return;
      this.setData({ draft: '', canSend: false, replyTo: 0, replyText: '' });
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
