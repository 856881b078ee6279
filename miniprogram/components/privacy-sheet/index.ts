// The app's own consent sheet for WeChat's privacy rules. While a privacy API waits for consent,
// the newest sheet on screen shows (core/privacy.ts ConsentRequests); the agree control is WeChat's
// `<button open-type="agreePrivacyAuthorization">`, whose tap WeChat itself records before the app
// answers agree naming it (developers.weixin.qq.com/miniprogram/dev/api/open-api/privacy/
// wx.onNeedPrivacyAuthorization.html). On the policy page the sheet sits under the text instead of
// over it. On base libraries without the privacy APIs it never shows.
import { pickTexts, t } from '../../core/strings';
import { AGREE_BUTTON_ID, type PrivacyGate } from '../../core/privacy';
import { PRIVACY_PAGE } from '../../core/scene-links';
import { getSafetyServices } from '../../services';

/** Each attached sheet's removal from the gate (kept off `data`, which goes to the view). */
const releases = new WeakMap<object, () => void>();

Component({
  properties: {
    /** On the policy page: under the text rather than over the page, without a link to that page. */
    inline: { type: Boolean, value: false },
  },
  data: {
    t: pickTexts('privacySheetTitle', 'privacySheetBody', 'privacyLink', 'privacySheetDisagree', 'privacySheetAgree'),
    agreeButtonId: AGREE_BUTTON_ID,
    visible: false,
    contract: t('privacySheetContract'),
    inlineText: '',
  },
  lifetimes: {
    attached() {
      const gate = getSafetyServices().privacy;
      if (!gate.supported) return;
      releases.set(this, gate.present({ show: () => this.show(gate), hide: () => this.setData({ visible: false }) }));
    },
    detached() {
      const release = releases.get(this);
      if (release) release();
      releases.delete(this);
    },
  },
  methods: {
    async show(gate: PrivacyGate) {
      this.setData({ visible: true });
      // The guide's own name, as the mini program's admin settings give it.
      const setting = await gate.setting();
      const contract = setting?.contractName || t('privacySheetContract');
      this.setData({ contract, inlineText: t('privacySheetInline', { contract }) });
    },

    /** WeChat has recorded the tap on its agree button; the waiting calls continue. */
    onAgree() {
      getSafetyServices().privacy.agree(AGREE_BUTTON_ID);
    },

    onDisagree() {
      getSafetyServices().privacy.disagree();
    },

    /** WeChat's own page of the guide; the app's policy page where WeChat cannot open it. */
    async onOpenContract() {
      if (!(await getSafetyServices().privacy.openContract())) wx.navigateTo({ url: PRIVACY_PAGE });
    },

    onOpenPolicy() {
      wx.navigateTo({ url: PRIVACY_PAGE });
    },

    /** The overlay keeps the page behind it from scrolling: the sheet waits for an answer. */
    onHoldPage() {
      return false;
    },
  },
});
