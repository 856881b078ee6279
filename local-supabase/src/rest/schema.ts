// The schema cache: what PostgREST introspects from the exposed schema (tables, views, columns,
// primary keys, functions) plus the API roles' own settings. Identifiers in a request are checked
// against it before any SQL is built. As in PostgREST (src/library/PostgREST/AppState/Reload.hs),
// it reloads when told on the `pgrst` channel — the event triggers bootstrap.sql installs send that
// after every DDL, as a Supabase project's do — and after its listening connection comes back.
// A name it does not hold is an error (PGRST205, PGRST204, PGRST202), never a reason to reload.
import pg, { type Pool } from 'pg';
import { inTransaction } from '../db';

export const EXPOSED_SCHEMA = 'public';

export interface Column {
  name: string;
  /** format_type() of the column, usable verbatim in a record definition. */
  type: string;
  /** The DEFAULT expression, as Postgres prints it. */
  default: string | null;
}

export interface Relation {
  name: string;
  columns: Map<string, Column>;
  primaryKey: string[];
}

export interface FunctionArg {
  name: string;
  type: string;
}

export interface RestFunction {
  name: string;
  /** Input arguments in declaration order. */
  args: FunctionArg[];
  /** How many leading arguments have no default. */
  required: number;
  volatile: boolean;
  returnsSet: boolean;
  returns: 'void' | 'scalar' | 'composite';
}

export interface Snapshot {
  relations: Map<string, Relation>;
  functions: Map<string, RestFunction[]>;
  roleSettings: Map<string, Array<[string, string]>>;
}

const RELATIONS_SQL = `
  select c.relname as name,
         coalesce(json_agg(json_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod),
                                             'default', pg_get_expr(d.adbin, d.adrelid))
                           order by a.attnum) filter (where a.attnum is not null), '[]') as columns,
         coalesce((select array_agg(k.attname::text order by array_position(i.indkey, k.attnum))
                     from pg_index i join pg_attribute k on k.attrelid = i.indrelid and k.attnum = any(i.indkey)
                    where i.indrelid = c.oid and i.indisprimary), '{}'::text[]) as primary_key
    from pg_class c
    join pg_namespace n on n.oid = c.relnamespace
    left join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
    left join pg_attrdef d on d.adrelid = c.oid and d.adnum = a.attnum
   where n.nspname = $1 and c.relkind in ('r', 'v', 'm', 'f', 'p')
   group by c.oid`;

const FUNCTIONS_SQL = `
  select p.proname as name, p.provolatile = 'v' as volatile, p.proretset as returns_set,
         case when p.prorettype = 'void'::regtype then 'void'
              when t.typtype = 'c' or p.prorettype = 'record'::regtype then 'composite'
              else 'scalar' end as returns,
         p.pronargdefaults as defaults,
         coalesce((select json_agg(json_build_object('name', coalesce(p.proargnames[a.i], ''), 'type', format_type(a.t, null))
                                   order by a.i)
                     from unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) with ordinality a(t, i)
                    where coalesce(p.proargmodes[a.i], 'i') in ('i', 'b', 'v')), '[]') as args
    from pg_proc p
    join pg_namespace n on n.oid = p.pronamespace
    join pg_type t on t.oid = p.prorettype
   where n.nspname = $1 and p.prokind = 'f' and t.typname not in ('trigger', 'event_trigger')`;

// Settings for all databases come first so that database-specific ones override them.
const ROLE_SETTINGS_SQL = `
  select r.rolname as role, s.setconfig as settings
    from pg_db_role_setting s join pg_roles r on r.oid = s.setrole
   where s.setdatabase in (0, (select oid from pg_database where datname = current_database()))
   order by s.setdatabase`;

/** 'schema' reloads everything; 'config' only the roles' settings (PostgREST's in-database config). */
export type ReloadKind = 'schema' | 'config';

const CHANNEL = 'pgrst';
const MESSAGES: Record<string, ReloadKind> = { '': 'schema', 'reload schema': 'schema', 'reload config': 'config' };
/** PostgREST's listener backoff: 1 s, doubling, at most 32 s. */
const RETRY_MS = { first: 1000, max: 32000 };

export class SchemaCache {
  private snapshot: Snapshot | undefined;
  private loading: Promise<Snapshot> | undefined;
  private queued: { kind: ReloadKind; promise: Promise<Snapshot> } | undefined;
  private listener: pg.Client | undefined;
  private retry: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly db: Pool,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  /** Starts listening on a connection to `listenUrl`, then loads: a change made meanwhile reloads once more. */
  async start(listenUrl: string): Promise<void> {
    this.listener = await this.listen(listenUrl);
    await this.reload('schema');
  }

  /** The current snapshot. */
  async current(): Promise<Snapshot> {
    return this.snapshot ?? this.reload('schema');
  }

  /**
   * Loads again. A load already under way may have begun before the change that asks for this
   * one, so the new load is queued behind it; every request made meanwhile shares that one load.
   */
  reload(kind: ReloadKind): Promise<Snapshot> {
    if (!this.loading) {
      this.loading = this.load(kind).finally(() => {
        this.loading = undefined;
      });
      return this.loading;
    }
    if (this.queued) {
      if (kind === 'schema') this.queued.kind = 'schema';
      return this.queued.promise;
    }
    const queued: { kind: ReloadKind; promise: Promise<Snapshot> } = {
      kind,
      promise: this.loading
        .catch(() => undefined)
        .then(() => {
          this.queued = undefined;
          return this.reload(queued.kind);
        }),
    };
    this.queued = queued;
    return queued.promise;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    await this.listener?.end().catch(() => undefined);
  }

  /** LISTEN on a connection of its own; when that connection is lost, `reconnect` takes over. */
  private async listen(url: string): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: url });
    client.on('error', (err) => this.log(`schema cache listener: ${err.message}`));
    client.on('notification', (n) => {
      const kind = MESSAGES[n.payload ?? ''];
      if (n.channel === CHANNEL && kind) this.reloadLogged(kind);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    client.on('end', () => {
      this.listener = undefined;
      if (!this.closed) this.reconnect(url, RETRY_MS.first);
    });
    return client;
  }

  /** Retries with backoff; notifications sent while nobody listened are lost, so the cache reloads. */
  private reconnect(url: string, delay: number): void {
    this.retry = setTimeout(async () => {
      let client: pg.Client;
      try {
        client = await this.listen(url);
      } catch (err) {
        const next = Math.min(delay * 2, RETRY_MS.max);
        this.log(`schema cache listener: ${(err as Error).message}; retrying in ${next} ms`);
        if (!this.closed) this.reconnect(url, next);
        return;
      }
      if (this.closed) {
        await client.end().catch(() => undefined);
        return;
      }
      this.listener = client;
      this.reloadLogged('schema');
    }, delay);
  }

  private reloadLogged(kind: ReloadKind): void {
    this.reload(kind).then(
      () => this.log(`schema cache reloaded (${kind})`),
      (err: Error) => this.log(`schema cache reload failed, keeping the previous one: ${err.message}`),
    );
  }

  private async load(kind: ReloadKind): Promise<Snapshot> {
    // One snapshot of the catalogs, so a load never mixes states from before and after a change.
    const snapshot = await inTransaction(this.db, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', async (db) => {
      const settings = await db.query<{ role: string; settings: string[] }>(ROLE_SETTINGS_SQL);
      const schema = kind === 'config' && this.snapshot ? this.snapshot : await this.loadSchema(db);
      return { relations: schema.relations, functions: schema.functions, roleSettings: roleSettings(settings.rows) };
    });
    this.snapshot = snapshot;
    return snapshot;
  }

  private async loadSchema(db: pg.PoolClient): Promise<Pick<Snapshot, 'relations' | 'functions'>> {
    const relations = await db.query<{ name: string; columns: Column[]; primary_key: string[] }>(RELATIONS_SQL, [EXPOSED_SCHEMA]);
    const functions = await db.query<{
      name: string;
      volatile: boolean;
      returns_set: boolean;
      returns: RestFunction['returns'];
      defaults: number;
      args: FunctionArg[];
    }>(FUNCTIONS_SQL, [EXPOSED_SCHEMA]);
    const snapshot: Pick<Snapshot, 'relations' | 'functions'> = { relations: new Map(), functions: new Map() };
    for (const r of relations.rows) {
      snapshot.relations.set(r.name, {
        name: r.name,
        columns: new Map(r.columns.map((c) => [c.name, c])),
        primaryKey: r.primary_key,
      });
    }
    for (const f of functions.rows) {
      const fn: RestFunction = {
        name: f.name,
        args: f.args,
        required: f.args.length - f.defaults,
        volatile: f.volatile,
        returnsSet: f.returns_set,
        returns: f.returns,
      };
      snapshot.functions.set(f.name, [...(snapshot.functions.get(f.name) ?? []), fn]);
    }
    return snapshot;
  }
}

function roleSettings(rows: Array<{ role: string; settings: string[] }>): Snapshot['roleSettings'] {
  const byRole: Snapshot['roleSettings'] = new Map();
  for (const row of rows) {
    const pairs = row.settings.map((kv): [string, string] => {
      const eq = kv.indexOf('=');
      return [kv.slice(0, eq), kv.slice(eq + 1)];
    });
    byRole.set(row.role, [...(byRole.get(row.role) ?? []), ...pairs]);
  }
  return byRole;
}
