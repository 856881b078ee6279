// WeChat login, code → session on loopback: the wechat-login Edge Function (Deno) plus the phone's
// own /verify, as the mini program signs in. Cold = the function's worker not started yet (a fresh
// server each time); warm = a running worker. The target: warm p50 ≤ 50 ms plus what the fake
// WeChat API itself takes to answer code2Session.
import '../scripts/quiet-node-warning';
import { signInWithWechat } from '../miniprogram/core/wechat-login';
import { localWechatLogin } from '../lib/node-client';
import { client, startTestServer, type TestServer } from '../test/support/server';
import { runIfMain } from './report';
import { atMost, percentile, type Bench, type BenchSection } from './types';

const round = (ms: number) => Math.round(ms * 100) / 100;

async function timedLogin(server: TestServer, person: string): Promise<number> {
  const started = performance.now();
  await signInWithWechat(client(server), localWechatLogin(server.url, server.anonKey, person));
  return performance.now() - started;
}

async function fakeAnswerMs(server: TestServer, samples: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const query = new URLSearchParams({
      appid: server.wechat!.appid,
      secret: server.wechat!.secret,
      js_code: `量.${i}`,
      grant_type: 'authorization_code',
    });
    const started = performance.now();
    await (await fetch(`${server.wechat!.url}/sns/jscode2session?${query}`)).json();
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b);
}

export const run: Bench = async ({ quick }) => {
  const coldSamples = quick ? 3 : 10;
  const warmSamples = quick ? 50 : 300;
  const cold: number[] = [];
  for (let i = 0; i < coldSamples; i++) {
    const server = await startTestServer();
    try {
      cold.push(await timedLogin(server, `冷启动${i}`));
    } finally {
      await server.stop();
    }
  }
  cold.sort((a, b) => a - b);

  const server = await startTestServer();
  try {
    await timedLogin(server, '预热');
    const warm: number[] = [];
    // Half returning people (the common case), half first logins. The returning ones are a few
    // people, each within code2Session's quota of 100 logins per person per minute.
    for (let i = 0; i < warmSamples; i++) warm.push(await timedLogin(server, i % 2 ? `老朋友${i % 10}` : `新人${i}`));
    warm.sort((a, b) => a - b);
    const fake = round(percentile(await fakeAnswerMs(server, warmSamples), 50));
    const section: BenchSection = {
      name: 'WeChat login',
      figures: [
        { metric: `code → session, cold p50 (worker not started, n=${coldSamples})`, value: round(percentile(cold, 50)), unit: 'ms' },
        { metric: `code → session, cold p99 (n=${coldSamples})`, value: round(percentile(cold, 99)), unit: 'ms' },
        { metric: 'fake WeChat code2Session answer, p50', value: fake, unit: 'ms' },
        atMost(
          `code → session, warm p50 (n=${warmSamples}; target 50 ms + the fake's answer)`,
          round(percentile(warm, 50)),
          'ms',
          round(50 + fake),
        ),
        { metric: `code → session, warm p99 (n=${warmSamples})`, value: round(percentile(warm, 99)), unit: 'ms' },
      ],
    };
    return section;
  } finally {
    await server.stop();
  }
};

runIfMain(__filename, 'login', run);
