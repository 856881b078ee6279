// Coming back: when the network returns or the app returns to the foreground, the room is
// connected again and shows what was said meanwhile within a second — the app as on a phone,
// through the fault proxy (test/support/come-back.ts). `npm run bench -- --only come-back`
// reports the times.
import { startComeBack, type ComeBack } from './support/come-back';
import { startTestServer, type TestServer } from './support/server';

/** The bound issue 12 sets, from the network event (or the app show) to connected and caught up. */
const COME_BACK_MS = 1000;

let server: TestServer;
let phone: ComeBack;

beforeAll(async () => {
  server = await startTestServer();
  phone = await startComeBack(server);
}, 60000);

afterAll(async () => {
  await phone?.close();
  await server?.stop();
});

test.each([1, 2])(`the network returns (round %i): connected and caught up within ${COME_BACK_MS} ms`, async () => {
  expect(await phone.networkReturns()).toBeLessThan(COME_BACK_MS);
});

test.each([1, 2])(`the app returns to the foreground (round %i): connected and caught up within ${COME_BACK_MS} ms`, async () => {
  expect(await phone.returnsToForeground()).toBeLessThan(COME_BACK_MS);
});
