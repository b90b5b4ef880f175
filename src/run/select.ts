/**
 * Which keys a run takes: --include/--exclude globs, --shard i/n, and Firehose's error prefixes.
 * All of it looks at the key relative to the listed prefix (or the path below a local directory).
 */
export interface Selection {
  include: RegExp[];
  exclude: RegExp[];
  shard?: { index: number; count: number };
  /** Leave out objects under Firehose's error prefixes (processing-failed/, …). */
  skipErrorPrefixes: boolean;
}

export type Verdict = 'take' | 'filtered' | 'error-prefix' | 'other-shard';

/**
 * Globs as `aws s3 cp --include` reads them: `*` matches any run of characters, `/` included;
 * `?` one character; `[abc]`, `[a-z]` and `[!abc]` a class. Everything else is literal.
 */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') source += '.*';
    else if (c === '?') source += '.';
    else if (c === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close < 0) {
        source += '\\[';
        continue;
      }
      let body = glob.slice(i + 1, close);
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      source += `[${body.replace(/\\/g, '\\\\')}]`;
      i = close;
    } else source += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}

/**
 * The shard of a key: FNV-1a (32-bit) over its UTF-8 bytes, then murmur3's fmix32 finaliser, then
 * `% count`. Stable across machines, runs and Node versions. FNV-1a alone cannot be used with
 * `% count`: its low bits depend only on the low bits of each byte, so with a power-of-two count,
 * keys that differ only in higher bits (`obj-a0`, `obj-a4`, `obj-e8`, …) all land in one shard.
 * The finaliser lets every input bit reach the low bits.
 */
export function shardOf(key: string, count: number): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(key, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) % count;
}

/** Firehose writes failed records under `processing-failed/`, `format-conversion-failed/`, …: never flow logs to convert. */
const ERROR_SEGMENT = /(^|\/)[A-Za-z]+(-[A-Za-z]+)*-failed\//;

export function isErrorPrefix(relativeKey: string): boolean {
  return ERROR_SEGMENT.test(relativeKey);
}

export function select(relativeKey: string, selection: Selection): Verdict {
  if (selection.skipErrorPrefixes && isErrorPrefix(relativeKey)) return 'error-prefix';
  if (selection.include.length > 0 && !selection.include.some((re) => re.test(relativeKey)))
    return 'filtered';
  if (selection.exclude.some((re) => re.test(relativeKey))) return 'filtered';
  if (selection.shard && shardOf(relativeKey, selection.shard.count) !== selection.shard.index)
    return 'other-shard';
  return 'take';
}

export function parseShard(value: string): { index: number; count: number } | undefined {
  const match = /^(\d+)\/(\d+)$/.exec(value.trim());
  if (!match) return undefined;
  const index = Number(match[1]);
  const count = Number(match[2]);
  return count >= 1 && index < count ? { index, count } : undefined;
}
