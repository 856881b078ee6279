// Sealing a message push the way WeChat does in 安全模式, so the fake's pushes are read by the
// wechat-push function exactly as WeChat's would be (the layout is described in
// supabase/functions/_shared/wechat-push.ts, which opens them).
import { createCipheriv, randomBytes } from 'node:crypto';

const BLOCK = 32;

export function sealPush(message: string, appid: string, encodingAesKey: string): string {
  const key = Buffer.from(`${encodingAesKey}=`, 'base64');
  const body = Buffer.from(message, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  const plain = Buffer.concat([randomBytes(16), length, body, Buffer.from(appid, 'utf8')]);
  const pad = BLOCK - (plain.length % BLOCK);
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
  return Buffer.concat([cipher.update(Buffer.concat([plain, Buffer.alloc(pad, pad)])), cipher.final()]).toString('base64');
}
