-- pg_net's SQL API as supabase/pg_net 0.20.4 defines it (sql/pg_net.sql; src/util.c for URL
-- encoding; src/worker.c for waking the worker), in SQL and PL/pgSQL instead of C. Requests wait
-- in net.http_request_queue until local-supabase's worker (local-supabase/src/extensions/pg-net.ts)
-- sends them after the transaction commits; responses land in net._http_response. The objects
-- live in schema net whichever schema CREATE EXTENSION names, as pg_net's do.
\echo Use "CREATE EXTENSION pg_net" to load this file. \quit

create schema if not exists net;

create domain net.http_method as text check (value ilike 'get' or value ilike 'post' or value ilike 'delete');

create unlogged table net.http_request_queue (
  id bigserial,
  method net.http_method not null,
  url text not null,
  headers jsonb,
  body bytea,
  timeout_milliseconds int not null
);

create unlogged table net._http_response (
  id bigint,
  status_code integer,
  content_type text,
  headers jsonb,
  content text,
  timed_out bool,
  error_msg text,
  created timestamptz not null default now()
);
create index on net._http_response (created);

create type net.request_status as enum ('PENDING', 'SUCCESS', 'ERROR');
create type net.http_response as (status_code integer, headers jsonb, body text);
create type net.http_response_result as (status net.request_status, message text, response net.http_response);

-- pg_net wakes its worker from a transaction callback that fires only at commit. A notification
-- is delivered only at commit too, never after a rollback, and repeats within one transaction
-- arrive as one.
create function net.wake() returns void language sql as $$
  select pg_notify('pg_net_wake', '')
$$;

-- The worker is local-supabase's connection named as pg_net's worker names itself.
create function net.check_worker_is_up() returns void language plpgsql as $$
begin
  if not exists (select from pg_stat_activity where application_name = 'pg_net 0.20.4') then
    raise exception using
      message = 'the pg_net background worker is not up',
      detail = 'the pg_net background worker is down due to an internal error and cannot process requests',
      hint = 'make sure that you didn''t modify any of pg_net internal tables';
  end if;
end
$$;

create function net.wait_until_running() returns void language plpgsql as $$
begin
  loop
    begin
      perform net.check_worker_is_up();
      return;
    exception when raise_exception then
      perform pg_sleep(0.05);
    end;
  end loop;
end
$$;

-- pg_net's worker_restart reloads the configuration (pg_net.batch_size, pg_net.ttl) and restarts
-- its worker; local-supabase's worker reads the settings at every pass, so a reload and a wake do.
create function net.worker_restart() returns bool language plpgsql security definer set search_path = '' as $$
begin
  perform net.wake();
  return pg_catalog.pg_reload_conf();
end
$$;

create function net._await_response(request_id bigint) returns bool language plpgsql as $$
begin
  while not exists (select from net._http_response r where r.id = request_id) loop
    perform pg_sleep(0.05);
  end loop;
  return true;
end
$$;

-- curl_easy_escape: every byte of the UTF-8 text but ALPHA, DIGIT and -._~ becomes %XX.
create function net._urlencode_string(string varchar) returns text language sql immutable as $$
  select case when string is not null then coalesce((
    select string_agg(
      case when b between 48 and 57 or b between 65 and 90 or b between 97 and 122 or b in (45, 46, 95, 126)
        then chr(b) else '%' || upper(lpad(to_hex(b), 2, '0')) end, '' order by i)
    from (select convert_to(string, 'UTF8') as bytes) s, generate_series(0, length(s.bytes) - 1) as i,
      lateral get_byte(s.bytes, i) as b
  ), '') end
$$;

-- pg_net parses the URL with libcurl's URL API at call time, so a malformed URL fails the call
-- (with libcurl's wording) instead of reaching the queue; then the parameters are appended to the
-- query. Only http and https are accepted: pg_net's worker refuses every other protocol.
create function net._encode_url_with_params_array(url text, params_array text[]) returns text
language plpgsql immutable as $$
declare
  scheme text := lower(substring(url from '^([A-Za-z][A-Za-z0-9+.-]*):'));
  host_port text := regexp_replace(substring(url from '^[A-Za-z][A-Za-z0-9+.-]*://([^/?#]*)'), '^.*@', '');
  port text := substring(host_port from '^(?:\[[^]]*\]|[^:]*):(.*)$');
  problem text;
  base text := regexp_replace(url, '#.*$', '');
  query text := array_to_string(params_array, '&');
begin
  if url is null or params_array is null then
    return null;
  end if;
  problem := case
    when scheme is null then 'Bad scheme'
    when scheme not in ('http', 'https') then 'Unsupported URL scheme'
    when url ~ '\s' then 'Malformed input to a URL function'
    when coalesce(regexp_replace(host_port, ':[^]:]*$', ''), '') = '' then 'No host part in the URL'
    when port <> '' and (port !~ '^\d{1,5}$' or port::int > 65535) then 'Port number was not a decimal number between 0 and 65535'
  end;
  if problem is not null then
    raise exception 'invalid URL "%": %', url, problem;
  end if;
  if query = '' then
    return url;
  end if;
  return base || case when base ~ '\?' then '&' else '?' end || query || coalesce(substring(url from '#.*$'), '');
end
$$;

-- What the three request functions share: queue the request and wake the worker at commit.
create function net._enqueue(method text, url text, params jsonb, headers jsonb, body bytea, timeout_milliseconds int)
returns bigint language plpgsql as $$
declare
  request_id bigint;
begin
  insert into net.http_request_queue (method, url, headers, body, timeout_milliseconds)
  values (
    method,
    net._encode_url_with_params_array(url, (
      select coalesce(array_agg(net._urlencode_string(key) || '=' || net._urlencode_string(value)), '{}')
      from jsonb_each_text(params))),
    headers,
    body,
    timeout_milliseconds)
  returning id into request_id;
  perform net.wake();
  return request_id;
end
$$;

create function net.http_get(
  url text,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{}'::jsonb,
  timeout_milliseconds int default 5000
) returns bigint language sql as $$
  select net._enqueue('GET', url, params, headers, null, timeout_milliseconds)
$$;

-- The body is JSON, so the Content-Type must say so: it is added when missing and anything but
-- exactly application/json is refused.
create function net.http_post(
  url text,
  body jsonb default '{}'::jsonb,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{"Content-Type": "application/json"}'::jsonb,
  timeout_milliseconds int default 5000
) returns bigint language plpgsql as $$
declare
  content_type text := (
    select value from jsonb_each_text(coalesce(headers, '{}')) where lower(key) = 'content-type' limit 1);
begin
  if content_type is null then
    headers := headers || '{"Content-Type": "application/json"}'::jsonb;
  elsif content_type <> 'application/json' then
    raise exception 'Content-Type header must be "application/json"';
  end if;
  return net._enqueue('POST', url, params, headers, convert_to(body::text, 'UTF8'), timeout_milliseconds);
end
$$;

create function net.http_delete(
  url text,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{}'::jsonb,
  timeout_milliseconds int default 5000,
  body jsonb default null
) returns bigint language sql as $$
  select net._enqueue('DELETE', url, params, headers, convert_to(body::text, 'UTF8'), timeout_milliseconds)
$$;

-- ERROR while the request is pending (indistinguishable from an unknown id, as in pg_net) or when
-- it failed; SUCCESS with the response otherwise.
create function net._http_collect_response(request_id bigint, async bool default true)
returns net.http_response_result language plpgsql as $$
declare
  rec net._http_response;
begin
  if not async then
    perform net._await_response(request_id);
  end if;
  select * into rec from net._http_response r where r.id = request_id;
  if not found or rec.error_msg is not null then
    return ('ERROR', coalesce(rec.error_msg, 'request matching request_id not found'), null)::net.http_response_result;
  end if;
  return ('SUCCESS', 'ok', (rec.status_code, rec.headers, rec.content)::net.http_response)::net.http_response_result;
end
$$;

create function net.http_collect_response(request_id bigint, async bool default true)
returns net.http_response_result language plpgsql as $$
begin
  raise notice 'The net.http_collect_response function is deprecated.';
  return net._http_collect_response(request_id, async);
end
$$;

-- pg_net (since 0.12.0) lets every role use the schema and its tables; the functions keep
-- PostgreSQL's default EXECUTE for PUBLIC and run with the caller's rights.
grant usage on schema net to public;
grant all on all sequences in schema net to public;
grant all on all tables in schema net to public;
