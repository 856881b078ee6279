// `npm run preview` / `npm run upload`: what they refuse before miniprogram-ci is loaded, and the
// options they hand it. WeChat itself cannot be reached here, so nothing is sent.
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SUPABASE_URL } from '../miniprogram/config';
import { backendUrlProblem, deliveryOptions } from '../scripts/wechat-deliver';
import { tempDir } from './support/server';

const ROOT = path.join(__dirname, '..');
const APPID = 'wx0123456789abcdef';

let dir: string;
let keyPath: string;

beforeAll(() => {
  dir = tempDir('wechat-deliver-');
  keyPath = path.join(dir, `private.${APPID}.key`);
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  fs.writeFileSync(keyPath, privateKey.export({ type: 'pkcs1', format: 'pem' }));
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function inputs(env: Record<string, string>, overrides: { backendUrl?: string; urlCheck?: boolean } = {}) {
  return {
    env,
    backendUrl: overrides.backendUrl ?? 'https://api.example.com',
    projectConfig: { setting: { urlCheck: overrides.urlCheck ?? true } },
    packageVersion: '0.1.0',
  };
}

describe('the backend URL', () => {
  test.each(['https://api.example.com', 'https://abc.supabase.co', 'https://api.example.com:8443', 'https://api.example.com/'])(
    'accepts %s',
    (url) => {
      expect(backendUrlProblem(url)).toBeNull();
    },
  );

  test.each([
    ['http://api.example.com', 'https'],
    ['wss://api.example.com', 'https://'],
    ['https://127.0.0.1:54321', 'IP address'],
    ['https://192.168.1.20', 'IP address'],
    ['https://0x7f.1', 'IP address'],
    ['https://[::1]:54321', 'IP address'],
    ['https://localhost:54321', 'this computer'],
    ['https://api.localhost', 'this computer'],
    ['https://intranet', 'not a public domain name'],
    ['https://api.example.com/rest/v1', 'without a path'],
    ['api.example.com', 'not a URL'],
  ])('refuses %s', (url, reason) => {
    expect(backendUrlProblem(url)).toContain(reason);
  });
});

test('builds upload options from the environment, compiling with project.config.json', () => {
  const env = { WECHAT_APPID: APPID, WECHAT_PRIVATE_KEY_PATH: keyPath, WECHAT_VERSION: ' 1.2.0 ', WECHAT_DESC: '第一版' };
  expect(deliveryOptions('upload', inputs(env))).toEqual({
    options: {
      project: { type: 'miniProgram', projectPath: ROOT, ignores: ['node_modules/**/*'], appid: APPID, privateKeyPath: keyPath },
      version: '1.2.0',
      desc: '第一版',
      setting: { useProjectConfig: true },
    },
  });
});

test('a preview needs no version, and prints its QR code or writes it where asked', () => {
  const env = { WECHAT_APPID: APPID, WECHAT_PRIVATE_KEY_PATH: keyPath };
  expect(deliveryOptions('preview', inputs(env))).toEqual({
    options: expect.objectContaining({ version: '0.1.0', desc: undefined, qrcodeFormat: 'terminal' }),
  });
  expect(deliveryOptions('preview', inputs({ ...env, WECHAT_QRCODE_OUTPUT: 'out/qr.jpg' }))).toEqual({
    options: expect.objectContaining({ qrcodeFormat: 'image', qrcodeOutputDest: path.resolve('out/qr.jpg') }),
  });
});

test('lists every problem at once: backend, urlCheck, AppID, key and version', () => {
  const result = deliveryOptions(
    'upload',
    inputs({ WECHAT_APPID: 'touristappid' }, { backendUrl: 'http://127.0.0.1:54321', urlCheck: false }),
  );
  expect(result).toEqual({
    problems: [
      'backend (miniprogram/config.ts): WeChat calls only https backends, and http://127.0.0.1:54321 is not one',
      'project.config.json has setting.urlCheck off: deliver only a build that checks domains as WeChat will',
      'WECHAT_APPID must be a mini program AppID (wx and 16 hex digits), not "touristappid"',
      'WECHAT_PRIVATE_KEY_PATH is not set (the code-upload key from mp.weixin.qq.com)',
      'WECHAT_VERSION is not set (the version to upload, e.g. 1.2.0)',
    ],
  });
});

test('refuses a key file that is missing or is not a private key', () => {
  const notAKey = path.join(dir, 'notes.txt');
  fs.writeFileSync(notAKey, 'hello');
  const missing = path.join(dir, 'missing.key');
  const problems = (file: string) =>
    (deliveryOptions('preview', inputs({ WECHAT_APPID: APPID, WECHAT_PRIVATE_KEY_PATH: file })) as { problems: string[] }).problems;
  expect(problems(missing)).toEqual([expect.stringMatching(/^WECHAT_PRIVATE_KEY_PATH cannot be read: ENOENT/)]);
  expect(problems(notAKey)).toEqual([`WECHAT_PRIVATE_KEY_PATH (${notAKey}) is not a PEM private key`]);
});

test('npm run upload refuses the committed local backend and exits 1', async () => {
  const env = { ...process.env, WECHAT_APPID: APPID, WECHAT_PRIVATE_KEY_PATH: keyPath, WECHAT_VERSION: '1.0.0' };
  const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = execFile('npx', ['tsx', 'scripts/wechat-deliver.ts', 'upload'], { cwd: ROOT, env }, (_error, _stdout, stderr) =>
      resolve({ code: child.exitCode, stderr }),
    );
  });
  expect(code).toBe(1);
  expect(stderr).toBe(`not delivered:\n  - backend (miniprogram/config.ts): ${backendUrlProblem(SUPABASE_URL)}\n`);
  expect(SUPABASE_URL).toMatch(/^http:\/\/127\.0\.0\.1:/);
}, 30000);
