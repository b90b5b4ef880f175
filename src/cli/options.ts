/**
 * The one table of `convert` options: each is declared here once, with its flag, alias, kind,
 * layer, default, validation and help. yargs (main.ts), the validated run Config (config.ts), the
 * worker's ConvertOptions and the library factory createConvertOptions all derive from it, so a
 * library caller (a Lambda handler, a benchmark) gets exactly the CLI's defaults. No yargs here:
 * a handler can import this without the command line.
 */
import { availableParallelism } from 'node:os';
import { DEFAULT_MAX_RECORD_BYTES, DEFAULT_PAYLOAD_PARSER, PAYLOAD_PARSERS } from '../core/converter.js';
import { PARTITION_BYS } from '../core/partition.js';
import { DEFAULT_S3_TIMEOUT_SECONDS, type S3Settings } from '../io/s3-url.js';
import type { ConvertOptions } from '../object/task.js';
import { type Compression, zstdUnavailable } from '../streams/codecs.js';
import {
  compressionProblem,
  FORMAT_COMPRESSIONS,
  ROW_FORMAT_NAMES,
  ROW_FORMATS,
  type RowFormatName,
} from '../streams/row-formats.js';
import { UsageError } from './usage-error.js';
import {
  destination,
  formatSize,
  globs,
  httpUrl,
  logFormatSpec,
  oneOf,
  seconds,
  secondsFrom,
  shard,
  shown,
  size,
  TO_REQUIRED,
  text,
  whole,
  yesNo,
} from './validate.js';

/**
 * Where a value goes: `task` a field of ConvertOptions (per object, sent to the worker), `s3` a
 * field of its S3 settings, `select` the run's key selection, `run` the run's Config.
 */
export type OptionLayer = 'task' | 's3' | 'select' | 'run';
/** How the command line carries it: text, a number, a size (`64k`), a switch (with a `--no-` form), a list. */
export type OptionKind = 'string' | 'number' | 'size' | 'boolean' | 'list';

export interface DefaultContext {
  env: Record<string, string | undefined>;
  /** The options declared above this one, already parsed. */
  values: Record<string, unknown>;
}

export interface OptionSpec<
  T = unknown,
  L extends OptionLayer = OptionLayer,
  F extends string = string,
  K extends OptionKind = OptionKind,
> {
  flag: F;
  alias?: string;
  kind: K;
  layer: L;
  describe: string;
  /** Used when the option is not given: a value, or computed from the environment and earlier options. */
  default?: T | ((context: DefaultContext) => T);
  /** How the default reads in --help, when it is computed or String(default) would not do. */
  defaultHelp?: string;
  /** Checks what was given (CLI text, or a library value) and returns the value; `name` is how the caller spelled the option. */
  parse(value: unknown, name: string): T;
}

type Default<T> = NoInfer<T> | ((context: DefaultContext) => NoInfer<T>);

function option<T, L extends OptionLayer, F extends string, K extends OptionKind>(
  spec: Omit<OptionSpec<T, L, F, K>, 'default'> & { default: Default<T> },
): OptionSpec<T, L, F, K> {
  return spec;
}

/** An option whose value may stay undefined (no default, or a default that may find nothing). */
function optional<T, L extends OptionLayer, F extends string, K extends OptionKind>(
  spec: Omit<OptionSpec<T, L, F, K>, 'default'> & {
    default?: (context: DefaultContext) => NoInfer<T> | undefined;
  },
): OptionSpec<T | undefined, L, F, K> {
  return spec;
}

const GZIP_STRATEGIES = ['filtered', 'default'] as const;
export const LAYOUTS = ['mirror', 'aws'] as const;

/**
 * A Firehose object spans a few hours of flow time (late records a few more); 24 open partitions bound
 * one object's memory to about 24 encoder buffers and codecs (and, to S3, 24 uploads' parts).
 */
export const DEFAULT_MAX_PARTITIONS = 24;

/** An AWS region name as it appears in `aws-region=…`: lower case, digits and hyphens. */
const regionLabel = (value: unknown, name: string): string => {
  const label = text(value, name);
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(label))
    throw new UsageError(`${name} must be a region name such as us-east-1, got ${shown(label)}`);
  return label;
};

/** `"gzip" for csv and ndjson`: each format's default compression, for --help. */
function defaultCompressions(): string {
  const byDefault = new Map<Compression, string[]>();
  for (const name of ROW_FORMAT_NAMES) {
    const compression = ROW_FORMATS[name].defaultCompression;
    byDefault.set(compression, [...(byDefault.get(compression) ?? []), name]);
  }
  return [...byDefault]
    .map(([compression, names]) => `"${compression}" for ${names.join(' and ')}`)
    .join(', ');
}

/**
 * From the pipeline suite's zstd level sweep (bench/RESULTS.md): on flow-log CSV level 1 costs a sixth
 * to a quarter of gzip-6's CPU for 3.8% more bytes, and levels 2–5 (zstd's own default, 3, among them)
 * are both larger and slower than 1. `--zstd-level 7` is the fastest level no larger than gzip-6.
 */
export const DEFAULT_ZSTD_LEVEL = 1;

/** 1 MiB: the pipeline suite's chunk sweep (bench/RESULTS.md) found it ~20% cheaper in CPU than 64 KiB. */
export const DEFAULT_CHUNK_SIZE = 1024 * 1024;

/**
 * In --help order. A key is the field's name in the Config (`run`), ConvertOptions (`task`) or its
 * S3Settings (`s3`). Adding an option: an entry here, then its use site; a `task` or `s3` option
 * also needs its field in ConvertOptions / S3Settings (TableCovers* below fail to compile until then).
 */
export const OPTIONS = {
  to: option({
    flag: 'to',
    alias: 'o',
    kind: 'string',
    layer: 'run',
    describe: 'Output directory, s3://bucket/prefix/, or - for stdout',
    default: () => {
      throw new UsageError(TO_REQUIRED);
    },
    parse: destination,
  }),
  workers: option({
    flag: 'workers',
    alias: 'w',
    kind: 'number',
    layer: 'run',
    describe: 'Worker threads',
    default: () => availableParallelism(),
    defaultHelp: 'one per CPU',
    parse: whole(1, 1024),
  }),
  workerHeapMb: option({
    flag: 'worker-heap-mb',
    kind: 'number',
    layer: 'run',
    describe: 'Heap cap per worker; an object that needs more fails alone',
    default: 1024,
    parse: whole(8, 65536),
  }),
  logFormat: optional({
    flag: 'log-format',
    kind: 'string',
    layer: 'task',
    describe: 'Flow log format: "${version} ${account-id} …" or bare names; default: the 14 version-2 fields',
    parse: logFormatSpec,
  }),
  // Above the compression options: the default compression and the compressions allowed are its.
  outputFormat: option({
    flag: 'output-format',
    kind: 'string',
    layer: 'task',
    describe: `Output rows: ${ROW_FORMAT_NAMES.map((name) => ROW_FORMATS[name].describe).join('; ')}`,
    default: 'csv' as RowFormatName,
    parse: oneOf(ROW_FORMAT_NAMES),
  }),
  gzipLevel: option({
    flag: 'gzip-level',
    kind: 'number',
    layer: 'task',
    describe: 'Output gzip level, 0 = uncompressed (plain CSV or NDJSON)',
    default: 6,
    parse: whole(0, 9),
  }),
  gzip: option({
    flag: 'gzip',
    kind: 'boolean',
    layer: 'run',
    describe: 'Gzip the output (--no-gzip writes it uncompressed)',
    default: true,
    parse: yesNo,
  }),
  gzipStrategy: option({
    flag: 'gzip-strategy',
    kind: 'string',
    layer: 'task',
    describe: 'zlib strategy: filtered (about 3% smaller CSV at the same cost) or default',
    default: 'filtered',
    parse: oneOf(GZIP_STRATEGIES),
  }),
  parallelGzip: option({
    flag: 'parallel-gzip',
    kind: 'number',
    layer: 'task',
    describe: 'Gzip as independent 1 MiB members, N at once (pigz-style; multi-member output)',
    default: 0,
    parse: whole(0, 256),
  }),
  // Below the gzip options: its default follows them (--no-gzip and --gzip-level 0 still mean none).
  compression: option({
    flag: 'compression',
    kind: 'string',
    layer: 'task',
    describe:
      'Output compression: gzip (.gz), zstd (.zst; Node 22.15+ or 23.8+), snappy (Parquet only) or none, as the output format takes them (Parquet: inside its file)',
    default: ({ values }): Compression =>
      values.gzipLevel === 0 || values.gzip === false
        ? 'none'
        : ROW_FORMATS[values.outputFormat as RowFormatName].defaultCompression,
    defaultHelp: `${defaultCompressions()}; "none" with --no-gzip or --gzip-level 0`,
    parse: oneOf(FORMAT_COMPRESSIONS),
  }),
  zstdLevel: option({
    flag: 'zstd-level',
    kind: 'number',
    layer: 'task',
    describe: 'zstd level with --compression zstd: 1 (fastest) to 19 (smallest)',
    default: DEFAULT_ZSTD_LEVEL,
    parse: whole(1, 19),
  }),
  chunkSize: option({
    flag: 'chunk-size',
    kind: 'size',
    layer: 'task',
    describe: 'Read and zlib chunk size (65536, 64k, 1m)',
    default: DEFAULT_CHUNK_SIZE,
    parse: size(1024, 64 * 1024 * 1024),
  }),
  maxRecordBytes: option({
    flag: 'max-record-size',
    kind: 'size',
    layer: 'task',
    describe: 'Largest JSON payload or line accepted',
    default: DEFAULT_MAX_RECORD_BYTES,
    parse: size(1024, 1024 ** 3),
  }),
  payloadParser: option({
    flag: 'parser',
    kind: 'string',
    layer: 'task',
    describe:
      'How JSON payloads are read: wasm (WebAssembly fast path, scanner for the rest), scanner (TypeScript) or json (JSON.parse); same output',
    default: DEFAULT_PAYLOAD_PARSER,
    parse: oneOf(PAYLOAD_PARSERS),
  }),
  partition: option({
    flag: 'partition',
    kind: 'string',
    layer: 'run',
    describe:
      'Partition the output by flow time: hour or day (year=…/month=…/day=…[/hour=…]/<source>.csv.gz), or none (mirror the source)',
    default: 'none',
    parse: oneOf(PARTITION_BYS),
  }),
  layout: option({
    flag: 'layout',
    kind: 'string',
    layer: 'run',
    describe:
      "Output tree: mirror (the source's names, or --partition) or aws (AWS's native flow-log tree AWSLogs/aws-account-id=…/aws-service=vpcflowlogs/aws-region=…/year=…/hour=…/; by hour)",
    default: 'mirror',
    parse: oneOf(LAYOUTS),
  }),
  awsRegionLabel: optional({
    flag: 'aws-region-label',
    kind: 'string',
    layer: 'run',
    describe: 'With --layout aws: the region of records whose format has no region field (aws-region=…)',
    parse: regionLabel,
  }),
  maxPartitions: option({
    flag: 'max-partitions',
    kind: 'number',
    layer: 'task',
    describe:
      'Partitions one object may write (each holds an encoder, a codec and an upload open); past it the object fails',
    default: DEFAULT_MAX_PARTITIONS,
    parse: whole(1, 10_000),
  }),
  manifest: optional({
    flag: 'manifest',
    kind: 'string',
    layer: 'run',
    describe: 'Append one JSON line per finished object to FILE',
    parse: text,
  }),
  rejects: optional({
    flag: 'rejects',
    kind: 'string',
    layer: 'run',
    describe: 'With --to -: keep rejected records in FILE',
    parse: text,
  }),
  // Read by bin/flowhose.cjs before any module loads (libuv sizes its pool once); keep its range in step.
  zlibThreads: optional({
    flag: 'zlib-threads',
    kind: 'number',
    layer: 'run',
    describe: 'libuv thread-pool size (default 2 × workers + 2)',
    parse: whole(1, 1024),
  }),
  quiet: option({
    flag: 'quiet',
    alias: 'q',
    kind: 'boolean',
    layer: 'run',
    describe: 'No progress; only errors and the summary',
    default: false,
    parse: yesNo,
  }),
  include: option({
    flag: 'include',
    kind: 'list',
    layer: 'select',
    describe: 'Only keys (relative to the input prefix) matching these globs',
    default: [],
    parse: globs,
  }),
  exclude: option({
    flag: 'exclude',
    kind: 'list',
    layer: 'select',
    describe: 'Leave out keys matching these globs',
    default: [],
    parse: globs,
  }),
  startAfter: optional({
    flag: 'start-after',
    kind: 'string',
    layer: 'run',
    describe: 'Start listing after this key (relative or full)',
    parse: text,
  }),
  shard: optional({
    flag: 'shard',
    kind: 'string',
    layer: 'select',
    describe:
      "i/n: take only the keys whose stable hash falls in shard i of n; auto: the AWS Batch array job child's (AWS_BATCH_JOB_ARRAY_INDEX/AWS_BATCH_JOB_ARRAY_SIZE)",
    parse: shard,
  }),
  dryRun: option({
    flag: 'dry-run',
    kind: 'boolean',
    layer: 'run',
    describe: 'List what would be converted and where; write nothing',
    default: false,
    parse: yesNo,
  }),
  overwrite: option({
    flag: 'overwrite',
    kind: 'boolean',
    layer: 'task',
    describe: 'Convert even outputs that are up to date',
    default: false,
    parse: yesNo,
  }),
  convertErrorPrefixes: option({
    flag: 'convert-error-prefixes',
    kind: 'boolean',
    layer: 'select',
    describe: 'Also convert objects under Firehose error prefixes (…-failed/)',
    default: false,
    parse: yesNo,
  }),
  retries: option({
    flag: 'retries',
    kind: 'number',
    layer: 'task',
    describe: 'Whole-object retries after transient failures',
    default: 2,
    parse: whole(0, 20),
  }),
  maxAttempts: option({
    flag: 'max-attempts',
    kind: 'number',
    layer: 's3',
    describe: 'Attempts per S3 request (SDK backoff with jitter)',
    default: 6,
    parse: whole(1, 50),
  }),
  endpoint: optional({
    flag: 'endpoint-url',
    kind: 'string',
    layer: 's3',
    describe: 'S3-compatible endpoint (also AWS_ENDPOINT_URL_S3)',
    default: ({ env }) => {
      const from = env.AWS_ENDPOINT_URL_S3
        ? 'AWS_ENDPOINT_URL_S3'
        : env.AWS_ENDPOINT_URL
          ? 'AWS_ENDPOINT_URL'
          : '';
      return from ? httpUrl(env[from], from) : undefined;
    },
    parse: httpUrl,
  }),
  forcePathStyle: option({
    flag: 'force-path-style',
    kind: 'boolean',
    layer: 's3',
    describe: 'Path-style S3 addressing',
    // Custom endpoints (MinIO, s3rver, Ceph) usually want path-style addressing.
    default: ({ values }) => values.endpoint !== undefined,
    defaultHelp: 'on with an endpoint',
    parse: yesNo,
  }),
  partSize: option({
    flag: 'part-size',
    kind: 'size',
    layer: 's3',
    describe: 'Multipart upload part size (>= 5m)',
    default: 8 * 1024 * 1024,
    parse: size(5 * 1024 * 1024, 5 * 1024 ** 3),
  }),
  queueSize: option({
    flag: 'upload-queue',
    kind: 'number',
    layer: 's3',
    describe: 'Parts uploaded at once per object',
    default: 4,
    parse: whole(1, 64),
  }),
  timeoutSeconds: option({
    flag: 's3-timeout',
    kind: 'number',
    layer: 's3',
    describe:
      'Seconds an S3 request may make no progress (connect, answer, stalled transfer) before it is retried',
    default: DEFAULT_S3_TIMEOUT_SECONDS,
    parse: secondsFrom(0.1, 3600),
  }),
  graceSeconds: option({
    flag: 'grace',
    kind: 'number',
    layer: 'run',
    describe: 'Seconds in-flight objects get after Ctrl-C',
    default: 30,
    parse: seconds,
  }),
};

type Table = typeof OPTIONS;
export type OptionKey = keyof Table;
type ValueOf<S> = S extends OptionSpec<infer T, OptionLayer, string, OptionKind> ? T : never;
type KeysOf<L extends OptionLayer> = { [K in OptionKey]: Table[K]['layer'] extends L ? K : never }[OptionKey];
export type LayerValues<L extends OptionLayer> = { [K in KeysOf<L>]: ValueOf<Table[K]> };

/** ConvertOptions without its S3 settings: what the table gives a task. */
export type TaskOptions = LayerValues<'task'>;
/** S3Settings without the region (resolved by the run from the environment or profile). */
export type S3Options = LayerValues<'s3'>;
export type RunOptions = LayerValues<'run'>;

type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never]
  ? true
  : false;
type Assert<T extends true> = T;
/** Compile errors here mean the table and ConvertOptions / S3Settings have drifted apart. */
export type TableCoversConvertOptions = Assert<SameKeys<TaskOptions, Omit<ConvertOptions, 's3'>>>;
export type TableCoversS3Settings = Assert<SameKeys<S3Options & { region: string }, S3Settings>>;

type Camel<S extends string> = S extends `${infer Head}-${infer Tail}`
  ? `${Head}${Capitalize<Camel<Tail>>}`
  : S;
type RawValue<K extends OptionKind> = K extends 'boolean'
  ? boolean
  : K extends 'list'
    ? string[]
    : K extends 'number' | 'size'
      ? number | string
      : string;

/** Options as the command line gives them (yargs' camelCase keys), before validation. */
export type RawConvertOptions = { inputs: string[] } & {
  [K in OptionKey as Camel<Table[K]['flag']>]?: RawValue<Table[K]['kind']>;
};

/** What a library caller may set: any task option, and S3 settings with at least a region. */
export type ConvertOptionsInput = Partial<TaskOptions> & {
  s3?: Partial<S3Options> & { region: string };
};

const SPECS = Object.entries(OPTIONS) as [OptionKey, OptionSpec][];

/** yargs' key for a flag, and RawConvertOptions': max-record-size → maxRecordSize. */
export const rawKey = (flag: string): string => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** The flag that sets a library option (`maxRecordBytes` → `--max-record-size`), if the table has it. */
export function flagFor(key: string): string | undefined {
  return Object.hasOwn(OPTIONS, key) ? `--${OPTIONS[key as OptionKey].flag}` : undefined;
}

/** How a caller spells options: the CLI by flag, the library by key. */
interface Spelling {
  lookup(key: string, spec: OptionSpec): string;
  name(key: string, spec: OptionSpec): string;
}
const CLI: Spelling = { lookup: (_, spec) => rawKey(spec.flag), name: (_, spec) => `--${spec.flag}` };
const library = (prefix = ''): Spelling => ({ lookup: (key) => key, name: (key) => `${prefix}${key}` });

type Layers = { [L in OptionLayer]: LayerValues<L> };

/** The options of the given layers, in table order: parsed when given, else their default. */
function readOptions(
  layers: readonly OptionLayer[],
  given: Record<string, unknown>,
  spelling: Spelling,
  env: Record<string, string | undefined>,
): Layers {
  const context: DefaultContext = { env, values: {} };
  const out: Record<OptionLayer, Record<string, unknown>> = { task: {}, s3: {}, select: {}, run: {} };
  for (const [key, spec] of SPECS) {
    if (!layers.includes(spec.layer)) continue;
    const value = given[spelling.lookup(key, spec)];
    context.values[key] =
      value !== undefined
        ? spec.parse(value, spelling.name(key, spec))
        : typeof spec.default === 'function'
          ? (spec.default as (context: DefaultContext) => unknown)(context)
          : spec.default;
    out[spec.layer][key] = context.values[key];
  }
  checkCompression(
    context.values,
    (key) => given[spelling.lookup(key, OPTIONS[key])] !== undefined,
    (key) => spelling.name(key, OPTIONS[key]),
  );
  return out as unknown as Layers;
}

/**
 * The compression options together, once each is valid. Without --compression everything reads as
 * before it existed; with it, an option of another codec is a usage error rather than ignored (which
 * would leave the user guessing what was written). Last, zstd where node:zlib lacks it.
 */
function checkCompression(
  values: Record<string, unknown>,
  given: (key: OptionKey) => boolean,
  name: (key: OptionKey) => string,
): void {
  const compression = values.compression as Compression | undefined;
  if (compression === undefined) return; // the S3 settings alone
  const chosen = `${name('compression')} ${compression}`;
  const format = ROW_FORMATS[values.outputFormat as RowFormatName];
  // What --no-gzip and --gzip-level 0 make of this format: `plain CSV`, `plain NDJSON`.
  const plain = `plain ${format.name.toUpperCase()}`;
  const problem = compressionProblem(format, compression);
  if (problem) {
    throw new UsageError(`${chosen} conflicts with ${name('outputFormat')} ${format.name}: ${problem}`);
  }
  if (format.compressesInside) {
    // Its compression is inside the file, page by page: the file-codec options have nothing to act on.
    for (const key of ['parallelGzip', 'gzipStrategy'] as const) {
      if (!given(key) || (key === 'parallelGzip' && (values.parallelGzip as number) <= 1)) continue;
      throw new UsageError(
        `${name(key)} ${shown(values[key])} is for text output's gzip file codec; it conflicts with ${name('outputFormat')} ${format.name}, which compresses inside its file`,
      );
    }
  }
  if (given('compression')) {
    if (given('gzip') && values.gzip !== (compression !== 'none')) {
      const flag = values.gzip ? name('gzip') : name('gzip').replace(/^--/, '--no-');
      throw new UsageError(
        `${flag} ${values.gzip ? 'gzips the output' : `writes ${plain}`}; it conflicts with ${chosen}`,
      );
    }
    if (compression === 'gzip' && given('gzipLevel') && values.gzipLevel === 0) {
      throw new UsageError(
        `${name('gzipLevel')} 0 writes ${plain}; it conflicts with ${chosen} (use ${name('compression')} none)`,
      );
    }
    if (compression !== 'gzip') {
      for (const key of ['gzipLevel', 'gzipStrategy', 'parallelGzip'] as const) {
        if (!given(key) || (key === 'gzipLevel' && values.gzipLevel === 0 && compression === 'none'))
          continue;
        throw new UsageError(
          `${name(key)} ${shown(values[key])} is for gzip output; it conflicts with ${chosen}`,
        );
      }
    }
  }
  if (given('zstdLevel') && compression !== 'zstd') {
    const level = `${name('zstdLevel')} ${values.zstdLevel}`;
    throw new UsageError(
      given('compression')
        ? `${level} is for zstd output; it conflicts with ${chosen}`
        : `${level} is for zstd output: give ${name('compression')} zstd too (the output is ${compression === 'none' ? plain : compression} without it)`,
    );
  }
  // Parquet's zstd is node:zlib's too (parquet-encoder.ts), so it needs the same Node.
  const unavailable = compression === 'zstd' ? zstdUnavailable(chosen) : undefined;
  if (unavailable) throw new UsageError(unavailable);
}

const ALL_LAYERS: readonly OptionLayer[] = ['task', 's3', 'select', 'run'];

/** Every option of a command line, validated, defaults applied, sorted by layer. */
export function readCliOptions(
  raw: RawConvertOptions,
  env: Record<string, string | undefined> = process.env,
): Layers {
  return readOptions(ALL_LAYERS, raw as unknown as Record<string, unknown>, CLI, env);
}

/**
 * ConvertOptions for a library caller (a Lambda handler, a benchmark) with exactly the CLI's
 * defaults, each given value checked as the CLI checks it. `s3` is filled in when given.
 */
export function createConvertOptions(
  partial: ConvertOptionsInput = {},
  env: Record<string, string | undefined> = process.env,
): ConvertOptions {
  const { s3, ...rest } = partial;
  refuseUnknown(rest, 'task', '', ['s3']);
  const { task } = readOptions(['task'], rest, library(), env);
  if (s3 === undefined) return task;
  const { region, ...settings } = s3;
  if (typeof region !== 'string' || region === '')
    throw new UsageError(`s3.region must be a region name such as us-east-1, got ${shown(region)}`);
  refuseUnknown(settings, 's3', 's3.', ['region']);
  return { ...task, s3: { region, ...readOptions(['s3'], settings, library('s3.'), env).s3 } };
}

/** A misspelt key would otherwise fall back to the default without a word. */
function refuseUnknown(given: object, layer: OptionLayer, prefix: string, others: string[]): void {
  const known = [...SPECS.filter(([, spec]) => spec.layer === layer).map(([key]) => key), ...others];
  for (const key of Object.keys(given)) {
    if (!known.includes(key))
      throw new UsageError(
        `${prefix}${key} is not a convert option; the options are ${known.map((k) => prefix + k).join(', ')}`,
      );
  }
}

/** How an option's default reads in --help, or undefined to show none. */
export function defaultHelp(spec: OptionSpec): string | undefined {
  if (spec.defaultHelp !== undefined) return spec.defaultHelp;
  const value = spec.default;
  if (value === undefined || typeof value === 'function') return undefined;
  if (Array.isArray(value)) return value.length > 0 ? value.join(' ') : undefined;
  if (spec.kind === 'size') return formatSize(value as number);
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
