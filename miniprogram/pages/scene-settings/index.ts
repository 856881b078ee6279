// A scene's title and 背景: without a `scene` query the form that opens a new scene (the opener
// hosts it; 3 a day), with one the host's settings of that scene (edit, archive, share). The room
// links here with sceneSettingsPath(slug).
import { pickTexts, t } from '../../core/strings';
import { charLength, SCENES_PER_DAY, TITLE_MAX, TOPIC_MAX } from '../../core/rules';
import { roomPath, sceneSlugOf, shareApp, shareScene, type PageQuery } from '../../core/scene-links';
import { sceneDraftProblem, type SceneDetails } from '../../core/scenes';
import { verdictText } from '../../core/verdicts';
import { pageStates } from '../../page-state';
import { getServices } from '../../services';

/** The scene edited; null on the form that opens one. */
const scenes = pageStates<SceneDetails | null>('the scene form');

function toast(title: string): void {
  wx.showToast({ title, icon: 'none', duration: 2500 });
}

Component({
  data: {
    t: pickTexts('sceneTitleLabel', 'sceneTitlePlaceholder', 'sceneTopicLabel', 'sceneTopicPlaceholder', 'shareScene', 'sceneArchive'),
    editing: false,
    isHost: false,
    archived: false,
    title: '',
    topic: '',
    titleCount: '',
    topicCount: '',
    /** Shown once the person typed or tried to save: an empty new form is not an error yet. */
    touched: false,
    problem: '',
    blocked: true,
    saving: false,
    saveText: '',
    verdict: '',
    status: '',
    /** Why the fields cannot be changed (not the host, archived, not found); '' when they can. */
    lockedText: '',
    limitNote: t('sceneLimitNote', { max: SCENES_PER_DAY }),
  },
  methods: {
    async onLoad(query: PageQuery) {
      const editing = !!query.scene;
      wx.setNavigationBarTitle({ title: t(editing ? 'sceneSettings' : 'openScene') });
      scenes.set(this, null);
      this.setData({ editing });
      if (!editing) return this.show({});
      let scene: SceneDetails | null;
      try {
        scene = await getServices().scenes.details(sceneSlugOf(query));
      } catch (error) {
        console.warn('scene not loaded', error);
        this.setData({ lockedText: t('networkFailed') });
        return;
      }
      if (!scene) {
        this.setData({ lockedText: t('sceneNotFound') });
        return;
      }
      scenes.set(this, scene);
      this.setData({
        isHost: scene.isHost,
        archived: scene.archived,
        verdict: scene.isHost ? verdictText(scene.status, scene.label) : '',
        status: scene.status,
        lockedText: !scene.isHost ? t('sceneHostOnly') : scene.archived ? t('sceneArchivedNote') : '',
      });
      this.show({ title: scene.title, topic: scene.topic });
    },

    show(fields: { title?: string; topic?: string; touched?: boolean; saving?: boolean; problem?: string }) {
      const next = { ...this.data, ...fields };
      const problem = fields.problem !== undefined ? fields.problem : sceneDraftProblem(next) || '';
      this.setData({
        ...fields,
        titleCount: t('charCounter', { count: charLength(next.title), max: TITLE_MAX }),
        topicCount: t('charCounter', { count: charLength(next.topic), max: TOPIC_MAX }),
        problem: next.touched ? problem : '',
        blocked: next.saving || !!sceneDraftProblem(next),
        saveText: next.saving ? t('saving') : t(next.editing ? 'sceneSave' : 'sceneOpenSubmit'),
      });
    },

    onTitleInput(event: WechatMiniprogram.Input) {
      this.show({ title: event.detail.value, touched: true });
    },

    onTopicInput(event: WechatMiniprogram.Input) {
      this.show({ topic: event.detail.value, touched: true });
    },

    async onSave() {
      if (this.data.blocked) return this.show({ touched: true });
      const draft = { title: this.data.title, topic: this.data.topic };
      const directory = getServices().scenes;
      const scene = scenes.of(this);
      this.show({ saving: true });
      if (scene) {
        const problem = await directory.update(scene.id, draft);
        this.show({ saving: false, problem: problem || '' });
        if (problem) return;
        toast(t('saved'));
        wx.navigateBack();
        return;
      }
      const opened = await directory.open(draft);
      if (!opened.ok) return this.show({ saving: false, problem: opened.problem });
      this.show({ saving: false });
      wx.redirectTo({ url: roomPath(opened.scene.slug) });
    },

    onArchive() {
      const scene = scenes.of(this);
      if (!scene) return;
      wx.showModal({
        title: t('sceneArchiveConfirmTitle'),
        content: t('sceneArchiveConfirm'),
        confirmText: t('sceneArchive'),
        confirmColor: '#e64340',
        success: async ({ confirm }) => {
          if (!confirm) return;
          const problem = await getServices().scenes.archive(scene.id);
          if (problem) return toast(problem);
          wx.navigateBack();
        },
      });
    },

    /** 转发 from this page: the scene's card, which opens its room after login. */
    onShareAppMessage() {
      const scene = scenes.of(this);
      return scene ? shareScene(scene) : shareApp();
    },
  },
});
