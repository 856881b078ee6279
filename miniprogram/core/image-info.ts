// Type and pixel size of an image from its first bytes, for runtimes without an image API (the
// terminal client; WeChat has wx.getImageInfo). Reads only headers: PNG IHDR, JPEG SOFn, GIF
// logical screen, WebP VP8/VP8L/VP8X.
import type { PickedImage } from './types';

/** The image types the bucket accepts: WeChat's type names (getImageInfo) and file extensions. */
const IMAGE_TYPES: Array<{ mime: PickedImage['mime']; types: string[]; extension: string }> = [
  { mime: 'image/jpeg', types: ['jpeg', 'jpg'], extension: 'jpg' },
  { mime: 'image/png', types: ['png'], extension: 'png' },
  { mime: 'image/webp', types: ['webp'], extension: 'webp' },
  { mime: 'image/gif', types: ['gif'], extension: 'gif' },
];

/** The MIME type for a type name such as wx.getImageInfo reports ('jpeg', 'png'…), or null. */
export function mimeOfType(type: string): PickedImage['mime'] | null {
  const entry = IMAGE_TYPES.find((t) => t.types.includes(type.toLowerCase()));
  return entry ? entry.mime : null;
}

export function extensionOf(mime: PickedImage['mime']): string {
  return IMAGE_TYPES.find((t) => t.mime === mime)!.extension;
}

export interface ImageInfo {
  mime: PickedImage['mime'];
  width: number;
  height: number;
}

function ascii(bytes: Uint8Array, offset: number, length: number): string {
  let out = '';
  for (let i = offset; i < offset + length && i < bytes.length; i++) out += String.fromCharCode(bytes[i]);
  return out;
}

const be16 = (b: Uint8Array, o: number) => (b[o] << 8) | b[o + 1];
const be32 = (b: Uint8Array, o: number) => ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
const le16 = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8);
const le24 = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8) | (b[o + 2] << 16);

/** The image's type and size, or null when the bytes are not a PNG, JPEG, GIF or WebP we can read. */
export function readImageInfo(bytes: Uint8Array): ImageInfo | null {
  if (bytes.length >= 24 && ascii(bytes, 1, 3) === 'PNG' && ascii(bytes, 12, 4) === 'IHDR') {
    return { mime: 'image/png', width: be32(bytes, 16), height: be32(bytes, 20) };
  }
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8) return readJpeg(bytes);
  if (bytes.length >= 10 && ascii(bytes, 0, 4) === 'GIF8') {
    return { mime: 'image/gif', width: le16(bytes, 6), height: le16(bytes, 8) };
  }
  if (bytes.length >= 30 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') return readWebp(bytes);
  return null;
}

function readJpeg(bytes: Uint8Array): ImageInfo | null {
  let offset = 2;
  while (offset + 9 < bytes.length) {
    if (bytes[offset] !== 0xff) return null;
    const marker = bytes[offset + 1];
    // Fill bytes (0xff repeated) may precede a marker.
    if (marker === 0xff) {
      offset++;
      continue;
    }
    // SOF0–SOF15 carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but do not.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { mime: 'image/jpeg', height: be16(bytes, offset + 5), width: be16(bytes, offset + 7) };
    }
    offset += 2 + be16(bytes, offset + 2);
  }
  return null;
}

function readWebp(bytes: Uint8Array): ImageInfo | null {
  const chunk = ascii(bytes, 12, 4);
  if (chunk === 'VP8X') return { mime: 'image/webp', width: le24(bytes, 24) + 1, height: le24(bytes, 27) + 1 };
  if (chunk === 'VP8L') {
    const bits = bytes[21] | (bytes[22] << 8) | (bytes[23] << 16) | (bytes[24] << 24);
    return { mime: 'image/webp', width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8 ') return { mime: 'image/webp', width: le16(bytes, 26) & 0x3fff, height: le16(bytes, 28) & 0x3fff };
  return null;
}
