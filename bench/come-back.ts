// Coming back (test/support/come-back.ts): from the network returning, or the app returning to
// the foreground, until the room is connected and shows what was said meanwhile.
//   npx tsx bench/come-back.ts [--quick]
import { startComeBack } from '../test/support/come-back';
import { startTestServer } from '../test/support/server';
import { runIfMain } from './report';
import { atMost, percentile, type Bench, type Figure } from './types';

export const run: Bench = async ({ quick }) => {
  const rounds = quick ? 3 : 10;
  const server = await startTestServer();
  const phone = await startComeBack(server);
  try {
    const network: number[] = [];
    const foreground: number[] = [];
    for (let i = 0; i < rounds; i++) {
      network.push(await phone.networkReturns());
      foreground.push(await phone.returnsToForeground());
    }
    const figuresOf = (what: string, times: number[]): Figure[] => {
      const sorted = times.slice().sort((a, b) => a - b);
      return [
        { metric: `${what} → connected and caught up, p50 (${rounds} rounds)`, value: percentile(sorted, 50), unit: 'ms' },
        atMost(`${what} → connected and caught up, slowest`, sorted[sorted.length - 1], 'ms', 1000),
      ];
    };
    return {
      name: 'come back',
      figures: [...figuresOf('network returns', network), ...figuresOf('app returns to the foreground', foreground)],
    };
  } finally {
    await phone.close();
    await server.stop();
  }
};

runIfMain(__filename, 'come-back', run);
