// wx.login: the single-use code (valid 5 minutes) the backend exchanges for the person's openid.
import { BackendFailure } from '../core/ports';
import { wxFailure } from './wx-failure';

const LOGIN_TIMEOUT_MS = 10000;

export function wxLoginCode(): Promise<string> {
  return new Promise((resolve, reject) => {
    wx.login({
      timeout: LOGIN_TIMEOUT_MS,
      success: (result) => {
        if (result.code) resolve(result.code);
        else reject(new BackendFailure(0, 'wx_login_failed', `wx.login gave no code: ${result.errMsg}`));
      },
      // Usually no network; the session's connect loop retries with a fresh call. A privacy refusal
      // gets its own code: no retry may ask the person again behind their back.
      fail: (error) => reject(wxFailure(error, 'wx_login_failed')),
    });
  });
}
