// The platform-free parts of moderation, blocks and privacy consent, over in-memory ports: the
// moderators' desk (paging, each action's outcome and sentence, ban reasons, refusals), the block
// list (duplicates, self, events), WeChat's consent requests, and what privacy refusals tell people.
import { BlockList } from '../miniprogram/core/blocks';
import { connectProblem, featureProblem, PRIVACY_DENIED, PRIVACY_UNDECLARED } from '../miniprogram/core/failures';
import { zh } from '../miniprogram/core/strings';
import { BAN_REASON_MAX, ModerationDesk, banReasonProblem, deskProblem } from '../miniprogram/core/moderation-desk';
import { BackendFailure } from '../miniprogram/core/ports';
import { AGREE_BUTTON_ID, ConsentRequests, type PrivacyAnswer } from '../miniprogram/core/privacy';
import { FakeBackend, openRoom } from './support/core-fakes';
import { FakeBlockPort, FakeModerationPort, queueRow } from './support/safety-fakes';

describe('moderation desk', () => {
  function deskWith(rows: number, pageSize = 3) {
    const port = new FakeModerationPort();
    port.rows = Array.from({ length: rows }, (_, i) => queueRow(i + 1));
    return { port, desk: new ModerationDesk(port, pageSize) };
  }

  test('a moderator may use it; anyone else is told why not', async () => {
    const { port, desk } = deskWith(0);
    expect(await desk.refusal()).toBeNull();
    expect(await desk.isModerator()).toBe(true);
    port.moderator = false;
    expect(await desk.refusal()).toBe(zh.deskNotModerator);
    expect(await desk.isModerator()).toBe(false);
    port.moderator = true;
    port.failNext('isModerator', new BackendFailure(0, '', 'request:fail net::ERR_INTERNET_DISCONNECTED'));
    expect(await desk.refusal()).toBe(zh.connectFailed);
    // The room offers 管理 only when it knows: not while the network is down.
    port.failNext('isModerator', new BackendFailure(0, '', 'request:fail timeout'));
    expect(await desk.isModerator()).toBe(false);
  });

  test('pages go newest first below the oldest shown, until a short page', async () => {
    const { port, desk } = deskWith(7);
    expect(await desk.reload()).toMatchObject({ ok: true, changed: [0, 1, 2] });
    expect(desk.entries.map((entry) => entry.id)).toEqual([7, 6, 5]);
    expect(desk.hasMore).toBe(true);
    expect(await desk.loadMore()).toMatchObject({ ok: true, changed: [3, 4, 5] });
    expect(await desk.loadMore()).toMatchObject({ ok: true, changed: [6] });
    expect(desk.entries.map((entry) => entry.id)).toEqual([7, 6, 5, 4, 3, 2, 1]);
    expect(desk.hasMore).toBe(false);
    expect(port.calls.filter((c) => c.call === 'queue').map((c) => c.args[0])).toEqual([null, 5, 2]);
  });

  test('a failed page keeps what is shown and says why', async () => {
    const { port, desk } = deskWith(5);
    await desk.reload();
    port.failNext('queue', new BackendFailure(0, '', 'request:fail timeout'));
    expect(await desk.loadMore()).toEqual({ ok: false, message: zh.connectFailed, changed: [] });
    expect(desk.entries).toHaveLength(3);
    expect(desk.hasMore).toBe(true);
  });

  test('reports are counted per reason in the menu order; content and openid come with the entry', async () => {
    const { port, desk } = deskWith(0);
    port.rows = [
      queueRow(1, { status: 'visible', reports: { other: 1, spam: 2 } }),
      queueRow(2, { kind: 'image', body: null, image_path: 'u/2026-12/a.png', image_width: 64, image_height: 48 }),
    ];
    await desk.reload();
    expect(desk.entries[1].reports).toEqual([
      { reason: 'spam', count: 2 },
      { reason: 'other', count: 1 },
    ]);
    expect(desk.entries[0]).toMatchObject({ imageUrl: port.imageUrl('u/2026-12/a.png'), imageWidth: 64, openid: 'openid-2' });
  });

  test('hide and restore change the entry and note what happened', async () => {
    const { port, desk } = deskWith(0);
    port.rows = [queueRow(1, { status: 'visible', reports: { abuse: 3 } }), queueRow(2, { status: 'visible', reports: { spam: 1 } })];
    await desk.reload();
    expect(await desk.hide(1)).toEqual({ ok: true, message: zh.deskHidden, changed: [1] });
    expect(desk.entries[1]).toMatchObject({ status: 'hidden', note: zh.deskHidden });
    expect(await desk.restore(1)).toEqual({ ok: true, message: zh.deskRestored, changed: [1] });
    expect(desk.entries[1]).toMatchObject({ status: 'visible', reports: [], note: zh.deskRestored });
    // Restoring a message that is still visible dismisses its reports.
    expect(await desk.restore(2)).toEqual({ ok: true, message: zh.deskReportsDismissed, changed: [0] });
    expect(desk.entries[0]).toMatchObject({ status: 'visible', reports: [] });
    expect(port.calls.filter((c) => c.call === 'moderate').map((c) => c.args)).toEqual([
      [1, 'hide'],
      [1, 'restore'],
      [2, 'restore'],
    ]);
  });

  test('ban marks every entry of the person and lists the ban; unban undoes both', async () => {
    const { port, desk } = deskWith(0);
    port.rows = [queueRow(1, { openid: 'o-x' }), queueRow(2, { openid: 'o-y' }), queueRow(3, { openid: 'o-x', username: '阿飞' })];
    await desk.reload();
    expect(await desk.ban(3, '  连续发广告  ')).toEqual({ ok: true, message: '已封禁「阿飞」', changed: [0, 2] });
    expect(desk.entries.map((entry) => entry.banned)).toEqual([true, false, true]);
    expect(port.calls.find((c) => c.call === 'banAuthor')!.args).toEqual([3, '连续发广告']);
    expect(desk.bans).toEqual([expect.objectContaining({ openid: 'o-x', reason: '连续发广告' })]);
    expect(await desk.unban('o-x')).toEqual({ ok: true, message: zh.deskUnbanned, changed: [0, 2] });
    expect(desk.entries.map((entry) => entry.banned)).toEqual([false, false, false]);
    expect(desk.bans).toEqual([]);
  });

  test('a ban needs a reason of 1–200 characters, checked before anything is sent', async () => {
    const { port, desk } = deskWith(1);
    await desk.reload();
    expect(await desk.ban(1, '   ')).toEqual({ ok: false, message: zh.banReasonEmpty, changed: [] });
    expect(await desk.ban(1, '字'.repeat(BAN_REASON_MAX + 1))).toMatchObject({ ok: false, message: '封禁理由最多 200 个字' });
    expect(banReasonProblem('😀'.repeat(BAN_REASON_MAX))).toBeNull();
    expect(port.calls.some((c) => c.call === 'banAuthor')).toBe(false);
  });

  test('a refused or failed action says why on the entry and changes nothing', async () => {
    const { port, desk } = deskWith(2);
    await desk.reload();
    port.moderator = false;
    expect(await desk.hide(2)).toEqual({ ok: false, message: zh.deskNotModerator, changed: [0] });
    expect(desk.entries[0]).toMatchObject({ status: 'held', note: zh.deskNotModerator });
    port.moderator = true;
    port.failNext('moderate', new BackendFailure(404, 'P0002', 'no message 2'));
    expect(await desk.restore(2)).toMatchObject({ ok: false, message: zh.deskMessageGone });
    port.failNext('banAuthor', new BackendFailure(500, '', 'boom'));
    expect(await desk.ban(1, '广告')).toMatchObject({ ok: false, message: zh.deskFailed, changed: [1] });
    expect(desk.entries[1].banned).toBe(false);
    port.failNext('unban', new BackendFailure(0, '', 'request:fail interrupted'));
    expect(await desk.unban('openid-1')).toMatchObject({ ok: false, message: zh.connectFailed, changed: [1] });
  });

  test('failures read as sentences: 403, a login refused for privacy, the network', () => {
    expect(deskProblem(new BackendFailure(403, '42501', 'only moderators may do this'))).toBe(zh.deskNotModerator);
    expect(deskProblem(new BackendFailure(0, PRIVACY_DENIED, 'login:fail privacy permission is not authorized'))).toBe(
      zh.loginPrivacyDenied,
    );
    expect(deskProblem(new Error('socket hang up'))).toBe(zh.connectFailed);
    expect(deskProblem(new BackendFailure(500, 'XX000', 'internal'))).toBe(zh.deskFailed);
  });
});

describe('block list', () => {
  test('block, list, unblock; listeners hear each change', async () => {
    const port = new FakeBlockPort();
    const blocks = new BlockList(port);
    const changes: unknown[] = [];
    blocks.onChange((change) => changes.push(change));
    expect(await blocks.block('user-a', ' 令狐冲 ')).toEqual({ ok: true, message: '已屏蔽「令狐冲」，TA 的消息不再显示' });
    await blocks.block('user-b', '任盈盈');
    expect((await blocks.list()).map((person) => [person.userId, person.name])).toEqual([
      ['user-b', '任盈盈'],
      ['user-a', '令狐冲'],
    ]);
    expect(await blocks.unblock('user-a', '令狐冲')).toEqual({ ok: true, message: '已解除对「令狐冲」的屏蔽' });
    expect((await blocks.list()).map((person) => person.userId)).toEqual(['user-b']);
    expect(changes).toEqual([
      { type: 'blocked', userId: 'user-a' },
      { type: 'blocked', userId: 'user-b' },
      { type: 'unblocked', userId: 'user-a' },
    ]);
  });

  test('blocking twice is fine; blocking oneself or a failure is said and announces nothing', async () => {
    const port = new FakeBlockPort('user-me');
    const blocks = new BlockList(port);
    const changes: unknown[] = [];
    blocks.onChange((change) => changes.push(change));
    await blocks.block('user-a', '甲');
    expect(await blocks.block('user-a', '甲')).toMatchObject({ ok: true });
    expect(await blocks.block('user-me', '我')).toEqual({ ok: false, message: zh.blockSelf });
    port.failNext(new BackendFailure(0, '', 'request:fail timeout'));
    expect(await blocks.unblock('user-a', '甲')).toEqual({ ok: false, message: zh.connectFailed });
    port.failNext(new BackendFailure(500, '', 'boom'));
    expect(await blocks.block('user-c', '丙')).toEqual({ ok: false, message: zh.blockFailed });
    expect(changes).toHaveLength(2);
    expect(port.rows.map((row) => row.blocked)).toEqual(['user-a']);
  });

  test('the stored name keeps to the table limit of 24 characters; an empty one gets a stand-in', async () => {
    const port = new FakeBlockPort();
    const blocks = new BlockList(port);
    await blocks.block('user-a', '名'.repeat(30));
    await blocks.block('user-b', '   ');
    expect(port.rows.map((row) => row.blocked_name)).toEqual(['名'.repeat(24), zh.blockUnnamed]);
  });
});

describe('consent requests', () => {
  function sheet() {
    const log: string[] = [];
    return { log, show: () => log.push('show'), hide: () => log.push('hide') };
  }

  test('the newest sheet shows a request; agree answers every waiting call with the button id', () => {
    const requests = new ConsentRequests();
    const lower = sheet();
    const upper = sheet();
    requests.present(lower);
    requests.present(upper);
    const answers: PrivacyAnswer[][] = [[], []];
    requests.request((answer) => answers[0].push(answer));
    requests.request((answer) => answers[1].push(answer));
    expect(upper.log).toEqual(['show', 'show']);
    expect(lower.log).toEqual([]);
    requests.agree(AGREE_BUTTON_ID);
    for (const received of answers)
      expect(received).toEqual([{ event: 'exposureAuthorization' }, { event: 'agree', buttonId: 'agree-btn' }]);
    expect(upper.log.slice(-1)).toEqual(['hide']);
    expect(lower.log).toEqual(['hide']);
  });

  test('disagree fails the waiting calls; with no sheet on screen a request is declined at once', () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const requests = new ConsentRequests();
    const answers: PrivacyAnswer[] = [];
    requests.request((answer) => answers.push(answer));
    expect(answers).toEqual([{ event: 'disagree' }]);
    expect(warn).toHaveBeenCalled();
    const remove = requests.present(sheet());
    requests.request((answer) => answers.push(answer));
    requests.disagree();
    expect(answers.slice(1)).toEqual([{ event: 'exposureAuthorization' }, { event: 'disagree' }]);
    remove();
    warn.mockRestore();
  });

  test('a page opened over a waiting request asks again; closing it hands the request back', () => {
    const requests = new ConsentRequests();
    const room = sheet();
    requests.present(room);
    requests.request(() => undefined);
    const policy = sheet();
    const close = requests.present(policy);
    expect(policy.log).toEqual(['show']);
    close();
    expect(room.log).toEqual(['show', 'show']);
    requests.agree(AGREE_BUTTON_ID);
    expect(room.log).toEqual(['show', 'show', 'hide']);
    expect(policy.log).toEqual(['show']);
  });
});

describe('what privacy refusals tell people', () => {
  test('each guarded feature has its sentences; anything else keeps the feature’s own', () => {
    const denied = new BackendFailure(0, PRIVACY_DENIED, 'chooseMedia:fail privacy permission is not authorized');
    const undeclared = new BackendFailure(0, PRIVACY_UNDECLARED, 'chooseMedia:fail api scope is not declared in the privacy agreement');
    expect(featureProblem('image', denied)).toBe(zh.imagePrivacyDenied);
    expect(featureProblem('image', undeclared)).toBe(zh.imagePrivacyUndeclared);
    expect(featureProblem('image', new Error('unsupported image type: bmp'))).toBe(zh.pickImageFailed);
    expect(featureProblem('clipboard', denied)).toBe(zh.copyPrivacyDenied);
    expect(featureProblem('clipboard', undeclared)).toBe(zh.copyPrivacyUndeclared);
    expect(featureProblem('clipboard', new BackendFailure(0, 'clipboard_failed', 'setClipboardData:fail'))).toBe(zh.copyFailed);
  });

  test('a login refused for privacy is final: no silent retries', () => {
    expect(connectProblem(new BackendFailure(0, PRIVACY_DENIED, 'login:fail privacy permission is not authorized'), 'lobby')).toEqual({
      message: zh.loginPrivacyDenied,
      final: true,
    });
    expect(
      connectProblem(new BackendFailure(0, PRIVACY_UNDECLARED, 'login:fail api scope is not declared in the privacy agreement'), 'lobby'),
    ).toEqual({
      message: zh.loginPrivacyUndeclared,
      final: true,
    });
  });

  test('the room stops after a login refused for privacy, says what to do, and asks again on retry', async () => {
    const room = openRoom({ backend: new FakeBackend() });
    room.backend.failNext('userId', new BackendFailure(0, PRIVACY_DENIED, 'login:fail privacy permission is not authorized'));
    await room.session.start();
    await room.clock.advance(10 * 60 * 1000);
    expect(room.rendered.of('error').map((patch) => (patch as { message: string }).message)).toEqual([zh.loginPrivacyDenied]);
    expect(room.backend.calls.filter((call) => call === 'userId')).toHaveLength(1);
    expect(room.clock.pending()).toEqual([]);
    // The person taps 重试: login runs again (and so WeChat asks for consent again).
    room.session.reconnect();
    await room.clock.advance(1000);
    expect(room.backend.calls.filter((call) => call === 'userId')).toHaveLength(2);
    room.session.stop();
  });
});
