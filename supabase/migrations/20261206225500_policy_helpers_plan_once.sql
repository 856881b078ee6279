-- The helpers that RLS policies call become PL/pgSQL. A SQL function that is SECURITY DEFINER (or
-- has a SET clause) cannot be inlined, and PostgreSQL plans its query again on every call; a
-- PL/pgSQL function keeps its plan for the session. The messages SELECT policy calls
-- is_moderator() once per query, and Realtime checks each change once per subscriber's claims,
-- so with 50 people in a scene the re-planning was most of the cost of delivering one message
-- (63 µs per check against 17 µs). Same names, arguments, results and rights.

create or replace function private.wechat_openid() returns text
language plpgsql stable security definer set search_path = '' as $$
begin
  return (
    select coalesce(
      u.raw_app_meta_data ->> 'openid',
      (select i.provider_id from auth.identities i where i.user_id = u.id and i.provider = 'wechat' limit 1)
    )
    from auth.users u
    where u.id = auth.uid()
  );
end
$$;

create or replace function private.is_moderator() returns boolean
language plpgsql stable security definer set search_path = '' as $$
begin
  return exists (select 1 from public.moderators where user_id = auth.uid());
end
$$;

create or replace function private.is_banned() returns boolean
language plpgsql stable security definer set search_path = '' as $$
begin
  return exists (select 1 from public.bans where openid = private.wechat_openid());
end
$$;

create or replace function private.may_write() returns boolean
language plpgsql stable security definer set search_path = '' as $$
begin
  return private.wechat_openid() is not null and not private.is_banned();
end
$$;
