// A scene's room. The page holds only render data: the core's RoomView owns the messages and the
// scene and sends patches, MessageWindow turns each message patch into one small path-keyed
// setData. Around the list: who is here (presence), who is typing, the host's 公告, the speaking
// character, and the long-press menu.
import type { CharacterCard, SpeakingCharacter } from '../../core/characters';
import { featureProblem } from '../../core/failures';
import { connectionText, pickTexts, t, type MessageId } from '../../core/strings';
import { initialOf } from '../../core/profile';
import { TEXT_MAX, checkText } from '../../core/rules';
import {
  BLOCKED_PAGE,
  CHARACTERS_PAGE,
  MANAGE_PAGE,
  PRIVACY_PAGE,
  characterEditorPath,
  roomPath,
  sceneSettingsPath,
  sceneSlugOf,
  shareApp,
  shareScene,
  shareSceneToTimeline,
  type PageQuery,
} from '../../core/scene-links';
import type { ChatMessage, ConnectionState, ReportReason, RoomPatch, RoomView, SceneState, Voice } from '../../core/types';
import type { Typing } from '../../core/typing';
import { getSafetyServices, getServices, type SafetyServices, type Services } from '../../services';
import { MessageWindow } from './message-window';

/** Distance from the bottom, in px, within which the reader counts as following new messages. */
const FOLLOW_DISTANCE = 80;
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

type MenuAction = 'reply' | 'copy' | 'pin' | 'unpin' | 'recall' | 'report' | 'block';

/** What the long-press menu offers for a message, in order; the host may also pin it as 公告. */
function menuActions(message: ChatMessage, now: number, scene: SceneState | null): MenuAction[] {
  const actions: MenuAction[] = [];
  const stored = message.id !== null;
  const visible = stored && message.state === 'visible';
  const shown = message.state === 'visible' || message.state === 'pending' || message.state === 'held';
  const pinned = !!scene && !!scene.pinned && scene.pinned.id === message.id;
  if (visible) actions.push('reply');
  if (message.body && (message.kind === 'text' || message.kind === 'action' || message.kind === 'ooc') && shown) actions.push('copy');
  if (scene?.isHost && !scene.archived && visible) actions.push(pinned ? 'unpin' : 'pin');
  if (message.mine && stored && shown && now - Date.parse(message.createdAt) < RECALL_WINDOW_MS) actions.push('recall');
  if (!message.mine && visible) actions.push('report');
  if (!message.mine && stored) actions.push('block');
  return actions;
}

const MENU_LABELS: Record<MenuAction, MessageId> = {
  reply: 'menuReply',
  copy: 'menuCopy',
  pin: 'menuPin',
  unpin: 'menuUnpin',
  recall: 'menuRecall',
  report: 'menuReport',
  block: 'menuBlock',
};

/** The 更多 sheet: the host's settings and the moderators' 管理 only for them. */
type MoreAction = 'settings' | 'manage' | 'blocked' | 'privacy';
const MORE_LABELS: Record<MoreAction, MessageId> = {
  settings: 'sceneSettings',
  manage: 'manageTitle',
  blocked: 'blockedTitle',
  privacy: 'privacyLink',
};

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
  /** Who speaks now (the header's chip; what presence and typing show of us). */
  speaker: SpeakingCharacter;
  /** The scene as the core last showed it; null until it is known. */
  scene: SceneState | null;
  typing: Typing | null;
  isModerator: boolean;
  /** Taken at load like `services`: the block list and clipboard of this page's person. */
  safety: SafetyServices;
  stop: Array<() => void>;
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
      'connectionRetry',
      'connectionRetryLabel',
      'changeRole',
      'loadingOlder',
      'noOlder',
      'loadErrorRetry',
      'loadingRoom',
      'emptyRoom',
      'newMessagesLabel',
      'sendImageLabel',
      'composerPlaceholder',
      'composerLabel',
      'send',
      'sendLabel',
      'voiceLabel',
      'replyCancelLabel',
      'pinnedLabel',
      'more',
      'moreLabel',
      'presenceTitle',
      'presenceEmpty',
      'sceneArchivedNote',
      'cardClose',
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
    /** Read-only scene: a note replaces the composer. */
    archived: false,
    /** The 公告: its id (0: none) and the line the bar shows. */
    pinnedId: 0,
    pinnedText: '',
    pinnedLabel: '',
    hereText: '',
    hereLabel: '',
    typingText: '',
    /** The list of who is here, open over the page. */
    presenceOpen: false,
    people: [] as Array<{ key: string; name: string; color: string; initial: string }>,
    /** The character card open over the page (null: none). */
    card: null as CharacterCard | null,
  },
  methods: {
    /** `scene` in the query (a list tap or a shared card) names the scene; none is the lobby. */
    async onLoad(query: PageQuery) {
      const services = getServices();
      const slug = sceneSlugOf(query || {});
      if (!services.characters.loaded) await services.characters.load().catch(() => undefined);
      const speaker = services.characters.current();
      if (!speaker) {
        // First launch, or a shared card opened before any character: make one, then come back here.
        wx.redirectTo({ url: characterEditorPath({ first: true, next: roomPath(slug) }) });
        return;
      }
      wx.showShareMenu({ menus: ['shareAppMessage', 'shareTimeline'] });
      const view = services.room(slug);
      const list = new MessageWindow({ setData: (data, callback) => this.setData(data, callback) });
      const safety = getSafetyServices();
      const state: RoomPageState = {
        services,
        view,
        list,
        speaker,
        scene: null,
        typing: null,
        isModerator: false,
        safety,
        stop: [
          view.onPatch((patch) => this.applyPatch(patch)),
          services.presence.watch(() => this.showHere()),
          // Blocked here or on the 屏蔽名单 page: their messages leave this list at once.
          safety.blocks.onChange((change) => change.type === 'blocked' && view.forgetAuthor(change.userId)),
        ],
        viewportHeight: wx.getWindowInfo().windowHeight,
      };
      pageStates.set(this, state);
      this.showSpeaker(speaker);
      this.measureViewport();
      safety
        .desk()
        .isModerator()
        .then((yes) => {
          state.isModerator = yes;
        });
      await this.startRoom();
    },

    /** Back from the characters page: the chip, presence and typing name who speaks now. */
    onShow() {
      const state = pageStates.get(this);
      if (!state) return;
      state.list.refreshDays();
      const speaker = state.services.characters.current();
      if (
        !speaker ||
        (speaker.characterId === state.speaker.characterId && speaker.name === state.speaker.name && speaker.color === state.speaker.color)
      )
        return;
      state.speaker = speaker;
      this.showSpeaker(speaker);
      if (state.scene) state.services.presence.enter(state.scene.id, speaker);
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
      for (const stop of state.stop) stop();
      if (state.typing) state.typing.stop();
      if (state.scene) state.services.presence.leave(state.scene.id);
      state.view.stop();
      pageStates.delete(this);
    },

    /** 转发: the card opens this scene directly (after login). */
    onShareAppMessage() {
      const state = pageStates.get(this);
      return state?.scene ? shareScene(state.scene) : shareApp();
    },

    /** 分享到朋友圈: the same page with the scene in its query. */
    onShareTimeline() {
      const state = pageStates.get(this);
      return state?.scene ? shareSceneToTimeline(state.scene) : { title: shareApp().title, query: '' };
    },

    showSpeaker(speaker: SpeakingCharacter) {
      this.setData({
        roleName: speaker.name,
        roleLabel: t('myCharactersLabel', { name: speaker.name }),
        roleColor: speaker.color,
        roleInitial: initialOf(speaker.name),
      });
    },

    /** The scene's title, 公告 and archive as the core shows them; the first one enters the scene. */
    showScene(scene: SceneState) {
      const state = stateOf(this);
      if (!state.scene) {
        state.services.presence.enter(scene.id, state.speaker);
        state.typing = state.services.typing(scene.id, (typingText) => this.setData({ typingText }));
      }
      state.scene = scene;
      wx.setNavigationBarTitle({ title: scene.title });
      const pinned = scene.pinned;
      const pinnedText = pinned ? `${pinned.username}：${firstLine(pinned)}` : '';
      this.setData({
        archived: scene.archived,
        pinnedId: pinned && pinned.id !== null ? pinned.id : 0,
        pinnedText,
        pinnedLabel: pinned ? t('pinnedTapLabel', { text: pinnedText }) : '',
      });
      this.showHere();
    },

    /** The header's count: one per person in this scene, whatever their devices. */
    showHere() {
      const state = pageStates.get(this);
      if (!state?.scene) return;
      const count = state.services.presence.count(state.scene.id);
      const hereText = count > 0 ? t('herePeople', { count }) : '';
      if (hereText !== this.data.hereText) this.setData({ hereText, hereLabel: t('presenceLabel', { count }) });
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
          this.heardFrom(patch.messages);
          return list.append(patch.messages);
        case 'insert':
          this.heardFrom([patch.message]);
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
        case 'scene':
          return this.showScene(patch.scene);
        case 'error':
          // With nothing on screen the reason replaces the list; otherwise a toast is enough.
          if (list.size === 0) this.setData({ loadError: patch.message });
          console.warn(patch.message, patch.detail);
          return toast(patch.message);
      }
    },

    /** Someone's message arrived: they are no longer typing it. */
    heardFrom(messages: ChatMessage[]) {
      const { typing } = stateOf(this);
      if (typing) for (const message of messages) if (!message.mine) typing.spoke(message.userId);
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
      const { list, scene } = stateOf(this);
      const message = list.messageOf(event.detail.key);
      if (!message) return;
      const actions = menuActions(message, Date.now(), scene);
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
          // Through the privacy gate: without consent WeChat refuses, and the sentence says what to do.
          stateOf(this)
            .safety.copyText(message.body || '')
            .catch((error) => toast(featureProblem('clipboard', error)));
          return;
        case 'pin':
        case 'unpin': {
          const problem = await view.pin(action === 'pin' ? message.key : null);
          if (problem) toast(problem);
          else if (action === 'pin') toast(t('pinned'));
          return;
        }
        case 'block':
          wx.showModal({
            title: t('blockConfirmTitle', { name: message.username }),
            content: t('blockConfirm'),
            success: async (answer) => {
              if (!answer.confirm) return;
              // The list drops their messages through blocks.onChange (see onLoad).
              toast((await stateOf(this).safety.blocks.block(message.userId, message.username)).message);
            },
          });
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
    onQuote(event: WechatMiniprogram.CustomEvent<{ id: number }>) {
      return this.showMessage(event.detail.id);
    },

    /** The 公告 bar: the pinned message, as a quote shows its message. */
    onPinned() {
      if (this.data.pinnedId) void this.showMessage(this.data.pinnedId);
    },

    /** Scrolls to a message, loading older pages until it is in the list. */
    async showMessage(id: number) {
      const { view, list } = stateOf(this);
      const found = (await view.loadUntil(id)) && list.reveal(id);
      if (!found) toast(t('quoteNotFound'));
    },

    onPresence() {
      const { services, scene } = stateOf(this);
      if (!scene) return;
      const people = services.presence.people(scene.id).map((person) => ({ ...person, initial: initialOf(person.name) }));
      this.setData({ presenceOpen: true, people });
    },

    onClosePresence() {
      this.setData({ presenceOpen: false, people: [] });
    },

    /** Taps inside a sheet stay there (catchtap), so only the mask closes it. */
    onKeep() {},

    /** An avatar or an action's name: that character's card (the message's snapshot if it is gone). */
    async onCard(event: WechatMiniprogram.CustomEvent<{ key: string }>) {
      const { services, list } = stateOf(this);
      const message = list.messageOf(event.detail.key);
      if (!message) return;
      const found = message.characterId !== null ? await services.characters.characterCard(message.characterId).catch(() => null) : null;
      const snapshot: CharacterCard = {
        id: 0,
        name: message.username,
        color: message.avatarColor,
        initial: initialOf(message.username),
        portraitUrl: '',
        note: '',
        verdict: '',
      };
      this.setData({ card: found || snapshot });
    },

    onCloseCard() {
      this.setData({ card: null });
    },

    /** 更多: scene settings for the host, 管理 for moderators, the block list and the policy for all. */
    onMore() {
      const state = stateOf(this);
      const actions: MoreAction[] = [];
      if (state.scene?.isHost) actions.push('settings');
      if (state.isModerator) actions.push('manage');
      actions.push('blocked', 'privacy');
      wx.showActionSheet({
        itemList: actions.map((action) => t(MORE_LABELS[action])),
        success: (result) => {
          const action = actions[result.tapIndex];
          const scene = state.scene;
          const url =
            action === 'settings' && scene
              ? sceneSettingsPath(scene.slug)
              : action === 'manage'
                ? MANAGE_PAGE
                : action === 'blocked'
                  ? BLOCKED_PAGE
                  : PRIVACY_PAGE;
          wx.navigateTo({ url });
        },
      });
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

    /** The chip: the person's characters, where a tap picks who speaks. */
    onChangeRole() {
      wx.navigateTo({ url: CHARACTERS_PAGE });
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
      const { typing, speaker } = stateOf(this);
      if (typing && draft.trim()) typing.typed(speaker.name);
    },

    onSend() {
      const text = this.data.draft.trim();
      const problem = checkText(text);
      if (problem === 'too_long') return toast(t('textTooLong', { max: TEXT_MAX }));
      if (problem) return;
      const { view, typing } = stateOf(this);
      if (!view.sendText(text, { voice: this.data.voice, replyTo: this.data.replyTo || null })) return;
      if (typing) typing.sent();
      this.setData({ draft: '', canSend: false, replyTo: 0, replyText: '' });
    },

    async onPickImage() {
      try {
        const image = await stateOf(this).services.pickImage();
        if (image) stateOf(this).view.sendImage(image);
      } catch (error) {
        console.warn('picking an image failed', error);
        toast(featureProblem('image', error));
      }
    },
  },
});
