-- The room everyone lands in.
insert into public.rooms (slug, title, topic)
values ('lobby', '江湖客栈', '选一个角色，进门聊聊。');
