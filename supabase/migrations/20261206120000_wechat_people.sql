-- A person is their WeChat identity: only users linked to an openid may write. Reading stays open
-- to every signed-in user. The rule lives in the database, so no client (a modified app, curl with
-- an anonymous session) can get around it.
--
-- Where the openid lives: the wechat-login Edge Function creates each person's auth user with the
-- openid in app_metadata, which only the service role can write. MemFire's built-in WeChat login
-- links the person through a `wechat` identity (GoTrue-managed, not writable by users either); its
-- server is closed, so that is the one place to adjust if a MemFire project links people differently.

create function private.wechat_openid() returns text
language sql stable security definer set search_path = '' as $$
  select coalesce(
    u.raw_app_meta_data ->> 'openid',
    (select i.provider_id from auth.identities i where i.user_id = u.id and i.provider = 'wechat' limit 1)
  )
  from auth.users u
  where u.id = auth.uid()
$$;
revoke all on function private.wechat_openid() from public;
grant usage on schema private to authenticated;
grant execute on function private.wechat_openid() to authenticated;

drop policy "users send messages as themselves" on public.messages;
create policy "wechat people send messages as themselves" on public.messages
  for insert to authenticated
  with check (user_id = (select auth.uid()) and (select private.wechat_openid()) is not null);

drop policy "users upload into their own folder" on storage.objects;
create policy "wechat people upload into their own folder" on storage.objects
  for insert to authenticated
  with check (
    bucket_id = 'images'
    and (storage.foldername(name))[1] = (select auth.uid())::text
    and (select private.wechat_openid()) is not null
  );
