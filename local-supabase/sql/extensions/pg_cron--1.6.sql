-- pg_cron's SQL API as citusdata/pg_cron 1.6 defines it (pg_cron.sql and the upgrade scripts up to
-- pg_cron--1.5--1.6.sql; src/job_metadata.c and src/entry.c for what the C functions check), in
-- SQL and PL/pgSQL instead of C. local-supabase's scheduler (local-supabase/src/extensions/pg-cron.ts)
-- reads cron.job and records every run in cron.job_run_details.
--
-- Where it differs: pg_cron's functions write cron.job as the extension's owner, and PUBLIC may
-- only read it; here they run with the caller's rights, so PUBLIC may also write cron.job rows
-- whose username is its own (row-level security keeps everyone else's out of reach).
-- cron.schedule_in_database is not provided (local-supabase has one database).
\echo Use "CREATE EXTENSION pg_cron" to load this file. \quit

do $$
begin
  if current_database() <> coalesce(current_setting('cron.database_name', true), 'postgres') then
    raise exception 'can only create extension in database %', coalesce(current_setting('cron.database_name', true), 'postgres')
      using detail = 'Jobs must be scheduled from the database configured in cron.database_name, since the pg_cron background worker reads job descriptions from this database.',
        hint = format('Add cron.database_name = ''%s'' in postgresql.conf to use the current database.', current_database());
  end if;
end
$$;

create schema cron;

create sequence cron.jobid_seq;
create table cron.job (
  jobid bigint primary key default nextval('cron.jobid_seq'),
  schedule text not null,
  command text not null,
  nodename text not null default 'localhost',
  nodeport int not null default inet_server_port(),
  database text not null default current_database(),
  username text not null default current_user,
  active boolean not null default true,
  jobname text,
  constraint jobname_username_uniq unique (jobname, username)
);
alter table cron.job enable row level security;
create policy cron_job_policy on cron.job using (username = current_user);

create sequence cron.runid_seq;
create table cron.job_run_details (
  jobid bigint,
  runid bigint primary key default nextval('cron.runid_seq'),
  job_pid integer,
  database text,
  username text,
  command text,
  status text,
  return_message text,
  start_time timestamptz,
  end_time timestamptz
);
alter table cron.job_run_details enable row level security;
create policy cron_job_run_details_policy on cron.job_run_details using (username = current_user);

grant select, insert, update, delete on cron.job to public;
grant select, delete on cron.job_run_details to public;
grant select, usage on sequence cron.jobid_seq to public;
grant select on sequence cron.runid_seq to public;

select pg_catalog.pg_extension_config_dump('cron.job', '');
select pg_catalog.pg_extension_config_dump('cron.jobid_seq', '');
select pg_catalog.pg_extension_config_dump('cron.job_run_details', '');
select pg_catalog.pg_extension_config_dump('cron.runid_seq', '');

-- One field of a 5-field schedule (Vixie cron's syntax, as pg_cron's src/entry.c reads it): a
-- comma-separated list of *, n, a-b, */s or a-b/s, where n may be one of `names` (case-insensitive).
-- The values it allows, or null when the field is invalid.
create function cron._schedule_field(field text, low int, high int, names text[] default '{}')
returns int[] language plpgsql immutable as $$
declare
  part text;
  m text[];
  first_value int;
  last_value int;
  step numeric;
  result int[] := '{}';
begin
  foreach part in array string_to_array(lower(field), ',') loop
    m := regexp_match(part, '^(\*|[a-z0-9]+)(?:-([a-z0-9]+))?(?:/([0-9]{1,9}))?$');
    if m is null or (m[1] = '*' and m[2] is not null) or (m[1] <> '*' and m[2] is null and m[3] is not null) then
      return null;
    end if;
    if m[1] = '*' then
      first_value := low;
      last_value := high;
    else
      first_value := coalesce(array_position(names, m[1]) - 1 + low,
                              case when m[1] ~ '^[0-9]{1,9}$' then m[1]::int end);
      last_value := case when m[2] is null then first_value
                         else coalesce(array_position(names, m[2]) - 1 + low, case when m[2] ~ '^[0-9]{1,9}$' then m[2]::int end) end;
    end if;
    step := coalesce(m[3]::numeric, 1);
    if first_value is null or last_value is null or least(first_value, last_value) < low
       or greatest(first_value, last_value) > high or step < 1 or step > high then
      return null;
    end if;
    result := result || array(select generate_series(first_value, last_value, step::int));
  end loop;
  return result;
end
$$;

-- A schedule as the scheduler uses it, or null when pg_cron would refuse it:
--   {"seconds": n} for '[1-59] seconds';
--   {"reboot": true} for @reboot;
--   otherwise the minutes, hours, days of month, months and days of week (0 = Sunday) it runs at,
--   "last_dom" for `$` (the last day of the month) and "dom_and_dow" when either day field is `*`,
--   in which case both day fields must match (cron's rule), else either may.
create function cron._parse_schedule(schedule text) returns jsonb language plpgsql immutable as $$
declare
  spec text := btrim(schedule, E' \t\n');
  seconds text := substring(lower(spec) from '^(\d{1,9})\s*seconds?$');
  fields text[];
  parsed jsonb;
  dow int[];
begin
  if seconds is not null then
    return case when seconds::int between 1 and 59 then jsonb_build_object('seconds', seconds::int) end;
  end if;
  if spec in ('@reboot', '@restart') then
    return '{"reboot": true}';
  end if;
  spec := case spec
    when '@yearly' then '0 0 1 1 *'
    when '@annually' then '0 0 1 1 *'
    when '@monthly' then '0 0 1 * *'
    when '@weekly' then '0 0 * * 0'
    when '@daily' then '0 0 * * *'
    when '@midnight' then '0 0 * * *'
    when '@hourly' then '0 * * * *'
    else spec
  end;
  fields := regexp_split_to_array(spec, '\s+');
  if array_length(fields, 1) <> 5 then
    return null;
  end if;
  dow := cron._schedule_field(fields[5], 0, 7, '{sun,mon,tue,wed,thu,fri,sat}');
  parsed := jsonb_build_object(
    'minute', cron._schedule_field(fields[1], 0, 59),
    'hour', cron._schedule_field(fields[2], 0, 23),
    'dom', case when fields[3] = '$' then '{}' else cron._schedule_field(fields[3], 1, 31) end,
    'month', cron._schedule_field(fields[4], 1, 12, '{jan,feb,mar,apr,may,jun,jul,aug,sep,oct,nov,dec}'),
    -- 7 is Sunday too.
    'dow', array(select distinct d % 7 from unnest(dow) d order by 1),
    'last_dom', fields[3] = '$',
    'dom_and_dow', fields[3] like '*%' or fields[5] like '*%');
  if dow is null or exists (select from jsonb_each(parsed) where value = 'null') then
    return null;
  end if;
  return parsed;
end
$$;

create function cron._check_schedule(schedule text) returns void language plpgsql immutable as $$
begin
  if cron._parse_schedule(schedule) is null then
    raise exception 'invalid schedule: %', schedule
      using errcode = 'invalid_parameter_value', hint = 'Use cron format (e.g. 5 4 * * *), or interval format ''[1-59] seconds''';
  end if;
end
$$;

-- A job of the calling role; a named one replaces that role's job of the same name.
create function cron.schedule(job_name text, schedule text, command text) returns bigint language plpgsql as $$
declare
  job_id bigint;
begin
  if job_name is null then
    raise exception 'job_name can not be NULL';
  elsif schedule is null then
    raise exception 'schedule can not be NULL';
  elsif command is null then
    raise exception 'command can not be NULL';
  end if;
  perform cron._check_schedule(schedule);
  insert into cron.job as j (jobname, schedule, command, database, username)
  values (job_name, schedule, command, current_database(), current_user)
  on conflict on constraint jobname_username_uniq
    do update set schedule = excluded.schedule, command = excluded.command, database = excluded.database
  returning j.jobid into job_id;
  return job_id;
end
$$;
comment on function cron.schedule(text, text, text) is 'schedule a pg_cron job';

create function cron.schedule(schedule text, command text) returns bigint language plpgsql strict as $$
declare
  job_id bigint;
begin
  perform cron._check_schedule(schedule);
  insert into cron.job as j (schedule, command, database, username)
  values (schedule, command, current_database(), current_user)
  returning j.jobid into job_id;
  return job_id;
end
$$;
comment on function cron.schedule(text, text) is 'schedule a pg_cron job';

create function cron.unschedule(job_id bigint) returns bool language plpgsql strict as $$
begin
  delete from cron.job j where j.jobid = job_id;
  if not found then
    raise exception 'could not find valid entry for job %', job_id;
  end if;
  return true;
end
$$;
comment on function cron.unschedule(bigint) is 'unschedule a pg_cron job';

create function cron.unschedule(job_name text) returns bool language plpgsql strict as $$
begin
  delete from cron.job j where j.jobname = job_name and j.username = current_user;
  if not found then
    raise exception 'could not find valid entry for job ''%''', job_name;
  end if;
  return true;
end
$$;
comment on function cron.unschedule(text) is 'unschedule a pg_cron job';

create function cron.alter_job(
  job_id bigint,
  schedule text default null,
  command text default null,
  database text default null,
  username text default null,
  active boolean default null
) returns void language plpgsql as $$
begin
  if job_id is null then
    raise exception 'job_id can not be NULL';
  end if;
  if alter_job.username is not null then
    if not (select rolsuper from pg_roles where rolname = current_user) then
      raise exception 'must be superuser to alter username';
    elsif not exists (select from pg_roles where rolname = alter_job.username) then
      raise exception 'role "%" does not exist', alter_job.username;
    elsif not (select rolcanlogin from pg_roles where rolname = alter_job.username) then
      raise exception 'role "%" can not log in', alter_job.username
        using detail = 'Jobs may only be run by roles that have the LOGIN attribute.';
    end if;
  end if;
  if alter_job.schedule is not null then
    perform cron._check_schedule(alter_job.schedule);
  end if;
  if num_nulls(alter_job.schedule, alter_job.command, alter_job.database, alter_job.username, alter_job.active) = 5 then
    raise exception 'no updates specified'
      using hint = 'You must specify at least one job attribute to change when calling alter_job';
  end if;
  update cron.job j set
    schedule = coalesce(alter_job.schedule, j.schedule),
    command = coalesce(alter_job.command, j.command),
    database = coalesce(alter_job.database, j.database),
    username = coalesce(alter_job.username, j.username),
    active = coalesce(alter_job.active, j.active)
  where j.jobid = job_id;
  if not found then
    raise exception 'Job % does not exist or you don''t own it', job_id;
  end if;
end
$$;
comment on function cron.alter_job(bigint, text, text, text, text, boolean)
  is 'Alter the job identified by job_id. Any option left as NULL will not be modified.';
-- As in pg_cron: the administrator decides who may alter jobs.
revoke all on function cron.alter_job(bigint, text, text, text, text, boolean) from public;
