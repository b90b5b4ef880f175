/**
 * Checks for the option table: each turns what was given (CLI text, or a library value) into the
 * option's value or throws a UsageError that names the option as the caller spelled it and echoes
 * the bad value.
 */
import { type FlowFormat, parseLogFormat } from '../core/log-format.js';
import { globToRegExp, parseShard, type Selection } from '../run/select.js';
import { UsageError } from './usage-error.js';

export type Parse<T> = (value: unknown, name: string) => T;

/** A bad value as typed; quoted when it is empty or holds spaces, so it cannot be misread. */
export function shown(value: unknown): string {
  const text = String(value);
  return text === '' || /\s/.test(text) ? JSON.stringify(text) : text;
}

/** yargs collects a value option given twice into an array. */
export function once(value: unknown, name: string): unknown {
  if (Array.isArray(value))
    throw new UsageError(`${name} was given ${value.length} times (${value.join(', ')}); give it once`);
  return value;
}

function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  return typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
}

export const whole =
  (min: number, max: number): Parse<number> =>
  (value, name) => {
    const n = toNumber(once(value, name));
    if (!Number.isInteger(n) || n < min || n > max)
      throw new UsageError(`${name} must be a whole number from ${min} to ${max}, got ${shown(value)}`);
    return n;
  };

/** setTimeout takes at most 2^31 - 1 ms; a longer timer fires at once. */
const MAX_SECONDS = 2_147_483;

export const seconds: Parse<number> = (value, name) => {
  const n = toNumber(once(value, name));
  if (!(n >= 0 && n <= MAX_SECONDS))
    throw new UsageError(`${name} must be a number of seconds from 0 to ${MAX_SECONDS}, got ${shown(value)}`);
  return n;
};

export const secondsFrom =
  (min: number, max: number): Parse<number> =>
  (value, name) => {
    const n = toNumber(once(value, name));
    if (!(n >= min && n <= max))
      throw new UsageError(`${name} must be a number of seconds from ${min} to ${max}, got ${shown(value)}`);
    return n;
  };

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

/** `65536`, `64k`, `64KiB`, `1m`: sizes in bytes, binary units. */
export const size =
  (min: number, max: number): Parse<number> =>
  (value, name) => {
    const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(String(once(value, name)));
    const unit = match ? UNITS[match[2]!.toLowerCase()] : undefined;
    if (!match || unit === undefined)
      throw new UsageError(`${name} must be a size such as 65536, 64k or 1m, got "${value}"`);
    const bytes = Math.round(Number(match[1]) * unit);
    if (bytes < min || bytes > max)
      throw new UsageError(`${name} must be between ${min} and ${max} bytes, got "${value}"`);
    return bytes;
  };

/** The shortest spelling of a size that `size` reads back: 1048576 → 1m. */
export function formatSize(bytes: number): string {
  for (const [unit, factor] of [
    ['g', 1024 ** 3],
    ['m', 1024 ** 2],
    ['k', 1024],
  ] as const) {
    if (bytes >= factor && bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return String(bytes);
}

export function oneOf<const V extends string>(choices: readonly V[]): Parse<V> {
  const list = choices.length === 2 ? `${choices[0]} or ${choices[1]}` : `one of ${choices.join(', ')}`;
  return (value, name) => {
    once(value, name);
    if (!choices.includes(value as V)) throw new UsageError(`${name} must be ${list}, got "${value}"`);
    return value as V;
  };
}

export const text: Parse<string> = (value, name) => {
  if (typeof once(value, name) !== 'string')
    throw new UsageError(`${name} must be text, got ${shown(value)}`);
  return value as string;
};

export const TO_REQUIRED = '--to is required: a directory, or - for standard output';

export const destination: Parse<string> = (value, name) => {
  const to = text(value, name);
  if (to === '') throw new UsageError(TO_REQUIRED);
  return to;
};

export const yesNo: Parse<boolean> = (value, name) => {
  if (typeof value !== 'boolean') throw new UsageError(`${name} must be true or false, got ${shown(value)}`);
  return value;
};

export const globs: Parse<RegExp[]> = (value, name) =>
  (Array.isArray(value) ? value : [value]).map((glob) => globToRegExp(text(glob, name)));

export const shard: Parse<NonNullable<Selection['shard']>> = (value, name) => {
  const parsed = parseShard(String(once(value, name)));
  if (!parsed) throw new UsageError(`${name} must be i/n with 0 <= i < n, such as 0/4, got "${value}"`);
  return parsed;
};

/**
 * `--shard auto` in a child of an AWS Batch array job: the shard is the child's AWS_BATCH_JOB_ARRAY_INDEX
 * (0-based) of AWS_BATCH_JOB_ARRAY_SIZE, both set by Batch. Anywhere else it is a usage error, never a
 * silent whole run (n boxes would each convert everything).
 */
export function autoShard(env: Record<string, string | undefined>, name = '--shard'): string {
  const index = env.AWS_BATCH_JOB_ARRAY_INDEX;
  const size = env.AWS_BATCH_JOB_ARRAY_SIZE;
  const missing = ['AWS_BATCH_JOB_ARRAY_INDEX', 'AWS_BATCH_JOB_ARRAY_SIZE'].filter((v) => !env[v]);
  if (missing.length > 0) {
    throw new UsageError(
      `${name} auto takes the shard from AWS Batch's AWS_BATCH_JOB_ARRAY_INDEX and AWS_BATCH_JOB_ARRAY_SIZE, and ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not set: run it as a child of an array job, or give ${name} i/n`,
    );
  }
  const shard = parseShard(`${index}/${size}`);
  if (!shard || !/^\d+$/.test(String(index).trim()) || !/^\d+$/.test(String(size).trim()))
    throw new UsageError(
      `${name} auto: AWS_BATCH_JOB_ARRAY_INDEX ${shown(index)} of AWS_BATCH_JOB_ARRAY_SIZE ${shown(size)} is not an index below a size`,
    );
  return `${shard.index}/${shard.count}`;
}

export const httpUrl: Parse<string> = (value, name) => {
  const url = text(value, name);
  if (!/^https?:\/\/[^/]/.test(url)) throw new UsageError(`${name} must be an http(s) URL, got "${url}"`);
  return url;
};

/**
 * A --log-format spec parsed, any error of the parser reported as a usage error naming the option
 * (the core's messages need not know the CLI's spelling).
 */
export function readLogFormat(spec: string, name = '--log-format'): FlowFormat {
  try {
    return parseLogFormat(spec);
  } catch (error) {
    // The core says "log format: …"; the CLI names the flag the value came from.
    const message = error instanceof Error ? error.message : String(error);
    const named = message.startsWith('log format: ')
      ? `${name}: ${message.slice('log format: '.length)}`
      : message.startsWith('log format ')
        ? `${name} ${message.slice('log format '.length)}`
        : `${name}: ${message}`;
    throw new UsageError(named);
  }
}

export const logFormatSpec: Parse<string> = (value, name) => {
  readLogFormat(text(value, name), name);
  return value as string; // the worker parses the spec again: a FlowFormat is cheap to rebuild
};
