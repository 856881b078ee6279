// 用户协议与隐私政策: what the chat room collects and why, where it is kept and for how long,
// the rules, reports and bans, recall, block and deletion, minors and how to reach the operator.
// Under the text: whether the person has agreed to the mini program's 隐私保护指引 in WeChat, and a
// way to agree (the consent sheet, inline) or to read WeChat's own page of the guide.
import { OPERATOR } from '../../config';
import { pickTexts, t, type MessageId } from '../../core/strings';
import { BLOCKED_PAGE } from '../../core/scene-links';
import { getSafetyServices } from '../../services';

/** Each section: its title and paragraphs, in reading order. */
const SECTIONS: Array<[MessageId, MessageId[]]> = [
  ['privacyCollectTitle', ['privacyCollectIdentity', 'privacyCollectContent', 'privacyCollectReports', 'privacyCollectDevice']],
  ['privacyUseTitle', ['privacyUseService', 'privacyUseSecurity', 'privacyUseModeration']],
  ['privacyStoreTitle', ['privacyStoreWhere', 'privacyStoreHowLong']],
  ['privacyRulesTitle', ['privacyRulesContent', 'privacyRulesReport']],
  ['privacyRightsTitle', ['privacyRightsRecall', 'privacyRightsBlock', 'privacyRightsDelete']],
  ['privacyMinorsTitle', ['privacyMinors']],
  ['privacyThirdTitle', ['privacyThird']],
  ['privacyContactTitle', ['privacyContact']],
];

Component({
  data: {
    t: pickTexts('privacyConsentAsk', 'privacyOpenContract', 'privacyBlockedLink'),
    intro: '',
    sections: [] as Array<{ title: string; paragraphs: string[] }>,
    /** WeChat's record of consent is known (base library ≥ 2.32.3). */
    consentKnown: false,
    consentNeeded: false,
    consentText: '',
  },
  methods: {
    async onLoad() {
      wx.setNavigationBarTitle({ title: t('privacyTitle') });
      const params = { operator: OPERATOR.name, region: OPERATOR.dataRegion, contact: OPERATOR.contact };
      this.setData({
        intro: t('privacyIntro', params),
        sections: SECTIONS.map(([title, paragraphs]) => ({ title: t(title), paragraphs: paragraphs.map((id) => t(id, params)) })),
      });
      await this.showConsent();
    },

    async showConsent() {
      const setting = await getSafetyServices().privacy.setting();
      if (!setting) return;
      const contract = setting.contractName || t('privacySheetContract');
      this.setData({
        consentKnown: true,
        consentNeeded: setting.needed,
        consentText: t(setting.needed ? 'privacyConsentNeeded' : 'privacyConsentGiven', { contract }),
      });
    },

    /** Asks WeChat for consent now: the sheet under the text shows, and the answer updates the line. */
    async onAsk() {
      await getSafetyServices().privacy.ask();
      await this.showConsent();
    },

    async onOpenContract() {
      await getSafetyServices().privacy.openContract();
    },

    onOpenBlocked() {
      wx.navigateTo({ url: BLOCKED_PAGE });
    },
  },
});
