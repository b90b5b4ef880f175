import { isAbsolute, join, posix, relative, resolve, sep } from 'node:path';

/**
 * Joins a relative path (a local walk's path, or an S3 key below a prefix) under root, refusing
 * anything that would land outside it: absolute paths, `..` segments, empty names.
 * Returns undefined for an unsafe path.
 */
export function safeJoin(root: string, relativePath: string): string | undefined {
  if (
    relativePath === '' ||
    relativePath.endsWith('/') ||
    isAbsolute(relativePath) ||
    relativePath.includes('\0')
  ) {
    return undefined;
  }
  const segments = relativePath.split(/[\\/]/);
  if (segments.some((s) => s === '..' || s === '.' || s === '')) return undefined;
  const rootAbs = resolve(root);
  const joined = resolve(rootAbs, relativePath);
  const rel = relative(rootAbs, joined);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return undefined;
  return join(root, relativePath);
}

/** Joins S3 key parts the way S3 sees them: `/`-separated, no leading slash. */
export function joinKey(prefix: string, rest: string): string {
  if (prefix === '') return rest;
  return prefix.endsWith('/') ? prefix + rest : `${prefix}/${rest}`;
}

export const toPosix = (path: string): string => path.split(sep).join(posix.sep);
