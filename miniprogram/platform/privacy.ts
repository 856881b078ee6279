// The PrivacyGate over WeChat's privacy APIs (base library ≥ 2.32.3,
// developers.weixin.qq.com/miniprogram/dev/api/open-api/privacy/): WeChat's requests go to the
// core's ConsentRequests, the sheet's answers back to WeChat. On an older base library the APIs
// are missing and WeChat enforces nothing, so the gate asks nothing and reports itself unsupported.
import { ConsentRequests, type PrivacyGate, type PrivacyResolve } from '../core/privacy';

/** The listener's real shape; the typings declare it as taking a GeneralCallbackResult. */
type NeedPrivacyListener = (resolve: PrivacyResolve) => void;

export function createPrivacyGate(): PrivacyGate {
  const supported = typeof wx.onNeedPrivacyAuthorization === 'function';
  const requests = new ConsentRequests();
  // Registered once, before any privacy API can run: a later registration replaces it.
  const listener: NeedPrivacyListener = (resolve) => requests.request(resolve);
  if (supported) wx.onNeedPrivacyAuthorization(listener as unknown as WechatMiniprogram.OnNeedPrivacyAuthorizationCallback);
  return {
    supported,
    present: (sheet) => requests.present(sheet),
    agree: (buttonId) => requests.agree(buttonId),
    disagree: () => requests.disagree(),
    openContract: () =>
      supported
        ? new Promise((resolve) => wx.openPrivacyContract({ success: () => resolve(true), fail: () => resolve(false) }))
        : Promise.resolve(false),
    setting: () =>
      supported
        ? new Promise((resolve) =>
            wx.getPrivacySetting({
              success: (result) => resolve({ needed: result.needAuthorization, contractName: result.privacyContractName }),
              fail: () => resolve(null),
            }),
          )
        : Promise.resolve(null),
    ask: () =>
      supported
        ? new Promise((resolve) => wx.requirePrivacyAuthorize({ success: () => resolve(true), fail: () => resolve(false) }))
        : Promise.resolve(true),
  };
}
