// pg_cron's launcher (citusdata/pg_cron src/pg_cron.c, src/task_states.c) in local-supabase's
// process. At least once a second it reads cron.job, counts the runs each active job is due
// (cron schedules once per matching minute, in UTC like pg_cron's default cron.timezone = GMT;
// '[1-59] seconds' schedules when that long has passed since the last start, queued at most once
// while a run lasts) and starts them, each on a connection of its own as the job's username, never
// two of one job at once, up to 32 together (cron.max_running_jobs' default). Every run is
// recorded in cron.job_run_details as pg_cron records it in its default client-session mode:
// starting → running → succeeded with the command's tag or row count, or failed with the error.
//
// Where it differs: the run's connection is the superuser's switched to the job's role with SET
// SESSION AUTHORIZATION, where pg_cron logs in as that role; the command could switch back.
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

const TICK_MS = 1000;
const MAX_RUNNING = 32;
/** A minute-schedule catches up on at most this many missed minutes (after, say, a suspended laptop). */
const CATCH_UP_MINUTES = 5;
/** How long stopping waits for canceled runs to record their end. */
const STOP_WAIT_MS = 5000;

export interface CronFields {
  minute: number[];
  hour: number[];
  dom: number[];
  month: number[];
  dow: number[];
  last_dom: boolean;
  dom_and_dow: boolean;
}

/** cron._parse_schedule's answer (sql/extensions/pg_cron--1.6.sql); null never runs, as in pg_cron. */
type Schedule = { seconds: number } | { reboot: true } | CronFields | null;

interface Job {
  jobid: number;
  command: string;
  database: string;
  username: string;
  schedule: Schedule;
}

interface Task {
  lastStart: number;
  pending: number;
  run?: Promise<void>;
  /** The backend running the command, once it runs. */
  pid?: number;
  /** Why the run was cut short: what it records instead of the error the cancel causes. */
  canceled?: string;
}

const LOAD_JOBS = `select jobid, command, database, username, cron._parse_schedule(schedule) as schedule from cron.job where active`;

export interface CronScheduler {
  stop(): Promise<void>;
}

export function startCronScheduler(connectionString: string, log: (line: string) => void): CronScheduler {
  const superuser = decodeURIComponent(new URL(connectionString).username);
  const tasks = new Map<number, Task>();
  let db: pg.Client | undefined;
  let firstConnection = true;
  let rebootDone = false;
  let lastMinute = 0;
  let runningCount = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let ticking: Promise<void> | undefined;
  let tickAgain = false;

  async function connection(): Promise<pg.Client> {
    if (db) return db;
    const client = new pg.Client({ connectionString, application_name: 'pg_cron scheduler' });
    client.on('error', (err) => {
      if (db !== client) return;
      log(`pg_cron scheduler: connection lost (${err.message})`);
      db = undefined;
    });
    try {
      await client.connect();
      // What a previous server left starting or running never finished (MarkPendingRunsAsFailed).
      if (firstConnection) {
        await client
          .query(
            `update cron.job_run_details set status = 'failed', return_message = 'server restarted' where status in ('starting', 'running')`,
          )
          .catch(ignoreMissingExtension);
      }
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    firstConnection = false;
    db = client;
    return client;
  }

  function schedule(delayMs: number) {
    clearTimeout(timer);
    if (!stopped) timer = setTimeout(() => void tick(), delayMs);
  }

  /** One look at the jobs; ticks never overlap (one asked for meanwhile follows at once). */
  async function tick(): Promise<void> {
    if (stopped) return;
    if (ticking) {
      tickAgain = true;
      return;
    }
    ticking = (async () => {
      let delay = TICK_MS;
      try {
        const jobs = await (await connection()).query<Job>(LOAD_JOBS).then((r) => r.rows, ignoreMissingExtension);
        delay = await startDueRuns(jobs ?? [], Date.now());
      } catch (err) {
        log(`pg_cron scheduler: ${(err as Error).message}`);
      }
      ticking = undefined;
      schedule(tickAgain ? 0 : delay);
      tickAgain = false;
    })();
    await ticking;
  }

  /** Starts what is due and answers how long until something may next be due. */
  async function startDueRuns(jobs: Job[], now: number): Promise<number> {
    const active = new Map(jobs.map((job) => [job.jobid, job]));
    for (const [jobid, task] of tasks) {
      if (active.has(jobid)) continue;
      if (task.run) await cancel(task, 'job canceled');
      else tasks.delete(jobid);
    }
    const minute = now - (now % 60000);
    const minutes: number[] = [];
    if (lastMinute) {
      const from = minute - lastMinute > CATCH_UP_MINUTES * 60000 ? minute : lastMinute + 60000;
      for (let m = from; m <= minute; m += 60000) minutes.push(m);
    }
    lastMinute = minute;
    let delay = Math.min(TICK_MS, minute + 60000 - now);
    for (const job of jobs) {
      let task = tasks.get(job.jobid);
      if (!task) {
        task = { lastStart: 0, pending: 0 };
        tasks.set(job.jobid, task);
      }
      const s = job.schedule;
      if (!s) continue;
      if ('seconds' in s) {
        if (task.pending === 0 && now - task.lastStart >= s.seconds * 1000) task.pending = 1;
      } else if ('reboot' in s) {
        if (!rebootDone) task.pending += 1;
      } else {
        task.pending += minutes.filter((m) => runsInMinute(s, new Date(m))).length;
      }
      if (task.pending > 0 && !task.run && runningCount < MAX_RUNNING && !stopped) start(job, task);
      if ('seconds' in s && !task.run) delay = Math.min(delay, task.lastStart + s.seconds * 1000 - now);
    }
    rebootDone = true;
    return Math.max(delay, 0);
  }

  function start(job: Job, task: Task) {
    task.pending -= 1;
    task.lastStart = Date.now();
    runningCount += 1;
    task.run = run(job, task)
      .catch((err) => log(`pg_cron: job ${job.jobid}: ${(err as Error).message}`))
      .finally(() => {
        runningCount -= 1;
        task.run = undefined;
        task.pid = undefined;
        task.canceled = undefined;
        if (task.pending > 0) void tick();
      });
  }

  /** Records go through the scheduler's connection of the moment: a lost one is replaced meanwhile. */
  async function run(job: Job, task: Task): Promise<void> {
    const detail = await (await connection()).query<{ runid: number }>(
      `insert into cron.job_run_details (jobid, runid, database, username, command, status)
       values ($1, nextval('cron.runid_seq'), $2, $3, $4, 'starting') returning runid`,
      [job.jobid, job.database, job.username, job.command],
    );
    const runid = detail.rows[0].runid;
    const [status, message] = await execute(job, task, runid);
    await (await connection()).query(
      `update cron.job_run_details set status = $2, return_message = $3, start_time = coalesce(start_time, now()), end_time = now()
       where runid = $1`,
      [runid, status, message],
    );
  }

  async function execute(job: Job, task: Task, runid: number): Promise<[status: string, message: string]> {
    const url = new URL(connectionString);
    url.pathname = `/${encodeURIComponent(job.database)}`;
    const session = new pg.Client({ connectionString: url.toString(), application_name: 'pg_cron' });
    // A connection lost mid-command fails that command, which is what gets recorded.
    session.on('error', () => undefined);
    try {
      try {
        await session.connect();
        const { rows } = await session.query<{ pid: number; can_login: boolean | null }>(
          'select pg_backend_pid() as pid, (select rolcanlogin from pg_roles where rolname = $1) as can_login',
          [job.username],
        );
        // pg_cron's connection as a role that does not exist or may not log in is refused.
        if (!rows[0].can_login) return ['failed', 'connection failed'];
        if (job.username !== superuser) await session.query(`set session authorization ${session.escapeIdentifier(job.username)}`);
        task.pid = rows[0].pid;
      } catch {
        return ['failed', 'connection failed'];
      }
      if (task.canceled) return ['failed', task.canceled];
      await (await connection()).query(
        `update cron.job_run_details set job_pid = $2, status = 'running', start_time = now() where runid = $1`,
        [runid, task.pid],
      );
      try {
        return ['succeeded', outcome(await session.query(job.command))];
      } catch (err) {
        return ['failed', task.canceled ?? failure(err)];
      }
    } finally {
      await session.end().catch(() => undefined);
    }
  }

  async function cancel(task: Task, reason: string) {
    if (task.canceled) return;
    task.canceled = reason;
    if (task.pid) await db?.query('select pg_cancel_backend($1)', [task.pid]).catch(() => undefined);
  }

  void tick();

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await ticking;
      const runs = [...tasks.values()].filter((task) => task.run);
      for (const task of runs) await cancel(task, 'server restarted');
      await Promise.race([Promise.all(runs.map((task) => task.run)), sleep(STOP_WAIT_MS, undefined, { ref: false })]);
      await db?.end().catch(() => undefined);
      db = undefined;
    },
  };
}

function ignoreMissingExtension(err: { code?: string }): null {
  if (err.code === '42P01') return null;
  throw err;
}

/** Whether a cron schedule runs in the minute starting at `t` (pg_cron's ShouldRunTask). */
export function runsInMinute(s: CronFields, t: Date): boolean {
  const lastDayOfMonth = new Date(t.getTime() + 86400000).getUTCDate() === 1;
  const dom = s.dom.includes(t.getUTCDate()) || (s.last_dom && lastDayOfMonth);
  const dow = s.dow.includes(t.getUTCDay());
  return (
    s.minute.includes(t.getUTCMinutes()) &&
    s.hour.includes(t.getUTCHours()) &&
    s.month.includes(t.getUTCMonth() + 1) &&
    (s.dom_and_dow ? dom && dow : dom || dow)
  );
}

/** What pg_cron records for a command that succeeded: "N rows" for a result set, else its tag. */
function outcome(result: pg.QueryResult | pg.QueryResult[]): string {
  const last = Array.isArray(result) ? result[result.length - 1] : result;
  if (last.fields.length > 0 || !last.command) {
    const rows = last.rowCount ?? last.rows.length;
    return `${rows} ${rows === 1 ? 'row' : 'rows'}`;
  }
  if (last.command === 'INSERT') return `INSERT 0 ${last.rowCount}`;
  return last.rowCount === null ? last.command : `${last.command} ${last.rowCount}`;
}

/** libpq's message for a failed command (PQresultErrorMessage), which pg_cron records. */
function failure(err: unknown): string {
  if (!(err instanceof pg.DatabaseError)) return 'connection lost';
  let text = `${err.severity ?? 'ERROR'}:  ${err.message}\n`;
  if (err.detail) text += `DETAIL:  ${err.detail}\n`;
  if (err.hint) text += `HINT:  ${err.hint}\n`;
  if (err.where) text += `CONTEXT:  ${err.where}\n`;
  return text;
}
