// A link to 用户协议与隐私政策, for the first screen and the room's empty state: WeChat's review
// expects the policy to be reachable before anything is collected.
import { pickTexts } from '../../core/strings';
import { PRIVACY_PAGE } from '../../core/scene-links';

Component({
  data: { t: pickTexts('privacyLink') },
  methods: {
    onTap() {
      wx.navigateTo({ url: PRIVACY_PAGE });
    },
  },
});
