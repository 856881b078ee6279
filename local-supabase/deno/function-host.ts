// Runs one Edge Function in this Deno process the way Supabase's edge runtime runs a user worker:
// the function's own `Deno.serve(...)` (or its `export default { fetch }`) answers, but on the
// loopback port local-supabase chose, whatever port the function asked for.
//   deno run … function-host.ts <entrypoint path> <port>
// Once listening it prints the READY line local-supabase waits for (src/functions/workers.ts).
// It exits when its stdin closes, so a function never outlives the server that started it, even
// a server that was SIGKILLed.
const READY = 'local-supabase: function ready';

const [entrypoint, portText] = Deno.args;
const port = Number(portText);
const serve = Deno.serve.bind(Deno) as (options: Deno.ServeTcpOptions, handler: Deno.ServeHandler) => Deno.HttpServer;
let served = false;

type ServeArgs = [Deno.ServeHandler] | [Deno.ServeOptions, Deno.ServeHandler] | [Deno.ServeOptions & { handler: Deno.ServeHandler }];

function serveHere(...args: ServeArgs): Deno.HttpServer {
  if (served) throw new Error('an Edge Function serves once: Deno.serve was called twice');
  served = true;
  const [first, second] = args as [unknown, unknown];
  const options = (typeof first === 'function' ? {} : first) as Deno.ServeOptions & { handler?: Deno.ServeHandler };
  const handler = (typeof first === 'function' ? first : (second ?? options.handler)) as Deno.ServeHandler;
  return serve({ ...options, port, hostname: '127.0.0.1', onListen: () => console.log(READY) }, handler);
}

Deno.serve = serveHere as unknown as typeof Deno.serve;

const module = await import(new URL(`file://${entrypoint}`).href);
const fetchExport = module.default?.fetch;
if (!served && typeof fetchExport === 'function') serveHere((request, info) => fetchExport.call(module.default, request, info));
if (!served) {
  console.error(`${entrypoint} neither calls Deno.serve nor exports default { fetch }`);
  Deno.exit(1);
}

for await (const _ of Deno.stdin.readable) {
  // Nothing is sent on stdin; the loop only ends when local-supabase is gone.
}
Deno.exit(0);
