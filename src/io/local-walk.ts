import { opendir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { toPosix } from './paths.js';

export interface LocalFile {
  path: string;
  /** Path below the walked root, `/`-separated. */
  relative: string;
}

/**
 * Depth-first walk in sorted order (so runs are repeatable); memory holds the listings of the
 * directories on the current path only. Hidden entries (a leading dot: editor files, our own
 * temporaries), symbolic links, and `skip` (the output directory, when it sits inside the input)
 * are left out.
 */
export async function* walkFiles(root: string, skip?: string): AsyncGenerator<LocalFile> {
  const skipAbs = skip ? resolve(skip) : undefined;
  async function* walk(dir: string, prefix: string): AsyncGenerator<LocalFile> {
    const entries = [];
    for await (const entry of await opendir(dir)) entries.push(entry);
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (resolve(path) === skipAbs) continue;
        yield* walk(path, relative);
      } else if (entry.isFile()) {
        yield { path, relative: toPosix(relative) };
      }
    }
  }
  yield* walk(root, '');
}
