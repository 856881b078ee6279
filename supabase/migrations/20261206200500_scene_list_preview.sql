-- The scene list shows the last message as a line of its own kind: a roll with its total and a
-- check's outcome (成功, 大失败 …), a recalled or hidden message as such. scene_list now carries the
-- last message's status and, for a public roll, {total, outcome}; a hidden roll's result stays in
-- hidden_rolls, out of the list. Everything else is as 20261206150000_roleplay.sql defined it.
create or replace function public.scene_list(before_activity timestamptz default null, before_id bigint default null, page_size integer default 20)
returns jsonb
language sql stable security invoker set search_path = '' as $$
  select coalesce(jsonb_agg(item order by (item ->> 'last_activity_at') desc, (item ->> 'id')::bigint desc), '[]'::jsonb)
  from (
    select jsonb_build_object(
      'id', r.id, 'slug', r.slug, 'title', r.title, 'topic', r.topic, 'host', r.host, 'archived', r.archived,
      'status', r.status, 'pinned_message_id', r.pinned_message_id, 'last_activity_at', r.last_activity_at,
      'last_message', (select jsonb_build_object('id', m.id, 'username', m.username, 'kind', m.kind, 'body', m.body,
                                                 'hidden', m.hidden, 'status', m.status, 'created_at', m.created_at,
                                                 'roll', case when m.roll is null then null
                                                              else jsonb_build_object('total', m.roll -> 'total',
                                                                                      'outcome', m.roll -> 'check' ->> 'outcome') end)
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
