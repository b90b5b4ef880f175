import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, utimes } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { threadId } from 'node:worker_threads';
import type { ObjectSink } from './sink.js';

export function openLocalSource(path: string, chunkSize: number): Readable {
  return createReadStream(path, { highWaterMark: chunkSize });
}

/**
 * Writes to a hidden temporary file beside the target and renames it into place on commit, so a
 * reader (or a resumed run) never sees half a file; the dot prefix also keeps Athena and Hive from
 * reading an unfinished file. The temporary name is unique and opened exclusively, so two runs
 * into one directory may duplicate work but never write into one file: the rename is the commit.
 */
export async function openLocalSink(path: string, mtimeMs?: number): Promise<ObjectSink> {
  await mkdir(dirname(path), { recursive: true });
  const temp = tempPathFor(path);
  const stream = createWriteStream(temp, { flags: 'wx' });
  await once(stream, 'open');
  return {
    stream,
    async commit() {
      if (!stream.writableFinished) await finished(stream);
      // The output's mtime records the source's, so the output shows which version it was made from.
      if (mtimeMs !== undefined) await utimes(temp, new Date(), new Date(mtimeMs));
      await rename(temp, path);
    },
    async abort() {
      if (!stream.closed) {
        const closed = once(stream, 'close').catch(() => {});
        stream.destroy();
        await closed;
      }
      await rm(temp, { force: true });
    },
  };
}

/**
 * `.<name>.<pid>-<threadId>-<8 hex>.flowhose-tmp` beside the target: unique per writer, and the pid
 * lets the main thread find and remove what a dead worker thread of its own process left.
 */
export function tempPathFor(path: string): string {
  const unique = `${process.pid}-${threadId}-${randomBytes(4).toString('hex')}`;
  return join(dirname(path), `.${basename(path)}.${unique}.flowhose-tmp`);
}

const TEMP_TAIL = /^(\d+)-\d+-[0-9a-f]{8}\.flowhose-tmp$/;

/** Removes the temporary files this process (any of its threads) left for `path`; returns how many. */
export async function removeOwnTemps(path: string, pid = process.pid): Promise<number> {
  const head = `.${basename(path)}.`;
  const names = await readdir(dirname(path)).catch(() => [] as string[]);
  const ours = names.filter((name) => {
    if (!name.startsWith(head)) return false;
    return TEMP_TAIL.exec(name.slice(head.length))?.[1] === String(pid);
  });
  await Promise.all(ours.map((name) => rm(join(dirname(path), name), { force: true })));
  return ours.length;
}
