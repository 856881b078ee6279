// Copying text (a moderator copies a person's openid). WeChat shows its own 内容已复制 toast on
// success (developers.weixin.qq.com/miniprogram/dev/api/device/clipboard/wx.setClipboardData.html),
// so the app says nothing then; the clipboard is a privacy API (剪切板) and may be refused.
import { wxFailure } from './wx-failure';

export function copyText(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    wx.setClipboardData({ data: text, success: () => resolve(), fail: (error) => reject(wxFailure(error, 'clipboard_failed')) });
  });
}
