// The ordered list: merge by id and client_id, the server's id order, and patches that reproduce
// the list exactly when a page applies them.
import { MAX_MESSAGES, MessageList, PAGE_SIZE, type ServerMessage } from '../miniprogram/core/message-list';
import type { ChatMessage, MessageRow } from '../miniprogram/core/types';
import { messageRow, RenderedList } from './support/core-fakes';

function row(id: number, clientId = `client-${id}`): MessageRow {
  return messageRow(id, { client_id: clientId });
}

function server(r: MessageRow, mine = false): ServerMessage {
  return {
    row: r,
    message: {
      key: r.client_id,
      id: r.id,
      userId: r.user_id,
      username: r.username,
      avatarColor: r.avatar_color,
      kind: r.kind,
      body: r.body,
      imageUrl: null,
      imageWidth: null,
      imageHeight: null,
      createdAt: r.created_at,
      status: 'sent',
      state: r.status,
      label: r.label,
      characterId: r.character_id,
      roll: r.roll,
      hidden: r.hidden,
      replyTo: r.reply_to,
      replyPreview: r.reply_preview,
      mine,
    },
  };
}

function pending(key: string, body: string): ChatMessage {
  return { ...server(row(0, key)).message, id: null, body, status: 'sending', mine: true };
}

function setup(initial: number[] = [], older = false) {
  const rendered = new RenderedList();
  const list = new MessageList(rendered.apply);
  list.reset(
    initial.map((id) => server(row(id))),
    [],
    older,
  );
  const check = () => expect(rendered.messages).toEqual(list.messages());
  return { list, rendered, check };
}

test('rows merge into id order whatever order they arrive in', () => {
  const { list, rendered, check } = setup([1, 2]);
  list.mergeServer([server(row(5))]);
  list.mergeServer([server(row(3))]);
  list.mergeServer([server(row(4)), server(row(7)), server(row(6))]);
  expect(rendered.ids()).toEqual([1, 2, 3, 4, 5, 6, 7]);
  expect(rendered.of('insert').map((patch) => patch.type === 'insert' && patch.index)).toEqual([2, 3]);
  // 5 alone, then 6 and 7 in one patch.
  expect(rendered.of('append').map((patch) => patch.type === 'append' && patch.messages.map((m) => m.id))).toEqual([[5], [6, 7]]);
  check();
});

test('a row delivered twice (live and gap-fill) appears once', () => {
  const { list, rendered, check } = setup([1, 2]);
  list.mergeServer([server(row(3))]);
  list.mergeServer([server(row(2)), server(row(3)), server(row(4))]);
  list.mergeServer([server(row(4))]);
  expect(rendered.ids()).toEqual([1, 2, 3, 4]);
  check();
});

test('our echo replaces the pending message: in place when it is last, moved when others came in between', () => {
  const { list, rendered, check } = setup([1]);
  list.addPending(pending('mine-a', 'a'));
  list.addPending(pending('mine-b', 'b'));
  expect(rendered.ids()).toEqual([1, null, null]);

  list.mergeServer([server({ ...row(2, 'mine-a'), body: 'a' }, true)]);
  expect(rendered.of('update')).toHaveLength(1);
  expect(rendered.messages[1]).toMatchObject({ key: 'mine-a', id: 2, status: 'sent', mine: true });

  // Someone else's message lands before our second one is confirmed, then ours with a larger id.
  list.mergeServer([server(row(3))]);
  expect(rendered.ids()).toEqual([1, 2, 3, null]);
  list.mergeServer([server({ ...row(4, 'mine-b'), body: 'b' }, true)]);
  expect(rendered.ids()).toEqual([1, 2, 3, 4]);

  // A pending message confirmed with an id below a message already shown moves up.
  list.addPending(pending('mine-c', 'c'));
  list.mergeServer([server(row(6))]);
  list.mergeServer([server({ ...row(5, 'mine-c'), body: 'c' }, true)]);
  expect(rendered.ids()).toEqual([1, 2, 3, 4, 5, 6]);
  expect(rendered.patches.slice(-2).map((patch) => patch.type)).toEqual(['remove', 'insert']);
  check();
});

test('other people’s messages go before our pending ones', () => {
  const { list, rendered, check } = setup([1]);
  list.addPending(pending('mine', 'x'));
  list.mergeServer([server(row(2))]);
  expect(rendered.ids()).toEqual([1, 2, null]);
  expect(rendered.patches[rendered.patches.length - 1]).toMatchObject({ type: 'insert', index: 1 });
  check();
});

test('an older page goes in front, without rows already shown', () => {
  const { list, rendered, check } = setup([10, 11], true);
  list.prependOlder([server(row(8)), server(row(9)), server(row(10))], false);
  expect(rendered.ids()).toEqual([8, 9, 10, 11]);
  expect(rendered.hasOlder).toBe(false);
  expect(list.hasOlder).toBe(false);
  check();
});

test('the list stays bounded: the oldest are trimmed a page at a time, and can be loaded again', () => {
  const { list, rendered, check } = setup([]);
  for (let id = 1; id <= MAX_MESSAGES + PAGE_SIZE; id++) list.mergeServer([server(row(id))]);
  expect(rendered.of('trim')).toHaveLength(0);
  list.mergeServer([server(row(MAX_MESSAGES + PAGE_SIZE + 1))]);
  expect(rendered.of('trim')).toEqual([{ type: 'trim', count: PAGE_SIZE + 1, hasOlder: true }]);
  expect(rendered.messages).toHaveLength(MAX_MESSAGES);
  expect(list.oldestId()).toBe(PAGE_SIZE + 2);
  expect(list.hasOlder).toBe(true);
  check();
});

test('newestRows gives the cache the newest server rows only', () => {
  const { list } = setup([1, 2, 3]);
  list.addPending(pending('mine', 'x'));
  expect(list.newestRows(2).map((r) => r.id)).toEqual([2, 3]);
});

test('a first page that contains our pending message confirms it in place', () => {
  const { list, rendered, check } = setup([]);
  list.addPending(pending('mine', 'x'));
  list.prependOlder([server(row(1)), server({ ...row(2, 'mine'), body: 'x' }, true), server(row(3))], false);
  expect(rendered.ids()).toEqual([1, 2, 3]);
  expect(rendered.messages[1]).toMatchObject({ key: 'mine', status: 'sent', mine: true });
  check();
});

test('live messages do not trim away the older pages a reader loaded (they are reading them)', () => {
  const { list, rendered, check } = setup([]);
  for (let id = 401; id <= 400 + MAX_MESSAGES; id++) list.mergeServer([server(row(id))]);
  // The reader scrolls up and loads older pages.
  const older: ServerMessage[] = [];
  for (let id = 301; id <= 400; id++) older.push(server(row(id)));
  list.prependOlder(older, true);
  // Live messages keep coming: more than a page over MAX_MESSAGES.
  for (let id = 401 + MAX_MESSAGES; id <= 400 + MAX_MESSAGES + 2 * PAGE_SIZE; id++) list.mergeServer([server(row(id))]);
  expect(rendered.of('trim')).toHaveLength(0);
  expect(list.oldestId()).toBe(301);
  // A reset (the newest page reloaded) ends the reading: the normal bound applies again.
  list.reset([], [], true);
  for (let id = 1; id <= MAX_MESSAGES + PAGE_SIZE + 1; id++) list.mergeServer([server(row(10000 + id))]);
  expect(rendered.of('trim')).toHaveLength(1);
  check();
});

test('a row below the loaded window is left to loadOlder (no hole above it); a pending copy of it is done', () => {
  const { list, rendered, check } = setup([51, 52, 53], true);
  list.mergeServer([server(row(30))]);
  expect(rendered.ids()).toEqual([51, 52, 53]);
  // Our message, committed late below the window (its echo or a gap-fill brings it).
  list.addPending(pending('mine', 'x'));
  list.mergeServer([server({ ...row(31, 'mine'), body: 'x' }, true)]);
  expect(rendered.ids()).toEqual([51, 52, 53]);
  // With nothing older to load, the window reaches the start: the row goes in its place.
  const complete = setup([51, 52, 53], false);
  complete.list.mergeServer([server(row(30))]);
  expect(complete.rendered.ids()).toEqual([30, 51, 52, 53]);
  check();
  complete.check();
});
