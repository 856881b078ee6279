-- A real role-play room: characters (人设卡), message kinds (对白, 动作, 场外, 掷骰, 图片), dice the
-- database rolls, hidden rolls only the roller and the host read, scenes people open and host,
-- replies, and a per-person read marker for unread counts. Every rule a client could break is a
-- constraint, a trigger or a policy here; limits mirror miniprogram/core/rules.ts and
-- miniprogram/core/dice.ts (the suites take their boundaries from there).
--
-- SQLSTATEs the app tells apart (PostgREST answers 400 with the code; see also the moderation migration):
--   RCDIC  a dice expression the grammar refuses (the message names what is wrong)
--   RCCHR  the tenth character is the last; a character that failed content security cannot speak
--   RCSCN  three scenes a day; writing to an archived scene; host-only actions
--   RCRPL  replying to a message of another scene, or one the sender cannot see

-- Characters -----------------------------------------------------------------------------------
create table public.characters (
  id bigint generated always as identity primary key,
  owner uuid not null default auth.uid() references auth.users (id) on delete cascade,
  name text not null,
  avatar_color text not null check (avatar_color ~ '^#[0-9a-fA-F]{6}$'),
  -- images/<owner>/portraits/<uuid>.<ext>: square, compressed, in the owner's own folder.
  portrait_path text,
  note text not null default '' check (char_length(note) <= 300),
  -- Content security, as for messages: others see a character once its name, note and portrait pass.
  status text not null default 'pending' check (status in ('pending', 'visible', 'blocked', 'held')),
  label integer,
  changed_at timestamptz not null default now(),
  created_at timestamptz not null default now(),
  constraint characters_name_check check (
    name = btrim(name)
    and char_length(name) between 1 and 24
    and name !~ '[\u0001-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]'
  ),
  constraint characters_portrait_check check (
    portrait_path is null
    or (portrait_path ~ '^[0-9a-f-]{36}/portraits/[0-9a-f-]{36}\.(jpg|jpeg|png|webp)$'
        and split_part(portrait_path, '/', 1) = owner::text)
  )
);
create index characters_owner_idx on public.characters (owner);

-- Scenes: rooms people open ----------------------------------------------------------------------
alter table public.rooms
  add column host uuid references auth.users (id) on delete set null,
  add column archived boolean not null default false,
  add column pinned_message_id bigint references public.messages (id) on delete set null,
  -- The newest visible message, for the scene list.
  add column last_message_id bigint references public.messages (id) on delete set null,
  add column last_activity_at timestamptz not null default now(),
  add column status text not null default 'visible' check (status in ('pending', 'visible', 'blocked', 'held')),
  add column label integer,
  add column changed_at timestamptz not null default now();
-- Scenes people open start pending: their title and 背景 are checked before others see them.
alter table public.rooms alter column status set default 'pending';
alter table public.rooms alter column slug set default '';
-- 背景 may be longer than the lobby's topic was.
alter table public.rooms drop constraint rooms_topic_check;
alter table public.rooms add constraint rooms_topic_check check (char_length(topic) <= 500);
create index rooms_last_activity_idx on public.rooms (last_activity_at desc, id desc);

create table public.read_markers (
  person uuid not null default auth.uid() references auth.users (id) on delete cascade,
  room_id bigint not null references public.rooms (id) on delete cascade,
  last_read_id bigint not null default 0,
  updated_at timestamptz not null default now(),
  primary key (person, room_id)
);

-- Messages: kinds, characters, dice, replies -----------------------------------------------------
alter table public.messages
  add column character_id bigint references public.characters (id) on delete set null,
  add column reply_to bigint references public.messages (id) on delete set null,
  -- What the quote shows, set by the database from the replied message: {username, text}.
  add column reply_preview jsonb,
  -- The result of a roll, computed by the database: terms, every die, the total, a check's outcome.
  add column roll jsonb,
  -- 暗骰: the result lives in hidden_rolls, readable by the roller and the scene's host only.
  add column hidden boolean not null default false;

alter table public.messages drop constraint messages_kind_check;
alter table public.messages add constraint messages_kind_check check (kind in ('text', 'action', 'ooc', 'roll', 'image'));
alter table public.messages drop constraint messages_text_check;
alter table public.messages add constraint messages_text_check check (
  kind not in ('text', 'action', 'ooc')
  or status in ('hidden', 'recalled')
  or (body is not null and char_length(body) between 1 and 2000 and btrim(body, E' \t\r\n') <> ''
      and image_path is null and image_width is null and image_height is null and roll is null)
);
alter table public.messages add constraint messages_roll_check check (
  kind <> 'roll'
  or status in ('hidden', 'recalled')
  or (body is not null and char_length(body) between 1 and 64 and image_path is null
      and (roll is not null) <> hidden)
);
alter table public.messages add constraint messages_hidden_check check (not hidden or kind = 'roll');
create index messages_reply_to_idx on public.messages (reply_to) where reply_to is not null;

create table public.hidden_rolls (
  message_id bigint primary key references public.messages (id) on delete cascade,
  room_id bigint not null references public.rooms (id) on delete cascade,
  roller uuid not null references auth.users (id) on delete cascade,
  roll jsonb not null,
  created_at timestamptz not null default now()
);
create index hidden_rolls_room_idx on public.hidden_rolls (room_id, message_id desc);

-- Dice -----------------------------------------------------------------------------------------
-- Grammar (OlivaDice / Dice! style): terms joined by + and -, each NdF (N 1–20 dice, default 1;
-- F 2–1000 faces) or a whole number 0–10000; at most 20 dice in all; an optional check at the end
-- (<=, <, >=, > and a target 0–10000). A single d100 checked with <= reads 大成功 on 1 and 大失败 on 100.

/** A uniform integer in [1, faces] from pgcrypto's cryptographically strong generator, unbiased
    by rejection: draws at or above the largest multiple of faces below 2^32 are thrown away. */
create function private.die(faces integer) returns integer
language plpgsql volatile set search_path = '' as $$
declare
  bound bigint := (4294967296 / faces) * faces;
  draw bigint;
begin
  loop
    draw := ('x' || encode(extensions.gen_random_bytes(4), 'hex'))::bit(32)::bigint;
    if draw < bound then return (draw % faces) + 1; end if;
  end loop;
end
$$;

create function private.roll_dice(expression text) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  source text := lower(regexp_replace(expression, '\s', '', 'g'));
  parts text[];
  term_match text[];
  check_match text[];
  rest text;
  terms jsonb := '[]'::jsonb;
  dice_total integer := 0;
  total integer := 0;
  sign integer;
  amount integer;
  faces integer;
  dice integer[];
  value integer;
  outcome text;
  single_d100 boolean;
begin
  if source = '' then raise exception 'empty dice expression: write one like 2d6+3 or d100<=60' using errcode = 'RCDIC'; end if;
  check_match := regexp_match(source, '^(.*?)(<=|>=|<|>)([0-9]+)$');
  rest := coalesce(check_match[1], source);
  if rest = '' or rest !~ '^[+-]?([0-9]*d[0-9]+|[0-9]+)([+-]([0-9]*d[0-9]+|[0-9]+))*$' then
    raise exception 'not a dice expression: "%" (write terms like 2d6, d100 or 3 joined by + or -, and optionally <=60)', expression
      using errcode = 'RCDIC';
  end if;
  if check_match is not null and (length(check_match[3]) > 5 or check_match[3]::integer > 10000) then
    raise exception 'a check target is at most 10000' using errcode = 'RCDIC';
  end if;
  for parts in select regexp_matches(rest, '([+-]?)([0-9]*d[0-9]+|[0-9]+)', 'g') loop
    sign := case parts[1] when '-' then -1 else 1 end;
    term_match := regexp_match(parts[2], '^([0-9]*)d([0-9]+)$');
    if term_match is null then
      if length(parts[2]) > 5 or parts[2]::integer > 10000 then
        raise exception 'a number in a dice expression is at most 10000' using errcode = 'RCDIC';
      end if;
      total := total + sign * parts[2]::integer;
      terms := terms || jsonb_build_object('sign', sign, 'value', parts[2]::integer);
      continue;
    end if;
    if length(term_match[1]) > 3 or length(term_match[2]) > 5 then
      raise exception 'at most 20 dice of at most 1000 faces' using errcode = 'RCDIC';
    end if;
    amount := coalesce(nullif(term_match[1], '')::integer, 1);
    faces := term_match[2]::integer;
    if amount < 1 then raise exception 'a die count must be at least 1' using errcode = 'RCDIC'; end if;
    if faces < 2 or faces > 1000 then raise exception 'a die has 2 to 1000 faces, not %', faces using errcode = 'RCDIC'; end if;
    dice_total := dice_total + amount;
    if dice_total > 20 then raise exception 'at most 20 dice in one roll' using errcode = 'RCDIC'; end if;
    dice := array[]::integer[];
    for i in 1 .. amount loop
      value := private.die(faces);
      dice := dice || value;
      total := total + sign * value;
    end loop;
    terms := terms || jsonb_build_object('sign', sign, 'count', amount, 'faces', faces, 'dice', to_jsonb(dice));
  end loop;
  if dice_total = 0 then raise exception 'a roll needs at least one die (like d100 or 2d6)' using errcode = 'RCDIC'; end if;
  if check_match is null then
    return jsonb_build_object('terms', terms, 'total', total);
  end if;
  single_d100 := jsonb_array_length(terms) = 1 and (terms -> 0 ->> 'count')::integer = 1 and (terms -> 0 ->> 'faces')::integer = 100;
  outcome := case
    when single_d100 and check_match[2] = '<=' and total = 1 then 'critical_success'
    when single_d100 and check_match[2] = '<=' and total = 100 then 'critical_failure'
    when (check_match[2] = '<=' and total <= check_match[3]::integer)
      or (check_match[2] = '<' and total < check_match[3]::integer)
      or (check_match[2] = '>=' and total >= check_match[3]::integer)
      or (check_match[2] = '>' and total > check_match[3]::integer) then 'success'
    else 'failure'
  end;
  return jsonb_build_object('terms', terms, 'total', total,
    'check', jsonb_build_object('op', check_match[2], 'target', check_match[3]::integer, 'outcome', outcome));
end
$$;
revoke all on function private.die(integer), private.roll_dice(text) from public;

-- Who may do what --------------------------------------------------------------------------------
-- Any write needs a WeChat person who is not banned (the rule of the identity migration).
create function private.may_write() returns boolean
language sql stable security definer set search_path = '' as $$
  select private.wechat_openid() is not null and not private.is_banned()
$$;
revoke all on function private.may_write() from public;
grant execute on function private.may_write() to authenticated;

alter table public.characters enable row level security;
create policy "people read characters that passed, and their own" on public.characters for select to authenticated
  using (status = 'visible' or owner = (select auth.uid()) or (select private.is_moderator()));
create policy "people create their own characters" on public.characters for insert to authenticated
  with check (owner = (select auth.uid()) and (select private.may_write()));
create policy "people delete their own characters" on public.characters for delete to authenticated
  using (owner = (select auth.uid()));
-- Edits go through save_character (PATCH is not a method wx.request documents).
revoke update, truncate on public.characters from anon, authenticated;
revoke insert, delete on public.characters from anon;

alter table public.read_markers enable row level security;
create policy "people read their markers" on public.read_markers for select to authenticated
  using (person = (select auth.uid()));
revoke insert, update, delete, truncate on public.read_markers from anon, authenticated;

alter table public.hidden_rolls enable row level security;
create policy "the roller and the host read a hidden roll" on public.hidden_rolls for select to authenticated
  using (
    roller = (select auth.uid())
    or exists (select 1 from public.rooms r where r.id = room_id and r.host = (select auth.uid()))
    or (select private.is_moderator())
  );
revoke insert, update, delete, truncate on public.hidden_rolls from anon, authenticated;

drop policy "signed-in users read rooms" on public.rooms;
create policy "people read scenes that passed, and their own" on public.rooms for select to authenticated
  using (status = 'visible' or host = (select auth.uid()) or (select private.is_moderator()));
create policy "people open scenes as their host" on public.rooms for insert to authenticated
  with check (host = (select auth.uid()) and (select private.may_write()));
grant insert on public.rooms to authenticated;
revoke update, delete, truncate on public.rooms from anon, authenticated;

-- Characters: at most 10 each; any edit is checked again -------------------------------------------
create function private.check_character() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if tg_op = 'INSERT' then
    new.created_at := now();
    perform pg_advisory_xact_lock(hashtextextended('characters:' || new.owner::text, 0));
    if (select count(*) from public.characters where owner = new.owner) >= 10 then
      raise exception 'a person keeps at most 10 characters' using errcode = 'RCCHR';
    end if;
  end if;
  new.status := case when private.moderation_enabled() then 'pending' else 'visible' end;
  new.label := null;
  new.changed_at := now();
  return new;
end
$$;
create trigger characters_check before insert or update of name, note, portrait_path on public.characters
  for each row execute function private.check_character();

-- Create (no id) or edit one's own character; answers the stored row.
create function public.save_character(
  character_id bigint, name text, avatar_color text, note text default '', portrait_path text default null
) returns public.characters
language plpgsql security invoker set search_path = '' as $$
declare
  saved public.characters;
begin
  if character_id is null then
    insert into public.characters (name, avatar_color, note, portrait_path)
    values (save_character.name, save_character.avatar_color, coalesce(save_character.note, ''), save_character.portrait_path)
    returning * into saved;
    return saved;
  end if;
  -- The update privilege is the owner's only through this function, which checks the owner itself.
  perform private.update_character(character_id, name, avatar_color, coalesce(note, ''), portrait_path);
  select * into saved from public.characters c where c.id = character_id;
  return saved;
end
$$;

create function private.update_character(character_id bigint, new_name text, new_color text, new_note text, new_portrait text) returns void
language plpgsql security definer set search_path = '' as $$
begin
  if not private.may_write() then
    raise exception 'only WeChat people who are not banned may edit characters' using errcode = '42501';
  end if;
  update public.characters
     set name = new_name, avatar_color = new_color, note = new_note, portrait_path = new_portrait
   where id = character_id and owner = auth.uid();
  if not found then raise exception 'no character % of yours', character_id using errcode = '42501'; end if;
end
$$;
revoke all on function private.update_character(bigint, text, text, text, text) from public;
grant execute on function private.update_character(bigint, text, text, text, text) to authenticated;
revoke all on function public.save_character(bigint, text, text, text, text) from public, anon;
grant execute on function public.save_character(bigint, text, text, text, text) to authenticated;

-- Scenes: at most 3 a day each; the opener hosts -----------------------------------------------------
create function private.check_scene() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if tg_op = 'INSERT' then
    new.created_at := now();
    new.last_activity_at := now();
    new.archived := false;
    new.pinned_message_id := null;
    new.last_message_id := null;
    if new.host is not null then
      perform pg_advisory_xact_lock(hashtextextended('scenes:' || new.host::text, 0));
      if (select count(*) from public.rooms where host = new.host and created_at > now() - interval '1 day') >= 3 then
        raise exception 'a person opens at most 3 scenes a day' using errcode = 'RCSCN';
      end if;
      new.slug := 's-' || new.id;
    end if;
  end if;
  -- Rooms without a host (the lobby, made by the owner in seed.sql) need no check; scenes do.
  new.status := case when new.host is not null and private.moderation_enabled() then 'pending' else 'visible' end;
  new.label := null;
  new.changed_at := now();
  return new;
end
$$;
create trigger rooms_check before insert or update of title, topic on public.rooms
  for each row execute function private.check_scene();

create function private.require_host(scene bigint) returns public.rooms
language plpgsql stable security definer set search_path = '' as $$
declare
  room public.rooms;
begin
  select * into room from public.rooms where id = scene;
  if not found or room.host is distinct from auth.uid() then
    raise exception 'only the host of scene % may do this', scene using errcode = '42501';
  end if;
  return room;
end
$$;
revoke all on function private.require_host(bigint) from public;

create function public.update_scene(scene bigint, title text, topic text) returns void
language plpgsql security definer set search_path = '' as $$
begin
  perform private.require_host(scene);
  if not private.may_write() then raise exception 'banned people cannot edit scenes' using errcode = '42501'; end if;
  update public.rooms r set title = update_scene.title, topic = coalesce(update_scene.topic, '') where r.id = scene;
end
$$;

-- 公告: the host pins one visible message of the scene (null unpins).
create function public.pin_message(scene bigint, message bigint) returns void
language plpgsql security definer set search_path = '' as $$
begin
  perform private.require_host(scene);
  if message is not null and not exists (
    select 1 from public.messages m where m.id = message and m.room_id = scene and m.status = 'visible'
  ) then
    raise exception 'only a visible message of this scene can be pinned' using errcode = 'RCSCN';
  end if;
  update public.rooms set pinned_message_id = message, changed_at = now() where id = scene;
end
$$;

-- Archived scenes stay readable; nobody writes to them any more.
create function public.archive_scene(scene bigint) returns void
language plpgsql security definer set search_path = '' as $$
begin
  perform private.require_host(scene);
  update public.rooms set archived = true, changed_at = now() where id = scene;
end
$$;

-- The read marker only moves forward.
create function public.mark_read(scene bigint, message bigint) returns void
language sql security definer set search_path = '' as $$
  insert into public.read_markers (person, room_id, last_read_id, updated_at)
  select auth.uid(), scene, message, now()
  where auth.uid() is not null and exists (select 1 from public.rooms where id = scene)
  on conflict (person, room_id) do update
    set last_read_id = greatest(public.read_markers.last_read_id, excluded.last_read_id), updated_at = now();
$$;

-- The scene list in one request: newest activity first, each scene with its last visible message
-- and the caller's unread count (messages of others after their marker, counted up to 100).
create function public.scene_list(before_activity timestamptz default null, before_id bigint default null, page_size integer default 20)
returns jsonb
language sql stable security invoker set search_path = '' as $$
  select coalesce(jsonb_agg(item order by (item ->> 'last_activity_at') desc, (item ->> 'id')::bigint desc), '[]'::jsonb)
  from (
    select jsonb_build_object(
      'id', r.id, 'slug', r.slug, 'title', r.title, 'topic', r.topic, 'host', r.host, 'archived', r.archived,
      'status', r.status, 'pinned_message_id', r.pinned_message_id, 'last_activity_at', r.last_activity_at,
      'last_message', (select jsonb_build_object('id', m.id, 'username', m.username, 'kind', m.kind, 'body', m.body,
                                                 'hidden', m.hidden, 'created_at', m.created_at)
                         from public.messages m where m.id = r.last_message_id),
      'unread', (select count(*) from (
                   select 1 from public.messages m
                    where m.room_id = r.id and m.user_id <> auth.uid() and m.status = 'visible'
                      and m.id > coalesce((select k.last_read_id from public.read_markers k where k.person = auth.uid() and k.room_id = r.id), 0)
                    limit 100) unread)
    ) as item
    from public.rooms r
    where before_activity is null or (r.last_activity_at, r.id) < (before_activity, before_id)
    order by r.last_activity_at desc, r.id desc
    limit least(greatest(page_size, 1), 50)
  ) page
$$;

revoke all on function public.update_scene(bigint, text, text), public.pin_message(bigint, bigint), public.archive_scene(bigint),
  public.mark_read(bigint, bigint), public.scene_list(timestamptz, bigint, integer) from public, anon;
grant execute on function public.update_scene(bigint, text, text), public.pin_message(bigint, bigint), public.archive_scene(bigint),
  public.mark_read(bigint, bigint), public.scene_list(timestamptz, bigint, integer) to authenticated;

-- Messages: what the insert trigger now decides ------------------------------------------------------
-- The role snapshot comes from the character (no one speaks under another's name), the roll from
-- the database's dice, the quote from the replied message; archived scenes take nothing; rolls
-- need no content check (the grammar admits only dice).
create function private.prepare_message() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  speaker public.characters;
  replied public.messages;
  result jsonb;
begin
  if (select archived from public.rooms where id = new.room_id) then
    raise exception 'this scene is archived: it can be read but not written to' using errcode = 'RCSCN';
  end if;
  if new.character_id is not null then
    select * into speaker from public.characters where id = new.character_id;
    if not found or speaker.owner <> new.user_id then
      raise exception 'speak as one of your own characters' using errcode = '42501';
    end if;
    if speaker.status = 'blocked' then
      raise exception 'the character % failed content security and cannot speak', speaker.name using errcode = 'RCCHR';
    end if;
    new.username := speaker.name;
    new.avatar_color := speaker.avatar_color;
  end if;
  new.roll := null;
  if new.kind = 'roll' then
    result := private.roll_dice(new.body) || jsonb_build_object('expression', new.body);
    if not new.hidden then new.roll := result; end if;
    -- Dice carry no words to check.
    new.status := 'visible';
  end if;
  new.reply_preview := null;
  if new.reply_to is not null then
    select * into replied from public.messages where id = new.reply_to;
    if not found or replied.room_id <> new.room_id
       or not (replied.status in ('visible', 'recalled', 'hidden') or replied.user_id = new.user_id) then
      raise exception 'reply to a message of this scene that you can see' using errcode = 'RCRPL';
    end if;
    new.reply_preview := jsonb_build_object(
      'username', replied.username,
      'text', case
        when replied.status in ('hidden', 'recalled') then null
        when replied.kind = 'image' then null
        when replied.kind = 'roll' and replied.hidden then null
        else left(split_part(replied.body, E'\n', 1), 60) end,
      'kind', replied.kind, 'status', replied.status);
  end if;
  return new;
end
$$;
-- After check_message (alphabetical order of BEFORE triggers: messages_check, messages_prepare).
create trigger messages_prepare before insert on public.messages
  for each row execute function private.prepare_message();

create function private.store_hidden_roll() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  insert into public.hidden_rolls (message_id, room_id, roller, roll)
  values (new.id, new.room_id, new.user_id, private.roll_dice(new.body) || jsonb_build_object('expression', new.body));
  return null;
end
$$;
create trigger messages_store_hidden_roll after insert on public.messages
  for each row when (new.hidden) execute function private.store_hidden_roll();

-- The scene's newest visible message and activity time, for the scene list.
create function private.touch_scene() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if new.status = 'visible' and (tg_op = 'INSERT' or old.status is distinct from 'visible') then
    update public.rooms
       set last_message_id = greatest(coalesce(last_message_id, 0), new.id), last_activity_at = now()
     where id = new.room_id;
  end if;
  return null;
end
$$;
create trigger messages_touch_scene after insert or update of status on public.messages
  for each row execute function private.touch_scene();

revoke all on function private.check_character(), private.check_scene(), private.prepare_message(),
  private.store_hidden_roll(), private.touch_scene() from public;

-- Characters and scenes join the moderation pipeline ---------------------------------------------
alter table private.moderation_checks drop constraint moderation_checks_subject_check;
alter table private.moderation_checks add constraint moderation_checks_subject_check check (subject in ('message', 'character', 'scene'));

create or replace function private.subject_table(kind text) returns regclass
language sql immutable set search_path = '' as $$
  select case kind when 'message' then 'public.messages'::regclass
                   when 'character' then 'public.characters'::regclass
                   when 'scene' then 'public.rooms'::regclass end
$$;

create trigger characters_request_check after insert or update of name, note, portrait_path on public.characters
  for each row when (new.status = 'pending') execute function private.request_check('character');
create trigger rooms_request_check after insert or update of title, topic on public.rooms
  for each row when (new.status = 'pending') execute function private.request_check('scene');

-- Names, notes, titles and 背景 are profile-like text others read: scene 1 (资料). A portrait is
-- checked after its text.
create or replace function public.moderation_subject(subject text, id bigint) returns jsonb
language sql stable security definer set search_path = '' as $$
  select case subject
    when 'message' then (
      select jsonb_build_object('subject', subject, 'id', m.id, 'status', m.status, 'openid', private.openid_of(m.user_id),
        'scene', 2, 'content', m.body, 'nickname', m.username, 'image_path', m.image_path)
      from public.messages m where m.id = moderation_subject.id)
    when 'character' then (
      select jsonb_build_object('subject', subject, 'id', c.id, 'status', c.status, 'openid', private.openid_of(c.owner),
        'scene', 1, 'content', c.name || case when c.note <> '' then E'\n' || c.note else '' end, 'nickname', c.name,
        'image_path', c.portrait_path)
      from public.characters c where c.id = moderation_subject.id)
    when 'scene' then (
      select jsonb_build_object('subject', subject, 'id', r.id, 'status', r.status, 'openid', private.openid_of(r.host),
        'scene', 1, 'content', r.title || case when r.topic <> '' then E'\n' || r.topic else '' end, 'image_path', null)
      from public.rooms r where r.id = moderation_subject.id)
  end
$$;

-- Realtime: scene edits (title, 公告, archived) reach the people in it; hidden rolls reach the
-- roller and the host.
alter publication supabase_realtime add table public.rooms, public.hidden_rolls;

-- Withholding (hidden, recalled) also takes a roll's result away, and restoring brings it back.
alter table private.withheld_content add column roll jsonb;
create or replace function private.withhold(message bigint, new_status text) returns void
language plpgsql security definer set search_path = '' as $$
begin
  insert into private.withheld_content (message_id, body, image_path, image_width, image_height, roll)
  select id, body, image_path, image_width, image_height, roll from public.messages where id = message
  on conflict (message_id) do nothing;
  update public.messages
     set status = new_status, body = null, image_path = null, image_width = null, image_height = null, roll = null,
         label = null, changed_at = now()
   where id = message;
end
$$;
alter table public.messages drop constraint messages_withheld_check;
alter table public.messages add constraint messages_withheld_check check (
  status not in ('hidden', 'recalled')
  or (body is null and image_path is null and image_width is null and image_height is null and roll is null)
);

alter table public.rooms alter column host set default auth.uid();

create or replace function public.moderate_message(message bigint, action text) returns text
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
           image_width = coalesce(w.image_width, image_width), image_height = coalesce(w.image_height, image_height),
           roll = coalesce(w.roll, roll)
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
