// `npm run preview` / `npm run upload`: builds the vendor bundle and hands the mini program to
// WeChat with miniprogram-ci, as DevTools' 预览 and 上传 do. Everything account-specific comes from
// the environment, so CI keeps it in secrets:
//   WECHAT_APPID             the mini program's AppID (wx + 16 hex digits)
//   WECHAT_PRIVATE_KEY_PATH  the code-upload key from mp.weixin.qq.com (开发 → 开发设置 → 小程序代码上传)
//   WECHAT_VERSION           the version to upload (upload only; a preview has none)
//   WECHAT_DESC              optional: the note shown beside the version
//   WECHAT_QRCODE_OUTPUT     optional, preview only: write the QR code to this image file
//                            instead of printing it in the terminal
// It refuses a backend WeChat would refuse: WeChat calls only https domains on the whitelist, never
// an IP address or localhost; and it compiles with project.config.json, whose urlCheck must be on
// so a preview fails where the released app would.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import type * as MiniprogramCi from 'miniprogram-ci';
import { SUPABASE_URL } from '../miniprogram/config';
import { buildVendor } from './build-vendor';
import { PROJECT, releaseCompiler } from './compile-miniprogram';
import { urlProblem } from './configure';

const ROOT = path.join(__dirname, '..');

export type Action = 'preview' | 'upload';

/** Why WeChat would refuse url as a backend, or null when it is an https URL on a domain name. */
export function backendUrlProblem(url: string): string | null {
  const problem = urlProblem(url);
  if (problem) return problem;
  const { protocol, hostname } = new URL(url);
  if (protocol !== 'https:') return `WeChat calls only https backends, and ${url} is not one`;
  // WHATWG URL parsing already turns 0x7f.1 and the like into dotted quads.
  if (net.isIP(hostname.replace(/^\[|\]$/g, ''))) return `WeChat refuses IP addresses: ${url} needs a domain name`;
  if (hostname === 'localhost' || hostname.endsWith('.localhost')) return `${url} is this computer, not a server a phone can reach`;
  if (!hostname.includes('.')) return `${hostname} is not a public domain name`;
  return null;
}

export interface DeliveryOptions {
  project: ConstructorParameters<typeof MiniprogramCi.Project>[0];
  version: string;
  desc?: string;
  setting: { useProjectConfig: true };
  qrcodeFormat?: 'image' | 'terminal';
  qrcodeOutputDest?: string;
}

interface Inputs {
  env: NodeJS.ProcessEnv;
  backendUrl: string;
  /** project.config.json, parsed: miniprogram-ci compiles with its `setting`. */
  projectConfig: { setting?: { urlCheck?: boolean } };
  /** package.json's version: a preview still needs one, although WeChat shows none. */
  packageVersion: string;
}

function privateKeyProblem(file: string | undefined): string | null {
  if (!file) return 'WECHAT_PRIVATE_KEY_PATH is not set (the code-upload key from mp.weixin.qq.com)';
  let pem: Buffer;
  try {
    pem = fs.readFileSync(file);
  } catch (error) {
    return `WECHAT_PRIVATE_KEY_PATH cannot be read: ${(error as Error).message}`;
  }
  try {
    crypto.createPrivateKey(pem);
  } catch {
    return `WECHAT_PRIVATE_KEY_PATH (${file}) is not a PEM private key`;
  }
  return null;
}

/** The miniprogram-ci options for action, or every reason it must not run. */
export function deliveryOptions(action: Action, inputs: Inputs): { options: DeliveryOptions } | { problems: string[] } {
  const { env } = inputs;
  const appid = env.WECHAT_APPID ?? '';
  const version = action === 'upload' ? (env.WECHAT_VERSION ?? '') : inputs.packageVersion;
  const backend = backendUrlProblem(inputs.backendUrl);
  const problems = [
    backend && `backend (miniprogram/config.ts): ${backend}`,
    inputs.projectConfig.setting?.urlCheck !== true &&
      'project.config.json has setting.urlCheck off: deliver only a build that checks domains as WeChat will',
    !/^wx[0-9a-f]{16}$/.test(appid) && `WECHAT_APPID must be a mini program AppID (wx and 16 hex digits), not ${JSON.stringify(appid)}`,
    privateKeyProblem(env.WECHAT_PRIVATE_KEY_PATH),
    !version.trim() && 'WECHAT_VERSION is not set (the version to upload, e.g. 1.2.0)',
  ].filter((problem): problem is string => typeof problem === 'string');
  if (problems.length) return { problems };

  const options: DeliveryOptions = {
    project: { ...PROJECT, ignores: [...PROJECT.ignores], appid, privateKeyPath: env.WECHAT_PRIVATE_KEY_PATH! },
    version: version.trim(),
    desc: env.WECHAT_DESC || undefined,
    setting: { useProjectConfig: true },
  };
  if (action === 'preview') {
    const output = env.WECHAT_QRCODE_OUTPUT;
    Object.assign(options, output ? { qrcodeFormat: 'image', qrcodeOutputDest: path.resolve(output) } : { qrcodeFormat: 'terminal' });
  }
  return { options };
}

async function main() {
  const action = process.argv[2];
  if (action !== 'preview' && action !== 'upload') {
    console.error('usage: wechat-deliver.ts preview|upload (settings from WECHAT_* environment variables)');
    process.exit(2);
  }
  const built = deliveryOptions(action, {
    env: process.env,
    backendUrl: SUPABASE_URL,
    projectConfig: JSON.parse(fs.readFileSync(path.join(ROOT, 'project.config.json'), 'utf8')),
    packageVersion: JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version,
  });
  if ('problems' in built) {
    console.error(`not delivered:\n${built.problems.map((problem) => `  - ${problem}`).join('\n')}`);
    process.exit(1);
  }
  await buildVendor();
  // biome-ignore lint/style/noCommonJs: loaded only now, because loading it already prints service set-up lines
  const ci = require('miniprogram-ci') as typeof MiniprogramCi;
  const options = {
    ...built.options,
    project: new ci.Project(built.options.project),
    onProgressUpdate: (task: { message: string } | string) => console.log(typeof task === 'string' ? task : task.message),
  };
  try {
    const result = action === 'preview' ? await ci.preview(options) : await ci.upload(options);
    console.log(`${action} done:`, JSON.stringify(result));
  } finally {
    await releaseCompiler(ROOT);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === __filename) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
