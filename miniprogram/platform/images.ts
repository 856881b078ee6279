// Images: pick one from the album or camera, shrink it before it costs the user's data plan,
// and upload it to Storage with progress through wx.uploadFile (wx.request reports no upload
// progress). The core decides the object path and what a failure means.
import { mimeOfType } from '../core/image-info';
import type { PickedImage } from '../core/types';
import { BackendFailure, type ImageUploader, type UploadTask } from '../core/ports';
import { IMAGES_BUCKET, storageFailure } from '../core/supabase-backend';
import { wxFailure, type WxError } from './wx-failure';

/** Wider images are scaled down to this width; chat bubbles never show more. */
export const IMAGE_MAX_WIDTH = 1280;
/** JPEG quality of the compressed copy (wx.compressImage ignores it for PNG). */
export const IMAGE_QUALITY = 80;
/** A portrait is stored square at this side: the character card shows it at 128 rpx, about 3× that on sharp screens. */
export const PORTRAIT_SIDE = 480;

interface Callbacks<R> {
  success: (result: R) => void;
  fail: (err: WxError) => void;
}

/** Runs a callback-style wx API as a promise that rejects with a BackendFailure (wx-failure.ts). */
function wxCall<R>(start: (callbacks: Callbacks<R>) => void): Promise<R> {
  return new Promise<R>((resolve, reject) => start({ success: resolve, fail: (err) => reject(wxFailure(err, 'image_unreadable')) }));
}

function imageInfo(src: string) {
  return wxCall<WechatMiniprogram.GetImageInfoSuccessCallbackResult>((callbacks) => wx.getImageInfo({ src, ...callbacks }));
}

function fileSize(filePath: string): Promise<number> {
  return wxCall<WechatMiniprogram.GetFileInfoSuccessCallbackResult>((callbacks) =>
    wx.getFileSystemManager().getFileInfo({ filePath, ...callbacks }),
  ).then((info) => info.size);
}

/**
 * A compressed copy of a local image, at most `maxWidth` wide, with the dimensions and type of that
 * copy. GIFs are kept as they are: compressing would drop their animation.
 */
export async function prepareImage(path: string, maxWidth = IMAGE_MAX_WIDTH): Promise<PickedImage> {
  const original = await imageInfo(path);
  let file = path;
  if (original.type !== 'gif') {
    const compressed = await wxCall<WechatMiniprogram.CompressImageSuccessCallbackResult>((callbacks) =>
      wx.compressImage({
        src: path,
        quality: IMAGE_QUALITY,
        // Only the width is given, so the height follows the aspect ratio.
        compressedWidth: original.width > maxWidth ? maxWidth : undefined,
        ...callbacks,
      }),
    );
    file = compressed.tempFilePath;
  }
  const info = file === path ? original : await imageInfo(file);
  const mime = mimeOfType(info.type);
  if (!mime) throw new Error(`unsupported image type: ${info.type}`);
  const size = await fileSize(file);
  // The outbox keeps this path across app restarts, but a temp file lives for this launch only:
  // move it to the app's saved files. releaseImage removes it once the message no longer needs it.
  const saved = await wxCall<WechatMiniprogram.SaveFileSuccessCallbackResult>((callbacks) =>
    wx.getFileSystemManager().saveFile({ tempFilePath: file, ...callbacks }),
  );
  return { path: saved.savedFilePath, width: info.width, height: info.height, size, mime };
}

/** A picker's answer; null when the person cancelled it (WeChat's errMsg ends in "cancel"). */
async function unlessCancelled<R>(picking: Promise<R>): Promise<R | null> {
  try {
    return await picking;
  } catch (err) {
    if (/cancel/.test((err as Error).message)) return null;
    throw err;
  }
}

function chooseImage(): Promise<WechatMiniprogram.ChooseMediaSuccessCallbackResult | null> {
  return unlessCancelled(
    wxCall<WechatMiniprogram.ChooseMediaSuccessCallbackResult>((callbacks) =>
      wx.chooseMedia({ count: 1, mediaType: ['image'], sourceType: ['album', 'camera'], sizeType: ['compressed'], ...callbacks }),
    ),
  );
}

/**
 * Lets the user pick one image and prepares it; null when they cancel the picker. WeChat's privacy
 * refusals reject with their own codes (core/failures.ts featureProblem says what to do).
 */
export async function pickImage(): Promise<PickedImage | null> {
  const picked = await chooseImage();
  return picked && prepareImage(picked.tempFiles[0].tempFilePath);
}

/**
 * Lets the user pick an image and crop it square in WeChat's cropper (wx.cropImage, base library
 * 2.26.0), then shrinks it to PORTRAIT_SIDE; null when they cancel either step.
 */
export async function pickPortrait(): Promise<PickedImage | null> {
  const picked = await chooseImage();
  if (!picked) return null;
  const cropped = await unlessCancelled(
    wxCall<WechatMiniprogram.CropImageSuccessCallbackResult>((callbacks) =>
      wx.cropImage({ src: picked.tempFiles[0].tempFilePath, cropScale: '1:1', ...callbacks }),
    ),
  );
  return cropped && prepareImage(cropped.tempFilePath, PORTRAIT_SIDE);
}

export interface UploaderConfig {
  /** The project URL, e.g. https://<ref>.supabase.co. */
  url: string;
  anonKey: string;
  /** The signed-in user's current access token (Storage checks the folder policy with it). */
  accessToken: () => Promise<string>;
  bucket?: string;
}

/** Storage answers errors with HTTP 400 and the meaningful status and name in the JSON body. */
function uploadFailure(httpStatus: number, body: string): BackendFailure {
  let parsed: { statusCode?: string; error?: string; code?: string; message?: string } = {};
  try {
    parsed = JSON.parse(body);
  } catch {
    // Not Storage's JSON (a proxy's error page): the HTTP status and the text are all there is.
  }
  return storageFailure({
    message: parsed.message || body || `HTTP ${httpStatus}`,
    status: httpStatus,
    statusCode: parsed.statusCode,
    code: parsed.code || parsed.error,
  });
}

/**
 * Multipart upload to `<url>/storage/v1/object/<bucket>/<path>` with x-upsert false, so a retry
 * of an upload that did land answers "Duplicate", which the core counts as success.
 */
export function createImageUploader(config: UploaderConfig): ImageUploader {
  const bucket = config.bucket ?? IMAGES_BUCKET;
  // Saved files carry their creation time in seconds
  // (developers.weixin.qq.com/miniprogram/dev/api/file/FileSystemManager.getSavedFileList.html).
  const launchedAt = Math.floor(Date.now() / 1000);
  const remove = (filePath: string) =>
    // Best effort: a file that is already gone needs no removing.
    wx.getFileSystemManager().removeSavedFile({ filePath, fail: () => undefined });
  return {
    release(image: PickedImage): void {
      remove(image.path);
    },
    prune(inUse: string[]): void {
      wx.getFileSystemManager().getSavedFileList({
        success: ({ fileList }) => {
          for (const file of fileList) if (file.createTime < launchedAt && inUse.indexOf(file.filePath) < 0) remove(file.filePath);
        },
      });
    },
    upload(storagePath: string, image: PickedImage, onProgress: (percent: number) => void): UploadTask {
      let task: WechatMiniprogram.UploadTask | null = null;
      let cancelled = false;
      const done = config.accessToken().then(
        (token) =>
          new Promise<void>((resolve, reject) => {
            if (cancelled) return reject(new BackendFailure(0, 'cancelled', 'uploadFile:fail abort'));
            try {
              wx.getFileSystemManager().accessSync(image.path);
            } catch (error) {
              // The file was removed (storage cleared, or an old temp path): no retry can send it.
              return reject(new BackendFailure(400, 'file_unreadable', `${(error as Error).message || error}: ${image.path}`));
            }
            task = wx.uploadFile({
              url: `${config.url}/storage/v1/object/${bucket}/${encodeURI(storagePath)}`,
              filePath: image.path,
              name: 'file',
              header: { Authorization: `Bearer ${token}`, apikey: config.anonKey, 'x-upsert': 'false' },
              // wx.uploadFile does not let us set the file part's type; Storage reads this field first.
              formData: { contentType: image.mime, cacheControl: '3600' },
              success: (res) => (res.statusCode === 200 ? resolve() : reject(uploadFailure(res.statusCode, res.data))),
              fail: (err) => reject(new BackendFailure(0, cancelled ? 'cancelled' : '', err.errMsg)),
            });
            task.onProgressUpdate((progress) => onProgress(progress.progress));
          }),
      );
      return {
        done,
        cancel() {
          cancelled = true;
          if (task) task.abort();
        },
      };
    },
  };
}
