// The fake's content-security APIs, as WeChat documents v2 of them:
//   POST /wxa/msg_sec_check    text, a synchronous verdict
//     (developers.weixin.qq.com/miniprogram/dev/server/API/sec-center/sec-check/api_msgseccheck.html)
//   POST /wxa/media_check_async  an image URL; the verdict comes later as a message push to the
//     configured URL, encrypted and signed in 安全模式 (…/sec-check/api_mediacheckasync)
// Verdicts are fixed by markers, so tests and demos can choose them: text containing 违禁测试词 is
// risky, containing 待审测试词 needs review, anything else passes; an image whose bytes contain the
// ASCII marker RISKY-IMAGE is risky.
import { randomBytes } from 'node:crypto';
import { pushSignature } from '../../../supabase/functions/_shared/wechat-push';
import { sealPush } from './push-crypto';

export const RISKY_TEXT = '违禁测试词';
export const REVIEW_TEXT = '待审测试词';
export const RISKY_IMAGE = 'RISKY-IMAGE';
/** msgSecCheck: "文本字数的上限为2500字". */
const MAX_CONTENT = 2500;
/** "用户需在近两小时访问过小程序". */
const OPENID_RECENCY_MS = 2 * 60 * 60 * 1000;
/** mediaCheckAsync: "单个文件大小不超过10M". */
const MAX_MEDIA_BYTES = 10 * 1024 * 1024;
const LABEL_PASS = 100;
const LABEL_ILLEGAL = 20006;
const LABEL_PORN = 20002;
const LABEL_OTHER = 21000;
/** v1's status_code when WeChat could not download the media (−1008 as an unsigned 32-bit number). */
const DOWNLOAD_FAILED = 4294966288;
/** WeChat retries a push that was not acknowledged; a few attempts, as for official-account pushes. */
const PUSH_ATTEMPTS = 3;

export interface PushTarget {
  /** The message-push URL (开发 → 开发管理 → 消息推送配置). */
  url: string;
  token: string;
  /** EncodingAESKey: 43 characters. */
  aesKey: string;
}

export interface Verdict {
  suggest: 'pass' | 'risky' | 'review';
  label: number;
}

export interface PushRecord {
  traceId: string;
  openid: string;
  /** What WeChat decided; null when it could not download the image. */
  verdict: Verdict | null;
  /** HTTP status of each delivery attempt (0: no answer). */
  attempts: number[];
  delivered: boolean;
}

/** Thrown with a documented errcode; the server turns it into WeChat's error body. */
export type ErrcodeError = (errcode: number) => Error;

export interface ContentSecurityDeps {
  appid: string;
  now(): number;
  /** When the openid last logged in (code2Session), or undefined. */
  lastLogin(openid: string): number | undefined;
  fail: ErrcodeError;
  push: PushTarget | null;
  pushDelayMs: number;
  log(line: string): void;
}

function textVerdict(...texts: unknown[]): Verdict {
  const all = texts.filter((t) => typeof t === 'string').join('\n');
  if (all.includes(RISKY_TEXT)) return { suggest: 'risky', label: LABEL_ILLEGAL };
  if (all.includes(REVIEW_TEXT)) return { suggest: 'review', label: LABEL_OTHER };
  return { suggest: 'pass', label: LABEL_PASS };
}

function traceId(): string {
  const hex = randomBytes(12).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 16)}-${hex.slice(16)}`;
}

export function createContentSecurity(deps: ContentSecurityDeps) {
  const pushes: PushRecord[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let held = false;
  const waiting: Array<() => void> = [];

  /** The checks every v2 call makes, in WeChat's order. */
  function common(body: Record<string, unknown>): string {
    if (body.version !== 2) throw deps.fail(47001);
    if (![1, 2, 3, 4].includes(body.scene as number)) throw deps.fail(40129);
    const openid = body.openid;
    if (typeof openid !== 'string' || openid === '') throw deps.fail(44002);
    const seen = deps.lastLogin(openid);
    if (seen === undefined || deps.now() - seen > OPENID_RECENCY_MS) throw deps.fail(40003);
    return openid;
  }

  function msgSecCheck(body: Record<string, unknown>): Record<string, unknown> {
    const openid = common(body);
    if (typeof body.content !== 'string' || body.content === '') throw deps.fail(44002);
    if ([...body.content].length > MAX_CONTENT) throw deps.fail(47001);
    const verdict = textVerdict(body.content, body.nickname, body.title);
    deps.log(`fake wechat: msg_sec_check for ${openid}: ${verdict.suggest}`);
    return {
      errcode: 0,
      errmsg: 'ok',
      result: verdict,
      detail: [
        { strategy: 'content_model', errcode: 0, suggest: verdict.suggest, label: verdict.label, prob: 90 },
        { strategy: 'keyword', errcode: 0 },
      ],
      trace_id: traceId(),
    };
  }

  async function download(url: string): Promise<Buffer | null> {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(10000) });
      if (!response.ok) return null;
      const bytes = Buffer.from(await response.arrayBuffer());
      return bytes.length <= MAX_MEDIA_BYTES ? bytes : null;
    } catch {
      return null;
    }
  }

  async function deliver(record: PushRecord, target: PushTarget): Promise<void> {
    const event: Record<string, unknown> = {
      ToUserName: 'gh_0000000000ab',
      FromUserName: record.openid,
      CreateTime: Math.floor(deps.now() / 1000),
      MsgType: 'event',
      Event: 'wxa_media_check',
      appid: deps.appid,
      trace_id: record.traceId,
      version: 2,
    };
    if (record.verdict) {
      event.result = record.verdict;
      event.detail = [{ strategy: 'content_model', errcode: 0, suggest: record.verdict.suggest, label: record.verdict.label, prob: 90 }];
    } else {
      Object.assign(event, { isrisky: 0, status_code: DOWNLOAD_FAILED, detail: [] });
    }
    for (let attempt = 0; attempt < PUSH_ATTEMPTS && !record.delivered; attempt++) {
      const timestamp = String(Math.floor(deps.now() / 1000));
      const nonce = String(randomBytes(4).readUInt32BE());
      const encrypt = sealPush(JSON.stringify(event), deps.appid, target.aesKey);
      const query = new URLSearchParams({
        signature: pushSignature([target.token, timestamp, nonce]),
        timestamp,
        nonce,
        openid: record.openid,
        encrypt_type: 'aes',
        msg_signature: pushSignature([target.token, timestamp, nonce, encrypt]),
      });
      let status = 0;
      try {
        const response = await fetch(`${target.url}?${query}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ ToUserName: event.ToUserName, Encrypt: encrypt }),
          signal: AbortSignal.timeout(5000),
        });
        status = response.status;
        // "success" (or an empty body) acknowledges the push.
        const text = (await response.text()).trim();
        record.delivered = response.ok && (text === '' || text === 'success');
      } catch {
        status = 0;
      }
      record.attempts.push(status);
    }
    deps.log(
      `fake wechat: media push ${record.traceId} ${record.delivered ? 'acknowledged' : `not acknowledged (${record.attempts.join(', ')})`}`,
    );
  }

  function mediaCheckAsync(body: Record<string, unknown>): Record<string, unknown> {
    const openid = common(body);
    if (typeof body.media_url !== 'string' || !/^https?:\/\//.test(body.media_url)) throw deps.fail(47001);
    if (body.media_type !== 1 && body.media_type !== 2) throw deps.fail(47001);
    const record: PushRecord = { traceId: traceId(), openid, verdict: null, attempts: [], delivered: false };
    pushes.push(record);
    const mediaUrl = body.media_url;
    const timer = setTimeout(() => {
      timers.delete(timer);
      const run = async () => {
        const bytes = await download(mediaUrl);
        record.verdict =
          bytes === null
            ? null
            : bytes.includes(RISKY_IMAGE)
              ? { suggest: 'risky', label: LABEL_PORN }
              : { suggest: 'pass', label: LABEL_PASS };
        if (!deps.push) return deps.log('fake wechat: no message-push URL configured; the verdict is never delivered');
        await deliver(record, deps.push);
      };
      if (held) waiting.push(() => void run());
      else void run();
    }, deps.pushDelayMs);
    timers.add(timer);
    return { errcode: 0, errmsg: 'ok', trace_id: record.traceId };
  }

  return {
    msgSecCheck,
    mediaCheckAsync,
    pushes: () => pushes,
    /** Pushes wait (WeChat may take up to 30 minutes) until release(). */
    holdPushes() {
      held = true;
    },
    releasePushes() {
      held = false;
      for (const run of waiting.splice(0)) run();
    },
    stop() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      waiting.length = 0;
    },
  };
}
