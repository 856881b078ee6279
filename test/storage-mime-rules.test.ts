// A bucket's allowed_mime_types as Supabase Storage applies them (src/storage/uploader.ts,
// validateMimeType): exact entries compared case- and parameter-sensitively, `type/*` entries
// admitting any subtype of that type, for raw bodies and multipart forms alike; and folder
// placeholders (keys ending in .emptyFolderPlaceholder), which skip the type rule and therefore
// may hold no byte at all (src/storage/limits.ts isEmptyFolder, uploader.ts fileUploadFromRequest).
import { randomUUID } from 'node:crypto';
import { wechatUser, startTestServer, type TestServer } from './support/server';
import {
  createOpenBucket,
  expectNoWrite,
  expectStorageError,
  json,
  multipart,
  objectRows,
  rawRequest,
  type RawResponse,
} from './support/storage';

let server: TestServer;
let alice: Awaited<ReturnType<typeof wechatUser>>;

beforeAll(async () => {
  server = await startTestServer();
  alice = await wechatUser(server);
  await createOpenBucket(server, 'any-image', { allowedMimeTypes: ['image/*'] });
  await createOpenBucket(server, 'png-or-text', { allowedMimeTypes: ['image/png', 'text/*'] });
  // Upstream checks a list only when it has entries: an empty one restricts nothing.
  await createOpenBucket(server, 'empty-list', { allowedMimeTypes: [] });
});

afterAll(async () => {
  await server?.stop();
});

const auth = () => ({ authorization: `Bearer ${alice.session.access_token}` });

/** Uploads `data` to `bucket` under alice's folder, typed by the header or by the form's `contentType` field. */
function upload(bucket: string, key: string, type: string, via: 'raw' | 'form', data = Buffer.from('bytes')): Promise<RawResponse> {
  const path = `/storage/v1/object/${bucket}/${alice.id}/${key}`;
  if (via === 'raw') return rawRequest(server, { method: 'POST', path, headers: { ...auth(), 'content-type': type }, body: data });
  const form = multipart([
    { name: 'contentType', value: type },
    { name: 'file', filename: 'upload.bin', contentType: 'application/octet-stream', data },
  ]);
  return rawRequest(server, { method: 'POST', path, headers: { ...auth(), 'content-type': form.contentType }, body: form.body });
}

// [content type, accepted by the app's bucket (jpeg, png, webp, gif), by `image/*`, by `image/png` + `text/*`];
// a bucket with an empty list accepts every one.
const TYPES: Array<[string, boolean, boolean, boolean]> = [
  ['image/jpeg', true, true, false],
  ['image/png', true, true, true],
  ['image/webp', true, true, false],
  ['image/gif', true, true, false],
  ['image/bmp', false, true, false],
  ['image/svg+xml', false, true, false],
  ['image/heic', false, true, false],
  ['image/avif', false, true, false],
  ['image/tiff', false, true, false],
  ['image/x-icon', false, true, false],
  // Not registered types: only a wildcard admits them.
  ['image/jpg', false, true, false],
  ['image/pjpeg', false, true, false],
  // Parameters belong to the subtype for the comparison, and case matters.
  ['image/png; charset=binary', false, true, false],
  ['image/PNG', false, true, false],
  ['IMAGE/PNG', false, false, false],
  ['Image/png', false, false, false],
  ['text/plain', false, false, true],
  ['text/html; charset=utf-8', false, false, true],
  ['imagex/png', false, false, false],
  ['imag/png', false, false, false],
  ['tex/plain', false, false, false],
  ['application/octet-stream', false, false, false],
  ['application/image', false, false, false],
  // Not `type/subtype` at all: served back as Content-Type, a browser would sniff them.
  ['image', false, false, false],
  ['image/', false, false, false],
  ['image/png/x', false, false, false],
  ['image/png, text/html', false, false, false],
  ['/png', false, false, false],
];

describe.each(['raw', 'form'] as const)('bucket type rules, %s upload', (via) => {
  test.each(TYPES)('%s: app bucket %p, image/* %p, image/png + text/* %p, empty list true', async (type, app, anyImage, pngOrText) => {
    const outcomes: Array<[string, boolean]> = [
      ['images', app],
      ['any-image', anyImage],
      ['png-or-text', pngOrText],
      ['empty-list', true],
    ];
    for (const [bucket, accepted] of outcomes) {
      const key = `${randomUUID()}.bin`;
      const res = await upload(bucket, key, type, via);
      if (accepted) {
        expect([bucket, res.status]).toEqual([bucket, 200]);
        const stored = (await objectRows(server)).find((row) => row.name === `${alice.id}/${key}`);
        expect(stored?.metadata.mimetype).toBe(type);
      } else {
        expect([bucket, res.status, json(res).code]).toEqual([bucket, 400, 'InvalidMimeType']);
        expect(json(res)).toEqual({
          statusCode: '415',
          code: 'InvalidMimeType',
          error: 'invalid_mime_type',
          message: `mime type ${type} is not supported`,
        });
      }
    }
  });
});

test("a form file part's own type is read by the form parser, which lower-cases it and drops parameters", async () => {
  const form = multipart([{ name: 'file', filename: 'a.png', contentType: 'IMAGE/PNG; name=a', data: Buffer.from('png') }]);
  const key = `${alice.id}/${randomUUID()}.png`;
  const res = await rawRequest(server, {
    method: 'POST',
    path: `/storage/v1/object/images/${key}`,
    headers: { ...auth(), 'content-type': form.contentType },
    body: form.body,
  });
  expect(res.status).toBe(200);
  expect((await objectRows(server)).find((row) => row.name === key)?.metadata.mimetype).toBe('image/png');
});

describe('folder placeholders', () => {
  const placeholder = (folder = randomUUID()) => `${folder}/.emptyFolderPlaceholder`;

  test('an empty placeholder of any type is accepted in a typed bucket, as the dashboard creates folders', async () => {
    const key = placeholder();
    for (const via of ['raw', 'form'] as const) {
      const res = await upload('images', `${via}-${key}`, 'text/html', via, Buffer.alloc(0));
      expect(res.status).toBe(200);
    }
    const read = await rawRequest(server, { method: 'GET', path: `/storage/v1/object/public/images/${alice.id}/raw-${key}` });
    expect(read.status).toBe(200);
    expect(read.body.length).toBe(0);
  });

  test.each([
    ['raw body with a declared length', 'raw'],
    ['multipart form', 'form'],
  ] as const)('a placeholder with content (%s) is refused as too large, whatever its type', async (_, via) => {
    await expectNoWrite(server, async () => {
      for (const type of ['text/html', 'image/svg+xml', 'image/png', 'application/javascript']) {
        expectStorageError(
          await upload('images', placeholder(), type, via, Buffer.from('<script>alert(1)</script>')),
          '413',
          'EntityTooLarge',
        );
      }
      // Its limit is 0: a single byte is already too many.
      expectStorageError(await upload('images', placeholder(), 'text/html', via, Buffer.from('<')), '413', 'EntityTooLarge');
    });
  });

  test('a placeholder streamed without a declared length is cut off at its first byte', async () => {
    await expectNoWrite(server, async () => {
      const res = await rawRequest(server, {
        method: 'POST',
        path: `/storage/v1/object/images/${alice.id}/${placeholder()}`,
        headers: { ...auth(), 'content-type': 'text/html' },
        body: [Buffer.from('<html>'), Buffer.from('<script>alert(1)</script>')],
      });
      expectStorageError(res, '413', 'EntityTooLarge');
    });
  });

  test('any key ending in the placeholder name counts, in every bucket', async () => {
    await expectNoWrite(server, async () => {
      for (const [bucket, name] of [
        ['images', `${randomUUID()}.emptyFolderPlaceholder`],
        ['images', `a/b/c/x.emptyFolderPlaceholder`],
        ['any-image', placeholder()],
        ['png-or-text', placeholder()],
      ]) {
        expectStorageError(await upload(bucket, name, 'text/html', 'raw', Buffer.from('payload')), '413', 'EntityTooLarge');
      }
    });
  });

  test('an upsert cannot give an existing placeholder content; the empty one stays', async () => {
    const key = placeholder();
    expect((await upload('any-image', key, 'image/png', 'raw', Buffer.alloc(0))).status).toBe(200);
    await expectNoWrite(server, async () => {
      const res = await rawRequest(server, {
        method: 'PUT',
        path: `/storage/v1/object/any-image/${alice.id}/${key}`,
        headers: { ...auth(), 'content-type': 'text/html' },
        body: Buffer.from('<script>alert(1)</script>'),
      });
      expectStorageError(res, '413', 'EntityTooLarge');
    });
  });
});
