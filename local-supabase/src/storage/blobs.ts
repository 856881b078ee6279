// Object bytes on disk: <root>/<bucket>/<key>/<version>, like Supabase's file backend. Keeping each
// version in its own file under the key's folder lets "a" and "a/b" coexist, and lets an upsert
// place the new bytes next to the old ones until the database row points at them.
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { entityTooLarge, invalidKey, invalidRequest } from './errors';

export interface SavedBytes {
  size: number;
  md5: string;
}

export class BlobStore {
  private readonly root: string;
  private readonly tempDir: string;

  constructor(root: string) {
    this.root = path.resolve(root);
    this.tempDir = path.join(this.root, '.tmp');
    fs.mkdirSync(this.tempDir, { recursive: true });
  }

  /**
   * The file of one object version. The path must come out of resolution exactly as it went in:
   * any `.`, `..`, empty or absolute segment (whatever put it in the database) is refused here,
   * so no bucket or key can address a file outside its own folder.
   */
  file(bucket: string, key: string, version: string): string {
    const literal = [this.root, bucket, key, version].join('/');
    if (literal.includes('\0') || path.resolve(literal) !== literal) throw invalidKey(key);
    return literal;
  }

  tempFile(): string {
    return path.join(this.tempDir, `${randomUUID()}.part`);
  }

  /**
   * Copies `source` into `file`, hashing as it goes, and fails with EntityTooLarge as soon as more
   * than `limit` bytes arrive. On failure the rest of the source is drained, not destroyed, so the
   * HTTP request stays usable for the error response.
   */
  save(source: Readable, limit: number, file: string): Promise<SavedBytes> {
    return new Promise((resolve, reject) => {
      const out = fs.createWriteStream(file, { flags: 'wx' });
      const hash = createHash('md5');
      let size = 0;
      let ended = false;
      let failed = false;
      const fail = (err: unknown) => {
        if (failed) return;
        failed = true;
        source.removeListener('data', onData);
        source.resume();
        // A stream destroyed before its file is open still creates the file: reject only once it
        // has closed, so the caller's clean-up finds the file it must remove.
        out.destroy();
        if (out.closed) reject(err);
        else out.once('close', () => reject(err));
      };
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (size > limit) return fail(entityTooLarge());
        hash.update(chunk);
        if (!out.write(chunk)) {
          source.pause();
          out.once('drain', () => source.resume());
        }
      };
      // The body is the client's: a form that breaks off (its stream errored, perhaps before this
      // read began) is a bad request, not the server's failure.
      const broken = (err: Error) => fail(invalidRequest(`the upload's body could not be read: ${err.message}`));
      if (source.errored) return broken(source.errored);
      if (source.destroyed) return fail(new Error('request body ended early'));
      source.on('data', onData);
      source.once('end', () => {
        ended = true;
        if (!failed) out.end();
      });
      // A client that goes away mid-body closes the source without 'end'.
      source.once('close', () => {
        if (!ended) fail(new Error('request body ended early'));
      });
      source.once('error', broken);
      out.once('error', fail);
      out.once('finish', () => {
        if (!failed) resolve({ size, md5: hash.digest('hex') });
      });
    });
  }

  /** Moves a finished temporary file to its final place (an atomic rename on one filesystem). */
  async place(tempFile: string, file: string): Promise<void> {
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    await fs.promises.rename(tempFile, file);
  }

  /** Deletes a file if it exists. Empty key folders are left: removing them would race uploads. */
  async remove(file: string): Promise<void> {
    await fs.promises.rm(file, { force: true });
  }
}
