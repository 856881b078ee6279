-- Content security before anyone else sees a message, reports, moderators, bans, recall and
-- per-reader blocks. WeChat rejects a user-content mini program whose text and images reach others
-- unchecked (msgSecCheck, mediaCheckAsync), or that offers no way to report abuse.
--
-- The pipeline, with documented Supabase parts only:
--   1. A client inserts through PostgREST as before; the insert trigger makes the row `pending`.
--      RLS shows a pending row only to its author (and moderators), over REST and Realtime.
--   2. An AFTER INSERT trigger queues a pg_net request to the Edge Function `moderate`; pg_net sends
--      it after the transaction commits. The function asks WeChat (msg_sec_check v2 for text,
--      media_check_async v2 for images, whose verdict WeChat pushes to the `wechat-push` function)
--      and records the verdict through the service-role RPCs below: pass → visible, risky →
--      blocked, review → held for a moderator. Others receive the row when it turns visible, as a
--      Realtime UPDATE carrying the whole row.
--   3. A pg_cron job re-sends checks that failed (with backoff) or whose step crashed, and moves
--      anything still pending after 10 minutes to the moderators' queue: fail closed.
-- The function's URL and the service-role key come from Vault (`project_url`, `service_role_key`),
-- as Supabase's guide to calling Edge Functions from the database stores them.
--
-- Errors the app tells apart, raised with SQLSTATEs of their own (PostgREST answers 400 with the code):
--   RCBAN  the person is banned (the message gives the reason)
--   RCLAT  a recall after the 2-minute window

create extension if not exists pg_net with schema extensions;
create extension if not exists pg_cron;

-- Moderation on or off ---------------------------------------------------------------------------
-- A deployment that does not publish to WeChat turns it off:
--   update private.moderation_settings set enabled = false;
-- Messages then land visible at once, as before moderation existed.
create table private.moderation_settings (
  singleton boolean primary key default true check (singleton),
  enabled boolean not null default true
);
insert into private.moderation_settings default values;

create function private.moderation_enabled() returns boolean
language sql stable security definer set search_path = '' as $$
  select coalesce((select enabled from private.moderation_settings), true)
$$;

-- Who may do what ---------------------------------------------------------------------------------
-- Moderators: the owner lists them here (SQL editor or the dashboard's table editor):
--   insert into public.moderators (user_id, note) values ('<auth user id>', '谁');
create table public.moderators (
  user_id uuid primary key references auth.users (id) on delete cascade,
  note text not null default '',
  created_at timestamptz not null default now()
);

-- A ban is by WeChat identity, so it covers every session the person will ever have.
create table public.bans (
  openid text primary key,
  reason text not null check (char_length(reason) between 1 and 200),
  banned_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now()
);

create function private.is_moderator() returns boolean
language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.moderators where user_id = auth.uid())
$$;

create function private.is_banned() returns boolean
language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.bans where openid = private.wechat_openid())
$$;

create function private.openid_of(person uuid) returns text
language sql stable security definer set search_path = '' as $$
  select coalesce(
    u.raw_app_meta_data ->> 'openid',
    (select i.provider_id from auth.identities i where i.user_id = u.id and i.provider = 'wechat' limit 1)
  )
  from auth.users u
  where u.id = person
$$;

revoke all on function private.moderation_enabled(), private.is_moderator(), private.is_banned(), private.openid_of(uuid) from public;
grant execute on function private.is_moderator(), private.is_banned() to authenticated;

alter table public.moderators enable row level security;
alter table public.bans enable row level security;
-- The app shows its 管理 entry to moderators, and tells a banned person why.
create policy "moderators see that they are" on public.moderators for select to authenticated
  using (user_id = (select auth.uid()));
create policy "the banned see their ban" on public.bans for select to authenticated
  using (openid = (select private.wechat_openid()) or (select private.is_moderator()));
revoke insert, update, delete, truncate on public.moderators, public.bans from anon, authenticated;

-- Per-reader blocks ---------------------------------------------------------------------------
-- 屏蔽: the blocked person's messages are hidden for the blocker on every device.
create table public.blocks (
  blocker uuid not null default auth.uid() references auth.users (id) on delete cascade,
  blocked uuid not null references auth.users (id) on delete cascade,
  -- The name the blocker saw, for their list of blocked people.
  blocked_name text not null check (char_length(blocked_name) between 1 and 24),
  created_at timestamptz not null default now(),
  primary key (blocker, blocked),
  check (blocker <> blocked)
);
alter table public.blocks enable row level security;
create policy "people see their blocks" on public.blocks for select to authenticated
  using (blocker = (select auth.uid()));
create policy "people block for themselves" on public.blocks for insert to authenticated
  with check (blocker = (select auth.uid()) and (select private.wechat_openid()) is not null);
create policy "people unblock for themselves" on public.blocks for delete to authenticated
  using (blocker = (select auth.uid()));
revoke update, truncate on public.blocks from anon, authenticated;
revoke insert, delete on public.blocks from anon;

-- Messages: a state, set only by the database ------------------------------------------------
--   pending   waiting for WeChat's verdict; only its author sees it (审核中)
--   visible   shown to everyone
--   blocked   WeChat found it risky; only its author sees it, with the label (未通过审核)
--   held      WeChat asked for review, or no verdict came in 10 minutes: the moderators decide
--   hidden    three people reported it, or a moderator hid it: its content is withheld
--   recalled  its author took it back within 2 minutes: its content is withheld
alter table public.messages
  add column status text not null default 'visible',
  -- WeChat's label of a risky or held verdict (e.g. 20006 违法犯罪), for the author's notice.
  add column label integer,
  -- When the row last changed state: catch-up after a disconnect reads what changed since.
  add column changed_at timestamptz not null default now();
-- Rows from before moderation were shown already; new rows start pending (the trigger decides).
alter table public.messages alter column status set default 'pending';
alter table public.messages add constraint messages_status_check
  check (status in ('pending', 'visible', 'blocked', 'held', 'hidden', 'recalled'));
create index messages_room_id_changed_at_idx on public.messages (room_id, changed_at);

-- Withheld content (hidden, recalled) is gone from the row; only moderators read it back.
alter table public.messages drop constraint messages_text_check;
alter table public.messages add constraint messages_text_check check (
  kind <> 'text'
  or status in ('hidden', 'recalled')
  or (body is not null and char_length(body) between 1 and 2000 and btrim(body, E' \t\r\n') <> ''
      and image_path is null and image_width is null and image_height is null)
);
alter table public.messages drop constraint messages_image_check;
alter table public.messages add constraint messages_image_check check (
  kind <> 'image'
  or status in ('hidden', 'recalled')
  or (body is null and image_path is not null
      and image_width between 1 and 8192 and image_height between 1 and 8192)
);
alter table public.messages add constraint messages_withheld_check check (
  status not in ('hidden', 'recalled')
  or (body is null and image_path is null and image_width is null and image_height is null)
);

create table private.withheld_content (
  message_id bigint primary key references public.messages (id) on delete cascade,
  body text,
  image_path text,
  image_width integer,
  image_height integer,
  withheld_at timestamptz not null default now()
);

-- The insert trigger of the first migration, now also deciding the state and refusing the banned.
create or replace function private.check_message() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  recent integer;
  ban public.bans;
begin
  -- The server's clock orders the room, not the device's.
  new.created_at := now();
  new.changed_at := now();
  -- The state is the database's to set, never the client's.
  new.status := case when private.moderation_enabled() then 'pending' else 'visible' end;
  new.label := null;
  select * into ban from public.bans where openid = private.wechat_openid();
  if found then
    raise exception 'you are banned from posting: %', ban.reason
      using errcode = 'RCBAN', detail = ban.reason, hint = 'A moderator banned this WeChat account.';
  end if;
  -- Serialise each user's inserts so concurrent requests cannot slip past the count together.
  perform pg_advisory_xact_lock(hashtextextended(new.user_id::text, 0));
  select count(*) into recent from public.messages m
   where m.user_id = new.user_id and m.created_at > now() - interval '10 seconds';
  -- A retry of a message that already landed must fail as a duplicate (which the client counts
  -- as success), not trip the rate limit; only looked up when the limit is reached.
  if recent >= 10 and not exists (select 1 from public.messages m where m.client_id = new.client_id) then
    raise exception 'rate limit exceeded: at most 10 messages in 10 seconds'
      using errcode = 'PT429', hint = 'Wait a few seconds before sending again.';
  end if;
  if new.kind = 'image' and not exists (
    select 1 from storage.objects o where o.bucket_id = 'images' and o.name = new.image_path
  ) then
    raise exception 'image not uploaded: %', new.image_path
      using errcode = '23514', hint = 'Upload the image to the images bucket before sending the message.';
  end if;
  return new;
end
$$;

-- Who reads what: the author always (their own state), moderators everything, everyone else what
-- is public and not from someone they blocked.
drop policy "signed-in users read messages" on public.messages;
create policy "people read what they may see" on public.messages for select to authenticated using (
  user_id = (select auth.uid())
  or (select private.is_moderator())
  or (
    status in ('visible', 'hidden', 'recalled')
    and not exists (select 1 from public.blocks b where b.blocker = (select auth.uid()) and b.blocked = messages.user_id)
  )
);
drop policy "wechat people send messages as themselves" on public.messages;
create policy "wechat people send messages as themselves" on public.messages
  for insert to authenticated
  with check (user_id = (select auth.uid()) and (select private.wechat_openid()) is not null and not (select private.is_banned()));
drop policy "wechat people upload into their own folder" on storage.objects;
create policy "wechat people upload into their own folder" on storage.objects
  for insert to authenticated
  with check (
    bucket_id = 'images'
    and (storage.foldername(name))[1] = (select auth.uid())::text
    and (select private.wechat_openid()) is not null
    and not (select private.is_banned())
  );

-- Sending checks to the moderate function ------------------------------------------------------
-- A check is of a subject: a message now; the role-play migration adds characters and scenes,
-- whose names and texts others read too. Each subject table has a `status` the verdict sets.
create table private.moderation_checks (
  subject text not null check (subject in ('message')),
  subject_id bigint not null,
  attempts integer not null default 0,
  -- When the last request was queued (pg_net sends it after commit).
  dispatched_at timestamptz,
  -- Set after a failed attempt: when the sweeper may try again.
  retry_at timestamptz,
  -- media_check_async's trace_id while WeChat's pushed verdict is awaited.
  trace_id text unique,
  last_error text,
  created_at timestamptz not null default now(),
  primary key (subject, subject_id)
);

create function private.dispatch_check(kind text, id bigint) returns void
language plpgsql security definer set search_path = '' as $$
declare
  base text;
  service_key text;
begin
  select decrypted_secret into base from vault.decrypted_secrets where name = 'project_url';
  select decrypted_secret into service_key from vault.decrypted_secrets where name = 'service_role_key';
  update private.moderation_checks
     set attempts = attempts + 1, dispatched_at = now(), retry_at = null,
         last_error = case when base is null or service_key is null
                           then 'Vault lacks project_url or service_role_key: nothing was sent' end
   where subject = kind and subject_id = id;
  -- Without the secrets nothing can be sent; the sweeper keeps trying, and the subject goes to the
  -- moderators after 10 minutes rather than being shown unchecked.
  if base is null or service_key is null then return; end if;
  perform net.http_post(
    url := rtrim(base, '/') || '/functions/v1/moderate',
    body := jsonb_build_object('subject', kind, 'id', id),
    headers := jsonb_build_object('Content-Type', 'application/json', 'Authorization', 'Bearer ' || service_key),
    timeout_milliseconds := 20000
  );
end
$$;

-- AFTER INSERT/UPDATE of a row that is now pending: (re)start its check. TG_ARGV[0] names the subject.
create function private.request_check() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  insert into private.moderation_checks (subject, subject_id) values (tg_argv[0], new.id)
  on conflict (subject, subject_id) do update
    set attempts = 0, dispatched_at = null, retry_at = null, trace_id = null, last_error = null, created_at = now();
  perform private.dispatch_check(tg_argv[0], new.id);
  return null;
end
$$;
create trigger messages_request_check after insert on public.messages
  for each row when (new.status = 'pending') execute function private.request_check('message');

-- The table holding each subject, for the functions that work on any of them.
create function private.subject_table(kind text) returns regclass
language sql immutable set search_path = '' as $$
  select case kind when 'message' then 'public.messages'::regclass end
$$;

-- A state change, with its time, in one place.
create function private.set_status(kind text, id bigint, new_status text, verdict_label integer default null) returns void
language plpgsql security definer set search_path = '' as $$
begin
  execute format('update %s set status = $1, label = $2, changed_at = now() where id = $3', private.subject_table(kind))
    using new_status, verdict_label, id;
end
$$;

create function private.status_of(kind text, id bigint) returns text
language plpgsql stable security definer set search_path = '' as $$
declare
  current text;
begin
  execute format('select status from %s where id = $1', private.subject_table(kind)) into current using id;
  return current;
end
$$;

-- Every 10 seconds: fail closed after 10 minutes; retry failures whose backoff has passed; retry
-- checks whose step vanished (no verdict, no error, no awaited push 60 s after being sent).
create function private.sweep_moderation() returns void
language plpgsql security definer set search_path = '' as $$
declare
  c private.moderation_checks;
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
    end if;
  end loop;
end
$$;
select cron.schedule('moderation-sweep', '10 seconds', 'select private.sweep_moderation()');

-- What the Edge Functions call with the service-role key ---------------------------------------
-- What to check, with the author's openid (msg_sec_check and media_check_async need it):
-- {subject, id, status, openid, scene, content, nickname} for text, {…, image_path} for an image.
create function public.moderation_subject(subject text, id bigint) returns jsonb
language sql stable security definer set search_path = '' as $$
  select jsonb_build_object(
    'subject', 'message', 'id', m.id, 'status', m.status, 'openid', private.openid_of(m.user_id),
    -- Scene 2 (评论): a chat line others read under a role.
    'scene', 2, 'content', m.body, 'nickname', m.username, 'image_path', m.image_path)
  from public.messages m where moderation_subject.subject = 'message' and m.id = moderation_subject.id
$$;

-- WeChat's verdict on a pending subject: pass → visible, risky → blocked, review → held. A verdict
-- for one no longer pending (a late duplicate, a moderator was faster) changes nothing.
create function public.moderation_verdict(subject text, id bigint, suggest text, verdict_label integer) returns text
language plpgsql security definer set search_path = '' as $$
declare
  decided text := case suggest when 'pass' then 'visible' when 'risky' then 'blocked' else 'held' end;
begin
  if private.status_of(subject, id) is distinct from 'pending' then return null; end if;
  perform private.set_status(subject, id, decided, case when decided = 'visible' then null else verdict_label end);
  delete from private.moderation_checks c where c.subject = moderation_verdict.subject and c.subject_id = moderation_verdict.id;
  return decided;
end
$$;

-- The same, for an image verdict WeChat pushed, found by its trace_id.
create function public.moderation_push_verdict(trace text, suggest text, verdict_label integer) returns text
language plpgsql security definer set search_path = '' as $$
declare
  c private.moderation_checks;
begin
  select * into c from private.moderation_checks where trace_id = trace;
  if not found then return null; end if;
  return public.moderation_verdict(c.subject, c.subject_id, suggest, verdict_label);
end
$$;

-- media_check_async accepted the image: the verdict will be pushed with this trace_id.
create function public.moderation_awaiting(subject text, id bigint, trace text) returns void
language sql security definer set search_path = '' as $$
  update private.moderation_checks c set trace_id = trace, last_error = null
   where c.subject = moderation_awaiting.subject and c.subject_id = moderation_awaiting.id;
$$;

-- The check failed (WeChat busy or down, a timeout): try again later, backing off to 2 minutes.
create function public.moderation_retry(subject text, id bigint, error text) returns timestamptz
language sql security definer set search_path = '' as $$
  update private.moderation_checks c
     set last_error = left(error, 500),
         retry_at = now() + least(interval '2 minutes', interval '5 seconds' * power(2, greatest(c.attempts - 1, 0)))
   where c.subject = moderation_retry.subject and c.subject_id = moderation_retry.id
  returning retry_at;
$$;

revoke all on function public.moderation_subject(text, bigint), public.moderation_verdict(text, bigint, text, integer),
  public.moderation_push_verdict(text, text, integer), public.moderation_awaiting(text, bigint, text),
  public.moderation_retry(text, bigint, text) from public, anon, authenticated;
grant execute on function public.moderation_subject(text, bigint), public.moderation_verdict(text, bigint, text, integer),
  public.moderation_push_verdict(text, text, integer), public.moderation_awaiting(text, bigint, text),
  public.moderation_retry(text, bigint, text) to service_role;

-- Reports --------------------------------------------------------------------------------------
create table public.reports (
  message_id bigint not null references public.messages (id) on delete cascade,
  reporter uuid not null default auth.uid() references auth.users (id) on delete cascade,
  reason text not null check (reason in ('spam', 'abuse', 'sexual', 'illegal', 'other')),
  -- Set when a moderator decided: a restored message needs three new reports to be hidden again.
  resolved boolean not null default false,
  created_at timestamptz not null default now(),
  primary key (message_id, reporter)
);
create index reports_unresolved_idx on public.reports (message_id) where not resolved;
alter table public.reports enable row level security;
create policy "people see their own reports" on public.reports for select to authenticated
  using (reporter = (select auth.uid()));
-- One report per person per message, of a message from someone else that they can see.
create policy "wechat people report what others show them" on public.reports for insert to authenticated
  with check (
    reporter = (select auth.uid())
    and not resolved
    and (select private.wechat_openid()) is not null
    and not (select private.is_banned())
    and exists (
      select 1 from public.messages m
       where m.id = message_id and m.status = 'visible' and m.user_id <> (select auth.uid())
    )
  );
revoke update, delete, truncate on public.reports from anon, authenticated;
revoke insert on public.reports from anon;

-- Withholding: the content leaves the row (so no API shows it), kept for moderators.
create function private.withhold(message bigint, new_status text) returns void
language plpgsql security definer set search_path = '' as $$
begin
  insert into private.withheld_content (message_id, body, image_path, image_width, image_height)
  select id, body, image_path, image_width, image_height from public.messages where id = message
  on conflict (message_id) do nothing;
  update public.messages
     set status = new_status, body = null, image_path = null, image_width = null, image_height = null, label = null, changed_at = now()
   where id = message;
end
$$;

create function private.hide_when_reported() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if (select count(*) from public.reports where message_id = new.message_id and not resolved) >= 3
     and exists (select 1 from public.messages where id = new.message_id and status = 'visible') then
    perform private.withhold(new.message_id, 'hidden');
  end if;
  return null;
end
$$;
create trigger reports_hide_when_reported after insert on public.reports
  for each row execute function private.hide_when_reported();

-- Recall ---------------------------------------------------------------------------------------
-- 撤回: the author, within 2 minutes of sending. Everyone then sees "某某撤回了一条消息".
create function public.recall_message(message bigint) returns void
language plpgsql security definer set search_path = '' as $$
declare
  m public.messages;
begin
  select * into m from public.messages where id = message for update;
  if not found or m.user_id is distinct from auth.uid() then
    raise exception 'only its author can recall a message' using errcode = '42501';
  end if;
  if m.status = 'recalled' then return; end if;
  if m.created_at < now() - interval '2 minutes' then
    raise exception 'a message can be recalled within 2 minutes of sending; this one was sent at %', m.created_at
      using errcode = 'RCLAT';
  end if;
  perform private.withhold(message, 'recalled');
end
$$;
revoke all on function public.recall_message(bigint) from public, anon;
grant execute on function public.recall_message(bigint) to authenticated;

-- Moderators' actions --------------------------------------------------------------------------
create table public.moderation_log (
  id bigint generated always as identity primary key,
  moderator uuid references auth.users (id) on delete set null,
  action text not null check (action in ('hide', 'restore', 'ban', 'unban')),
  message_id bigint references public.messages (id) on delete set null,
  openid text,
  reason text,
  created_at timestamptz not null default now()
);
alter table public.moderation_log enable row level security;
create policy "moderators read the log" on public.moderation_log for select to authenticated
  using ((select private.is_moderator()));
revoke insert, update, delete, truncate on public.moderation_log from anon, authenticated;

create function private.require_moderator() returns void
language plpgsql stable security definer set search_path = '' as $$
begin
  if not private.is_moderator() then
    raise exception 'only moderators may do this' using errcode = '42501';
  end if;
end
$$;

-- Held, hidden and reported messages, newest first, with their reports and withheld content.
create function public.moderation_queue(before_id bigint default null, page_size integer default 50) returns jsonb
language plpgsql stable security definer set search_path = '' as $$
begin
  perform private.require_moderator();
  return coalesce((
    select jsonb_agg(item order by (item ->> 'id')::bigint desc)
    from (
      select jsonb_build_object(
        'id', m.id, 'room_id', m.room_id, 'user_id', m.user_id, 'username', m.username, 'avatar_color', m.avatar_color,
        'kind', m.kind, 'status', m.status, 'label', m.label, 'created_at', m.created_at,
        'body', coalesce(m.body, w.body), 'image_path', coalesce(m.image_path, w.image_path),
        'image_width', coalesce(m.image_width, w.image_width), 'image_height', coalesce(m.image_height, w.image_height),
        'openid', private.openid_of(m.user_id),
        'banned', exists (select 1 from public.bans b where b.openid = private.openid_of(m.user_id)),
        'reports', coalesce((select jsonb_object_agg(reason, n) from (
            select r.reason, count(*) as n from public.reports r where r.message_id = m.id and not r.resolved group by r.reason) counted), '{}'::jsonb)
      ) as item
      from public.messages m
      left join private.withheld_content w on w.message_id = m.id
      where (before_id is null or m.id < before_id)
        and (m.status in ('held', 'hidden') or exists (select 1 from public.reports r where r.message_id = m.id and not r.resolved))
      order by m.id desc
      limit least(greatest(page_size, 1), 100)
    ) queue
  ), '[]'::jsonb);
end
$$;

-- A message with its withheld content (hidden, recalled): what only moderators may read.
create function public.withheld_message(message bigint) returns jsonb
language plpgsql stable security definer set search_path = '' as $$
begin
  perform private.require_moderator();
  return (
    select to_jsonb(m) || jsonb_strip_nulls(jsonb_build_object(
      'body', w.body, 'image_path', w.image_path, 'image_width', w.image_width, 'image_height', w.image_height))
    from public.messages m left join private.withheld_content w on w.message_id = m.id
    where m.id = message
  );
end
$$;

-- hide: withhold a message from everyone; restore: show it (its content back), reports resolved.
create function public.moderate_message(message bigint, action text) returns text
language plpgsql security definer set search_path = '' as $$
declare
  w private.withheld_content;
begin
  perform private.require_moderator();
  if not exists (select 1 from public.messages where id = message) then
    raise exception 'no message %', message using errcode = 'P0002';
  end if;
  if action = 'hide' then
    perform private.withhold(message, 'hidden');
  elsif action = 'restore' then
    select * into w from private.withheld_content where message_id = message;
    update public.messages
       set status = 'visible', label = null, changed_at = now(),
           body = coalesce(w.body, body), image_path = coalesce(w.image_path, image_path),
           image_width = coalesce(w.image_width, image_width), image_height = coalesce(w.image_height, image_height)
     where id = message;
    delete from private.withheld_content where message_id = message;
    delete from private.moderation_checks where subject = 'message' and subject_id = message;
  else
    raise exception 'action must be hide or restore' using errcode = '22023';
  end if;
  update public.reports set resolved = true where message_id = message;
  insert into public.moderation_log (moderator, action, message_id) values (auth.uid(), action, message);
  return (select status from public.messages where id = message);
end
$$;

-- Ban the author of a message, by their WeChat identity.
create function public.ban_author(message bigint, reason text) returns text
language plpgsql security definer set search_path = '' as $$
declare
  person text;
begin
  perform private.require_moderator();
  select private.openid_of(user_id) into person from public.messages where id = message;
  if person is null then raise exception 'no author with a WeChat identity for message %', message using errcode = 'P0002'; end if;
  insert into public.bans (openid, reason, banned_by) values (person, reason, auth.uid())
  on conflict (openid) do update set reason = excluded.reason, banned_by = excluded.banned_by, created_at = now();
  insert into public.moderation_log (moderator, action, message_id, openid, reason) values (auth.uid(), 'ban', message, person, reason);
  return person;
end
$$;

create function public.unban(person text) returns void
language plpgsql security definer set search_path = '' as $$
begin
  perform private.require_moderator();
  delete from public.bans where openid = person;
  insert into public.moderation_log (moderator, action, openid) values (auth.uid(), 'unban', person);
end
$$;

revoke all on function public.moderation_queue(bigint, integer), public.withheld_message(bigint), public.moderate_message(bigint, text),
  public.ban_author(bigint, text), public.unban(text) from public, anon;
grant execute on function public.moderation_queue(bigint, integer), public.withheld_message(bigint), public.moderate_message(bigint, text),
  public.ban_author(bigint, text), public.unban(text) to authenticated;
revoke all on function private.require_moderator(), private.withhold(bigint, text), private.set_status(text, bigint, text, integer),
  private.status_of(text, bigint), private.dispatch_check(text, bigint), private.request_check(), private.sweep_moderation(),
  private.hide_when_reported() from public;
