// Chaos benchmark: the chaos test's run (test/support/chaos.ts) at a larger size — 20 clients ×
// 100 messages with more faults — against a durable local-supabase with content moderation on (and
// its own path failing: pg_net's requests to the moderate function, WeChat busy). Quick mode is the
// test's size.
//   npx tsx bench/chaos.ts [--quick]
import {
  CONVERGE_TIMEOUT_MS,
  chaosSizeFromEnv,
  describeDivergence,
  faultSummary,
  runChaos,
  TEST_SIZE,
  type ChaosSize,
} from '../test/support/chaos';
import { startTestServer } from '../test/support/server';
import { runIfMain } from './report';
import { atLeast, atMost, type Bench } from './types';

const FULL_SIZE: ChaosSize = {
  ...TEST_SIZE,
  messagesPerClient: 100,
  httpFaultRate: 0.12,
  webSocketFaultEveryMs: 500,
  hidesPerClient: 4,
  pipelineFaultRate: 0.12,
  wechatBusyEveryMs: 1000,
};

export const run: Bench = async ({ quick }) => {
  const size = chaosSizeFromEnv(quick ? TEST_SIZE : FULL_SIZE);
  // Durable Postgres (no `fast`) and moderation on: the figures are about the real thing.
  const server = await startTestServer({ fast: false, moderation: true });
  try {
    const result = await runChaos(server, size, (line) => process.stderr.write(`  ${line}\n`));
    const faults = result.faults.length;
    return {
      name: 'chaos',
      figures: [
        { metric: 'clients', value: size.clients, unit: 'clients' },
        { metric: 'messages sent', value: result.sent, unit: 'messages' },
        atLeast('faults injected', faults, 'faults', 100),
        { metric: 'insert answers cut after commit', value: result.cutAfterCommit, unit: 'faults' },
        { metric: 'app hides (background → foreground)', value: result.hides - result.relaunches, unit: 'hides' },
        { metric: 'app kills + relaunches', value: result.relaunches, unit: 'relaunches' },
        { metric: 'faults on pg_net → moderate function', value: result.pipelineFaults.length, unit: 'faults' },
        { metric: 'WeChat busy answers (msg_sec_check)', value: result.wechatBusy, unit: 'answers' },
        atMost('lost', result.lost, 'messages', 0),
        atMost('duplicated', result.duplicated, 'messages', 0),
        atMost('clients whose list differs from the database', result.divergences.length, 'clients', 0),
        atMost('messages not visible at the end (no verdict)', result.notVisible, 'messages', 0),
        atMost('messages a client shows in a stale state', result.staleStates, 'messages', 0),
        atMost('time to converge after faults stop', result.convergeMs / 1000, 's', CONVERGE_TIMEOUT_MS / 1000),
      ],
      notes: {
        size,
        faultsByKind: faultSummary(result.faults),
        pipelineFaultsByKind: faultSummary(result.pipelineFaults),

        requestsThroughProxy: result.requests,
        rateLimitWaits: result.rateLimitWaits,
        stored: result.stored,
        divergences: result.divergences.map(describeDivergence),
        problems: result.problems,
        totalSeconds: result.totalMs / 1000,
      },
    };
  } finally {
    await server.stop();
  }
};

runIfMain(__filename, 'chaos', run);
