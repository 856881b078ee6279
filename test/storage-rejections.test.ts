// Storage refusals: each bad upload gets Supabase's error (HTTP 400, semantic status in the body)
// and leaves no row in storage.objects and no file anywhere in the data directory.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { PassThrough } from 'node:stream';
import { signJwt } from '../local-supabase/src/jwt';
import { BlobStore } from '../local-supabase/src/storage/blobs';
import { MAX_KEY_BYTES } from '../local-supabase/src/storage/keys';
import { startTestServer, tempDir, wechatUser, type TestServer } from './support/server';
import {
  createOpenBucket,
  expectNoWrite,
  expectStorageError,
  filesOutsidePostgres,
  filesUnder,
  json,
  multipart,
  rawRequest,
  sql,
  type RawResponse,
} from './support/storage';

let server: TestServer;
let alice: Awaited<ReturnType<typeof wechatUser>>;
let bob: Awaited<ReturnType<typeof wechatUser>>;
const SMALL_LIMIT = 1000;

beforeAll(async () => {
  server = await startTestServer();
  alice = await wechatUser(server);
  bob = await wechatUser(server);
  await createOpenBucket(server, 'small', { fileSizeLimit: SMALL_LIMIT });
});

afterAll(async () => {
  await server?.stop();
});

function imagePath(userId: string): string {
  return `${userId}/2026-11/${randomUUID()}.png`;
}

function auth(token = alice.session.access_token): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/**
 * The server notices a closed socket asynchronously: wait until no request transaction is open
 * and no temporary upload file is left, so the check after it sees the final state.
 */
async function waitForUploadsToSettle(): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const open = await sql<{ n: number }>(
      server,
      `select count(*)::int as n from pg_stat_activity where usename = 'authenticator' and state <> 'idle'`,
    );
    const temp = filesOutsidePostgres(server).filter((f) => f.endsWith('.part'));
    if ((open[0].n === 0 && temp.length === 0) || Date.now() > deadline) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const expectNothingWritten = (attempt: () => Promise<void>) => expectNoWrite(server, attempt);

/** The error supabase-js reports, with the fields app code reads. */
function clientError(error: unknown) {
  const e = error as { status: number; statusCode: string; code?: string; message: string };
  return { status: e.status, statusCode: e.statusCode, code: e.code };
}

describe('bucket limits', () => {
  test('an image over the bucket size limit is refused with 413 from its declared length', async () => {
    await expectNothingWritten(async () => {
      const big = Buffer.alloc(5 * 1024 * 1024 + 1, 1);
      const { data, error } = await alice.sb.storage.from('images').upload(imagePath(alice.id), big, { contentType: 'image/png' });
      expect(data).toBeNull();
      expect(clientError(error)).toEqual({ status: 400, statusCode: '413', code: 'EntityTooLarge' });
      expect(error!.message).toBe('The object exceeded the maximum allowed size');
    });
  });

  test('an oversize body without a declared length is cut off while streaming', async () => {
    await expectNothingWritten(async () => {
      const chunks = Array.from({ length: 5 }, () => Buffer.alloc(300, 7));
      const res = await rawRequest(server, {
        method: 'POST',
        path: `/storage/v1/object/small/${alice.id}/streamed.bin`,
        headers: { ...auth(), 'content-type': 'application/octet-stream' },
        body: chunks,
      });
      expectStorageError(res, '413', 'EntityTooLarge');
    });
  });

  test('an oversize multipart file is refused, and one exactly at the limit is accepted', async () => {
    await expectNothingWritten(async () => {
      const blob = new Blob([Buffer.alloc(SMALL_LIMIT + 1, 2)], { type: 'application/octet-stream' });
      const { error } = await alice.sb.storage.from('small').upload(`${alice.id}/too-big.bin`, blob);
      expect(clientError(error)).toEqual({ status: 400, statusCode: '413', code: 'EntityTooLarge' });
    });
    const exact = new Blob([Buffer.alloc(SMALL_LIMIT, 2)], { type: 'application/octet-stream' });
    expect((await alice.sb.storage.from('small').upload(`${alice.id}/exact.bin`, exact)).error).toBeNull();
  });

  test("a bucket's limit above the global 50 MiB still stops at 50 MiB; a body at the limit passes", async () => {
    const global = 50 * 1024 * 1024;
    await createOpenBucket(server, 'huge', { fileSizeLimit: 2 * global });
    const send = (size: number) =>
      rawRequest(server, {
        method: 'POST',
        path: `/storage/v1/object/huge/${alice.id}/${randomUUID()}.bin`,
        headers: { ...auth(), 'content-type': 'application/octet-stream' },
        body: Buffer.alloc(size),
      });
    await expectNothingWritten(async () => expectStorageError(await send(global + 1), '413', 'EntityTooLarge'));
    expect((await send(global)).status).toBe(200);
  });

  test('a type the bucket does not allow is refused with 415, raw or multipart', async () => {
    await expectNothingWritten(async () => {
      const { error } = await alice.sb.storage.from('images').upload(imagePath(alice.id), Buffer.from('hello'), {
        contentType: 'text/plain',
      });
      expect(clientError(error)).toEqual({ status: 400, statusCode: '415', code: 'InvalidMimeType' });
      expect(error!.message).toBe('mime type text/plain is not supported');

      const form = multipart([{ name: 'file', filename: 'doc.pdf', contentType: 'application/pdf', data: Buffer.from('%PDF-1.4') }]);
      const res = await rawRequest(server, {
        method: 'POST',
        path: `/storage/v1/object/images/${imagePath(alice.id)}`,
        headers: { ...auth(), 'content-type': form.contentType },
        body: form.body,
      });
      expectStorageError(res, '415', 'InvalidMimeType');
    });
  });

  test('a missing bucket is refused with NoSuchBucket, for uploads and reads', async () => {
    await expectNothingWritten(async () => {
      const { error } = await alice.sb.storage.from('no-such-bucket').upload(`${alice.id}/a.png`, Buffer.from('x'), {
        contentType: 'image/png',
      });
      expect(clientError(error)).toEqual({ status: 400, statusCode: '404', code: 'NoSuchBucket' });
      const read = await rawRequest(server, { method: 'GET', path: `/storage/v1/object/public/no-such-bucket/${alice.id}/a.png` });
      expectStorageError(read, '404', 'NoSuchBucket');
    });
  });
});

describe('permissions', () => {
  test("another user's folder, or no folder at all, is refused by the bucket's RLS policy", async () => {
    await expectNothingWritten(async () => {
      for (const name of [imagePath(bob.id), `${randomUUID()}.png`]) {
        const { error } = await alice.sb.storage.from('images').upload(name, Buffer.from('x'), { contentType: 'image/png' });
        expect(clientError(error)).toEqual({ status: 400, statusCode: '403', code: 'AccessDenied' });
        expect(error!.message).toBe('new row violates row-level security policy');
      }
    });
  });

  test('anon (the bare anon key) may not upload to the app bucket', async () => {
    await expectNothingWritten(async () => {
      const res = await rawRequest(server, {
        method: 'POST',
        path: `/storage/v1/object/images/${imagePath(alice.id)}`,
        headers: { ...auth(server.anonKey), 'content-type': 'image/png' },
        body: Buffer.from('x'),
      });
      expectStorageError(res, '403', 'AccessDenied');
    });
  });

  test('a missing, forged, expired or unswitchable-role JWT is AccessDenied', async () => {
    const now = Math.floor(Date.now() / 1000);
    const forged = signJwt({ sub: alice.id, role: 'authenticated', exp: now + 60 }, 'not-the-secret-not-the-secret-xx');
    const expired = signJwt({ sub: alice.id, role: 'authenticated', exp: now - 3600 }, server.jwtSecret);
    const superuser = signJwt({ sub: alice.id, role: 'postgres', exp: now + 60 }, server.jwtSecret);
    await expectNothingWritten(async () => {
      for (const headers of [{}, auth(forged), auth(expired), auth(superuser), auth('garbage')]) {
        const res = await rawRequest(server, {
          method: 'POST',
          path: `/storage/v1/object/images/${imagePath(alice.id)}`,
          headers: { ...headers, 'content-type': 'image/png' },
          body: Buffer.from('x'),
        });
        expectStorageError(res, '403', 'AccessDenied');
      }
    });
  });

  test('a plain object GET tolerates a bad JWT as anon and still serves a public bucket', async () => {
    const name = imagePath(alice.id);
    expect((await alice.sb.storage.from('images').upload(name, Buffer.from('pub'), { contentType: 'image/png' })).error).toBeNull();
    const res = await rawRequest(server, { method: 'GET', path: `/storage/v1/object/images/${name}`, headers: auth('garbage') });
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('pub');
  });
});

describe('keys', () => {
  // Sent raw: a URL parser (fetch, supabase-js) would resolve the dot segments before sending.
  // Each of these names a place inside alice's own folder once resolved, so only the key check
  // stands between them and the disk.
  const traversals = () => [
    `${alice.id}/../${alice.id}/dotdot.png`,
    `${alice.id}/%2e%2e/${alice.id}/encoded.png`,
    `${alice.id}/%2E%2E%2F${alice.id}%2Fslash.png`,
    `${alice.id}/./dot.png`,
    `${alice.id}/x/..`,
    `..%2F..%2F..%2F..%2Ftmp%2Fescape.png`,
    `/${alice.id}/absolute.png`,
    `%2F${alice.id}%2Fabsolute.png`,
    `${alice.id}//empty-segment.png`,
    `${alice.id}/nul%00.png`,
    `${alice.id}/control%01.png`,
    `${alice.id}/newline%0a.png`,
    `${alice.id}/tab%09.png`,
    `${alice.id}/..%5C..%5Cbackslash.png`,
    `${alice.id}/percent%25.png`,
    `${alice.id}/malformed%zz.png`,
    `${alice.id}/`,
  ];

  test('path traversal, absolute paths and control characters are InvalidKey, before any write', async () => {
    await expectNothingWritten(async () => {
      for (const key of traversals()) {
        const res = await rawRequest(server, {
          method: 'POST',
          path: `/storage/v1/object/images/${key}`,
          headers: { ...auth(), 'content-type': 'image/png' },
          body: Buffer.from('evil'),
        });
        expect([key, res.status, json(res).code]).toEqual([key, 400, 'InvalidKey']);
        expect(json(res).statusCode).toBe('400');
      }
    });
  });

  test('the same keys are refused in multipart uploads and in the upsert path', async () => {
    await expectNothingWritten(async () => {
      for (const key of traversals().slice(0, 4)) {
        const form = multipart([{ name: 'file', filename: 'a.png', contentType: 'image/png', data: Buffer.from('evil') }]);
        const res = await rawRequest(server, {
          method: 'PUT',
          path: `/storage/v1/object/images/${key}`,
          headers: { ...auth(), 'content-type': form.contentType },
          body: form.body,
        });
        expectStorageError(res, '400', 'InvalidKey');
      }
    });
  });

  test('a key segment longer than a file name may be (255 bytes) is InvalidKey; one at 255 bytes is stored', async () => {
    const upload = (segment: string) =>
      rawRequest(server, {
        method: 'POST',
        path: `/storage/v1/object/small/${alice.id}/${segment}`,
        headers: { ...auth(), 'content-type': 'text/plain' },
        body: Buffer.from('x'),
      });
    await expectNothingWritten(async () => expectStorageError(await upload('k'.repeat(256)), '400', 'InvalidKey'));
    expect((await upload('k'.repeat(255))).status).toBe(200);
  });

  test('a key longer than 1,024 bytes is InvalidKey, however short its segments; one at 1,024 bytes is stored', async () => {
    const upload = (key: string) =>
      rawRequest(server, {
        method: 'POST',
        path: `/storage/v1/object/small/${key}`,
        headers: { ...auth(), 'content-type': 'text/plain' },
        body: Buffer.from('x'),
      });
    /** alice's folder, then segments of at most 200 bytes, `bytes` long in all. */
    const keyOf = (bytes: number) => {
      let key = alice.id;
      while (key.length < bytes) key += `/${'k'.repeat(Math.min(200, bytes - key.length - 1))}`;
      return key;
    };
    expect(Buffer.byteLength(keyOf(MAX_KEY_BYTES))).toBe(MAX_KEY_BYTES);
    await expectNothingWritten(async () => {
      for (const bytes of [MAX_KEY_BYTES + 1, 2800, 4300]) expectStorageError(await upload(keyOf(bytes)), '400', 'InvalidKey');
    });
    expect((await upload(keyOf(MAX_KEY_BYTES))).status).toBe(200);
  });

  test('a path leaving /storage/v1 altogether is not routed to storage', async () => {
    await expectNothingWritten(async () => {
      const res = await rawRequest(server, {
        method: 'POST',
        path: `/storage/v1/object/../../../tmp/${randomUUID()}.png`,
        headers: { ...auth(), 'content-type': 'image/png' },
        body: Buffer.from('evil'),
      });
      expect(res.status).toBe(404);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
    });
  });
});

describe('atomicity', () => {
  // A deferred constraint trigger fails the transaction at COMMIT, after the bytes were placed:
  // the last moment an upload can fail.
  beforeAll(async () => {
    await sql(
      server,
      `create function public.refuse_at_commit() returns trigger language plpgsql as $$
       begin
         if new.metadata ->> 'mimetype' = 'application/x-refuse-at-commit' then raise exception 'refused at commit'; end if;
         return null;
       end $$`,
    );
    await sql(
      server,
      `create constraint trigger refuse_at_commit after insert or update on storage.objects
       deferrable initially deferred for each row execute function public.refuse_at_commit()`,
    );
  });

  test('bytes refused at the first chunk leave no file once cleaned up, however soon the refusal comes', async () => {
    // A write stream destroyed before its file is open still creates the file afterwards: the
    // refusal must wait for it, or the clean-up runs first and the file stays.
    const dir = tempDir('blob-store-');
    try {
      const blobs = new BlobStore(dir);
      for (let i = 0; i < 1000; i++) {
        // A body whose first chunk is already waiting, as a request's often is.
        const body = new PassThrough();
        body.end('x');
        const file = blobs.tempFile();
        await expect(blobs.save(body, 0, file)).rejects.toMatchObject({ code: 'EntityTooLarge' });
        await blobs.remove(file);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(filesUnder(dir)).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an upload failing at commit leaves no row and no file', async () => {
    await expectNothingWritten(async () => {
      const { error } = await alice.sb.storage
        .from('small')
        .upload(`${alice.id}/${randomUUID()}.bin`, Buffer.from('late failure'), { contentType: 'application/x-refuse-at-commit' });
      expect(clientError(error)).toEqual({ status: 500, statusCode: '500', code: 'InternalError' });
    });
  });

  test('an upsert failing at commit keeps the previous bytes, row and file', async () => {
    const name = `${alice.id}/${randomUUID()}.txt`;
    expect((await alice.sb.storage.from('small').upload(name, Buffer.from('kept'), { contentType: 'text/plain' })).error).toBeNull();
    await expectNothingWritten(async () => {
      const { error } = await alice.sb.storage
        .from('small')
        .upload(name, Buffer.from('lost'), { contentType: 'application/x-refuse-at-commit', upsert: true });
      expect(clientError(error)).toMatchObject({ status: 500 });
    });
    const { data } = await alice.sb.storage.from('small').download(name);
    expect(await data!.text()).toBe('kept');
  });
});

describe('malformed requests', () => {
  test('broken bodies and unknown routes get JSON errors and the server keeps working', async () => {
    const fieldsOnly = multipart([{ name: 'only', value: 'a field' }]);
    // Stored fields come back as response headers on every read: a line break would break them.
    const headerInjection = multipart([
      { name: 'cacheControl', value: '60\r\nSet-Cookie: stolen=1' },
      { name: 'file', filename: 'a.png', contentType: 'image/png', data: Buffer.from('x') },
    ]);
    const post = (path: string, body: unknown) =>
      rawRequest(server, {
        method: 'POST',
        path,
        headers: { ...auth(), 'content-type': 'application/json' },
        body: Buffer.from(JSON.stringify(body)),
      });
    await expectNothingWritten(async () => {
      const cases: Array<[RawResponse, number, string]> = [
        [
          await rawRequest(server, {
            method: 'POST',
            path: '/storage/v1/object/list/images',
            headers: { ...auth(), 'content-type': 'application/json' },
            body: Buffer.from('{"prefix":'),
          }),
          400,
          'InvalidRequest',
        ],
        [
          await rawRequest(server, {
            method: 'POST',
            path: `/storage/v1/object/sign/images/${alice.id}/a.png`,
            headers: { ...auth(), 'content-type': 'application/json' },
            body: Buffer.from('{"expiresIn":"soon"}'),
          }),
          400,
          'InvalidRequest',
        ],
        [
          await rawRequest(server, {
            method: 'DELETE',
            path: '/storage/v1/object/images',
            headers: { ...auth(), 'content-type': 'application/json' },
            body: Buffer.from('{"prefixes":"all"}'),
          }),
          400,
          'InvalidRequest',
        ],
        [
          await rawRequest(server, {
            method: 'POST',
            path: `/storage/v1/object/images/${imagePath(alice.id)}`,
            headers: { ...auth(), 'content-type': 'multipart/form-data' },
            body: Buffer.from('no boundary'),
          }),
          400,
          'InvalidRequest',
        ],
        [
          await rawRequest(server, {
            method: 'POST',
            path: `/storage/v1/object/images/${imagePath(alice.id)}`,
            headers: { ...auth(), 'content-type': fieldsOnly.contentType },
            body: fieldsOnly.body,
          }),
          400,
          'InvalidRequest',
        ],
        [
          await rawRequest(server, {
            method: 'POST',
            path: `/storage/v1/object/images/${imagePath(alice.id)}`,
            headers: { ...auth(), 'content-type': headerInjection.contentType },
            body: headerInjection.body,
          }),
          400,
          'InvalidRequest',
        ],
        [await post('/storage/v1/object/list/images', { prefix: 'a\u0000b' }), 400, 'InvalidRequest'],
        [await post('/storage/v1/object/list/images', { prefix: '', limit: 1e300 }), 400, 'InvalidRequest'],
        [await post('/storage/v1/object/sign/images', { expiresIn: 60, paths: ['a\u0000'] }), 400, 'InvalidRequest'],
        [await post('/storage/v1/object/sign/images', { expiresIn: -1, paths: ['a'] }), 400, 'InvalidRequest'],
        [await rawRequest(server, { method: 'GET', path: '/storage/v1/object/public/images/a%00b' }), 400, 'InvalidKey'],
        [await rawRequest(server, { method: 'GET', path: '/storage/v1/object/public/im%00ages/a' }), 400, 'NoSuchBucket'],
        [await rawRequest(server, { method: 'GET', path: '/storage/v1/bucket/nope' }), 404, 'NotFound'],
        [await rawRequest(server, { method: 'PATCH', path: '/storage/v1/object/images/a.png' }), 404, 'NotFound'],
      ];
      for (const [res, status, code] of cases) {
        expect([res.status, json(res).code]).toEqual([status, code]);
      }
    });
    const { error } = await alice.sb.storage.from('images').upload(imagePath(alice.id), Buffer.from('ok'), { contentType: 'image/png' });
    expect(error).toBeNull();
  });

  test('a multipart body that breaks off before its closing boundary is a 400, before or after the permission check', async () => {
    const form = multipart([{ name: 'file', filename: 'a.png', contentType: 'image/png', data: Buffer.alloc(2000, 7) }]);
    // Everything but the closing boundary, with an honest Content-Length.
    const truncated = form.body.subarray(0, form.body.length - 30);
    const send = (token: string, pauseAfter?: number) =>
      new Promise<RawResponse>((resolve, reject) => {
        const req = http.request(
          {
            host: '127.0.0.1',
            port: server.port,
            method: 'POST',
            path: `/storage/v1/object/images/${imagePath(alice.id)}`,
            headers: { ...auth(token), 'content-type': form.contentType, 'content-length': String(truncated.length) },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
          },
        );
        req.on('error', reject);
        if (pauseAfter === undefined) return void req.end(truncated);
        // The head and part of the file now, the rest once the upload is streaming to disk.
        req.write(truncated.subarray(0, pauseAfter));
        setTimeout(() => req.end(truncated.subarray(pauseAfter)), 300);
      });
    await expectNothingWritten(async () => {
      // The form's end is parsed while the permission check runs: refused or allowed, the stream is dead.
      expectStorageError(await send(server.anonKey), '403', 'AccessDenied');
      expectStorageError(await send(alice.session.access_token), '400', 'InvalidRequest');
      expectStorageError(await send(alice.session.access_token, 400), '400', 'InvalidRequest');
    });
    const { error } = await alice.sb.storage.from('images').upload(imagePath(alice.id), Buffer.from('ok'), { contentType: 'image/png' });
    expect(error).toBeNull();
  });

  test('a client that disconnects mid-upload leaves nothing behind', async () => {
    await expectNothingWritten(async () => {
      await new Promise<void>((resolve) => {
        const req = http.request({
          host: '127.0.0.1',
          port: server.port,
          method: 'POST',
          path: `/storage/v1/object/images/${imagePath(alice.id)}`,
          headers: { ...auth(), 'content-type': 'image/png', 'content-length': '100000' },
        });
        req.on('error', () => resolve());
        req.write(Buffer.alloc(1000, 1));
        setTimeout(() => req.destroy(), 100);
      });
      await waitForUploadsToSettle();
    });
    const { error } = await alice.sb.storage.from('images').upload(imagePath(alice.id), Buffer.from('ok'), { contentType: 'image/png' });
    expect(error).toBeNull();
  });
});
