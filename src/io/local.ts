import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, utimes } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { ObjectSink } from './sink.js';

export function openLocalSource(path: string, chunkSize: number): Readable {
  return createReadStream(path, { highWaterMark: chunkSize });
}

/**
 * Writes to a hidden temporary file beside the target and renames it into place on commit, so a
 * reader (or a resumed run) never sees half a file. The dot prefix also keeps Athena and Hive
 * from reading an unfinished file.
 */
export async function openLocalSink(path: string, mtimeMs?: number): Promise<ObjectSink> {
  await mkdir(dirname(path), { recursive: true });
  const temp = tempPathFor(path);
  const stream = createWriteStream(temp);
  return {
    stream,
    async commit() {
      if (!stream.writableFinished) await finished(stream);
      // The output's mtime records the source's, so a rerun can tell it is up to date.
      if (mtimeMs !== undefined) await utimes(temp, new Date(), new Date(mtimeMs));
      await rename(temp, path);
    },
    async abort() {
      // Wait for the file to be closed: an open still under way would otherwise create the
      // temporary file again after it was removed.
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
 * The temporary name is fixed per output, not random: when a worker dies mid-write, the main
 * thread knows which file to remove, and a leftover from a killed process is simply overwritten
 * by the next run. The dispatcher makes sure no two tasks of a run share an output.
 */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.flowhose-tmp`);
}

/** Whether an fs error came from a temporary file of ours (a write) or from elsewhere (a read). */
export function isTempPath(path: unknown): boolean {
  return typeof path === 'string' && basename(path).startsWith('.') && path.endsWith('.flowhose-tmp');
}
