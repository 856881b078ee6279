// The schema cache: what PostgREST introspects from the exposed schema (tables, views, columns,
// primary keys, functions) plus the API roles' own settings. Identifiers in a request are checked
// against it before any SQL is built. It reloads lazily when a request names something it does not
// know, so migrations applied while the server runs are picked up without a restart.
import type { Pool } from 'pg';

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

export class SchemaCache {
  private snapshot: Snapshot | undefined;
  private loading: Promise<Snapshot> | undefined;

  constructor(private readonly db: Pool) {}

  /** The current snapshot, loading it on first use. */
  async current(): Promise<Snapshot> {
    return this.snapshot ?? this.reload();
  }

  /** Reloads, sharing one introspection among the requests that miss at the same time. */
  reload(): Promise<Snapshot> {
    this.loading ??= this.load().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async load(): Promise<Snapshot> {
    const [relations, functions, settings] = await Promise.all([
      this.db.query<{ name: string; columns: Column[]; primary_key: string[] }>(RELATIONS_SQL, [EXPOSED_SCHEMA]),
      this.db.query<{ name: string; volatile: boolean; returns_set: boolean; returns: RestFunction['returns']; defaults: number; args: FunctionArg[] }>(
        FUNCTIONS_SQL,
        [EXPOSED_SCHEMA],
      ),
      this.db.query<{ role: string; settings: string[] }>(ROLE_SETTINGS_SQL),
    ]);
    const snapshot: Snapshot = { relations: new Map(), functions: new Map(), roleSettings: new Map() };
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
    for (const s of settings.rows) {
      const pairs = s.settings.map((kv): [string, string] => {
        const eq = kv.indexOf('=');
        return [kv.slice(0, eq), kv.slice(eq + 1)];
      });
      snapshot.roleSettings.set(s.role, [...(snapshot.roleSettings.get(s.role) ?? []), ...pairs]);
    }
    this.snapshot = snapshot;
    return snapshot;
  }
}
