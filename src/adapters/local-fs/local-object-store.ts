import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, rmdir, stat, unlink } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NotFoundError } from '../../core/errors.ts';
import type { ObjectInfo, ObjectStore } from '../../ports/object-store.ts';
import { badKey, checkKey as checkObjectKey, checkPrefix } from '../object-keys.ts';

export interface LocalObjectStoreOptions {
  /** Directory holding the objects; created on first write. */
  readonly root: string;
}

/**
 * Partial writes live here until they are renamed into place. It sits under the root so
 * the rename never crosses a filesystem (and stays atomic), and it is reserved as a key.
 */
const TMP_DIR = '.sluice-tmp';

/** An ObjectStore on a local directory; the key `a/b.csv` is the file `<root>/a/b.csv`. */
export function createLocalObjectStore(options: LocalObjectStoreOptions): ObjectStore {
  const root = resolve(options.root);
  const tmpDir = join(root, TMP_DIR);

  function pathOf(key: string): string {
    checkKey(key);
    return join(root, ...key.split('/'));
  }

  function info(key: string, stats: Stats): ObjectInfo {
    return { key, size: stats.size, modifiedAt: stats.mtime.toISOString() };
  }

  return {
    async put(key, body) {
      const target = pathOf(key);
      const tmp = join(tmpDir, `${randomUUID()}.partial`);
      try {
        await mkdir(dirname(target), { recursive: true });
        await mkdir(tmpDir, { recursive: true });
        const source = typeof body === 'string' || Buffer.isBuffer(body) ? Readable.from([body]) : body;
        // flush: fsync before close, so a crash after the rename never leaves an empty file.
        await pipeline(source, createWriteStream(tmp, { flags: 'wx', flush: true }));
        await rename(tmp, target);
      } catch (err) {
        await rm(tmp, { force: true });
        throw new Error(`cannot put object ${key}: ${(err as Error).message}`, { cause: err });
      }
      return info(key, await stat(target));
    },

    async get(key) {
      try {
        return await readFile(pathOf(key));
      } catch (err) {
        throw missing(err, key);
      }
    },

    async getStream(key) {
      // Open before returning, so a missing key rejects here rather than as a stream error.
      const handle = await open(pathOf(key), 'r').catch((err: unknown) => {
        throw missing(err, key);
      });
      const stats = await handle.stat();
      if (!stats.isFile()) {
        await handle.close();
        throw new NotFoundError('object', key);
      }
      return handle.createReadStream();
    },

    async head(key) {
      const stats = await stat(pathOf(key)).catch((err: unknown) => {
        if (isMissing(err)) return undefined;
        throw err;
      });
      return stats?.isFile() ? info(key, stats) : undefined;
    },

    async list(prefix) {
      checkPrefix(prefix);
      // Walk only the deepest directory the prefix names; `raw/2024` also matches `raw/2024-01/x`.
      const dirPart = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
      const start = join(root, ...dirPart.split('/').filter(Boolean));
      const entries = await readdir(start, { recursive: true, withFileTypes: true }).catch((err: unknown) => {
        if (isMissing(err)) return [];
        throw err;
      });
      const found: ObjectInfo[] = [];
      for (const entry of entries) {
        if (!entry.isFile()) continue;
        const key = relative(root, join(entry.parentPath, entry.name)).split(sep).join('/');
        if (key.startsWith(`${TMP_DIR}/`) || !key.startsWith(prefix)) continue;
        const stats = await stat(join(entry.parentPath, entry.name)).catch(() => undefined);
        if (stats) found.push(info(key, stats));
      }
      // Byte order of UTF-8, like S3, so both adapters list in the same order.
      return found.sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
    },

    async delete(key) {
      const target = pathOf(key);
      // Deleting a missing key succeeds, as on S3.
      await unlink(target).catch((err: unknown) => {
        if (!isMissing(err)) throw err;
      });
      // Drop directories the delete left empty, so a later put of a key that was a
      // "directory" (`a` after `a/b`) works as on S3.
      for (let dir = dirname(target); dir !== root && dir.startsWith(root + sep); dir = dirname(dir)) {
        try {
          await rmdir(dir);
        } catch {
          break;
        }
      }
    },

    async close() {
      // Nothing is held open between calls.
    },
  };
}

function checkKey(key: string): void {
  checkObjectKey(key);
  if (key.split('/')[0] === TMP_DIR) throw badKey(key, `${TMP_DIR}/ is reserved`);
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';
}

function missing(err: unknown, key: string): unknown {
  return isMissing(err) ? new NotFoundError('object', key) : err;
}
