-- Realtime's delivery check, installed (idempotently) each time the server starts. Only the
-- superuser calls it, because it switches to each subscriber's role, which a SECURITY DEFINER
-- function may not do.
create schema if not exists local_realtime;
revoke all on schema local_realtime from public;

-- For one table and one batch of replicated changes, in a single round trip, returns
--   rows:    `tuples` (objects of column -> text value, as pgoutput sends them) rendered the way
--            PostgREST renders rows, i.e. to_jsonb of the typed values;
--   columns: for each role of `roles`, the columns it may SELECT ({name, type}, attnum order);
--   visible: for each claim set, which of `checks` (1-based) its role and claims can SELECT *now*,
--            the rule Supabase Realtime applies (walrus);
--   primary_key, rls: what the caller needs to shape DELETE payloads.
-- `claim_sets` are the claims as JSON text and `roles` their roles, one per distinct claim set:
-- each is checked once per batch however many sockets share it. `xids` are the (32-bit) ids of
-- the transactions that wrote the rows to check.
create or replace function local_realtime.visible_changes(
  tbl regclass, xids bigint[], tuples jsonb, checks jsonb, roles text[], claim_sets text[])
returns jsonb
language plpgsql
-- The check runs once per claim set with the same shape: a generic plan is planned once per role.
set plan_cache_mode = force_generic_plan
-- A fixed path (Supabase's advisors flag a mutable one), the database's own: the policies checked
-- here may call SQL functions that name tables of public unqualified.
set search_path = pg_catalog, public, extensions
as $$
declare
  primary_key text[];
  rls boolean;
  rendered jsonb;
  statement_name text;
  key_signature text;
  key_types text;
  key_params text;
  key_aliases text;
  key_casts text;
  key_match text;
  check_command text;
  all_checks int[];
  columns_by_role jsonb := '{}';
  readable_roles text[] := '{}';
  claims_blind_roles text[] := '{}';
  visible_by_role jsonb := '{}';
  role_name text;
  current_role_name text;
  visible int[];
  seen jsonb;
  visible_sets jsonb[] := '{}';
  xid bigint;
  horizon numeric;
  full_xid numeric;
begin
  -- pgoutput reports a commit as soon as its WAL is flushed, a moment before the committing
  -- backend makes it visible to other sessions. Wait for that (each test takes a new snapshot),
  -- or the RLS check could miss a row that is about to be there.
  foreach xid in array xids loop
    -- pgoutput sends 32 bits; the transaction is recent, so its epoch is the one that puts it
    -- nearest to the snapshot's horizon.
    horizon := pg_snapshot_xmax(pg_current_snapshot())::text::numeric;
    full_xid := horizon - mod(horizon, 4294967296) + xid;
    if full_xid > horizon + 2147483648 then full_xid := full_xid - 4294967296;
    elsif full_xid < horizon - 2147483648 then full_xid := full_xid + 4294967296;
    end if;
    for attempt in 1 .. 1000 loop
      exit when pg_visible_in_snapshot(full_xid::text::xid8, pg_current_snapshot());
      perform pg_sleep(0.0005);
    end loop;
  end loop;

  select coalesce(array_agg(a.attname order by k.ord), '{}') into primary_key
    from pg_index i
    cross join lateral unnest(i.indkey) with ordinality k(attnum, ord)
    join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
   where i.indrelid = tbl and i.indisprimary;
  select c.relrowsecurity into rls from pg_class c where c.oid = tbl;

  execute format(
    'select coalesce(jsonb_agg(to_jsonb(jsonb_populate_record(null::%s, x.t)) order by x.n), ''[]'')
       from jsonb_array_elements($1) with ordinality x(t, n)', tbl)
    into rendered using tuples;

  for role_name in select distinct r from unnest(roles) r loop
    columns_by_role := columns_by_role || jsonb_build_object(role_name, (
      select coalesce(jsonb_agg(jsonb_build_object('name', a.attname, 'type', t.typname) order by a.attnum), '[]')
        from pg_attribute a join pg_type t on t.oid = a.atttypid
       where a.attrelid = tbl and a.attnum > 0 and not a.attisdropped
         -- CASE, not AND: SQL does not promise to test an unknown role before using it.
         and case when to_regrole(role_name) is null then false
                  else has_column_privilege(role_name, tbl, a.attnum, 'SELECT') end));
    -- Without a readable primary key the row cannot be identified for this role (upstream's 400/401).
    if cardinality(primary_key) > 0 and primary_key <@ array(
         select c ->> 'name' from jsonb_array_elements(columns_by_role -> role_name) c) then
      readable_roles := readable_roles || role_name;
    end if;
    -- When every SELECT policy that applies to the role is a permissive `true`, what the role
    -- sees cannot depend on its claims: one check answers for all of its claim sets. (The app's
    -- messages policy is such a one, which keeps a busy room's fan-out at one check per change.)
    if not exists (
      select 1 from pg_policy p
       where p.polrelid = tbl and p.polcmd in ('r', '*')
         and (p.polroles = '{0}' or exists (
               select 1 from unnest(p.polroles) r where to_regrole(role_name) is not null and pg_has_role(role_name, r, 'member')))
         and (not p.polpermissive or pg_get_expr(p.polqual, p.polrelid) is distinct from 'true')) then
      claims_blind_roles := claims_blind_roles || role_name;
    end if;
  end loop;

  if cardinality(primary_key) > 0 and jsonb_array_length(checks) > 0 and rls then
    -- A session-level prepared statement keeps its plan across batches on this pooled connection;
    -- its name follows the key's columns and types, so a changed key gets a new statement. It
    -- takes one text array per key column (a key column may itself be an array, which an array of
    -- its type could not hold) and casts each value in a subquery kept apart by OFFSET 0: the
    -- comparison with the row is then a plain, leakproof equality, which PostgreSQL pushes into
    -- the RLS-protected scan as an index probe. (A cast inside it is not leakproof, and PostgreSQL
    -- would test the policy on every row of the table first.)
    select string_agg(format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod)), ', ' order by k.ord),
           string_agg('text[]', ', ' order by k.ord),
           string_agg(format('$%s', k.ord), ', ' order by k.ord),
           string_agg(format('k%s', k.ord), ', ' order by k.ord),
           string_agg(format('u.k%s::%s as k%1$s', k.ord, format_type(a.atttypid, a.atttypmod)), ', ' order by k.ord),
           string_agg(format('r.%I = k.k%s', a.attname, k.ord), ' and ' order by k.ord)
      into key_signature, key_types, key_params, key_aliases, key_casts, key_match
      from unnest(primary_key) with ordinality k(name, ord)
      join pg_attribute a on a.attrelid = tbl and a.attname = k.name;
    statement_name := format('local_realtime_check_%s_%s', tbl::oid, left(md5(key_signature), 8));
    if not exists (select 1 from pg_prepared_statements p where p.name = statement_name) then
      execute format(
        'prepare %I(%s) as select coalesce(array_agg(k.n::int), ''{}'')
           from (select %s, u.n from unnest(%s) with ordinality u(%s, n) offset 0) k
          where exists (select 1 from %s r where %s)',
        statement_name, key_types, key_casts, key_params, key_aliases, tbl, key_match);
    end if;
    -- Only the primary key is needed to find a row: its values, column by column, as array literals.
    check_command := format('execute %I(%s)', statement_name, (
      select string_agg(quote_literal(array(
               select x.t ->> k.name from jsonb_array_elements(checks) with ordinality x(t, n) order by x.n)::text),
             ', ' order by k.ord)
        from unnest(primary_key) with ordinality k(name, ord)));
  end if;
  all_checks := array(select generate_series(1, jsonb_array_length(checks)));

  for i in 1 .. coalesce(cardinality(roles), 0) loop
    seen := '[]';
    if roles[i] = any (readable_roles) then
      if check_command is null then
        -- No RLS on the table (or nothing to check): the role's privileges decide alone.
        seen := to_jsonb(all_checks);
      elsif visible_by_role ? roles[i] then
        seen := visible_by_role -> roles[i];
      else
        -- The session user is the superuser, so one subscriber's role may switch to the next's;
        -- switching costs a catalog lookup, so it is done only when the role changes.
        if roles[i] is distinct from current_role_name then
          perform set_config('role', roles[i], true);
          current_role_name := roles[i];
        end if;
        perform set_config('request.jwt.claims', claim_sets[i], true);
        begin
          execute check_command into visible;
        exception when others then
          -- A policy that fails for these claims hides the rows from them, as their own query would.
          visible := '{}';
        end;
        seen := to_jsonb(visible);
        if roles[i] = any (claims_blind_roles) then
          visible_by_role := visible_by_role || jsonb_build_object(roles[i], seen);
        end if;
      end if;
    end if;
    visible_sets := visible_sets || seen;
  end loop;
  perform set_config('role', 'none', true);

  return jsonb_build_object('rows', rendered, 'primary_key', to_jsonb(primary_key), 'rls', rls,
                            'columns', columns_by_role, 'visible', to_jsonb(visible_sets));
end
$$;
revoke all on function local_realtime.visible_changes(regclass, bigint[], jsonb, jsonb, text[], text[]) from public;

-- Filters the server cannot decide itself, as upstream's realtime.check_equality_op decides them
-- (lib/realtime/tenants/repo/migrations/20260626120000_readd_postgrest_filter_ops.ex): both sides
-- cast to the column's type and compared with its own operators, for the types whose printed text
-- does not order as their values (dates past 9999 or BC, arrays, enums, intervals, money…), and
-- for like, ilike, match, imatch, is and isdistinct. `is` takes a keyword, not a value. The result
-- may be NULL (a NULL value), which a filter counts as false.
create or replace function local_realtime.check_filter(type_ regtype, op text, a text, b text, negate boolean)
returns boolean
language plpgsql
-- As visible_changes: operators of extension types (citext's =, say) are found in `extensions`.
set search_path = pg_catalog, public, extensions
as $$
declare
  res boolean;
begin
  if op = 'is' then
    if b not in ('null', 'true', 'false', 'unknown') then
      raise exception 'invalid value for is filter: must be null, true, false, or unknown';
    end if;
    execute format('select $1::%s %s %s', type_, case when negate then 'is not' else 'is' end, upper(b)) into res using a;
    return res;
  end if;
  if op = 'isdistinct' then
    execute format('select $1::%1$s %2$s $2::%1$s', type_, case when negate then 'is not distinct from' else 'is distinct from' end)
      into res using a, b;
    return res;
  end if;
  execute format('select $1::%1$s %2$s $2::%1$s', type_,
                 case op when 'eq' then '=' when 'neq' then '<>' when 'lt' then '<' when 'lte' then '<='
                         when 'gt' then '>' when 'gte' then '>=' when 'like' then '~~' when 'ilike' then '~~*'
                         when 'match' then '~' when 'imatch' then '~*' end)
    into res using a, b;
  return case when negate then not res else res end;
end
$$;
revoke all on function local_realtime.check_filter(regtype, text, text, text, boolean) from public;

-- check_filter for each (type, op, a, b, negate), in order, false for NULL. A subscription's filter
-- was tried when it was made (PostgresChanges.prepare); should one still fail here, it is false,
-- so that it cannot keep the batch from every other subscriber.
create or replace function local_realtime.check_filters(types regtype[], ops text[], a text[], b text[], negates boolean[])
returns boolean[]
language plpgsql
set search_path = pg_catalog, public, extensions
as $$
declare
  result boolean[] := '{}';
  res boolean;
begin
  for i in 1 .. coalesce(array_length(types, 1), 0) loop
    begin
      res := local_realtime.check_filter(types[i], ops[i], a[i], b[i], negates[i]);
    exception when others then
      res := false;
    end;
    result := result || coalesce(res, false);
  end loop;
  return result;
end
$$;
revoke all on function local_realtime.check_filters(regtype[], text[], text[], text[], boolean[]) from public;
