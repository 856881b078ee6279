// The scene list, the first page: the lobby and the scenes people opened, newest activity first,
// each with its last message, the person's unread count and how many people are in it now. One
// request per page (pull down for the first page again, scroll down for the next); presence
// changes are path-keyed setData of the rows they change. First launch goes to the character
// editor before anything else.
import { pickTexts, t } from '../../core/strings';
import type { PresenceCounts } from '../../core/presence-directory';
import { initialOf } from '../../core/profile';
import { characterEditorPath, CHARACTERS_PAGE, roomPath, sceneSettingsPath, shareApp, shareScene } from '../../core/scene-links';
import { pageStates } from '../../page-state';
import { getServices, type Services } from '../../services';
import { hereText, sceneItem, type SceneItem } from './format';

/** The bottom of the list: nothing ('' ), loading the next page, the end, or a failed page (tap retries). */
type More = '' | 'loading' | 'end' | 'failed';

const MORE_TEXTS: Record<Exclude<More, ''>, () => string> = {
  loading: () => t('scenesLoadingMore'),
  end: () => t('scenesEnd'),
  failed: () => t('scenesMoreFailed'),
};

interface ListState {
  services: Services;
  stopWatching: () => void;
  /** The first page has been asked for: later shows refresh it. */
  started: boolean;
}

const states = pageStates<ListState>('the scene list');

type IndexEvent = WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { index: number }>;

Component({
  data: {
    t: pickTexts('myCharacters', 'openScene', 'scenesLoading', 'loadErrorRetry', 'shareScene', 'sceneSettings', 'cancel'),
    meName: '',
    meLabel: '',
    meInitial: '',
    meColor: '',
    mePortrait: '',
    scenes: [] as SceneItem[],
    loadError: '',
    more: '' as More,
    moreText: '',
    /** The long-press sheet of one scene; null when closed. */
    menu: null as { slug: string; title: string; isHost: boolean } | null,
  },
  methods: {
    async onLoad() {
      wx.setNavigationBarTitle({ title: t('scenesTitle') });
      wx.showShareMenu({ menus: ['shareAppMessage', 'shareTimeline'] });
      const services = getServices();
      states.set(this, { services, stopWatching: () => undefined, started: false });
      await this.start();
    },

    /** Who speaks (creating the first character if there is none), then the list and who is here. */
    async start() {
      const state = states.of(this);
      const { characters, presence } = state.services;
      try {
        await characters.load();
      } catch (error) {
        console.warn('characters not loaded', error);
        this.setData({ loadError: t('scenesLoadFailed') });
        return;
      }
      if (characters.list().length === 0) {
        wx.redirectTo({ url: characterEditorPath({ first: true }) });
        return;
      }
      this.showMe();
      state.stopWatching();
      state.stopWatching = presence.watch((counts) => this.showPresence(counts));
      state.started = true;
      await this.refresh();
    },

    /** Back from a scene, the editor or the character list: new unread counts, maybe a new speaker. */
    async onShow() {
      const state = states.find(this);
      if (!state?.started) return;
      this.showMe();
      await this.refresh();
    },

    onUnload() {
      const state = states.find(this);
      if (state) state.stopWatching();
      states.delete(this);
    },

    onReload() {
      this.setData({ loadError: '' });
      const state = states.of(this);
      return state.started ? this.refresh() : this.start();
    },

    async onPullDownRefresh() {
      await this.refresh();
      wx.stopPullDownRefresh();
    },

    onReachBottom() {
      return this.loadMore();
    },

    async onMore() {
      if (this.data.more === 'failed') await this.loadMore();
    },

    showMe() {
      const speaking = states.of(this).services.characters.speaking();
      if (!speaking) return;
      this.setData({
        meName: speaking.name,
        meLabel: t('myCharactersLabel', { name: speaking.name }),
        meInitial: initialOf(speaking.name),
        meColor: speaking.color,
        mePortrait: speaking.portraitUrl,
      });
    },

    items(): SceneItem[] {
      const { scenes, presence } = states.of(this).services;
      const now = new Date();
      return scenes.list().map((scene) => sceneItem(scene, presence.count(scene.id), now));
    },

    showMore(more: More) {
      this.setData({ more, moreText: more ? MORE_TEXTS[more]() : '' });
    },

    async refresh() {
      const { scenes } = states.of(this).services;
      try {
        await scenes.refresh();
      } catch (error) {
        console.warn('scene list not loaded', error);
        // With scenes on screen they stay; the reason replaces an empty list.
        if (this.data.scenes.length === 0) this.setData({ loadError: t('scenesLoadFailed') });
        else wx.showToast({ title: t('scenesLoadFailed'), icon: 'none', duration: 2500 });
        return;
      }
      this.setData({ scenes: this.items(), loadError: '' });
      this.showMore(scenes.hasMore ? '' : 'end');
    },

    async loadMore() {
      const { scenes } = states.of(this).services;
      if (!scenes.hasMore || this.data.more === 'loading' || this.data.scenes.length === 0) return;
      this.showMore('loading');
      try {
        await scenes.loadMore();
      } catch (error) {
        console.warn('next page of scenes not loaded', error);
        this.showMore('failed');
        return;
      }
      // Only the rows past the ones on screen travel to the view.
      const rows: Record<string, SceneItem> = {};
      const items = this.items();
      for (let index = this.data.scenes.length; index < items.length; index++) rows[`scenes[${index}]`] = items[index];
      this.setData(rows);
      this.showMore(scenes.hasMore ? '' : 'end');
    },

    /** Who is here changed: only the rows whose count changed are sent, each by its path. */
    showPresence(counts: PresenceCounts) {
      const changes: Record<string, string> = {};
      this.data.scenes.forEach((scene, index) => {
        const here = hereText(counts.get(scene.id) || 0);
        if (here !== scene.here) changes[`scenes[${index}].here`] = here;
      });
      if (Object.keys(changes).length > 0) this.setData(changes);
    },

    onEnter(event: IndexEvent) {
      const scene = this.data.scenes[event.currentTarget.dataset.index];
      if (scene) wx.navigateTo({ url: roomPath(scene.slug) });
    },

    onSceneMenu(event: IndexEvent) {
      const scene = states.of(this).services.scenes.list()[event.currentTarget.dataset.index];
      if (scene) this.setData({ menu: { slug: scene.slug, title: scene.title, isHost: scene.isHost } });
    },

    onCloseMenu() {
      this.setData({ menu: null });
    },

    /** A tap inside the sheet stays there (catchtap), so only the mask closes it. */
    onKeepMenu() {},

    onSceneSettings() {
      const { menu } = this.data;
      this.setData({ menu: null });
      if (menu) wx.navigateTo({ url: sceneSettingsPath(menu.slug) });
    },

    onCharacters() {
      wx.navigateTo({ url: CHARACTERS_PAGE });
    },

    onOpenScene() {
      wx.navigateTo({ url: sceneSettingsPath() });
    },

    /** 转发: a scene's card from its sheet, else the list itself. */
    onShareAppMessage(options: WechatMiniprogram.Page.IShareAppMessageOption) {
      const slug =
        options.from === 'button' && options.target ? (options.target as { dataset: { slug?: string } }).dataset.slug : undefined;
      const scene =
        slug &&
        states
          .of(this)
          .services.scenes.list()
          .find((each) => each.slug === slug);
      if (this.data.menu) this.setData({ menu: null });
      return scene ? shareScene(scene) : shareApp();
    },

    onShareTimeline() {
      return { title: t('shareAppTitle') };
    },
  },
});
