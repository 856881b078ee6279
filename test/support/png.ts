// Just enough image handling for wx-node's getImageInfo and compressImage over real files:
// dimensions (through the core's parser), and a PNG decoder/encoder (8-bit greyscale, RGB,
// RGBA; every filter type; no interlacing) so compressImage can really scale a PNG down.
// Pixel work uses Uint8Arrays made here rather than Buffers: under jest the Buffer class belongs
// to another realm, and indexing it byte by byte is some forty times slower.
import zlib from 'node:zlib';
import { readImageInfo } from '../../miniprogram/core/image-info';

export type ImageType = 'png' | 'jpeg' | 'gif' | 'webp' | 'unknown';

export interface ImageHeader {
  type: ImageType;
  width: number;
  height: number;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The header as WeChat's getImageInfo reports it, read by the core's own parser. */
export function readImageHeader(bytes: Uint8Array): ImageHeader {
  const info = readImageInfo(bytes);
  if (!info) return { type: 'unknown', width: 0, height: 0 };
  return { type: info.mime.slice('image/'.length) as ImageType, width: info.width, height: info.height };
}

export interface Bitmap {
  width: number;
  height: number;
  /** Bytes per pixel: 1 grey, 3 RGB, 4 RGBA. */
  channels: number;
  pixels: Uint8Array;
}

const CHANNELS_BY_COLOUR_TYPE: Record<number, number> = { 0: 1, 2: 3, 6: 4 };

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  return c >>> 0;
});

function crc32(buffer: Buffer): number {
  const bytes = new Uint8Array(buffer);
  let crc = ~0;
  for (let i = 0; i < bytes.length; i++) crc = (crc >>> 8) ^ CRC_TABLE[(crc ^ bytes[i]) & 0xff];
  return ~crc >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

export function encodePng({ width, height, channels, pixels }: Bitmap): Buffer {
  const colourType = Number(Object.keys(CHANNELS_BY_COLOUR_TYPE).find((t) => CHANNELS_BY_COLOUR_TYPE[Number(t)] === channels));
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8;
  header[9] = colourType;
  const stride = width * channels;
  const raw = new Uint8Array((stride + 1) * height);
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  return Buffer.concat([PNG_SIGNATURE, chunk('IHDR', header), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

function predictor(filter: number, left: number, up: number, upLeft: number): number {
  switch (filter) {
    case 0:
      return 0;
    case 1:
      return left;
    case 2:
      return up;
    case 3:
      return (left + up) >> 1;
    case 4:
      return paeth(left, up, upLeft);
    default:
      throw new Error(`invalid PNG filter type ${filter}`);
  }
}

export function decodePng(bytes: Buffer): Bitmap {
  let offset = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const data: Buffer[] = [];
  while (offset < bytes.length) {
    const length = bytes.readUInt32BE(offset);
    const type = bytes.toString('latin1', offset + 4, offset + 8);
    const body = bytes.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      channels = CHANNELS_BY_COLOUR_TYPE[body[9]] ?? 0;
      if (body[8] !== 8 || !channels || body[12] !== 0) throw new Error('only 8-bit, non-interlaced grey/RGB/RGBA PNGs are supported');
    } else if (type === 'IDAT') data.push(body);
    offset += 12 + length;
  }
  const raw = new Uint8Array(zlib.inflateSync(Buffer.concat(data)));
  const stride = width * channels;
  const pixels = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    for (let x = 0; x < stride; x++) {
      const value = raw[y * (stride + 1) + 1 + x];
      const left = x >= channels ? pixels[y * stride + x - channels] : 0;
      const up = y > 0 ? pixels[(y - 1) * stride + x] : 0;
      const upLeft = x >= channels && y > 0 ? pixels[(y - 1) * stride + x - channels] : 0;
      pixels[y * stride + x] = (value + predictor(filter, left, up, upLeft)) & 0xff;
    }
  }
  return { width, height, channels, pixels };
}

/** Nearest-neighbour scaling: enough to prove a compressed copy really has the new size. */
export function scaleBitmap(source: Bitmap, width: number, height: number): Bitmap {
  const { channels } = source;
  const pixels = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    const sy = Math.min(source.height - 1, Math.floor((y * source.height) / height));
    for (let x = 0; x < width; x++) {
      const sx = Math.min(source.width - 1, Math.floor((x * source.width) / width));
      const from = (sy * source.width + sx) * channels;
      const to = (y * width + x) * channels;
      for (let c = 0; c < channels; c++) pixels[to + c] = source.pixels[from + c];
    }
  }
  return { width, height, channels, pixels };
}

/** The `width` × `height` region whose top-left corner is (left, top). */
export function cropBitmap(source: Bitmap, left: number, top: number, width: number, height: number): Bitmap {
  const { channels } = source;
  const pixels = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    const from = ((top + y) * source.width + left) * channels;
    pixels.set(source.pixels.subarray(from, from + width * channels), y * width * channels);
  }
  return { width, height, channels, pixels };
}

/** A PNG test image: a diagonal gradient, so scaled copies differ from the original. */
export function gradientPng(width: number, height: number): Buffer {
  const pixels = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      pixels[i] = Math.floor((x * 255) / Math.max(1, width - 1));
      pixels[i + 1] = Math.floor((y * 255) / Math.max(1, height - 1));
      pixels[i + 2] = 128;
    }
  }
  return encodePng({ width, height, channels: 3, pixels });
}
