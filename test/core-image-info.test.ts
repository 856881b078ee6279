// Image headers read without an image library: real files (Python's imghdr test images, 16×16)
// and hand-built headers with different width and height, so a swapped pair shows.
import { readImageInfo } from '../miniprogram/core/image-info';
import { IMAGE_FIXTURES as REAL } from './support/core-fakes';

function bytes(...parts: Array<number[] | string>): Uint8Array {
  const out: number[] = [];
  for (const part of parts) out.push(...(typeof part === 'string' ? Array.from(part, (c) => c.charCodeAt(0)) : part));
  return Uint8Array.from(out);
}

test.each([
  ['jpeg', 'image/jpeg'],
  ['webp', 'image/webp'],
  ['png', 'image/png'],
  ['gif', 'image/gif'],
] as const)('real %s file', (name, mime) => {
  expect(readImageInfo(Uint8Array.from(Buffer.from(REAL[name], 'base64')))).toEqual({ mime, width: 16, height: 16 });
});

test('PNG: IHDR width then height, big-endian', () => {
  const png = bytes([0x89], 'PNG', [0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13], 'IHDR', [0, 0, 0x02, 0x80, 0, 0, 0x01, 0xe0]);
  expect(readImageInfo(png)).toEqual({ mime: 'image/png', width: 640, height: 480 });
});

test('JPEG: skips APP and DHT segments and fill bytes, reads SOF2 (progressive) height then width', () => {
  const jpeg = bytes(
    [0xff, 0xd8],
    [0xff, 0xe0, 0, 6, 1, 2, 3, 4],
    [0xff, 0xc4, 0, 4, 9, 9],
    [0xff, 0xff],
    [0xff, 0xc2, 0, 11, 8, 0x01, 0xe0, 0x02, 0x80, 3, 0, 0],
  );
  expect(readImageInfo(jpeg)).toEqual({ mime: 'image/jpeg', width: 640, height: 480 });
});

test('GIF and WebP (VP8X, VP8L, VP8) sizes', () => {
  expect(readImageInfo(bytes('GIF89a', [0x80, 0x02, 0xe0, 0x01]))).toEqual({ mime: 'image/gif', width: 640, height: 480 });
  const riff = (chunk: string, payload: number[]) =>
    bytes('RIFF', [0, 0, 0, 0], 'WEBP', chunk, [0, 0, 0, 0], payload, new Array(16).fill(0));
  expect(readImageInfo(riff('VP8X', [0, 0, 0, 0, 0x7f, 0x02, 0, 0xdf, 0x01, 0]))).toEqual({ mime: 'image/webp', width: 640, height: 480 });
  // VP8L: signature 0x2f, then 14 bits width-1 and 14 bits height-1.
  const bits = 639 | (479 << 14);
  expect(readImageInfo(riff('VP8L', [0x2f, bits & 0xff, (bits >> 8) & 0xff, (bits >> 16) & 0xff, (bits >>> 24) & 0xff]))).toEqual({
    mime: 'image/webp',
    width: 640,
    height: 480,
  });
  expect(readImageInfo(riff('VP8 ', [0, 0, 0, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01]))).toEqual({
    mime: 'image/webp',
    width: 640,
    height: 480,
  });
});

test('anything else is not an image', () => {
  expect(readImageInfo(bytes('hello world, this is not an image at all'))).toBeNull();
  expect(readImageInfo(bytes([0xff, 0xd8, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]))).toBeNull();
  expect(readImageInfo(new Uint8Array(0))).toBeNull();
});
