// postgres_changes: validates bindings at join, and delivers replicated changes to the channels
// whose bindings match and whose role and claims can SELECT the row at delivery time, as upstream's
// realtime.apply_rls does (supabase/realtime
// lib/realtime/tenants/repo/migrations/20260626120000_readd_postgrest_filter_ops.ex).
// Changes that arrive while a check runs are batched into the next one: one round trip per table
// per batch, one RLS check per distinct claim set, one serialisation per distinct frame.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Pool } from 'pg';
import { FilterError, judgeHere, matchesFilters, MAX_IN_VALUES, parseFilters, type Filter, type Judge } from './filters';
import type { Tuple } from './pgoutput';
import { encodeForTopics, type Vsn } from './protocol';
import type { ChangeType, RowChange } from './replication';
import type { VerifiedClaims } from './token';

export const PUBLICATION = 'supabase_realtime';
const CHECK_SQL = path.join(__dirname, '..', '..', 'sql', 'realtime.sql');
const JSON_TYPES = new Set([114, 3802]);

/** A joined channel as postgres_changes sees it. */
export interface ChangeListener {
  readonly topic: string;
  readonly vsn: Vsn;
  /** Read at each delivery: an `access_token` message may replace them. */
  readonly claims: VerifiedClaims;
  send(frame: string): void;
  /** Frames sent between cork and uncork may leave in one write. */
  cork(): void;
  uncork(): void;
}

/** A binding from the join payload, validated. */
export interface PreparedBinding {
  id: number;
  event: '*' | ChangeType;
  schema: string;
  /** null: every published table of the schema. */
  table: string | null;
  filters: Filter[];
}

export class SubscribeError extends Error {}

/** Like upstream's phash2 of the params: identical bindings share an id, so their frames are shared too. */
export function bindingId(params: Record<string, unknown>): number {
  const digest = createHash('sha1')
    .update(JSON.stringify([params.event, params.schema, params.table, params.filter]))
    .digest();
  return digest.readUInt32BE(0) % 0x7ffffff || 1;
}

interface ColumnInfo {
  name: string;
  type: string;
}

interface Visibility {
  rows: Array<Record<string, unknown>>;
  primary_key: string[];
  rls: boolean;
  /** By role. */
  columns: Record<string, ColumnInfo[]>;
  /** By claim set: the 1-based positions of the checked rows it may see. */
  visible: number[][];
}

interface Pending {
  order: number;
  change: RowChange;
  matches: Array<PreparedBinding & { listener: ChangeListener }>;
}

export class PostgresChanges {
  private readonly bindings = new Map<ChangeListener, PreparedBinding[]>();
  private queue: RowChange[] = [];
  private draining: Promise<void> | undefined;
  private closed = false;

  private constructor(
    private readonly pool: Pool,
    private readonly log: (line: string) => void,
  ) {}

  static async create(pool: Pool, log: (line: string) => void): Promise<PostgresChanges> {
    await pool.query(fs.readFileSync(CHECK_SQL, 'utf8'));
    return new PostgresChanges(pool, log);
  }

  /** Checks bindings the way upstream's subscription insert does; throws SubscribeError with its message. */
  async prepare(params: Array<Record<string, unknown>>, claims: VerifiedClaims): Promise<PreparedBinding[]> {
    const prepared: PreparedBinding[] = [];
    for (const p of params) {
      const event = typeof p.event === 'string' ? p.event.toUpperCase() : '';
      const schema = typeof p.schema === 'string' && p.schema !== '' ? p.schema : 'public';
      const table = typeof p.table === 'string' && p.table !== '' && p.table !== '*' ? p.table : null;
      const described = `[event: ${String(p.event)}, schema: ${schema}, table: ${table ?? '*'}, filters: ${String(p.filter ?? '')}]`;
      if (!['*', 'INSERT', 'UPDATE', 'DELETE'].includes(event)) {
        throw new SubscribeError(`Unable to subscribe to changes with given parameters. Invalid event ${described}`);
      }
      if (p.filter !== undefined && p.filter !== null && typeof p.filter !== 'string') {
        throw new SubscribeError('Error parsing `filter` params: filter must be a string');
      }
      let filters: Filter[];
      try {
        filters = parseFilters(p.filter as string | undefined);
      } catch (err) {
        if (err instanceof FilterError) throw new SubscribeError(err.message);
        throw err;
      }
      const { rows } = await this.pool.query<{ tables: number; columns: Record<string, string> }>(
        `select (select count(*) from pg_publication_tables p
                  where p.pubname = $1 and ($2 = '*' or p.schemaname = $2) and ($3::text is null or p.tablename = $3))::int as tables,
                (select coalesce(jsonb_object_agg(a.attname, a.atttypid::regtype::text), '{}') from pg_publication_tables p
                   join pg_attribute a on a.attrelid = format('%I.%I', p.schemaname, p.tablename)::regclass
                  where p.pubname = $1 and p.schemaname = $2 and p.tablename = $3
                    and a.attnum > 0 and not a.attisdropped
                    and case when to_regrole($4) is null then false
                             else has_column_privilege($4, a.attrelid, a.attnum, 'SELECT') end) as columns`,
        [PUBLICATION, schema, table, claims.role],
      );
      if (rows[0].tables === 0) {
        throw new SubscribeError(
          'Unable to subscribe to changes with given parameters. ' +
            `Please check Realtime is enabled for the given connect parameters: ${described}`,
        );
      }
      const failed = (exception: string) =>
        new SubscribeError(
          'Unable to subscribe to changes with given parameters. An exception happened so please check ' +
            `your connect parameters: ${described}. Exception: ${exception}`,
        );
      const columns = new Map(Object.entries(rows[0].columns));
      for (const f of filters) {
        const type = columns.get(f.column);
        if (table === null || type === undefined) throw failed(`invalid column for filter ${f.column}`);
        if (f.values.length > MAX_IN_VALUES) throw failed(`too many values for \`in\` filter. Maximum ${MAX_IN_VALUES}`);
        const refusal = await this.refusal(f, type);
        if (refusal) throw failed(refusal);
        // The type refusing the value (a data exception, a domain's CHECK, a regclass that names
        // nothing), or the filter its operator (json has no =, a LIKE pattern ending in \): upstream
        // fails the subscription on any exception. Only the database being unreachable
        // (connection, resources, shutdown, system) is ours.
        const refused = (err: Error & { code?: string }) => {
          throw err.code !== undefined && !/^(08|53|57|58|XX)/.test(err.code) ? failed(err.message) : err;
        };
        // Patterns and `is` keywords are not values of the column's type.
        if (!['like', 'ilike', 'match', 'imatch', 'is'].includes(f.operator))
          f.values = await this.castValues(f.values, type).catch(refused);
        await this.tryFilter(f, type).catch(refused);
      }
      prepared.push({ id: bindingId(p), event: event as PreparedBinding['event'], schema, table, filters });
    }
    return prepared;
  }

  /**
   * Why upstream's subscription_check_filters refuses a filter of `is`, like/ilike or match/imatch
   * on a column of `type`, before any change could fail on it; undefined when it is fine.
   */
  private async refusal(f: Filter, type: string): Promise<string | undefined> {
    const [value] = f.values;
    if (f.operator === 'is') {
      if (!['null', 'true', 'false', 'unknown'].includes(value))
        return 'invalid value for is filter: must be null, true, false, or unknown';
      if (value !== 'null' && type !== 'boolean') return `is ${value} filter requires a boolean column, got ${type}`;
      return undefined;
    }
    const operator = { like: '~~', ilike: '~~*', match: '~', imatch: '~*' }[f.operator as string];
    if (!operator) return undefined;
    const regex = f.operator === 'match' || f.operator === 'imatch';
    const { rows } = await this.pool.query<{ exists: boolean }>(
      `select exists (select 1 from pg_catalog.pg_operator
                       where oprname = $1 and oprleft = $2::regtype
                         and ($3 = false or (oprright = $2::regtype and oprresult = 'boolean'::regtype)))`,
      [operator, type, regex],
    );
    if (!rows[0].exists) return `operator ${f.operator} requires a text-compatible column type, got ${type}`;
    return undefined;
  }

  /**
   * Judges the filter once, with its own value for the row's, as deliveries will judge it: a filter
   * Postgres cannot judge fails now, not in every batch after (local_realtime.check_filter).
   */
  private async tryFilter(f: Filter, type: string): Promise<void> {
    if (f.operator === 'is') return;
    const op = f.operator === 'in' ? 'eq' : f.operator;
    for (const value of f.values) {
      await this.pool
        .query('select local_realtime.check_filter($1::regtype, $2, $3, $3, $4)', [type, op, value, f.negate])
        .catch((err: Error & { code?: string }) => {
          // A match/imatch pattern that is no regular expression, in upstream's words.
          if (err.code === '2201B') err.message = `invalid regular expression for ${f.operator} filter: ${err.message}`;
          throw err;
        });
    }
  }

  /**
   * Filter values as the column's type reads and prints them, as upstream casts them when it
   * stores a subscription (realtime.subscription_check_filters): a value the type refuses fails
   * the subscription, and the rest compare with the WAL's text (filters.ts compareValues).
   */
  private async castValues(values: string[], type: string): Promise<string[]> {
    // `type` is the catalog's own quoted spelling of a column's type (regtype output).
    const { rows } = await this.pool.query<{ value: string }>({
      text: `select v::${type} as value from unnest($1::text[]) with ordinality u(v, n) order by n`,
      values: [values],
      types: { getTypeParser: () => (text: string) => text },
    });
    return rows.map((r) => r.value);
  }

  subscribe(listener: ChangeListener, bindings: PreparedBinding[]): void {
    if (bindings.length > 0) this.bindings.set(listener, bindings);
  }

  unsubscribe(listener: ChangeListener): void {
    this.bindings.delete(listener);
  }

  /** Whether any channel listens to some change of this table (its events and filters aside). */
  listensTo(relation: { schema: string; table: string }): boolean {
    for (const bindings of this.bindings.values()) {
      if (bindings.some((b) => coversTable(b, relation))) return true;
    }
    return false;
  }

  /** Takes one committed transaction; changes nobody listens to are dropped at once. */
  push(changes: RowChange[]): void {
    const bindings = [...this.bindings];
    for (const change of changes) {
      if (this.listenersOf(change, bindings, judgeHere).length > 0) this.queue.push(change);
    }
    if (this.queue.length > 0) this.draining ??= this.drain();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.queue = [];
    await this.draining;
  }

  /** `bindings` as they were when `compare` was made; a listener that left since gets nothing. */
  private listenersOf(change: RowChange, bindings: Array<[ChangeListener, PreparedBinding[]]>, judge: Judge): Pending['matches'] {
    const row = rowOf(change);
    const matches: Pending['matches'] = [];
    for (const [listener, prepared] of bindings) {
      if (!this.bindings.has(listener)) continue;
      for (const b of prepared) {
        if (!coversTable(b, change.relation)) continue;
        if (b.event !== '*' && b.event !== change.type) continue;
        if (row && matchesFilters(b.filters, row, (column) => typeOf(change, column), judge)) matches.push({ ...b, listener });
      }
    }
    return matches;
  }

  /**
   * How the batch's rows fare against the filters: judgeHere where it can decide, and Postgres, in
   * one round trip, for the rest (local_realtime.check_filters). An `in` is asked as one `eq` per value.
   */
  private async judgmentsFor(batch: RowChange[], bindings: Array<[ChangeListener, PreparedBinding[]]>): Promise<Judge> {
    const asked = {
      types: [] as number[],
      ops: [] as string[],
      a: [] as Array<string | null>,
      b: [] as string[],
      negates: [] as boolean[],
    };
    const index = new Map<string, number>();
    const key = (op: string, negate: boolean, typeOid: number, a: string | null, b: string) => JSON.stringify([op, negate, typeOid, a, b]);
    const questions = (f: Filter): Array<[op: string, negate: boolean, value: string]> =>
      f.operator === 'in' ? f.values.map((value) => ['eq', false, value]) : [[f.operator, f.negate, f.values[0]]];
    for (const change of batch) {
      const row = rowOf(change);
      for (const [, prepared] of bindings) {
        for (const binding of prepared) {
          if (!row || !coversTable(binding, change.relation)) continue;
          for (const f of binding.filters) {
            const typeOid = typeOf(change, f.column);
            const text = row[f.column];
            if (text === undefined || judgeHere(f, typeOid, text) !== undefined) continue;
            for (const [op, negate, value] of questions(f)) {
              if (index.has(key(op, negate, typeOid, text, value))) continue;
              index.set(key(op, negate, typeOid, text, value), asked.types.push(typeOid) - 1);
              asked.ops.push(op);
              asked.a.push(text);
              asked.b.push(value);
              asked.negates.push(negate);
            }
          }
        }
      }
    }
    if (!index.size) return judgeHere;
    const { rows } = await this.pool.query<{ results: boolean[] }>(
      'select local_realtime.check_filters($1::oid[]::regtype[], $2, $3, $4, $5) as results',
      [asked.types, asked.ops, asked.a, asked.b, asked.negates],
    );
    const { results } = rows[0];
    return (f, typeOid, text) => {
      const decided = judgeHere(f, typeOid, text);
      if (decided !== undefined) return decided;
      const answers = questions(f).map(([op, negate, value]) => results[index.get(key(op, negate, typeOid, text, value))!]);
      return f.operator === 'in' ? answers.includes(true) !== f.negate : answers[0];
    };
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 && !this.closed) {
      const batch = this.queue;
      this.queue = [];
      try {
        await this.deliver(batch);
      } catch (err) {
        this.log(`realtime: delivering ${batch.length} change(s) failed: ${(err as Error).message}`);
      }
    }
    this.draining = undefined;
  }

  private async deliver(batch: RowChange[]): Promise<void> {
    // Bindings are matched now, not when the change arrived: a channel that left meanwhile gets nothing.
    const bindings = [...this.bindings];
    const judge = await this.judgmentsFor(batch, bindings);
    const byTable = new Map<number, Pending[]>();
    batch.forEach((change, order) => {
      const matches = this.listenersOf(change, bindings, judge);
      if (matches.length === 0) return;
      const group = byTable.get(change.relation.oid) ?? [];
      group.push({ order, change, matches });
      byTable.set(change.relation.oid, group);
    });
    const frames = (await Promise.all([...byTable].map(([oid, pending]) => this.framesFor(oid, pending)))).flat();
    frames.sort((a, b) => a.order - b.order);
    if (this.closed) return;
    // A batch of several changes sends each socket its frames in one write, not one per frame.
    const corked = new Set<ChangeListener>();
    try {
      for (const f of frames) {
        if (!corked.has(f.listener)) {
          f.listener.cork();
          corked.add(f.listener);
        }
        f.listener.send(f.frame);
      }
    } finally {
      for (const listener of corked) listener.uncork();
    }
  }

  private async framesFor(oid: number, pending: Pending[]): Promise<Array<{ order: number; listener: ChangeListener; frame: string }>> {
    const claimSets: string[] = [];
    const roles: string[] = [];
    const claimIndex = new Map<ChangeListener, number>();
    const claimKeys = new Map<string, number>();
    const tuples: Array<Record<string, unknown>> = [];
    const checks: Array<Record<string, unknown>> = [];
    const positions = pending.map(({ change, matches }) => {
      for (const { listener } of matches) {
        if (claimIndex.has(listener)) continue;
        const key = JSON.stringify(listener.claims);
        if (!claimKeys.has(key)) {
          claimKeys.set(key, claimSets.push(key) - 1);
          roles.push(listener.claims.role);
        }
        claimIndex.set(listener, claimKeys.get(key)!);
      }
      const typed = (tuple: Tuple | null) => (tuple ? forSql(tuple, change) : null);
      const newTuple = typed(change.new);
      const oldTuple = typed(change.old);
      return {
        newRow: newTuple ? tuples.push(newTuple) - 1 : -1,
        oldRow: oldTuple ? tuples.push(oldTuple) - 1 : -1,
        // 1-based, as the SQL function numbers them; DELETEs bypass RLS, as in upstream's apply_rls.
        check: change.type === 'DELETE' ? 0 : checks.push(newTuple!),
      };
    });
    const xids = [...new Set(pending.filter((p) => p.change.type !== 'DELETE').map((p) => p.change.xid))];
    const { rows } = await this.pool.query<{ v: Visibility }>(
      'select local_realtime.visible_changes($1::oid::regclass, $2, $3, $4, $5, $6) as v',
      [oid, xids, JSON.stringify(tuples), JSON.stringify(checks), roles, claimSets],
    );
    const v = rows[0].v;

    const frames: Array<{ order: number; listener: ChangeListener; frame: string }> = [];
    pending.forEach(({ order, change, matches }, i) => {
      const position = positions[i];
      const ids = new Map<ChangeListener, number[]>();
      for (const m of matches) {
        const columns = v.columns[m.listener.claims.role];
        const keyReadable = v.primary_key.length > 0 && v.primary_key.every((k) => columns.some((c) => c.name === k));
        const visible = position.check === 0 ? keyReadable : v.visible[claimIndex.get(m.listener)!].includes(position.check);
        if (!visible) continue;
        const list = ids.get(m.listener) ?? [];
        if (!list.includes(m.id)) list.push(m.id);
        ids.set(m.listener, list);
      }
      // Listeners with the same bindings and role get the same payload, encoded once; each
      // listener's topic is spliced in.
      const encoded = new Map<string, (topic: string) => string>();
      for (const [listener, listenerIds] of ids) {
        const key = `${listener.vsn}|${listenerIds.join(',')}|${listener.claims.role}`;
        let frameFor = encoded.get(key);
        if (frameFor === undefined) {
          const payload = { ids: listenerIds, data: changeData(change, v.columns[listener.claims.role], v, position) };
          frameFor = encodeForTopics(listener.vsn, { joinRef: null, ref: null, event: 'postgres_changes', payload });
          encoded.set(key, frameFor);
        }
        frames.push({ order, listener, frame: frameFor(listener.topic) });
      }
    });
    return frames;
  }
}

/** Whether a binding names this table, or every table of its schema. */
/** The row a change's filters are judged on: the old one of a DELETE. */
function rowOf(change: RowChange): Tuple | null {
  return change.type === 'DELETE' ? change.old : change.new;
}

function typeOf(change: RowChange, column: string): number {
  return change.relation.columns.find((c) => c.name === column)?.typeOid ?? 0;
}

function coversTable(binding: PreparedBinding, relation: { schema: string; table: string }): boolean {
  return (binding.schema === '*' || binding.schema === relation.schema) && (binding.table === null || binding.table === relation.table);
}

/** pgoutput sends json/jsonb as text; jsonb_populate_record must receive them as JSON values. */
function forSql(tuple: Tuple, change: RowChange): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of change.relation.columns) {
    if (!(c.name in tuple)) continue;
    const text = tuple[c.name];
    out[c.name] = text !== null && JSON_TYPES.has(c.typeOid) ? JSON.parse(text) : text;
  }
  return out;
}

/** The `data` of a postgres_changes message, limited to the columns the subscriber's role may read. */
function changeData(change: RowChange, columns: ColumnInfo[], v: Visibility, position: { newRow: number; oldRow: number }) {
  const pick = (row: number, tuple: Tuple, only?: string[]) => {
    const out: Record<string, unknown> = {};
    for (const { name } of columns) {
      if (name in tuple && (!only || only.includes(name))) out[name] = v.rows[row][name];
    }
    return out;
  };
  const data: Record<string, unknown> = {
    schema: change.relation.schema,
    table: change.relation.table,
    commit_timestamp: change.commitTimestamp,
    type: change.type,
    columns,
  };
  if (change.new) data.record = pick(position.newRow, change.new);
  if (change.type === 'UPDATE') {
    // Default replica identity sends no old row unless the key changed: the key is the old identity.
    data.old_record = change.old ? pick(position.oldRow, change.old) : pick(position.newRow, change.new!, v.primary_key);
  }
  if (change.type === 'DELETE') {
    // On RLS tables a DELETE, which bypasses the check, reveals the primary key only.
    data.old_record = pick(position.oldRow, change.old!, v.rls ? v.primary_key : undefined);
  }
  data.errors = null;
  return data;
}
