import { availableParallelism } from 'node:os';
import {
  DEFAULT_MAX_RECORD_BYTES,
  DEFAULT_PAYLOAD_PARSER,
  PAYLOAD_PARSERS,
  type PayloadParser,
} from '../core/converter.js';
import { UsageError } from '../core/errors.js';
import { parseLogFormat } from '../core/log-format.js';
import { DEFAULT_S3_TIMEOUT_MS, isS3Url, parseS3Url } from '../io/s3-url.js';
import { globToRegExp, parseShard, type Selection } from '../run/select.js';

/** Everything a run needs, validated once at the edge; defaults are applied here and nowhere else. */
export interface Config {
  inputs: string[];
  /** A directory, `s3://bucket/prefix/`, or `-` for standard output. */
  to: string;
  workers: number;
  /** Heap cap per worker thread, MB: an object that needs more fails alone (WORKER_CRASHED). */
  workerHeapMb: number;
  logFormat?: string;
  gzipLevel: number;
  parallelGzip: number;
  gzipStrategy: 'filtered' | 'default';
  chunkSize: number;
  maxRecordBytes: number;
  payloadParser: PayloadParser;
  manifest?: string;
  /** Where rejects go in stdout mode (elsewhere they sit beside each output). */
  rejects?: string;
  quiet: boolean;
  selection: Selection;
  startAfter?: string;
  dryRun: boolean;
  overwrite: boolean;
  retries: number;
  /** Seconds in-flight objects get to finish after the first Ctrl-C. */
  graceSeconds: number;
  s3: {
    endpoint?: string;
    forcePathStyle: boolean;
    maxAttempts: number;
    partSize: number;
    queueSize: number;
    /** Per-request S3 timeout (connect, answer, idle connection, stalled body), ms. */
    timeoutMs: number;
  };
}

export interface RawConvertOptions {
  inputs: string[];
  to?: string;
  workers?: number;
  workerHeapMb?: number;
  logFormat?: string;
  gzipLevel?: number;
  gzip?: boolean;
  parallelGzip?: number;
  gzipStrategy?: string;
  chunkSize?: string | number;
  maxRecordSize?: string | number;
  parser?: string;
  manifest?: string;
  rejects?: string;
  quiet?: boolean;
  include?: string[];
  exclude?: string[];
  shard?: string;
  startAfter?: string;
  dryRun?: boolean;
  overwrite?: boolean;
  convertErrorPrefixes?: boolean;
  retries?: number;
  maxAttempts?: number;
  endpointUrl?: string;
  forcePathStyle?: boolean;
  partSize?: string | number;
  uploadQueue?: number;
  grace?: number;
  /** Seconds; see S3Settings.timeoutMs. */
  s3Timeout?: number;
}

/** 1 MiB: the pipeline suite's chunk sweep (bench/RESULTS.md) found it ~20% cheaper in CPU than 64 KiB. */
export const DEFAULT_CHUNK_SIZE = 1024 * 1024;
export const DEFAULT_GZIP_LEVEL = 6;

export function defaultWorkers(): number {
  return availableParallelism();
}

export function createConfig(raw: RawConvertOptions): Config {
  if (!raw.inputs || raw.inputs.length === 0)
    throw new UsageError('convert needs at least one input (a file, a directory, or - for stdin)');
  if (raw.to === undefined || raw.to === '')
    throw new UsageError('--to is required: a directory, or - for standard output');
  const to = raw.to;
  const workers = raw.workers ?? defaultWorkers();
  if (!Number.isInteger(workers) || workers < 1 || workers > 1024) {
    throw new UsageError(`--workers must be a whole number from 1 to 1024, got ${raw.workers}`);
  }
  const gzipLevel = raw.gzip === false ? 0 : (raw.gzipLevel ?? DEFAULT_GZIP_LEVEL);
  if (!Number.isInteger(gzipLevel) || gzipLevel < 0 || gzipLevel > 9) {
    throw new UsageError(`--gzip-level must be a whole number from 0 to 9, got ${raw.gzipLevel}`);
  }
  const chunkSize = parseSize('--chunk-size', raw.chunkSize ?? DEFAULT_CHUNK_SIZE, 1024, 64 * 1024 * 1024);
  const maxRecordBytes = parseSize(
    '--max-record-size',
    raw.maxRecordSize ?? DEFAULT_MAX_RECORD_BYTES,
    1024,
    1024 ** 3,
  );
  if (raw.logFormat !== undefined) parseLogFormat(raw.logFormat); // throws UsageError naming the bad part
  const stdinCount = raw.inputs.filter((input) => input === '-').length;
  if (stdinCount > 1) throw new UsageError('- (stdin) can be given only once');
  if (to === '-' && raw.inputs.length !== 1) {
    throw new UsageError(
      `--to - (stdout) takes exactly one input, got ${raw.inputs.length}: ${raw.inputs.join(' ')}`,
    );
  }
  if (stdinCount === 1 && to !== '-') throw new UsageError('- (stdin) converts only to --to - (stdout)');
  if (raw.rejects !== undefined && to !== '-') {
    throw new UsageError(
      '--rejects is for stdout mode; with --to DIR, rejects are written beside each output',
    );
  }
  for (const location of [...raw.inputs, to]) {
    if (isS3Url(location) && !parseS3Url(location))
      throw new UsageError(`${location} is not an S3 URL of the form s3://bucket/prefix`);
  }
  let shard: Selection['shard'];
  if (raw.shard !== undefined) {
    shard = parseShard(raw.shard);
    if (!shard) throw new UsageError(`--shard must be i/n with 0 <= i < n, such as 0/4, got "${raw.shard}"`);
  }
  const retries = raw.retries ?? 2;
  if (!Number.isInteger(retries) || retries < 0 || retries > 20)
    throw new UsageError(`--retries must be a whole number from 0 to 20, got ${raw.retries}`);
  const maxAttempts = raw.maxAttempts ?? 6;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 50) {
    throw new UsageError(`--max-attempts must be a whole number from 1 to 50, got ${raw.maxAttempts}`);
  }
  const queueSize = raw.uploadQueue ?? 4;
  if (!Number.isInteger(queueSize) || queueSize < 1 || queueSize > 64) {
    throw new UsageError(`--upload-queue must be a whole number from 1 to 64, got ${raw.uploadQueue}`);
  }
  const s3TimeoutSeconds = raw.s3Timeout ?? DEFAULT_S3_TIMEOUT_MS / 1000;
  if (!(s3TimeoutSeconds >= 0.1 && s3TimeoutSeconds <= 3600)) {
    throw new UsageError(`--s3-timeout must be a number of seconds from 0.1 to 3600, got ${raw.s3Timeout}`);
  }
  const graceSeconds = raw.grace ?? 30;
  if (!(graceSeconds >= 0))
    throw new UsageError(`--grace must be a number of seconds >= 0, got ${raw.grace}`);
  const workerHeapMb = raw.workerHeapMb ?? 1024;
  if (!Number.isInteger(workerHeapMb) || workerHeapMb < 8 || workerHeapMb > 65536) {
    throw new UsageError(`--worker-heap-mb must be a whole number from 8 to 65536, got ${raw.workerHeapMb}`);
  }
  const parallelGzip = raw.parallelGzip ?? 0;
  if (!Number.isInteger(parallelGzip) || parallelGzip < 0 || parallelGzip > 256) {
    throw new UsageError(`--parallel-gzip must be a whole number from 0 to 256, got ${raw.parallelGzip}`);
  }
  const gzipStrategy = raw.gzipStrategy ?? 'filtered';
  if (gzipStrategy !== 'filtered' && gzipStrategy !== 'default') {
    throw new UsageError(`--gzip-strategy must be filtered or default, got "${raw.gzipStrategy}"`);
  }
  const payloadParser = (raw.parser ?? DEFAULT_PAYLOAD_PARSER) as PayloadParser;
  if (!PAYLOAD_PARSERS.includes(payloadParser)) {
    throw new UsageError(`--parser must be one of ${PAYLOAD_PARSERS.join(', ')}, got "${raw.parser}"`);
  }
  const endpoint =
    raw.endpointUrl ?? (process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL || undefined);
  if (endpoint !== undefined && !/^https?:\/\/[^/]/.test(endpoint)) {
    throw new UsageError(`--endpoint-url must be an http(s) URL, got "${endpoint}"`);
  }
  return {
    inputs: raw.inputs,
    to,
    workers,
    workerHeapMb,
    logFormat: raw.logFormat,
    gzipLevel,
    parallelGzip,
    gzipStrategy,
    chunkSize,
    maxRecordBytes,
    payloadParser,
    manifest: raw.manifest,
    rejects: raw.rejects,
    quiet: raw.quiet ?? false,
    selection: {
      include: (raw.include ?? []).map(globToRegExp),
      exclude: (raw.exclude ?? []).map(globToRegExp),
      shard,
      skipErrorPrefixes: !(raw.convertErrorPrefixes ?? false),
    },
    startAfter: raw.startAfter,
    dryRun: raw.dryRun ?? false,
    overwrite: raw.overwrite ?? false,
    retries,
    graceSeconds,
    s3: {
      endpoint,
      // Custom endpoints (MinIO, s3rver, Ceph) usually want path-style addressing.
      forcePathStyle: raw.forcePathStyle ?? endpoint !== undefined,
      maxAttempts,
      partSize: parseSize('--part-size', raw.partSize ?? '8m', 5 * 1024 * 1024, 5 * 1024 ** 3),
      queueSize,
      timeoutMs: Math.round(s3TimeoutSeconds * 1000),
    },
  };
}

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
export function parseSize(option: string, value: string | number, min: number, max: number): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(String(value));
  const unit = match ? UNITS[match[2]!.toLowerCase()] : undefined;
  if (!match || unit === undefined)
    throw new UsageError(`${option} must be a size such as 65536, 64k or 1m, got "${value}"`);
  const bytes = Math.round(Number(match[1]) * unit);
  if (bytes < min || bytes > max)
    throw new UsageError(`${option} must be between ${min} and ${max} bytes, got "${value}"`);
  return bytes;
}
