// Storage with the official supabase-js: uploads (raw, Blob multipart, wx.uploadFile's form),
// public, authenticated and signed reads, list, remove and upsert, under the app's real bucket
// policies and a permissive test bucket.
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { signJwt } from '../local-supabase/src/jwt';
import { client, startTestServer, wechatUser, type TestServer } from './support/server';
import { createOpenBucket, filesUnder, json, multipart, objectRows, rawRequest, sql } from './support/storage';

let server: TestServer;
let alice: Awaited<ReturnType<typeof wechatUser>>;
let bob: Awaited<ReturnType<typeof wechatUser>>;

beforeAll(async () => {
  server = await startTestServer();
  alice = await wechatUser(server);
  bob = await wechatUser(server);
  await createOpenBucket(server, 'open');
});

afterAll(async () => {
  await server?.stop();
});

/** A fresh image path in a user's own folder, as the app builds them. */
function imagePath(userId: string, ext = 'png'): string {
  return `${userId}/2026-11/${randomUUID()}.${ext}`;
}

function bytes(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}

async function row(bucket: string, name: string) {
  return (await objectRows(server)).find((r) => r.bucket_id === bucket && r.name === name);
}

function publicUrl(bucket: string, name: string): string {
  return client(server).storage.from(bucket).getPublicUrl(name).data.publicUrl;
}

describe('upload', () => {
  test('a raw Buffer is stored with its metadata and served back byte for byte at the public URL', async () => {
    const name = imagePath(alice.id);
    const data = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff, 0x10]);
    const { data: uploaded, error } = await alice.sb.storage.from('images').upload(name, data, { contentType: 'image/png' });
    expect(error).toBeNull();
    expect(uploaded).toEqual({ path: name, id: expect.any(String), fullPath: `images/${name}` });

    const stored = await row('images', name);
    expect(stored).toMatchObject({ id: uploaded!.id, owner: alice.id });
    expect(stored!.metadata).toEqual({
      eTag: `"${createHash('md5').update(data).digest('hex')}"`,
      size: data.length,
      mimetype: 'image/png',
      cacheControl: 'max-age=3600',
      lastModified: expect.any(String),
      contentLength: data.length,
      httpStatusCode: 200,
    });
    expect(fs.readFileSync(path.join(server.storageDir, 'images', name, stored!.version))).toEqual(data);

    const res = await fetch(publicUrl('images', name));
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(data);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('content-length')).toBe(String(data.length));
    expect(res.headers.get('cache-control')).toBe('max-age=3600');
    expect(res.headers.get('etag')).toBe(stored!.metadata.eTag);
    expect(res.headers.get('last-modified')).toBe(new Date(stored!.metadata.lastModified as string).toUTCString());
    expect(res.headers.get('accept-ranges')).toBe('bytes');
  });

  test('an ArrayBuffer upload and a Blob (multipart) upload keep their bytes and content types', async () => {
    const rawName = imagePath(alice.id, 'gif');
    const raw = new Uint8Array([71, 73, 70, 56, 57, 97]).buffer;
    expect((await alice.sb.storage.from('images').upload(rawName, raw, { contentType: 'image/gif' })).error).toBeNull();

    const blobName = imagePath(alice.id, 'webp');
    const blobBytes = bytes('RIFF....WEBPVP8 blob body');
    const blob = new Blob([new Uint8Array(blobBytes)], { type: 'image/webp' });
    const { data, error } = await alice.sb.storage.from('images').upload(blobName, blob, { cacheControl: '120' });
    expect(error).toBeNull();
    expect(data!.fullPath).toBe(`images/${blobName}`);

    const rawRes = await fetch(publicUrl('images', rawName));
    expect(Buffer.from(await rawRes.arrayBuffer())).toEqual(Buffer.from(raw));
    expect(rawRes.headers.get('content-type')).toBe('image/gif');

    const blobRes = await fetch(publicUrl('images', blobName));
    expect(Buffer.from(await blobRes.arrayBuffer())).toEqual(blobBytes);
    expect(blobRes.headers.get('content-type')).toBe('image/webp');
    expect(blobRes.headers.get('cache-control')).toBe('max-age=120');
  });

  test("wx.uploadFile's form (named file field, the part's type, extra fields) is accepted", async () => {
    const name = imagePath(alice.id, 'jpg');
    const photo = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), bytes('jpeg body'), Buffer.from([0xff, 0xd9])]);
    const form = multipart([
      { name: 'cacheControl', value: '60' },
      { name: 'roomId', value: '1' },
      { name: 'file', filename: 'tmp_3f2a.jpg', contentType: 'image/jpeg', data: photo },
      { name: 'after', value: 'ignored' },
    ]);
    const res = await rawRequest(server, {
      method: 'POST',
      path: `/storage/v1/object/images/${name}`,
      headers: { authorization: `Bearer ${alice.session.access_token}`, 'content-type': form.contentType },
      body: form.body,
    });
    expect(res.status).toBe(200);
    expect(json(res)).toEqual({ Id: (await row('images', name))!.id, Key: `images/${name}` });

    const served = await fetch(publicUrl('images', name));
    expect(Buffer.from(await served.arrayBuffer())).toEqual(photo);
    expect(served.headers.get('content-type')).toBe('image/jpeg');
    expect(served.headers.get('cache-control')).toBe('max-age=60');
  });

  test("a contentType form field overrides the part's type (wx.uploadFile cannot set the part's)", async () => {
    const name = imagePath(alice.id);
    const form = multipart([
      { name: 'contentType', value: 'image/png' },
      { name: 'file', filename: 'tmp_9c.png', contentType: 'application/octet-stream', data: bytes('png body') },
    ]);
    const res = await rawRequest(server, {
      method: 'POST',
      path: `/storage/v1/object/images/${name}`,
      headers: { authorization: `Bearer ${alice.session.access_token}`, 'content-type': form.contentType, 'x-upsert': 'false' },
      body: form.body,
    });
    expect(res.status).toBe(200);
    const served = await fetch(publicUrl('images', name));
    expect(served.headers.get('content-type')).toBe('image/png');
    expect(served.headers.get('cache-control')).toBe('no-cache');
    expect(await served.text()).toBe('png body');
  });

  test('the service role bypasses RLS: it may write outside any user folder, with no owner', async () => {
    const name = `system/${randomUUID()}.png`;
    const service = client(server, { key: server.serviceRoleKey });
    const { error } = await service.storage.from('images').upload(name, bytes('banner'), { contentType: 'image/png' });
    expect(error).toBeNull();
    expect(await row('images', name)).toMatchObject({ owner: null });

    const asUser = await alice.sb.storage.from('images').upload(`system/${randomUUID()}.png`, bytes('x'), { contentType: 'image/png' });
    expect(asUser.error).toMatchObject({ statusCode: '403' });
  });

  test('a chunked raw body with no declared length is stored whole', async () => {
    const name = imagePath(alice.id);
    const chunks = [bytes('first,'), bytes('second,'), bytes('third')];
    const res = await rawRequest(server, {
      method: 'POST',
      path: `/storage/v1/object/images/${name}`,
      headers: { authorization: `Bearer ${alice.session.access_token}`, 'content-type': 'image/png' },
      body: chunks,
    });
    expect(res.status).toBe(200);
    const served = await fetch(publicUrl('images', name));
    expect(Buffer.from(await served.arrayBuffer())).toEqual(Buffer.concat(chunks));
    expect((await row('images', name))!.metadata.size).toBe(Buffer.concat(chunks).length);
  });
});

describe('reading', () => {
  const data = bytes('0123456789');
  let name: string;
  let etag: string;

  beforeAll(async () => {
    name = imagePath(alice.id);
    const { error } = await alice.sb.storage.from('images').upload(name, data, { contentType: 'image/png' });
    expect(error).toBeNull();
    etag = (await row('images', name))!.metadata.eTag as string;
  });

  test('If-None-Match with the ETag gives 304 with no body; a stale one gives the bytes', async () => {
    const url = publicUrl('images', name);
    const fresh = await fetch(url, { headers: { 'if-none-match': etag } });
    expect(fresh.status).toBe(304);
    expect(fresh.headers.get('etag')).toBe(etag);
    expect((await fresh.arrayBuffer()).byteLength).toBe(0);

    const stale = await fetch(url, { headers: { 'if-none-match': '"0000"' } });
    expect(stale.status).toBe(200);
    expect(Buffer.from(await stale.arrayBuffer())).toEqual(data);
  });

  test('HEAD gives the headers without a body; a byte range gives 206 with that slice', async () => {
    const head = await rawRequest(server, { method: 'HEAD', path: `/storage/v1/object/public/images/${name}` });
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(data.length));
    expect(head.headers['content-type']).toBe('image/png');
    expect(head.headers.etag).toBe(etag);
    expect(head.body.length).toBe(0);

    const part = await fetch(publicUrl('images', name), { headers: { range: 'bytes=2-5' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 2-5/${data.length}`);
    expect(Buffer.from(await part.arrayBuffer()).toString()).toBe('2345');
  });

  test('download() through /object/{bucket}/{path} works for any caller of a public bucket', async () => {
    const { data: blob, error } = await bob.sb.storage.from('images').download(name);
    expect(error).toBeNull();
    expect(Buffer.from(await blob!.arrayBuffer())).toEqual(data);
  });

  test('a private bucket is read under RLS: owner yes, anon key no, no token no, public route no', async () => {
    const privateName = `${alice.id}/${randomUUID()}.txt`;
    expect((await alice.sb.storage.from('open').upload(privateName, data, { contentType: 'text/plain' })).error).toBeNull();
    const { data: blob, error } = await alice.sb.storage.from('open').download(privateName);
    expect(error).toBeNull();
    expect(Buffer.from(await blob!.arrayBuffer())).toEqual(data);

    const authenticatedRoute = await rawRequest(server, {
      method: 'GET',
      path: `/storage/v1/object/authenticated/open/${privateName}`,
      headers: { authorization: `Bearer ${alice.session.access_token}` },
    });
    expect(authenticatedRoute.status).toBe(200);
    expect(authenticatedRoute.body).toEqual(data);

    const anon = await client(server).storage.from('open').download(privateName);
    expect(anon.error).toMatchObject({ status: 400, statusCode: '404' });
    expect((anon.error as unknown as { code: string }).code).toBe('NoSuchKey');

    const noToken = await rawRequest(server, { method: 'GET', path: `/storage/v1/object/open/${privateName}` });
    expect(noToken.status).toBe(400);
    expect(json(noToken)).toMatchObject({ statusCode: '404', code: 'NoSuchBucket' });

    const publicRoute = await fetch(publicUrl('open', privateName));
    expect(publicRoute.status).toBe(400);
    expect(await publicRoute.json()).toMatchObject({ statusCode: '404', code: 'NoSuchBucket' });
  });
});

describe('signed URLs', () => {
  test('a signed URL serves the object until it expires, then fails with an expiry error', async () => {
    const name = imagePath(alice.id);
    const data = bytes('signed bytes');
    expect((await alice.sb.storage.from('images').upload(name, data, { contentType: 'image/png' })).error).toBeNull();

    // exp is in whole seconds, so a 1 s URL may have only milliseconds left by the first fetch on a
    // busy machine; 3 s leaves at least 2. The test then waits for the token's own exp.
    const { data: signed, error } = await alice.sb.storage.from('images').createSignedUrl(name, 3);
    expect(error).toBeNull();
    expect(signed!.signedUrl).toMatch(new RegExp(`^${server.url}/storage/v1/object/sign/images/${name}\\?token=`));
    const live = await fetch(signed!.signedUrl);
    expect(live.status).toBe(200);
    expect(live.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await live.arrayBuffer())).toEqual(data);

    const token = new URL(signed!.signedUrl).searchParams.get('token')!;
    const { exp } = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
    await new Promise((resolve) => setTimeout(resolve, exp * 1000 - Date.now() + 50));
    const expired = await fetch(signed!.signedUrl);
    expect(expired.status).toBe(400);
    expect(await expired.json()).toEqual({
      statusCode: '400',
      code: 'InvalidJWT',
      error: 'Unauthorized',
      message: 'jwt expired',
    });
  });

  test('a token signed for one object does not open another; a tampered token is refused', async () => {
    const [first, second] = [imagePath(alice.id), imagePath(alice.id)];
    for (const name of [first, second]) {
      expect((await alice.sb.storage.from('images').upload(name, bytes(name), { contentType: 'image/png' })).error).toBeNull();
    }
    const { data } = await alice.sb.storage.from('images').createSignedUrl(first, 60);
    const token = new URL(data!.signedUrl).searchParams.get('token')!;

    const other = await fetch(`${server.url}/storage/v1/object/sign/images/${second}?token=${token}`);
    expect(other.status).toBe(400);
    expect(await other.json()).toMatchObject({ statusCode: '400', code: 'InvalidSignature' });

    const tampered = await fetch(`${server.url}/storage/v1/object/sign/images/${first}?token=${token.slice(0, -2)}xx`);
    expect(tampered.status).toBe(400);
    expect(await tampered.json()).toMatchObject({ statusCode: '400', code: 'InvalidJWT' });
  });

  test('only a download token opens the download route: upload-scoped ones, old or new, do not', async () => {
    const name = imagePath(alice.id);
    expect((await alice.sb.storage.from('images').upload(name, bytes('scoped'), { contentType: 'image/png' })).error).toBeNull();
    const exp = Math.floor(Date.now() / 1000) + 60;
    const url = `images/${name}`;
    const open = (claims: Record<string, unknown>) =>
      fetch(`${server.url}/storage/v1/object/sign/images/${name}?token=${signJwt({ url, exp, ...claims }, server.jwtSecret)}`);
    // supabase/storage src/internal/auth/jwt.ts: scope `download`, or a legacy token without scope and upsert.
    for (const claims of [{ scope: 'upload' }, { upsert: false }, { scope: 'upload', upsert: true }]) {
      const refused = await open(claims);
      expect([claims, refused.status, await refused.json()]).toEqual([
        claims,
        400,
        { statusCode: '400', code: 'InvalidJWT', error: 'Unauthorized', message: 'jwt scope is not download' },
      ]);
    }
    for (const claims of [{ scope: 'download' }, {}]) {
      const served = await open(claims);
      expect([claims, served.status, await served.text()]).toEqual([claims, 200, 'scoped']);
    }
  });

  test('signing needs SELECT under RLS, and the batch form reports each path', async () => {
    const name = imagePath(alice.id);
    expect((await alice.sb.storage.from('images').upload(name, bytes('x'), { contentType: 'image/png' })).error).toBeNull();

    const denied = await bob.sb.storage.from('images').createSignedUrl(name, 60);
    expect(denied.data).toBeNull();
    expect(denied.error).toMatchObject({ status: 400, statusCode: '404', message: 'Object not found' });

    const missing = `${alice.id}/nothing-here.png`;
    const { data, error } = await alice.sb.storage.from('images').createSignedUrls([name, missing], 60);
    expect(error).toBeNull();
    expect(data).toEqual([
      { error: null, path: name, signedURL: expect.stringMatching(/^\/object\/sign\//), signedUrl: expect.any(String) },
      {
        error: 'Either the object does not exist or you do not have access to it',
        path: missing,
        signedURL: null,
        signedUrl: null,
      },
    ]);
    const res = await fetch(data![0].signedUrl!);
    expect(Buffer.from(await res.arrayBuffer()).toString()).toBe('x');
  });
});

describe('list', () => {
  test('one level under the prefix, folders without ids, sorted, paged and searched, under RLS', async () => {
    const base = `${alice.id}/list-${randomUUID()}`;
    for (const name of [`${base}/b.png`, `${base}/a.png`, `${base}/c.png`, `${base}/2026-11/deep.png`]) {
      expect((await alice.sb.storage.from('images').upload(name, bytes(name), { contentType: 'image/png' })).error).toBeNull();
    }

    const { data, error } = await alice.sb.storage.from('images').list(base);
    expect(error).toBeNull();
    expect(data!.map((e) => [e.name, e.id === null])).toEqual([
      ['2026-11', true],
      ['a.png', false],
      ['b.png', false],
      ['c.png', false],
    ]);
    expect(data![0]).toEqual({
      name: '2026-11',
      id: null,
      updated_at: null,
      created_at: null,
      last_accessed_at: null,
      metadata: null,
    });
    expect(data![1].metadata).toMatchObject({ mimetype: 'image/png', size: `${base}/a.png`.length });

    const desc = await alice.sb.storage.from('images').list(base, { sortBy: { column: 'name', order: 'desc' }, limit: 2, offset: 1 });
    expect(desc.data!.map((e) => e.name)).toEqual(['b.png', 'a.png']);

    const searched = await alice.sb.storage.from('images').list(base, { search: 'B' });
    expect(searched.data!.map((e) => e.name)).toEqual(['b.png']);

    // A search is a literal prefix: LIKE's wildcards in it match only themselves.
    for (const name of [`${base}/x_1.png`, `${base}/xy1.png`]) {
      expect((await alice.sb.storage.from('images').upload(name, bytes(name), { contentType: 'image/png' })).error).toBeNull();
    }
    for (const [search, names] of [
      ['x_', ['x_1.png']],
      ['x%', []],
      ['x', ['x_1.png', 'xy1.png']],
    ] as const) {
      const found = await alice.sb.storage.from('images').list(base, { search });
      expect([search, found.data!.map((e) => e.name)]).toEqual([search, names]);
    }

    const top = await alice.sb.storage.from('images').list(alice.id);
    expect(top.data!.map((e) => e.name)).toContain(base.split('/')[1]);

    const bobSees = await bob.sb.storage.from('images').list(base);
    expect(bobSees.error).toBeNull();
    expect(bobSees.data).toEqual([]);
  });
});

describe('remove', () => {
  test("the app's bucket has no DELETE policy: remove() deletes nothing and the bytes stay", async () => {
    const name = imagePath(alice.id);
    expect((await alice.sb.storage.from('images').upload(name, bytes('keep'), { contentType: 'image/png' })).error).toBeNull();
    const stored = await row('images', name);

    const { data, error } = await alice.sb.storage.from('images').remove([name]);
    expect(error).toBeNull();
    expect(data).toEqual([]);
    expect(await row('images', name)).toBeDefined();
    expect(fs.existsSync(path.join(server.storageDir, 'images', name, stored!.version))).toBe(true);

    const single = await rawRequest(server, {
      method: 'DELETE',
      path: `/storage/v1/object/images/${name}`,
      headers: { authorization: `Bearer ${alice.session.access_token}` },
    });
    expect(single.status).toBe(400);
    expect(json(single)).toMatchObject({ statusCode: '403', code: 'AccessDenied' });
    expect(await row('images', name)).toBeDefined();
  });

  test('where policies allow it, remove() deletes the rows it returns and their files', async () => {
    const [first, second] = [`${alice.id}/${randomUUID()}.txt`, `${alice.id}/${randomUUID()}.txt`];
    for (const name of [first, second]) {
      expect((await alice.sb.storage.from('open').upload(name, bytes(name))).error).toBeNull();
    }
    const files = filesUnder(path.join(server.storageDir, 'open', alice.id));

    const { data, error } = await alice.sb.storage.from('open').remove([first, `${alice.id}/absent.txt`]);
    expect(error).toBeNull();
    expect(data!.map((r) => r.name)).toEqual([first]);
    expect(await row('open', first)).toBeUndefined();
    expect(filesUnder(path.join(server.storageDir, 'open', alice.id))).toEqual(files.filter((f) => !f.startsWith(first.split('/')[1])));
    const gone = await alice.sb.storage.from('open').download(first);
    expect(gone.error).toMatchObject({ statusCode: '404' });

    const single = await rawRequest(server, {
      method: 'DELETE',
      path: `/storage/v1/object/open/${second}`,
      headers: { authorization: `Bearer ${alice.session.access_token}` },
    });
    expect(single.status).toBe(200);
    expect(json(single)).toEqual({ message: 'Successfully deleted' });
    expect(await row('open', second)).toBeUndefined();
    expect(filesUnder(path.join(server.storageDir, 'open', alice.id)).some((f) => f.startsWith(second.split('/')[1]))).toBe(false);

    const again = await rawRequest(server, {
      method: 'DELETE',
      path: `/storage/v1/object/open/${second}`,
      headers: { authorization: `Bearer ${alice.session.access_token}` },
    });
    expect(json(again)).toMatchObject({ statusCode: '404', code: 'NoSuchKey' });
  });
});

describe('upsert', () => {
  test("the app's bucket refuses to overwrite: 409 without upsert, 403 with it, the first bytes stay", async () => {
    const name = imagePath(alice.id);
    expect((await alice.sb.storage.from('images').upload(name, bytes('original'), { contentType: 'image/png' })).error).toBeNull();
    const before = await row('images', name);

    const duplicate = await alice.sb.storage.from('images').upload(name, bytes('second'), { contentType: 'image/png' });
    expect(duplicate.error).toMatchObject({ status: 400, statusCode: '409', message: 'The resource already exists' });

    const upsert = await alice.sb.storage.from('images').upload(name, bytes('third'), { contentType: 'image/png', upsert: true });
    expect(upsert.error).toMatchObject({ status: 400, statusCode: '403' });
    expect((upsert.error as unknown as { code: string }).code).toBe('AccessDenied');

    const update = await alice.sb.storage.from('images').update(name, bytes('fourth'), { contentType: 'image/png' });
    expect(update.error).toMatchObject({ statusCode: '403' });

    expect(await row('images', name)).toEqual(before);
    expect(filesUnder(path.join(server.storageDir, 'images', name))).toEqual([before!.version]);
    const served = await fetch(publicUrl('images', name));
    expect(await served.text()).toBe('original');
  });

  test('with UPDATE and SELECT policies, upsert and update() replace the bytes, keep the id, drop the old file', async () => {
    const name = `${alice.id}/${randomUUID()}.txt`;
    const first = await alice.sb.storage.from('open').upload(name, bytes('one'), { contentType: 'text/plain' });
    expect(first.error).toBeNull();

    const second = await alice.sb.storage.from('open').upload(name, bytes('two!'), { contentType: 'text/plain', upsert: true });
    expect(second.error).toBeNull();
    expect(second.data!.id).toBe(first.data!.id);
    let stored = await row('open', name);
    expect(stored!.metadata).toMatchObject({ size: 4, eTag: `"${createHash('md5').update('two!').digest('hex')}"` });
    expect(filesUnder(path.join(server.storageDir, 'open', name))).toEqual([stored!.version]);
    let read = await alice.sb.storage.from('open').download(name);
    expect(await read.data!.text()).toBe('two!');

    const third = await alice.sb.storage.from('open').update(name, bytes('three'), { contentType: 'text/plain' });
    expect(third.error).toBeNull();
    stored = await row('open', name);
    expect(filesUnder(path.join(server.storageDir, 'open', name))).toEqual([stored!.version]);
    read = await alice.sb.storage.from('open').download(name);
    expect(await read.data!.text()).toBe('three');

    const owners = await sql(server, 'select count(*)::int as n from storage.objects where bucket_id = $1 and name = $2', ['open', name]);
    expect(owners[0].n).toBe(1);
  });
});
