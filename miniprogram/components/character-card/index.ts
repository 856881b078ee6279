// A character's card (人设卡), over the page: portrait or initial on the character's colour, the
// name and the 人设 note. The room shows it when someone taps an avatar, with the CharacterCard
// from characters.characterCard(id); a tap outside the card or on 关闭 fires `close`.
import { pickTexts } from '../../core/strings';

Component({
  properties: {
    /** The CharacterCard to show; null hides the card. */
    card: { type: Object, value: null as unknown as Record<string, unknown> },
  },
  data: {
    t: pickTexts('noteLabel', 'noteEmpty', 'cardClose'),
  },
  methods: {
    onClose() {
      this.triggerEvent('close');
    },
    /** Taps on the card itself stay there (catchtap), so only the mask and 关闭 close it. */
    onKeep() {},
  },
});
