-- A moderation check whose request failed on its way to the moderate function is retried within
-- seconds, not after a minute.
--
-- The chaos test with moderation on (test/chaos.test.ts, pg_net's requests through a faulty proxy)
-- found it: when pg_net's request failed (a connection refused or reset, a timeout, the function's
-- worker crashing), pg_net recorded the outcome in net._http_response, but nothing read it. The
-- sweeper sent the check again only 60 s after it was dispatched, the rule for a request that
-- vanished. All that time the author saw 审核中 and nobody else saw the message. Now:
--   1. each check keeps the id of its pg_net request (what net.http_post answers);
--   2. the sweeper reads that request's outcome: no answer, or an answer that is not 2xx, is a
--      failed attempt, retried with backoff like a WeChat error the function reports itself;
--   3. the backoff starts at 2 s (then 4, 8… up to 2 minutes) and the sweeper runs every 5 s, so a
--      passing fault costs the author seconds. The moderate function already retries a busy WeChat
--      twice within a second before it gives up (supabase/functions/_shared/wechat.ts).
-- The 60 s rule stays for a request whose outcome never appears; failing closed after 10 minutes
-- is unchanged.

alter table private.moderation_checks add column request_id bigint;

create or replace function private.dispatch_check(kind text, id bigint) returns void
language plpgsql security definer set search_path = '' as $$
declare
  base text;
  service_key text;
  request bigint;
begin
  select decrypted_secret into base from vault.decrypted_secrets where name = 'project_url';
  select decrypted_secret into service_key from vault.decrypted_secrets where name = 'service_role_key';
  -- Without the secrets nothing can be sent; the sweeper keeps trying, and the subject goes to the
  -- moderators after 10 minutes rather than being shown unchecked.
  if base is not null and service_key is not null then
    request := net.http_post(
      url := rtrim(base, '/') || '/functions/v1/moderate',
      body := jsonb_build_object('subject', kind, 'id', id),
      headers := jsonb_build_object('Content-Type', 'application/json', 'Authorization', 'Bearer ' || service_key),
      timeout_milliseconds := 20000
    );
  end if;
  update private.moderation_checks
     set attempts = attempts + 1, dispatched_at = now(), retry_at = null, request_id = request,
         last_error = case when request is null then 'Vault lacks project_url or service_role_key: nothing was sent' end
   where subject = kind and subject_id = id;
end
$$;

-- Every 5 seconds: fail closed after 10 minutes; retry failures whose backoff has passed; turn a
-- request that failed on its way into a retry; retry checks whose step vanished (no verdict, no
-- error, no awaited push 60 s after being sent).
create or replace function private.sweep_moderation() returns void
language plpgsql security definer set search_path = '' as $$
declare
  c private.moderation_checks;
  failure text;
begin
  for c in select * from private.moderation_checks order by created_at loop
    if private.status_of(c.subject, c.subject_id) is distinct from 'pending' then
      delete from private.moderation_checks where subject = c.subject and subject_id = c.subject_id;
    elsif c.created_at < now() - interval '10 minutes' then
      perform private.set_status(c.subject, c.subject_id, 'held');
      delete from private.moderation_checks where subject = c.subject and subject_id = c.subject_id;
    elsif c.retry_at <= now()
       or (c.retry_at is null and c.trace_id is null and (c.dispatched_at is null or c.dispatched_at < now() - interval '60 seconds')) then
      perform private.dispatch_check(c.subject, c.subject_id);
    elsif c.retry_at is null and c.trace_id is null then
      -- pg_net's record of the request, read as pg_net's README suggests for retries (supabase/pg_net
      -- README.md, "Retrying failed requests"): an error and no status when no answer came, else
      -- the function's status and body.
      select coalesce(r.error_msg, format('the moderate function answered %s: %s', r.status_code, left(r.content, 300)))
        into failure
        from net._http_response r
       where r.id = c.request_id and coalesce(r.status_code, 0) not between 200 and 299;
      if found then perform public.moderation_retry(c.subject, c.subject_id, failure); end if;
    end if;
  end loop;
end
$$;

create or replace function public.moderation_retry(subject text, id bigint, error text) returns timestamptz
language sql security definer set search_path = '' as $$
  update private.moderation_checks c
     set last_error = left(error, 500),
         retry_at = now() + least(interval '2 minutes', interval '2 seconds' * power(2, greatest(c.attempts - 1, 0)))
   where c.subject = moderation_retry.subject and c.subject_id = moderation_retry.id
  returning retry_at;
$$;

select cron.schedule('moderation-sweep', '5 seconds', 'select private.sweep_moderation()');
