// The person's characters: tap one to speak as it, edit or delete one, add one (up to 10). Who
// speaks is remembered on this device; the list is read again each time the page shows, so a
// character content security has just passed loses its notice.
import type { Character } from '../../core/characters';
import { pickTexts, t } from '../../core/strings';
import { initialOf } from '../../core/profile';
import { CHARACTERS_MAX } from '../../core/rules';
import { characterEditorPath } from '../../core/scene-links';
import { verdictText } from '../../core/verdicts';
import { getServices } from '../../services';

function toast(title: string): void {
  wx.showToast({ title, icon: 'none', duration: 2500 });
}

type IdEvent = WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { id: number }>;

Component({
  data: {
    t: pickTexts('loadErrorRetry', 'speakingTag', 'noteEmpty', 'edit', 'delete', 'addCharacter'),
    characters: [] as Array<Record<string, unknown>>,
    countText: '',
    full: false,
    fullText: t('characterLimit', { max: CHARACTERS_MAX }),
    loadError: '',
  },
  methods: {
    onLoad() {
      wx.setNavigationBarTitle({ title: t('charactersTitle') });
    },

    async onShow() {
      try {
        await getServices().characters.load();
        this.setData({ loadError: '' });
      } catch (error) {
        console.warn('characters not loaded', error);
        this.setData({ loadError: t('charactersLoadFailed') });
      }
      this.render();
    },

    onReload() {
      return this.onShow();
    },

    render() {
      const { characters } = getServices();
      const speaking = characters.speaking();
      const list = characters.list();
      this.setData({
        characters: list.map((character: Character) => ({
          id: character.id,
          name: character.name,
          initial: initialOf(character.name),
          color: character.color,
          portrait: character.portraitUrl,
          note: character.note,
          verdict: verdictText(character.status, character.label),
          status: character.status,
          speaking: !!speaking && speaking.id === character.id,
          speakLabel: t('speakAsLabel', { name: character.name }),
        })),
        countText: t('charactersCount', { count: list.length, max: CHARACTERS_MAX }),
        full: list.length >= CHARACTERS_MAX,
      });
    },

    async onSpeak(event: IdEvent) {
      const problem = await getServices().characters.select(event.currentTarget.dataset.id);
      if (problem) toast(problem);
      this.render();
    },

    onEdit(event: IdEvent) {
      wx.navigateTo({ url: characterEditorPath({ id: event.currentTarget.dataset.id }) });
    },

    onDelete(event: IdEvent) {
      const { characters } = getServices();
      const character = characters.list().find((each) => each.id === event.currentTarget.dataset.id);
      if (!character) return;
      wx.showModal({
        title: t('deleteConfirmTitle'),
        content: t('deleteConfirm', { name: character.name }),
        confirmText: t('delete'),
        confirmColor: '#e64340',
        success: async ({ confirm }) => {
          if (!confirm) return;
          const problem = await characters.remove(character.id);
          if (problem) toast(problem);
          this.render();
        },
      });
    },

    onAdd() {
      if (this.data.full) return;
      wx.navigateTo({ url: characterEditorPath() });
    },
  },
});
