// WeChat's privacy rules end to end on a phone: the app's code (platform, core, services) in a
// WeChat-like realm over wx-node, whose privacy APIs behave as WeChat documents them, and the consent
// sheet, the policy page and the policy link in miniprogram-simulate. A guarded call waits for the
// person's answer on the sheet: agree continues it, disagree fails it with errno 104, which the
// feature turns into a sentence; WeChat's own answers are checked first.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { featureProblem, PRIVACY_DENIED, PRIVACY_UNDECLARED } from '../miniprogram/core/failures';
import { zh } from '../miniprogram/core/strings';
import type * as ServicesModule from '../miniprogram/services';
import { setSafetyServicesForTest } from '../miniprogram/services';
import { OPERATOR } from '../miniprogram/config';
import { gradientPng } from './support/png';
import {
  installDom,
  loadComponent,
  loadPage,
  MINIPROGRAM_ROOT,
  pageInstance,
  simulator,
  texts,
  type PageWrapper,
} from './support/simulate';
import { launchWechatApp, type WechatApp } from './support/wechat-realm';
import { createNodeWx, PRIVACY_CONTRACT_NAME, PRIVACY_ERRNO, type PrivacyOptions } from './support/wx-node';
import { waitFor } from './support/wait';

const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pages-privacy-'));
const photo = path.join(workDir, 'photo.png');
/** Nothing here talks to a backend: the platform needs an address, never used. */
const NO_SERVER = { url: 'http://127.0.0.1:9', anonKey: 'anon', wechat: null };

let renderSheet: () => PageWrapper;
let renderPolicy: () => PageWrapper;
let renderLink: () => PageWrapper;
const apps: WechatApp[] = [];
const sleep = () => simulator().sleep(0);

beforeAll(() => {
  // A DOM for simulate, installed by hand: esbuild (the realm's compiler) refuses jest's jsdom environment.
  installDom();
  fs.writeFileSync(photo, gradientPng(64, 48));
  renderSheet = loadComponent('privacy-sheet');
  renderPolicy = loadPage('privacy');
  renderLink = loadComponent('privacy-link');
});

afterEach(async () => {
  jest.restoreAllMocks();
  setSafetyServicesForTest(null);
  for (const app of apps.splice(0)) await app.close();
});

afterAll(() => fs.rmSync(workDir, { recursive: true, force: true }));

/** A phone whose person has not agreed yet, its safety services handed to the pages. */
function phone(privacy: PrivacyOptions = {}): WechatApp {
  const app = launchWechatApp(NO_SERVER, { privacy: { agreed: false, ...privacy } });
  const { createSafetyServices } = app.realm.require<typeof ServicesModule>('services');
  setSafetyServicesForTest(createSafetyServices(app.platform));
  apps.push(app);
  return app;
}

/** The consent sheet inside a page, or the sheet itself. */
function sheetIn(host: PageWrapper): PageWrapper {
  return host.querySelector('.consent-sheet') ?? host;
}

function sheetShown(host: PageWrapper): boolean {
  return sheetIn(host).querySelector('.sheet') !== undefined;
}

/**
 * The person taps WeChat's agree button: WeChat records the tap by the button's id, then the
 * component's bindagreeprivacyauthorization handler runs.
 */
async function agree(host: PageWrapper, app: WechatApp): Promise<void> {
  const button = sheetIn(host).querySelector('.agree')!;
  app.nodeWx.privacy.tapAgreeButton((button as unknown as { _exparserNode: { id: string } })._exparserNode.id);
  button.dispatchEvent('agreeprivacyauthorization');
  await sleep();
}

async function disagree(host: PageWrapper): Promise<void> {
  sheetIn(host).querySelector('.disagree')!.dispatchEvent('tap');
  await sleep();
}

describe("wx-node's privacy APIs answer as WeChat documents", () => {
  function call(api: (options: Record<string, unknown>) => void, options: Record<string, unknown> = {}) {
    return new Promise<{ ok: boolean; result: Record<string, unknown> }>((resolve) =>
      api({
        ...options,
        success: (result: Record<string, unknown>) => resolve({ ok: true, result }),
        fail: (result: Record<string, unknown>) => resolve({ ok: false, result }),
      }),
    );
  }

  test('before consent a guarded call waits for the listener: disagree fails it with 104, agree after a tap continues it', async () => {
    const nodeWx = createNodeWx({ privacy: { agreed: false } });
    const wx = nodeWx.wx as unknown as Record<string, (options: Record<string, unknown>) => void>;
    const requests: Array<{ resolve: (answer: object) => void; referrer: string }> = [];
    (nodeWx.wx as unknown as { onNeedPrivacyAuthorization: (l: unknown) => void }).onNeedPrivacyAuthorization(
      (resolve: (answer: object) => void, info: { referrer: string }) => requests.push({ resolve, referrer: info.referrer }),
    );
    expect(await call(wx.getPrivacySetting)).toEqual({
      ok: true,
      result: expect.objectContaining({ needAuthorization: true, privacyContractName: PRIVACY_CONTRACT_NAME }),
    });

    const declined = call(wx.setClipboardData, { data: 'x' });
    await waitFor('the listener asked', () => requests.length === 1);
    expect(requests[0].referrer).toBe('setClipboardData');
    expect(nodeWx.privacy.pending()).toEqual(['setClipboardData']);
    requests[0].resolve({ event: 'disagree' });
    expect(await declined).toEqual({
      ok: false,
      result: { errMsg: 'setClipboardData:fail privacy permission is not authorized', errno: PRIVACY_ERRNO.notAuthorized },
    });

    // Agree naming a button nobody tapped does not count.
    const untapped = call(wx.setClipboardData, { data: 'y' });
    await waitFor('asked again', () => requests.length === 2);
    requests[1].resolve({ event: 'agree', buttonId: 'agree-btn' });
    expect((await untapped).result.errno).toBe(PRIVACY_ERRNO.notAuthorized);

    const agreed = call(wx.setClipboardData, { data: 'z' });
    await waitFor('asked a third time', () => requests.length === 3);
    requests[2].resolve({ event: 'exposureAuthorization' });
    nodeWx.privacy.tapAgreeButton('agree-btn');
    requests[2].resolve({ event: 'agree', buttonId: 'agree-btn' });
    expect(await agreed).toEqual({ ok: true, result: { errMsg: 'setClipboardData:ok' } });
    expect(nodeWx.clipboard()).toBe('z');
    expect(nodeWx.privacy.exposures()).toBe(1);
    // Agreed now: nothing waits any more, and WeChat says so.
    expect(await call(wx.requirePrivacyAuthorize)).toMatchObject({ ok: true });
    expect(await call(wx.getPrivacySetting)).toMatchObject({ result: { needAuthorization: false } });
    expect(requests).toHaveLength(3);
    nodeWx.close();
  });

  test('an undeclared API fails with 112 even after consent; without a listener the call is declined', async () => {
    const nodeWx = createNodeWx({ privacy: { agreed: false, undeclared: ['setClipboardData'] } });
    const wx = nodeWx.wx as unknown as Record<string, (options: Record<string, unknown>) => void>;
    expect(await call(wx.requirePrivacyAuthorize)).toEqual({
      ok: false,
      result: { errMsg: 'requirePrivacyAuthorize:fail privacy permission is not authorized', errno: 104 },
    });
    nodeWx.privacy.tapAgreeButton('agree-btn');
    expect(await call(wx.setClipboardData, { data: 'x' })).toEqual({
      ok: false,
      result: { errMsg: 'setClipboardData:fail api scope is not declared in the privacy agreement', errno: PRIVACY_ERRNO.notDeclared },
    });
    expect(await call(wx.setClipboardData, { data: 42 })).toMatchObject({
      ok: false,
      result: { errMsg: expect.stringContaining('parameter.data should be String') },
    });
    nodeWx.close();
  });

  test('openPrivacyContract opens or fails; an old base library has none of the four APIs', async () => {
    const opens = createNodeWx();
    expect(await call((opens.wx as unknown as Record<string, (o: object) => void>).openPrivacyContract)).toMatchObject({ ok: true });
    expect(opens.privacy.contractsOpened()).toBe(1);
    const fails = createNodeWx({ privacy: { contractFails: true } });
    expect(await call((fails.wx as unknown as Record<string, (o: object) => void>).openPrivacyContract)).toEqual({
      ok: false,
      result: { errMsg: 'openPrivacyContract:fail' },
    });
    const old = createNodeWx({ privacy: { unsupported: true } });
    for (const api of ['onNeedPrivacyAuthorization', 'requirePrivacyAuthorize', 'getPrivacySetting', 'openPrivacyContract']) {
      expect((old.wx as unknown as Record<string, unknown>)[api]).toBeUndefined();
    }
    for (const nodeWx of [opens, fails, old]) nodeWx.close();
  });
});

describe('the consent sheet', () => {
  test('the agree control is WeChat’s agree button, whose event the sheet handles', () => {
    const wxml = fs.readFileSync(path.join(MINIPROGRAM_ROOT, 'components', 'privacy-sheet', 'index.wxml'), 'utf8');
    expect(wxml).toMatch(
      /<button[^>]*class="agree"[^>]*open-type="agreePrivacyAuthorization"[^>]*\n?\s*bindagreeprivacyauthorization="onAgree"/,
    );
  });

  test('picking an image waits for the sheet; agree continues the pick', async () => {
    const app = phone();
    const sheet = renderSheet();
    app.nodeWx.chooseNext([photo]);
    const picking = app.platform.pickImage();
    await waitFor('the sheet shown', () => sheetShown(sheet));
    expect(app.nodeWx.privacy.pending()).toEqual(['chooseMedia']);
    await waitFor('the guide named as WeChat names it', () => texts(sheet, '.contract')[0] === PRIVACY_CONTRACT_NAME);
    await agree(sheet, app);
    expect(await picking).toMatchObject({ width: 64, height: 48, mime: 'image/png' });
    expect(sheetShown(sheet)).toBe(false);
    expect(app.nodeWx.privacy.exposures()).toBe(1);
    // Agreed once: the next pick asks nothing.
    app.nodeWx.chooseNext([photo]);
    expect(await app.platform.pickImage()).toMatchObject({ width: 64 });
    expect(sheetShown(sheet)).toBe(false);
  });

  test('disagree fails the pick with errno 104, said in a sentence; tapping again asks again and agree works', async () => {
    const app = phone();
    const sheet = renderSheet();
    app.nodeWx.chooseNext([photo]);
    const first = app.platform.pickImage();
    await waitFor('the sheet shown', () => sheetShown(sheet));
    await disagree(sheet);
    const refused = await first.then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused).toMatchObject({
      name: 'BackendFailure',
      code: PRIVACY_DENIED,
      message: 'chooseMedia:fail privacy permission is not authorized',
    });
    expect(featureProblem('image', refused)).toBe(zh.imagePrivacyDenied);
    expect(sheetShown(sheet)).toBe(false);

    const second = app.platform.pickImage();
    await waitFor('the sheet shown again', () => sheetShown(sheet));
    await agree(sheet, app);
    expect(await second).toMatchObject({ width: 64, height: 48 });
  });

  test('copying waits for the sheet too: disagree is said, agree copies', async () => {
    const app = phone();
    const sheet = renderSheet();
    const { getSafetyServices } = jest.requireActual<typeof ServicesModule>('../miniprogram/services');
    const declined = getSafetyServices()
      .copyText('o-123')
      .catch((error: unknown) => featureProblem('clipboard', error));
    await waitFor('the sheet shown', () => sheetShown(sheet));
    await disagree(sheet);
    expect(await declined).toBe(zh.copyPrivacyDenied);
    const copied = getSafetyServices().copyText('o-456');
    await waitFor('the sheet shown again', () => sheetShown(sheet));
    await agree(sheet, app);
    await copied;
    expect(app.nodeWx.clipboard()).toBe('o-456');
  });

  test('an API missing from the declaration fails at once with its own sentence', async () => {
    const app = phone({ undeclared: ['chooseMedia'] });
    const sheet = renderSheet();
    app.nodeWx.chooseNext([photo]);
    const refused = await app.platform.pickImage().catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: PRIVACY_UNDECLARED });
    expect(featureProblem('image', refused)).toBe(zh.imagePrivacyUndeclared);
    expect(sheetShown(sheet)).toBe(false);
  });

  test('the guide opens in WeChat; where WeChat cannot open it, the app’s own policy page opens', async () => {
    const navigate = jest.spyOn(wx, 'navigateTo');
    const app = phone();
    const sheet = renderSheet();
    const picking = app.platform.pickImage().catch(() => null);
    await waitFor('the sheet shown', () => sheetShown(sheet));
    sheet.querySelector('.contract')!.dispatchEvent('tap');
    await waitFor('the contract opened', () => app.nodeWx.privacy.contractsOpened() === 1);
    expect(navigate).not.toHaveBeenCalled();
    sheet.querySelector('.policy')!.dispatchEvent('tap');
    await sleep();
    expect(navigate).toHaveBeenLastCalledWith(expect.objectContaining({ url: '/pages/privacy/index' }));
    await disagree(sheet);
    await picking;

    const failing = phone({ contractFails: true });
    const other = renderSheet();
    const waiting = failing.platform.pickImage().catch(() => null);
    await waitFor('the sheet shown', () => sheetShown(other));
    navigate.mockClear();
    other.querySelector('.contract')!.dispatchEvent('tap');
    await waitFor('the policy page opened instead', () => navigate.mock.calls.length === 1);
    expect(navigate).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/privacy/index' }));
    await disagree(other);
    await waiting;
  });

  test('on a base library without the privacy APIs nothing is asked and nothing waits', async () => {
    const app = phone({ unsupported: true });
    const sheet = renderSheet();
    app.nodeWx.chooseNext([photo]);
    expect(await app.platform.pickImage()).toMatchObject({ width: 64 });
    expect(sheetShown(sheet)).toBe(false);
  });
});

describe('用户协议与隐私政策', () => {
  test('the policy link opens the policy page', async () => {
    const navigate = jest.spyOn(wx, 'navigateTo');
    const link = renderLink();
    expect(texts(link, '.privacy-link')).toEqual([zh.privacyLink]);
    link.querySelector('.privacy-link')!.dispatchEvent('tap');
    await sleep();
    expect(navigate).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/privacy/index' }));
  });

  test('the page says what is collected and why, names the operator, and lets the person agree there', async () => {
    const app = phone();
    const page = renderPolicy();
    await pageInstance(page).onLoad({});
    const sections = texts(page, '.section-title');
    expect(sections).toEqual([
      zh.privacyCollectTitle,
      zh.privacyUseTitle,
      zh.privacyStoreTitle,
      zh.privacyRulesTitle,
      zh.privacyRightsTitle,
      zh.privacyMinorsTitle,
      zh.privacyThirdTitle,
      zh.privacyContactTitle,
    ]);
    const text = texts(page, '.paragraph').join('\n');
    for (const fact of ['openid', 'wx.login', '内容安全', '举报', '撤回', '屏蔽', '14 周岁', OPERATOR.contact, OPERATOR.dataRegion])
      expect(text).toContain(fact);
    expect(texts(page, '.intro')[0]).toContain(OPERATOR.name);
    expect(text).not.toMatch(/\{\w+\}/);

    expect(texts(page, '.consent-text')).toEqual([`你还没有同意${PRIVACY_CONTRACT_NAME}。`]);
    page.querySelector('.ask')!.dispatchEvent('tap');
    await sleep();
    await waitFor('the sheet under the text', () => sheetShown(page));
    expect(sheetIn(page).querySelector('.sheet.inline')).toBeDefined();
    await agree(page, app);
    await waitFor('the consent line updated', () => texts(page, '.consent-text')[0] === `你已同意${PRIVACY_CONTRACT_NAME}。`);
    expect(page.querySelector('.ask')).toBeUndefined();

    page.querySelector('.contract')!.dispatchEvent('tap');
    await waitFor('the contract opened', () => app.nodeWx.privacy.contractsOpened() === 1);
    const navigate = jest.spyOn(wx, 'navigateTo');
    page.querySelector('.blocked')!.dispatchEvent('tap');
    await sleep();
    expect(navigate).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/blocked/index' }));
  });

  test('a sheet waiting on a lower page moves to the policy page while it is open, and back', async () => {
    const app = phone();
    const lower = renderSheet();
    const picking = app.platform.pickImage().catch((error: unknown) => error);
    await waitFor('the sheet shown', () => sheetShown(lower));
    const page = renderPolicy();
    await pageInstance(page).onLoad({});
    await waitFor('the policy page asks too', () => sheetShown(page));
    // The person goes back: the page and its sheet leave.
    (page as unknown as { detach(): void }).detach();
    await disagree(lower);
    expect(await picking).toMatchObject({ code: PRIVACY_DENIED });
  });
});
