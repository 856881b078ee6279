// Chaos: 20 clients (the core over the official supabase-js) each send 50 messages through a proxy
// that resets, stalls and cuts connections — at least 100 faults, some after an insert committed —
// while apps go to the background and get killed. Content moderation is on, as the app ships, and
// its own path fails too: pg_net's requests to the moderate function go through a faulty proxy and
// WeChat answers busy now and then. Afterwards every message must be visible and every client's
// list must equal the database's, id for id and state for state.
// Size: CHAOS_CLIENTS, CHAOS_MESSAGES, CHAOS_FAULT_RATE, … (test/support/chaos.ts).
import { chaosSizeFromEnv, describeDivergence, faultSummary, runChaos, TEST_SIZE, type ChaosResult } from './support/chaos';
import { startTestServer, type TestServer } from './support/server';

// Sending is paced by the rate limit (10 messages per 10 s per user): 50 messages take about 50 s,
// so the whole run takes 60–75 s here (longer when it fails: it waits 30 s for convergence).
jest.setTimeout(240000);

const MIN_FAULTS = 100;

describe('chaos', () => {
  let server: TestServer;
  let result: ChaosResult;
  const size = chaosSizeFromEnv(TEST_SIZE);

  beforeAll(async () => {
    server = await startTestServer({ moderation: true });
    result = await runChaos(server, size);
    const { faults, pipelineFaults, divergences, problems, ...figures } = result;
    const summary = { ...figures, faults: faults.length, byKind: faultSummary(faults), pipeline: faultSummary(pipelineFaults) };
    console.log(`chaos: ${JSON.stringify({ ...summary, divergent: divergences.length, problems: problems.length })}`);
  });
  afterAll(async () => {
    if (server) await server.stop();
  });

  test(`the proxies injected at least ${MIN_FAULTS} faults, including answers cut after a committed insert; WeChat was busy`, () => {
    // A smaller run (CHAOS_* variables) is held to a proportionally smaller count.
    const wanted = Math.min(MIN_FAULTS, (size.clients * size.messagesPerClient) / 10);
    expect(result.faults.length).toBeGreaterThanOrEqual(wanted);
    if (wanted === MIN_FAULTS) {
      const kinds = faultSummary(result.faults);
      for (const kind of ['http reset', 'http stall', 'http cut-request', 'http cut-response', 'websocket reset', 'websocket stall']) {
        expect(kinds).toHaveProperty([kind]);
      }
      expect(result.cutAfterCommit).toBeGreaterThan(0);
      // The moderation path failed too: pg_net's requests to the function, and WeChat itself.
      expect(result.pipelineFaults.length).toBeGreaterThan(0);
      expect(result.wechatBusy).toBeGreaterThan(0);
    }
    expect(result.hides).toBe(size.clients * size.hidesPerClient);
  });

  test('every message the clients sent is stored exactly once', () => {
    expect(result.problems).toEqual([]);
    expect({ lost: result.lost, duplicated: result.duplicated, stored: result.stored }).toEqual({
      lost: 0,
      duplicated: 0,
      stored: result.sent,
    });
  });

  test("every client's list equals the database's: same ids, same order", () => {
    expect(result.divergences.map(describeDivergence)).toEqual([]);
  });

  test('every message got its verdict and shows as visible on every client: none stuck pending', () => {
    expect({ notVisible: result.notVisible, staleStates: result.staleStates }).toEqual({ notVisible: 0, staleStates: 0 });
  });
});
