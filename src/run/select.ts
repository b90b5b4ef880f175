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

/** FNV-1a over the key's UTF-8 bytes: stable across machines, runs and Node versions. */
export function shardOf(key: string, count: number): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(key, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % count;
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
