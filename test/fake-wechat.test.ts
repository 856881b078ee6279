// The fake of WeChat's server API behaves as WeChat documents it, failures included: what the
// Edge Functions meet in production is what they meet here.
import { CODE_LIFETIME_MS, startFakeWechat, TOKEN_LIFETIME_S, type FakeWechat } from '../local-supabase/src/wechat/fake-api';
import type { Row } from './support/row';

const APP = { appid: 'wx00000000000000c3', secret: 'fake-secret' };
let fake: FakeWechat;

beforeEach(async () => {
  fake = await startFakeWechat(APP);
});
afterEach(() => fake.stop());

async function get(path: string, query: Record<string, string>) {
  const res = await fetch(`${fake.url}${path}?${new URLSearchParams(query)}`);
  return { status: res.status, body: (await res.json()) as Row };
}

async function post(path: string, body: unknown) {
  const res = await fetch(`${fake.url}${path}`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Row };
}

const exchange = (code: string, overrides: Record<string, string> = {}) =>
  get('/sns/jscode2session', { appid: APP.appid, secret: APP.secret, js_code: code, grant_type: 'authorization_code', ...overrides });

describe('code2Session', () => {
  test('NAME.N codes are the person NAME; any other code is a new person; session_key never repeats', async () => {
    const first = await exchange('楚留香.1');
    const second = await exchange('楚留香.2');
    const other = await exchange('陆小凤.1');
    const devtools = await exchange('0a3b9c0000YZ1A2B3C4D5E6F7G8H9IabJ');
    expect(first).toEqual({ status: 200, body: { openid: fake.openidOf('楚留香'), session_key: expect.any(String) } });
    expect(second.body.openid).toBe(first.body.openid);
    expect(second.body.session_key).not.toBe(first.body.session_key);
    expect(other.body.openid).not.toBe(first.body.openid);
    expect(devtools.body.openid).toMatch(/^o[A-Za-z0-9_-]{27}$/);
    expect([first, other].map((r) => r.body.openid)).not.toContain(devtools.body.openid);
  });

  test('a code is single-use and lives 5 minutes', async () => {
    expect((await exchange('李寻欢.7')).body.openid).toBeDefined();
    expect((await exchange('李寻欢.7')).body).toMatchObject({ errcode: 40029, errmsg: expect.stringMatching(/^invalid code, rid: /) });
    const issued = fake.issueCode('李寻欢');
    expect(issued).toMatch(/^李寻欢\.\d+$/);
    fake.advanceClock(CODE_LIFETIME_MS - 1000);
    expect((await exchange(issued)).body.openid).toBe(fake.openidOf('李寻欢'));
    const late = fake.issueCode('李寻欢');
    fake.advanceClock(CODE_LIFETIME_MS + 1000);
    expect((await exchange(late)).body.errcode).toBe(40029);
  });

  test.each([
    [{ appid: 'wx-other' }, 40013],
    [{ secret: 'guess' }, 40125],
    [{ appid: '' }, 41002],
    [{ secret: '' }, 41004],
    [{ grant_type: 'client_credential' }, 40002],
    [{ js_code: '' }, 41008],
  ])('%j is errcode %i, with HTTP 200 as WeChat answers', async (overrides, errcode) => {
    const { status, body } = await exchange('花满楼.1', overrides);
    expect(status).toBe(200);
    expect(body.errcode).toBe(errcode);
    expect(body.openid).toBeUndefined();
  });

  test('risk control and injected failures answer their errcodes, then normal service resumes', async () => {
    fake.flagHighRisk('上官金虹');
    expect((await exchange('上官金虹.1')).body).toMatchObject({ errcode: 40226, errmsg: expect.stringContaining('code blocked') });
    fake.failNext('jscode2session', -1, 2);
    expect((await exchange('阿飞.1')).body.errcode).toBe(-1);
    expect((await exchange('阿飞.2')).body.errcode).toBe(-1);
    expect((await exchange('阿飞.3')).body.openid).toBe(fake.openidOf('阿飞'));
    expect(fake.calls('jscode2session')).toBe(4);
  });

  test('a person is limited to 100 logins a minute (45011)', async () => {
    const answers = [];
    for (let i = 0; i < 101; i++) answers.push((await exchange(`忙人.${i}`)).body);
    expect(answers.slice(0, 100).every((a) => a.openid === fake.openidOf('忙人'))).toBe(true);
    expect(answers[100].errcode).toBe(45011);
    fake.advanceClock(60 * 1000);
    expect((await exchange('忙人.101')).body.openid).toBe(fake.openidOf('忙人'));
  });
});

describe('access tokens', () => {
  const credentials = { grant_type: 'client_credential', appid: APP.appid, secret: APP.secret };

  test('stable_token answers the same token while it is valid; force_refresh replaces it', async () => {
    const first = await post('/cgi-bin/stable_token', credentials);
    expect(first.body).toEqual({ access_token: expect.any(String), expires_in: TOKEN_LIFETIME_S });
    fake.advanceClock(1000 * 1000);
    const again = await post('/cgi-bin/stable_token', credentials);
    expect(again.body.access_token).toBe(first.body.access_token);
    // What is left of it, in whole seconds (the real clock moved a few milliseconds too).
    expect(again.body.expires_in).toBeGreaterThanOrEqual(TOKEN_LIFETIME_S - 1001);
    expect(again.body.expires_in).toBeLessThanOrEqual(TOKEN_LIFETIME_S - 1000);
    const forced = await post('/cgi-bin/stable_token', { ...credentials, force_refresh: true });
    expect(forced.body.access_token).not.toBe(first.body.access_token);
    fake.advanceClock(TOKEN_LIFETIME_S * 1000);
    expect((await post('/cgi-bin/stable_token', credentials)).body.access_token).not.toBe(forced.body.access_token);
  });

  test('token issues a new token on every call', async () => {
    const a = await get('/cgi-bin/token', credentials);
    const b = await get('/cgi-bin/token', credentials);
    expect(a.body.expires_in).toBe(TOKEN_LIFETIME_S);
    expect(b.body.access_token).not.toBe(a.body.access_token);
  });

  test('wrong credentials, a GET to stable_token and a body that is not JSON are refused as documented', async () => {
    expect((await post('/cgi-bin/stable_token', { ...credentials, secret: 'nope' })).body.errcode).toBe(40125);
    expect((await get('/cgi-bin/stable_token', credentials)).body.errcode).toBe(43002);
    expect((await post('/cgi-bin/stable_token', 'grant_type=client_credential')).body.errcode).toBe(47001);
    expect((await get('/cgi-bin/token', { ...credentials, grant_type: 'password' })).body.errcode).toBe(40002);
  });
});

test('the control routes hand out codes as wx.login would, for clients outside this process', async () => {
  const { body } = await post('/__fake/code', { name: '胡铁花' });
  expect(body.code).toMatch(/^胡铁花\.\d+$/);
  expect((await exchange(body.code)).body.openid).toBe(fake.openidOf('胡铁花'));
  const anonymous = await post('/__fake/code', {});
  expect((await exchange(anonymous.body.code)).body.openid).toMatch(/^o/);
  expect((await get('/sns/nothing', {})).body.errcode).toBe(404);
});

test('delayAnswers makes every API answer, errors included, take that long; the answers stay the same', async () => {
  // Long enough that an answer without the delay, even on a loaded machine, comes well before it.
  const DELAY_MS = 1000;
  fake.delayAnswers(DELAY_MS);
  const timed = async <T>(call: () => Promise<T>) => {
    const started = performance.now();
    const answer = await call();
    return { answer, ms: performance.now() - started };
  };
  const login = await timed(() => exchange('慢郎中.1'));
  expect(login.answer.body.openid).toBe(fake.openidOf('慢郎中'));
  expect(login.ms).toBeGreaterThanOrEqual(DELAY_MS - 5);
  const refused = await timed(() => exchange('慢郎中.1'));
  expect(refused.answer.body.errcode).toBe(40029);
  expect(refused.ms).toBeGreaterThanOrEqual(DELAY_MS - 5);
  // The control routes are not WeChat's: a code is handed out at once, as wx.login does.
  expect((await timed(() => post('/__fake/code', { name: '慢郎中' }))).ms).toBeLessThan(DELAY_MS);
  expect(() => fake.delayAnswers(-1)).toThrow(RangeError);
  fake.delayAnswers(0);
  expect((await timed(() => exchange('慢郎中.2'))).ms).toBeLessThan(DELAY_MS);
});
