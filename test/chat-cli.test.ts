// The terminal client as a user runs it: a real process against a test server, a typed line that
// lands in the database and shows in a second client, a restart that keeps the same user, and clear
// errors for bad flags and an unreachable server.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { IMAGE_FIXTURES } from './support/core-fakes';
import { startTestServer, tempDir, type TestServer } from './support/server';
import { waitFor } from './support/wait';

jest.setTimeout(60000);

const ROOT = path.join(__dirname, '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');

interface Chat {
  child: ChildProcessWithoutNullStreams;
  output: () => string;
  exited: Promise<{ code: number | null; stderr: string }>;
}

function chat(args: string[]): Chat {
  const child = spawn(TSX, ['scripts/chat.ts', ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stderr })));
  return { child, output: () => stdout, exited };
}

describe('bad input', () => {
  test.each([
    [['--name', ' 楚留香'], /invalid --name " 楚留香": 角色名首尾不能有空格/],
    [['--name', '名'.repeat(25)], /invalid --name .*角色名最多 24 个字/],
    [['--color', 'red'], /invalid --color "red"/],
    [['--colour', '#c0392b'], /unknown argument --colour/],
    [['--name'], /--name needs a value/],
    [['--as'], /--as needs a value/],
  ])('%j exits 2 with a clear message and the usage', async (args, message) => {
    const dir = tempDir('chat-cli-');
    const { code, stderr } = await chat(['--as', '测试者', ...args, '--store', path.join(dir, 'store.json')]).exited;
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr).toContain('usage: npm run chat');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('an unreachable server exits 1 and says so', async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const dir = tempDir('chat-cli-');
    const { code, stderr } = await chat(['--url', `http://127.0.0.1:${port}`, '--as', '楚留香', '--store', path.join(dir, 's.json')])
      .exited;
    expect(code).toBe(1);
    expect(stderr).toContain(`cannot reach http://127.0.0.1:${port}`);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('against local-supabase', () => {
  let server: TestServer;
  let db: pg.Client;
  let dir: string;

  beforeAll(async () => {
    server = await startTestServer();
    db = new pg.Client({ connectionString: server.dbUrl });
    await db.connect();
    dir = tempDir('chat-cli-');
  });

  afterAll(async () => {
    await db.end();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const base = () => ['--url', server.url, '--key', server.anonKey];

  test('without --as (or a store that remembers one) it exits 2 and says who is missing', async () => {
    const { code, stderr } = await chat([...base(), '--store', path.join(dir, 'nobody.json')]).exited;
    expect(code).toBe(2);
    expect(stderr).toContain('--as PERSON is required');
  });

  test('a typed line lands in the database and shows in a second client; a restart keeps the same user', async () => {
    const storeA = path.join(dir, 'a.json');
    const listener = chat([...base(), '--as', '陆小凤', '--color', '#117a65', '--store', path.join(dir, 'b.json')]);
    await waitFor('listener connected', () => listener.output().includes('已连接'), 30000);

    const writer = chat([...base(), '--as', '楚留香', '--color', '#c0392b', '--store', storeA]);
    await waitFor('writer connected', () => writer.output().includes('已连接'), 30000);
    writer.child.stdin.write('来自终端的问候\n');

    await waitFor(
      'row in db',
      async () => (await db.query(`select 1 from public.messages where body = '来自终端的问候'`)).rowCount === 1,
      30000,
    );
    await waitFor('line in the second client', () => listener.output().includes('楚留香：来自终端的问候'), 30000);
    await waitFor('writer sees it sent', () => writer.output().includes('✓ 已发送'), 30000);

    const photo = path.join(dir, 'photo.png');
    fs.writeFileSync(photo, Buffer.from(IMAGE_FIXTURES.png, 'base64'));
    writer.child.stdin.write(`/image ${photo}\n`);
    await waitFor(
      'image row in db',
      async () =>
        (await db.query(`select 1 from public.messages where kind = 'image' and image_width = 16 and image_height = 16`)).rowCount === 1,
      30000,
    );
    await waitFor(
      'image in listener',
      () => /楚留香：\[图片 16×16\] http:\/\/\S+\/storage\/v1\/object\/public\/images\/\S+\.png/.test(listener.output()),
      30000,
    );
    // The role-play kinds, typed as in the room: an action, an aside, a roll the database makes.
    writer.child.stdin.write('/me 拔剑而起\n((先去吃饭))\n.r 2d6+3\n');
    await waitFor('the action in the listener', () => listener.output().includes('楚留香 拔剑而起'), 30000);
    await waitFor('the aside in the listener', () => listener.output().includes('楚留香（场外）：先去吃饭'), 30000);
    const roll = await waitFor(
      'the roll in the listener',
      () => /楚留香 掷骰 2d6\+3：(\d) (\d) \+ 3 = (\d+)/.exec(listener.output()),
      30000,
    );
    expect(Number(roll[1]) + Number(roll[2]) + 3).toBe(Number(roll[3]));
    writer.child.stdin.write('/quit\n');
    expect((await writer.exited).code).toBe(0);

    const { rows: first } = await db.query(`select user_id, username, avatar_color from public.messages where body = '来自终端的问候'`);
    expect(first).toEqual([expect.objectContaining({ username: '楚留香', avatar_color: '#c0392b' })]);

    // Restarted with the same store and piped input: same user, saved role, message delivered before exit.
    const again = chat([...base(), '--store', storeA]);
    again.child.stdin.end('再来一句\n');
    expect((await again.exited).code).toBe(0);
    const { rows: second } = await db.query(`select user_id, username from public.messages where body = '再来一句'`);
    expect(second).toEqual([{ user_id: first[0].user_id, username: '楚留香' }]);
    expect(again.output()).toContain('楚留香：来自终端的问候');

    await waitFor('second line in the listener', () => listener.output().includes('楚留香：再来一句'), 30000);
    listener.child.stdin.write('/quit\n');
    expect((await listener.exited).code).toBe(0);

    // Two terminals are two people; the same person on a fresh device (new store, new login) is the same user.
    const elsewhere = chat([...base(), '--as', '楚留香', '--name', '楚留香', '--store', path.join(dir, 'elsewhere.json')]);
    elsewhere.child.stdin.end('换了台设备\n');
    expect((await elsewhere.exited).code).toBe(0);
    const { rows: third } = await db.query(`select user_id from public.messages where body = '换了台设备'`);
    expect(third).toEqual([{ user_id: first[0].user_id }]);
    const { rows: people } = await db.query(`select raw_app_meta_data ->> 'openid' as openid from auth.users order by created_at`);
    expect(people.map((p) => p.openid)).toEqual([server.wechat!.openidOf('陆小凤'), server.wechat!.openidOf('楚留香')]);
  });
});
