// wx.login: the single-use code (valid 5 minutes) the backend exchanges for the person's openid.
import { BackendFailure } from '../core/ports';

const LOGIN_TIMEOUT_MS = 10000;

export function wxLoginCode(): Promise<string> {
  return new Promise((resolve, reject) => {
    wx.login({
      timeout: LOGIN_TIMEOUT_MS,
      success: (result) => {
        if (result.code) resolve(result.code);
        else reject(new BackendFailure(0, 'wx_login_failed', `wx.login gave no code: ${result.errMsg}`));
      },
      // Usually no network; the session's connect loop retries with a fresh call.
      fail: (error) => reject(new BackendFailure(0, 'wx_login_failed', error.errMsg)),
    });
  });
}
