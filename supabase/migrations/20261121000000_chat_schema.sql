-- Rooms and messages of the role-play chat. Every rule a hostile client could break is a
-- constraint here, because the mini program talks to PostgREST directly: the client is untrusted.
-- Limits mirror miniprogram/core/rules.ts (test/database-rules.test.ts keeps them in step).

create table public.rooms (
  id bigint generated always as identity primary key,
  slug text not null unique check (slug ~ '^[a-z0-9][a-z0-9-]{0,31}$'),
  title text not null check (char_length(title) between 1 and 48),
  topic text not null default '' check (char_length(topic) <= 200),
  created_at timestamptz not null default now()
);

create table public.messages (
  id bigint generated always as identity primary key,
  room_id bigint not null references public.rooms (id) on delete cascade,
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  -- The role at send time: one person may play several roles, and realtime payloads need no join.
  username text not null,
  avatar_color text not null,
  kind text not null default 'text',
  body text,
  image_path text,
  image_width integer,
  image_height integer,
  -- Generated on the device; a retry reuses it, so a duplicate insert is a unique violation.
  client_id uuid not null unique,
  created_at timestamptz not null default now(),

  constraint messages_username_check check (
    username = btrim(username)
    and char_length(username) between 1 and 24
    and username !~ '[\u0001-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]'
  ),
  constraint messages_avatar_color_check check (avatar_color ~ '^#[0-9a-fA-F]{6}$'),
  constraint messages_kind_check check (kind in ('text', 'image')),
  constraint messages_text_check check (
    kind <> 'text'
    or (body is not null and char_length(body) between 1 and 2000 and btrim(body, E' \t\r\n') <> ''
        and image_path is null and image_width is null and image_height is null)
  ),
  constraint messages_image_check check (
    kind <> 'image'
    or (body is null and image_path is not null
        and image_width between 1 and 8192 and image_height between 1 and 8192)
  ),
  -- images/<uid>/<yyyy-mm>/<uuid>.<ext>, and only inside the sender's own folder.
  constraint messages_image_path_check check (
    image_path is null
    or (image_path ~ '^[0-9a-f-]{36}/[0-9]{4}-[0-9]{2}/[0-9a-f-]{36}\.(jpg|jpeg|png|webp|gif)$'
        and split_part(image_path, '/', 1) = user_id::text)
  )
);

-- The newest page of a room is an index scan at any size.
create index messages_room_id_id_idx on public.messages (room_id, id desc);
-- The rate limit counts a user's recent messages.
create index messages_user_id_created_at_idx on public.messages (user_id, created_at desc);

-- Internal functions live outside the exposed schema, so no client can call them through /rpc.
create schema private;

create function private.check_message() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  recent integer;
begin
  -- The server's clock orders the room, not the device's.
  new.created_at := now();
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
revoke all on function private.check_message() from public;

create trigger messages_check before insert on public.messages
  for each row execute function private.check_message();

alter table public.rooms enable row level security;
alter table public.messages enable row level security;

-- Read: any signed-in user, anonymous sign-ins included. Write: messages only, only as yourself.
create policy "signed-in users read rooms" on public.rooms
  for select to authenticated using (true);
create policy "signed-in users read messages" on public.messages
  for select to authenticated using (true);
create policy "users send messages as themselves" on public.messages
  for insert to authenticated with check (user_id = (select auth.uid()));

-- Messages are immutable and rooms are managed by the owner: take the write privileges away
-- from the API roles entirely, so such a request fails loudly instead of matching zero rows.
revoke insert, update, delete, truncate on public.rooms from anon, authenticated;
revoke update, delete, truncate on public.messages from anon, authenticated;
revoke insert on public.messages from anon;

alter publication supabase_realtime add table public.messages;

-- Images: a public bucket (messages are public to the room), size and type enforced on upload.
insert into storage.buckets (id, name, public, file_size_limit, allowed_mime_types)
values ('images', 'images', true, 5242880, array['image/jpeg', 'image/png', 'image/webp', 'image/gif']);

create policy "users upload into their own folder" on storage.objects
  for insert to authenticated
  with check (bucket_id = 'images' and (storage.foldername(name))[1] = (select auth.uid())::text);
create policy "users list their own folder" on storage.objects
  for select to authenticated
  using (bucket_id = 'images' and (storage.foldername(name))[1] = (select auth.uid())::text);
