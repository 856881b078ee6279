// local-supabase as `npm start` runs it, in its own process (durable Postgres, its own CPU and
// memory), and what the benchmarks read about that process from /proc (Linux).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { waitFor } from '../test/support/wait';

const REPO = path.join(__dirname, '..');

export interface ServerProcess {
  child: ChildProcess;
  /** What the process printed up to its banner. */
  banner: string;
  url: string;
  anonKey: string;
  dbUrl: string;
  stop(): Promise<void>;
}

/**
 * A copy of the project (supabase/) whose per-address Auth limits let one machine sign in hundreds
 * of people, as an operator raises them for a load test (`[auth.rate_limit]` in config.toml).
 */
export function manyPhonesWorkdir(): string {
  const workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-project-'));
  fs.cpSync(path.join(REPO, 'supabase'), path.join(workdir, 'supabase'), { recursive: true });
  const config = path.join(workdir, 'supabase', 'config.toml');
  // GoTrue's buckets hold a burst of 30 and refill at the limit per 5 minutes: 300 people signing in
  // at once from one address need about 10 million for the refill to keep up.
  const raised = fs.readFileSync(config, 'utf8').replace(/^(sign_in_sign_ups|token_verifications|token_refresh) = \d+$/gm, '$1 = 10000000');
  fs.writeFileSync(config, raised);
  return workdir;
}

/**
 * What `npm start` runs after `node`: Node's flags, the server's entry and `start`. Node itself with
 * tsx's loader, so signals reach the server rather than a wrapper.
 */
export function npmStartArgs(): string[] {
  const { scripts } = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const [command, ...args] = scripts.start.split(/\s+/);
  if (command !== 'node') throw new Error(`package.json's start script must run node itself, not ${command}`);
  return args;
}

/**
 * local-supabase as `npm start` runs it, in a child process; resolves once it prints its URL and
 * keys. `nodeOptions` go to Node itself (e.g. `--inspect`).
 */
export async function startServerProcess(dataDir: string, nodeOptions: string[] = [], workdir?: string): Promise<ServerProcess> {
  // Port 0 picks a free one, which the banner then names; every port is asked for, so servers that
  // start at the same time never reach for the same default.
  const args = [...nodeOptions, ...npmStartArgs(), '--data', dataDir, '--port', '0', '--db-port', '0', '--wechat-port', '0'];
  if (workdir) args.push('--workdir', workdir);
  const child = spawn(process.execPath, args, {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const banner = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`local-supabase did not start in 120 s:\n${output}`)), 120000);
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Press Ctrl-C to stop.')) {
        clearTimeout(timer);
        resolve(output);
      }
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`local-supabase exited with ${code}:\n${output}`));
    });
  });
  const field = (label: string) => {
    const match = new RegExp(`${label}\\s+(\\S+)`).exec(banner);
    if (!match) throw new Error(`no ${label} in the server's banner:\n${banner}`);
    return match[1];
  };
  return {
    child,
    banner,
    url: field('API URL'),
    anonKey: field('anon key'),
    dbUrl: field('database'),
    async stop() {
      child.kill('SIGINT');
      await exited;
    },
  };
}

/** Fields of /proc/<pid>/stat after the parenthesised command name (state is [0], ppid [1]). */
function statFields(pid: number): string[] {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
}

/** CPU seconds (user + system) the process has used so far, from /proc (Linux). */
export function cpuSeconds(pid: number): number {
  const fields = statFields(pid);
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Minor page faults the process has taken so far, from /proc (Linux). */
export function minorFaults(pid: number): number {
  return Number(statFields(pid)[7]);
}

/** CPU seconds of the live descendants of `pid`: the Postgres cluster the server started. */
export function descendantsCpuSeconds(pid: number): number {
  const parents = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      parents.set(Number(entry), Number(statFields(Number(entry))[1]));
    } catch {
      // The process ended while we looked.
    }
  }
  const isDescendant = (child: number): boolean => {
    for (let parent = parents.get(child); parent !== undefined && parent > 1; parent = parents.get(parent)) {
      if (parent === pid) return true;
    }
    return false;
  };
  let seconds = 0;
  for (const child of parents.keys()) {
    if (!isDescendant(child)) continue;
    try {
      seconds += cpuSeconds(child);
    } catch {
      // Ended meanwhile: its time is lost, which only lowers the figure.
    }
  }
  return seconds;
}

/** The process's resident set size in MiB, from /proc (Linux). */
export function rssMiB(pid: number): number {
  return statusMiB(pid, 'VmRSS');
}

/** The most the process's resident set has been (VmHWM) since it started or since resetPeakRss, in MiB. */
export function peakRssMiB(pid: number): number {
  return statusMiB(pid, 'VmHWM');
}

/** Starts VmHWM again from the current resident set (proc(5), /proc/pid/clear_refs). */
export function resetPeakRss(pid: number): void {
  fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

function statusMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status);
  if (!match) throw new Error(`no ${field} for process ${pid}`);
  return Number(match[1]) / 1024;
}

/**
 * Resolves once Realtime's replication slot has confirmed all the WAL written so far, that is once
 * Postgres has decoded and the server has read every change up to now (a bulk load's too).
 */
export async function slotCaughtUp(dbUrl: string, timeoutMs: number): Promise<void> {
  const db = new pg.Client({ connectionString: dbUrl });
  await db.connect();
  try {
    const lsn = (await db.query<{ lsn: string }>('select pg_current_wal_lsn()::text as lsn')).rows[0].lsn;
    const confirmed = async () =>
      (
        await db.query<{ done: boolean }>(
          `select confirmed_flush_lsn >= $1::pg_lsn as done from pg_replication_slots where slot_name like 'local_realtime_%'`,
          [lsn],
        )
      ).rows[0]?.done;
    await waitFor(`the replication slot to confirm ${lsn}`, confirmed, timeoutMs, 100);
  } finally {
    await db.end();
  }
}
