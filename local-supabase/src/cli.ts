// `npm start` / `npm run db:reset`: local-supabase on 127.0.0.1:54321 with data in .local/.
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_DB_PORT, DEFAULT_PORT, DEFAULT_WECHAT_PORT } from './config';
import { MigrationError } from './migrate';
import { portIsFree } from './ports';
import { startLocalSupabase } from './server';

const REPO = path.join(__dirname, '..', '..');

const USAGE = 'usage: cli.ts start|reset [--port N] [--db-port N] [--wechat-port N] [--data DIR] [--workdir DIR]';

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

/** A TCP port from an option (0: any free one); anything else stops with the usage line. */
function portOption(name: string, fallback: string | undefined): number | undefined {
  const text = option(name) ?? fallback;
  if (text === undefined) return undefined;
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) {
    console.error(`--${name} must be a port number from 0 to 65535, not "${text}"\n${USAGE}`);
    process.exit(2);
  }
  return port;
}

async function main() {
  const command = process.argv[2] ?? 'start';
  if (command !== 'start' && command !== 'reset') {
    console.error(USAGE);
    process.exit(2);
  }
  const dataDir = path.resolve(option('data') ?? path.join(REPO, '.local'));
  // As the Supabase CLI's --workdir: the folder whose supabase/ holds config.toml, migrations and functions.
  const workdir = option('workdir');
  const supabaseDir = workdir === undefined ? undefined : path.join(path.resolve(workdir), 'supabase');
  if (supabaseDir && !fs.existsSync(path.join(supabaseDir, 'config.toml'))) {
    console.error(`--workdir ${workdir} has no supabase/config.toml\n${USAGE}`);
    process.exit(2);
  }
  const port = portOption('port', process.env.PORT ?? String(DEFAULT_PORT))!;
  const askedDbPort = portOption('db-port', undefined);
  const askedWechatPort = portOption('wechat-port', undefined);
  if (command === 'reset') {
    fs.rmSync(dataDir, { recursive: true, force: true });
    console.log(`removed ${dataDir}; starting over from an empty database`);
  }
  const started = Date.now();
  // The Supabase CLI's database port, so tools keep one connection string; any free port if taken,
  // unless one was asked for (0 asks for any: two servers starting at once cannot both take the
  // default, which is only probed).
  const dbPort = askedDbPort ?? ((await portIsFree(DEFAULT_DB_PORT)) ? DEFAULT_DB_PORT : 0);
  const wechatPort = askedWechatPort ?? ((await portIsFree(DEFAULT_WECHAT_PORT)) ? DEFAULT_WECHAT_PORT : 0);
  const server = await startLocalSupabase({
    dataDir,
    supabaseDir,
    port,
    dbPort,
    wechatPort,
    // What the functions print is the developer's own output, as with `supabase functions serve`.
    log: (line) => {
      if (process.env.DEBUG || line.startsWith('[functions/')) console.error(line);
    },
  });
  const { applied, seeded } = server.migrations;
  console.log(`
local-supabase is running (${Date.now() - started} ms)

  API URL          ${server.url}
  anon key         ${server.anonKey}
  service_role key ${server.serviceRoleKey}
  database         ${server.dbUrl}
  data             ${server.dataDir}
  migrations       ${applied.length ? applied.join(', ') : 'up to date'}${seeded ? ' (+ seed.sql)' : ''}
  functions        ${server.url}/functions/v1/<name>  (supabase/functions, run by Deno)
  WeChat API       ${server.wechat!.url}  (a fake of api.weixin.qq.com: WECHAT_API_BASE of the functions)

WeChat DevTools: import this repository's root folder (project.config.json is there), then in
详情 → 本地设置 tick 「不校验合法域名、web-view（业务域名）、TLS 版本以及 HTTPS 证书」 so the mini
program may call ${server.url}. miniprogram/config.ts already points there. wx.login codes
from DevTools log in through the fake WeChat API (each fresh login without a session is a new person).
Terminal client: npm run chat -- --as 楚留香   (the same --as is the same person every time)

Press Ctrl-C to stop.`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping…`);
    await server.stop();
    console.log('stopped; PostgreSQL shut down cleanly.');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err) => {
  if (err instanceof MigrationError) console.error(`\nlocal-supabase did not start: ${err.message}`);
  else if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    console.error(`\nlocal-supabase did not start: port ${(err as { port?: number }).port ?? ''} is in use (is another instance running?)`);
  } else console.error(err);
  process.exit(1);
});
