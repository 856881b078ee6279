// Picks the role the user speaks as: a name (typed or random) and an avatar colour. First launch
// lands here from the room page; later the room header opens it to change role.
import { pickTexts, t } from '../../core/messages';
import { PALETTE, initialOf, nameProblemMessage, randomProfile, randomName } from '../../core/profile';
import { getServices } from '../../services';

const ROOM_PAGE = '/pages/room/index';

Component({
  data: {
    t: pickTexts(
      'rolePreviewLabel', 'rolePreviewSample', 'roleNameLabel', 'roleNamePlaceholder', 'roleRandom', 'roleRandomLabel',
      'roleColorLabel', 'roleEnter', 'roleSave', 'roleSaveNote',
    ),
    firstLaunch: false,
    name: '',
    initial: '',
    color: '',
    problem: '',
    palette: PALETTE,
    // Whole sentences from the message table: word order is the translation's, not the template's.
    swatchLabels: PALETTE.map((_, index) => t('roleSwatchLabel', { number: index + 1 })),
  },
  methods: {
    async onLoad(query: Record<string, string | undefined>) {
      wx.setNavigationBarTitle({ title: t('roleTitle') });
      const saved = await getServices().profiles.load();
      const role = saved || randomProfile();
      this.setData({ firstLaunch: query.first === '1' || !saved, color: role.color });
      this.showName(role.name);
    },

    showName(name: string) {
      this.setData({ name, initial: initialOf(name), problem: nameProblemMessage(name) || '' });
    },

    onNameInput(event: WechatMiniprogram.Input) {
      this.showName(event.detail.value);
    },

    onRandom() {
      this.showName(randomName());
    },

    onPickColor(event: WechatMiniprogram.TouchEvent<{}, {}, { color: string }>) {
      this.setData({ color: event.currentTarget.dataset.color });
    },

    async onSave() {
      const problem = await getServices().profiles.save({ name: this.data.name, color: this.data.color });
      if (problem) {
        this.setData({ problem });
        return;
      }
      if (this.data.firstLaunch) wx.redirectTo({ url: ROOM_PAGE });
      else wx.navigateBack();
    },
  },
});
