// A project's migrations written for hosted Supabase — pg_net and pg_cron created as Supabase's
// docs create them, Vault read for the project's URL and key — apply unchanged on local-supabase,
// work, and keep working after a restart on the same data (where the server's port changes).
import fs from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { client, startTestServer, superuserQuery, tempDir, type TestServer } from './support/server';
import { waitFor } from './support/wait';
import type { Row } from './support/row';

jest.setTimeout(90000);

const MIGRATION = `
create extension if not exists pg_net with schema extensions;
create extension if not exists pg_cron;

create schema private;
-- A SQL function's body is checked when it is created: Vault must exist before migrations run.
create function private.secret(secret_name text) returns text language sql stable security definer set search_path = '' as $$
  select decrypted_secret from vault.decrypted_secrets where name = secret_name
$$;

create table public.notes (id bigserial primary key, body text not null);
create table public.note_requests (note_id bigint primary key, request_id bigint not null);

-- What the function at the other end answers: who called and what it was sent.
create function public.echo_note(note text) returns jsonb language sql as $$
  select jsonb_build_object('role', auth.role(), 'note', note)
$$;

-- Every new note is posted to the project's own API, authorised with the service role key.
create function private.post_note() returns trigger language plpgsql security definer set search_path = '' as $$
begin
  insert into public.note_requests (note_id, request_id)
  values (new.id, net.http_post(
    url := private.secret('project_url') || '/rest/v1/rpc/echo_note',
    headers := jsonb_build_object(
      'Content-Type', 'application/json',
      'apikey', private.secret('service_role_key'),
      'Authorization', 'Bearer ' || private.secret('service_role_key')),
    body := jsonb_build_object('note', new.body)));
  return null;
end
$$;
create trigger notes_post after insert on public.notes for each row execute function private.post_note();

create table public.sweeps (id bigserial primary key, at timestamptz not null default now());
select cron.schedule('sweep', '1 seconds', $$ insert into public.sweeps default values $$);
`;

async function rows<T extends pg.QueryResultRow = Row>(server: TestServer, text: string, params: unknown[] = []) {
  return (await superuserQuery<T>(server.dbUrl, text, params)).rows;
}

/** Inserts a note through the REST API and answers what the request it caused got back. */
async function postNote(server: TestServer, body: string) {
  const { data, error } = await client(server, { key: server.serviceRoleKey }).from('notes').insert({ body }).select('id').single();
  expect(error).toBeNull();
  return waitFor(`the response for "${body}"`, async () => {
    const [row] = await rows(
      server,
      `select r.status_code, r.content::jsonb as content from public.note_requests n join net._http_response r on r.id = n.request_id where n.note_id = $1`,
      [data!.id],
    );
    return row;
  });
}

async function sweepsAfter(server: TestServer, since: Date) {
  return waitFor('two sweeps', async () => {
    const [{ n }] = await rows(server, `select count(*)::int as n from public.sweeps where at > $1`, [since]);
    return n >= 2;
  });
}

test('the migration applies on a fresh server and again works after a restart on the same data', async () => {
  const dataDir = tempDir();
  const supabaseDir = tempDir('extensions-project-');
  fs.mkdirSync(path.join(supabaseDir, 'migrations'));
  fs.writeFileSync(path.join(supabaseDir, 'migrations', '20260101000000_notes_via_pg_net.sql'), MIGRATION);
  try {
    const first = await startTestServer({ dataDir, supabaseDir });
    try {
      expect(first.migrations).toEqual({ applied: ['20260101000000_notes_via_pg_net.sql'], seeded: false, bootstrapped: true });
      expect(
        await rows(
          first,
          `select extname, extnamespace::regnamespace::text as schema from pg_extension where extname in ('pg_net', 'pg_cron') order by 1`,
        ),
      ).toEqual([
        { extname: 'pg_cron', schema: 'pg_catalog' },
        { extname: 'pg_net', schema: 'extensions' },
      ]);
      expect(await postNote(first, '第一条')).toEqual({ status_code: 200, content: { role: 'service_role', note: '第一条' } });
      await sweepsAfter(first, new Date(0));
    } finally {
      await first.stop();
    }

    const restartedAt = new Date();
    const second = await startTestServer({ dataDir, supabaseDir });
    try {
      expect(second.migrations).toEqual({ applied: [], seeded: false, bootstrapped: false });
      expect(second.url).not.toBe(first.url);
      expect(await rows(second, `select decrypted_secret from vault.decrypted_secrets where name = 'project_url'`)).toEqual([
        { decrypted_secret: second.url },
      ]);
      expect(await postNote(second, '重启之后')).toEqual({ status_code: 200, content: { role: 'service_role', note: '重启之后' } });
      await sweepsAfter(second, restartedAt);
      expect(await rows(second, `select jobname from cron.job`)).toEqual([{ jobname: 'sweep' }]);
    } finally {
      await second.stop();
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(supabaseDir, { recursive: true, force: true });
  }
});
