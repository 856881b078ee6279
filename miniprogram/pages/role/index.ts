// The character editor (人设卡): a name (typed or random), an avatar colour, an optional square
// portrait and a 人设 note. First launch lands here to create the person's first character, then
// goes on to where they were going; the character list opens it to add or edit one. After saving,
// a character content security has not passed yet shows its state until the person goes on.
import { draftProblem, type CharacterDraft } from '../../core/characters';
import { pickTexts, t } from '../../core/strings';
import { PALETTE, initialOf, nameProblemMessage, randomProfile, randomName } from '../../core/profile';
import { charLength, checkNote, NOTE_MAX } from '../../core/rules';
import { nextPathOf, type PageQuery } from '../../core/scene-links';
import type { PickedImage } from '../../core/types';
import { verdictText } from '../../core/verdicts';
import { pageStates } from '../../page-state';
import { getServices, type Services } from '../../services';

/** What an editor page holds besides render data. */
interface EditorState {
  services: Services;
  /** The character edited; null for a new one. */
  id: number | null;
  /** The portrait kept from before (null: none, or removed). */
  portraitPath: string | null;
  /** A portrait picked on this page, uploaded on save. */
  picked: PickedImage | null;
  /** Where first launch goes after saving. */
  next: string;
}

const states = pageStates<EditorState>('the character editor');

Component({
  data: {
    t: pickTexts(
      'rolePreviewLabel',
      'rolePreviewSample',
      'roleNameLabel',
      'roleNamePlaceholder',
      'roleRandom',
      'roleRandomLabel',
      'roleColorLabel',
      'roleSaveNote',
      'noteLabel',
      'notePlaceholder',
      'portraitAdd',
      'portraitChange',
      'portraitRemove',
    ),
    firstLaunch: false,
    editing: false,
    name: '',
    initial: '',
    color: '',
    note: '',
    noteCount: '',
    portrait: '',
    problem: '',
    noteProblem: '',
    saveProblem: '',
    saving: false,
    /** Saved, and content security has not passed it yet: the state shows until the person goes on. */
    done: false,
    verdict: '',
    status: '',
    blocked: false,
    saveText: '',
    palette: PALETTE,
    // Whole sentences from the message table: word order is the translation's, not the template's.
    swatchLabels: PALETTE.map((_, index) => t('roleSwatchLabel', { number: index + 1 })),
  },
  methods: {
    async onLoad(query: PageQuery) {
      const services = getServices();
      const id = query.id ? Number(query.id) : null;
      const firstLaunch = query.first === '1';
      wx.setNavigationBarTitle({ title: t(firstLaunch ? 'firstCharacterTitle' : id ? 'editCharacterTitle' : 'addCharacter') });
      states.set(this, { services, id, portraitPath: null, picked: null, next: nextPathOf(query) });
      const { characters } = services;
      // Without the list the editor still works: saving reaches the backend and says what went wrong.
      if (!characters.loaded) await characters.load().catch((error) => console.warn('characters not loaded', error));
      // First launch on a device whose person already has characters (another phone, a reinstall).
      if (firstLaunch && characters.list().length > 0) {
        wx.redirectTo({ url: states.of(this).next });
        return;
      }
      const character = id === null ? undefined : characters.list().find((each) => each.id === id);
      if (character) states.of(this).portraitPath = character.portraitPath;
      const start = character || { ...randomProfile(), note: '', portraitUrl: '', status: 'visible', label: null };
      this.setData({
        firstLaunch,
        editing: !!character,
        color: start.color,
        portrait: start.portraitUrl,
        verdict: verdictText(start.status, start.label),
        status: start.status,
      });
      this.show({ name: start.name, note: start.note });
    },

    /** The fields, their problems and the save button, from what the person typed. */
    show(fields: { name?: string; note?: string; saving?: boolean; done?: boolean; saveProblem?: string }) {
      const next = { ...this.data, ...fields };
      const problem = nameProblemMessage(next.name) || '';
      const noteProblem = checkNote(next.note) ? t('noteTooLong', { max: NOTE_MAX }) : '';
      const saveText = next.saving ? t('saving') : next.done ? t('continue') : next.firstLaunch ? t('roleEnter') : t('roleSave');
      this.setData({
        ...fields,
        initial: initialOf(next.name),
        noteCount: t('charCounter', { count: charLength(next.note), max: NOTE_MAX }),
        problem,
        noteProblem,
        saveText,
        blocked: next.saving || (!next.done && !!(problem || noteProblem)),
      });
    },

    onNameInput(event: WechatMiniprogram.Input) {
      this.show({ name: event.detail.value, done: false, saveProblem: '' });
    },

    onNoteInput(event: WechatMiniprogram.Input) {
      this.show({ note: event.detail.value, done: false, saveProblem: '' });
    },

    onRandom() {
      this.show({ name: randomName(), done: false, saveProblem: '' });
    },

    onPickColor(event: WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { color: string }>) {
      this.setData({ color: event.currentTarget.dataset.color });
      this.show({ done: false });
    },

    async onPickPortrait() {
      const state = states.of(this);
      try {
        const image = await state.services.pickPortrait();
        if (!image) return;
        state.picked = image;
        this.setData({ portrait: image.path });
        this.show({ done: false, saveProblem: '' });
      } catch (error) {
        console.warn('picking a portrait failed', error);
        wx.showToast({ title: t('pickImageFailed'), icon: 'none', duration: 2500 });
      }
    },

    onRemovePortrait() {
      const state = states.of(this);
      state.picked = null;
      state.portraitPath = null;
      this.setData({ portrait: '' });
      this.show({ done: false });
    },

    async onSave() {
      if (this.data.done) return this.goOn();
      if (this.data.blocked) return;
      const state = states.of(this);
      const draft: CharacterDraft = {
        name: this.data.name,
        color: this.data.color,
        note: this.data.note,
        portraitPath: state.portraitPath,
      };
      if (draftProblem(draft)) return;
      this.show({ saving: true, saveProblem: '' });
      const { characters } = state.services;
      const result = await characters.save(state.id, draft, state.picked);
      if (!result.ok) {
        this.show({ saving: false, saveProblem: result.problem });
        return;
      }
      const { character } = result;
      // A new character speaks from now on; it was made to be played.
      if (state.id === null) await characters.select(character.id);
      state.id = character.id;
      state.portraitPath = character.portraitPath;
      state.picked = null;
      const verdict = verdictText(character.status, character.label);
      this.setData({ verdict, status: character.status, editing: true });
      if (!verdict) return this.goOn();
      this.show({ saving: false, done: true });
    },

    goOn() {
      if (this.data.firstLaunch) wx.redirectTo({ url: states.of(this).next });
      else wx.navigateBack();
    },
  },
});
