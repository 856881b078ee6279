// Reading WeChat's message pushes (消息推送, developers.weixin.qq.com/miniprogram/dev/framework/server-ability/message-push.md)
// in 安全模式: the body's Encrypt field is AES-256-CBC under base64(EncodingAESKey + "="), IV = the
// key's first 16 bytes, PKCS#7-padded to 32 bytes, over random(16) + length(4, big-endian) +
// message + appid; msg_signature = sha1 of the sorted, joined [token, timestamp, nonce, Encrypt]
// (developers.weixin.qq.com/doc/oplatform/developers/dev/push/encryption.md). node:crypto because
// Web Crypto's AES-CBC insists on 16-byte padding.
import { Buffer } from 'node:buffer';
import { createDecipheriv, createHash, timingSafeEqual } from 'node:crypto';

export function pushSignature(parts: string[]): string {
  return createHash('sha1')
    .update([...parts].sort().join(''))
    .digest('hex');
}

/** Whether `given` is the signature of `parts` under the push Token, compared in constant time. */
export function signedBy(given: string | null, parts: string[]): boolean {
  if (!given) return false;
  const expected = Buffer.from(pushSignature(parts));
  const actual = Buffer.from(given);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

export class PushError extends Error {}

/** The message inside an Encrypt field; throws a PushError unless it decrypts to a push for `appid`. */
export function openPush(encrypt: string, appid: string, encodingAesKey: string): string {
  const key = Buffer.from(`${encodingAesKey}=`, 'base64');
  if (key.length !== 32) throw new PushError('the EncodingAESKey must be 43 base64 characters');
  let plain: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
    plain = Buffer.concat([decipher.update(Buffer.from(encrypt, 'base64')), decipher.final()]);
  } catch {
    throw new PushError('Encrypt does not decrypt');
  }
  const pad = plain[plain.length - 1];
  if (!(pad >= 1 && pad <= 32) || plain.length < 20 + pad) throw new PushError('bad padding');
  const content = plain.subarray(16, plain.length - pad);
  const length = content.readUInt32BE(0);
  if (4 + length > content.length) throw new PushError('bad length');
  if (content.subarray(4 + length).toString('utf8') !== appid) throw new PushError('the push is for another mini program');
  return content.subarray(4, 4 + length).toString('utf8');
}
