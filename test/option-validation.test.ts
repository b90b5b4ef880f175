// Every validation message of `convert`, in-process (no spawned CLI): each bad value → its exact
// message. The command line goes through the real yargs setup (commandLine) and createConfig.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { type Config, createConfig } from '../src/cli/config.js';
import { commandLine } from '../src/cli/main.js';
import {
  type ConvertOptionsInput,
  createConvertOptions,
  DEFAULT_CHUNK_SIZE,
  DEFAULT_ZSTD_LEVEL,
  flagFor,
  OPTIONS,
  type OptionSpec,
  type RawConvertOptions,
} from '../src/cli/options.js';
import { UsageError } from '../src/cli/usage-error.js';
import { zstdAvailable } from '../src/streams/codecs.js';

/** The options a command line gives, as the `convert` handler receives them. */
async function rawOf(args: string[]): Promise<RawConvertOptions> {
  let raw: RawConvertOptions | undefined;
  await commandLine(['convert', ...args], async (given) => {
    raw = given;
  }).parseAsync();
  if (!raw) throw new Error('the convert handler did not run');
  return raw;
}

/** The command line's Config, with an environment that has no AWS_ENDPOINT_URL* unless given. */
async function configOf(args: string[], env: Record<string, string> = {}): Promise<Config> {
  return createConfig(await rawOf(args), env);
}

async function messageOf(run: () => unknown): Promise<string> {
  try {
    await run();
  } catch (error) {
    expect((error as Error).name).toMatch(/^(UsageError|YError)$/);
    return (error as Error).message;
  }
  throw new Error('no error was thrown');
}

const IN = ['in', '--to', 'out'];

const cliCases: [args: string[], message: string][] = [
  [[...IN, '--partition', 'minute'], '--partition must be one of none, day, hour, got "minute"'],
  [[...IN, '--layout', 'hive'], '--layout must be mirror or aws, got "hive"'],
  [
    [...IN, '--layout', 'aws'],
    "--layout aws needs each record's region: the log format has no ${region} field, so give --aws-region-label REGION (e.g. us-east-1)",
  ],
  [
    [...IN, '--layout', 'aws', '--partition', 'day', '--aws-region-label', 'us-east-1'],
    '--layout aws partitions by hour, as AWS delivers flow logs; it conflicts with --partition day',
  ],
  [
    [...IN, '--aws-region-label', 'us-east-1'],
    '--aws-region-label is for --layout aws (it names the aws-region=… partition)',
  ],
  [
    [...IN, '--layout', 'aws', '--aws-region-label', 'US East'],
    '--aws-region-label must be a region name such as us-east-1, got "US East"',
  ],
  [
    ['in', '--to', '-', '--partition', 'hour'],
    '--partition hour writes one output per partition: give --to DIR or s3://bucket/prefix, not -',
  ],
  [[...IN, '--max-partitions', '0'], '--max-partitions must be a whole number from 1 to 10000, got 0'],
  [['in'], '--to is required: a directory, or - for standard output'],
  [['in', '--to', ''], '--to is required: a directory, or - for standard output'],
  [[...IN, '--to', 'again'], '--to was given 2 times (out, again); give it once'],
  [[...IN, '--workers', '0'], '--workers must be a whole number from 1 to 1024, got 0'],
  [[...IN, '--workers', '1.5'], '--workers must be a whole number from 1 to 1024, got 1.5'],
  [[...IN, '--workers', 'abc'], '--workers must be a whole number from 1 to 1024, got abc'],
  [[...IN, '-w', '-1'], '--workers must be a whole number from 1 to 1024, got -1'],
  [[...IN, '--workers', '1025'], '--workers must be a whole number from 1 to 1024, got 1025'],
  [[...IN, '--workers', '2', '-w', '3'], '--workers was given 2 times (2, 3); give it once'],
  [[...IN, '--worker-heap-mb', '7'], '--worker-heap-mb must be a whole number from 8 to 65536, got 7'],
  [[...IN, '--log-format', '${version'], '--log-format: "${version" is missing its closing "}"'],
  [[...IN, '--log-format', 'a b a'], '--log-format: field "a" appears twice'],
  [
    [...IN, '--log-format', ' '],
    '--log-format is empty: give field names such as "${version} ${account-id} …"',
  ],
  [[...IN, '--gzip-level', '12'], '--gzip-level must be a whole number from 0 to 9, got 12'],
  [[...IN, '--gzip-level', '-1'], '--gzip-level must be a whole number from 0 to 9, got -1'],
  [[...IN, '--gzip-strategy', 'huffman'], '--gzip-strategy must be filtered or default, got "huffman"'],
  [[...IN, '--parallel-gzip', '257'], '--parallel-gzip must be a whole number from 0 to 256, got 257'],
  [[...IN, '--output-format', 'json'], '--output-format must be one of csv, ndjson, parquet, got "json"'],
  [[...IN, '--output-format', 'NDJSON'], '--output-format must be one of csv, ndjson, parquet, got "NDJSON"'],
  [
    [...IN, '--output-format', 'csv', '--output-format', 'ndjson'],
    '--output-format was given 2 times (csv, ndjson); give it once',
  ],
  [[...IN, '--compression', 'brotli'], '--compression must be one of gzip, zstd, none, snappy, got "brotli"'],
  [[...IN, '--compression', 'ZSTD'], '--compression must be one of gzip, zstd, none, snappy, got "ZSTD"'],
  [[...IN, '--zstd-level', '0'], '--zstd-level must be a whole number from 1 to 19, got 0'],
  [[...IN, '--zstd-level', '20'], '--zstd-level must be a whole number from 1 to 19, got 20'],
  [[...IN, '--zstd-level', 'max'], '--zstd-level must be a whole number from 1 to 19, got max'],
  // Compression options that contradict each other; checked before whether this Node has zstd.
  [
    [...IN, '--zstd-level', '3'],
    '--zstd-level 3 is for zstd output: give --compression zstd too (the output is gzip without it)',
  ],
  [
    [...IN, '--compression', 'gzip', '--zstd-level', '3'],
    '--zstd-level 3 is for zstd output; it conflicts with --compression gzip',
  ],
  [
    [...IN, '--compression', 'zstd', '--parallel-gzip', '4'],
    '--parallel-gzip 4 is for gzip output; it conflicts with --compression zstd',
  ],
  [
    [...IN, '--compression', 'zstd', '--gzip-strategy', 'default'],
    '--gzip-strategy default is for gzip output; it conflicts with --compression zstd',
  ],
  [
    [...IN, '--compression', 'zstd', '--gzip-level', '0'],
    '--gzip-level 0 is for gzip output; it conflicts with --compression zstd',
  ],
  [
    [...IN, '--compression', 'none', '--gzip-level', '9'],
    '--gzip-level 9 is for gzip output; it conflicts with --compression none',
  ],
  [
    [...IN, '--compression', 'gzip', '--gzip-level', '0'],
    '--gzip-level 0 writes plain CSV; it conflicts with --compression gzip (use --compression none)',
  ],
  [
    [...IN, '--compression', 'zstd', '--no-gzip'],
    '--no-gzip writes plain CSV; it conflicts with --compression zstd',
  ],
  [
    [...IN, '--compression', 'gzip', '--no-gzip'],
    '--no-gzip writes plain CSV; it conflicts with --compression gzip',
  ],
  [
    [...IN, '--output-format', 'ndjson', '--compression', 'gzip', '--no-gzip'],
    '--no-gzip writes plain NDJSON; it conflicts with --compression gzip',
  ],
  [
    [...IN, '--output-format', 'ndjson', '--compression', 'gzip', '--gzip-level', '0'],
    '--gzip-level 0 writes plain NDJSON; it conflicts with --compression gzip (use --compression none)',
  ],
  [
    [...IN, '--output-format', 'ndjson', '--no-gzip', '--zstd-level', '2'],
    '--zstd-level 2 is for zstd output: give --compression zstd too (the output is plain NDJSON without it)',
  ],
  [
    [...IN, '--compression', 'none', '--gzip'],
    '--gzip gzips the output; it conflicts with --compression none',
  ],
  [[...IN, '--chunk-size', 'abc'], '--chunk-size must be a size such as 65536, 64k or 1m, got "abc"'],
  [[...IN, '--chunk-size', '512'], '--chunk-size must be between 1024 and 67108864 bytes, got "512"'],
  [[...IN, '--chunk-size', '65m'], '--chunk-size must be between 1024 and 67108864 bytes, got "65m"'],
  [[...IN, '--max-record-size', '1x'], '--max-record-size must be a size such as 65536, 64k or 1m, got "1x"'],
  [
    [...IN, '--max-record-size', '2g'],
    '--max-record-size must be between 1024 and 1073741824 bytes, got "2g"',
  ],
  [[...IN, '--parser', 'fast'], '--parser must be one of wasm, scanner, json, got "fast"'],
  [[...IN, '--zlib-threads', '0'], '--zlib-threads must be a whole number from 1 to 1024, got 0'],
  [[...IN, '--zlib-threads', '1025'], '--zlib-threads must be a whole number from 1 to 1024, got 1025'],
  [[...IN, '--shard', '-1/2'], '--shard must be i/n with 0 <= i < n, such as 0/4, got "-1/2"'],
  [[...IN, '--shard', '2/2'], '--shard must be i/n with 0 <= i < n, such as 0/4, got "2/2"'],
  [[...IN, '--shard', 'half'], '--shard must be i/n with 0 <= i < n, such as 0/4, got "half"'],
  [[...IN, '--retries', '21'], '--retries must be a whole number from 0 to 20, got 21'],
  [[...IN, '--max-attempts', '0'], '--max-attempts must be a whole number from 1 to 50, got 0'],
  [[...IN, '--endpoint-url', 'ftp://x'], '--endpoint-url must be an http(s) URL, got "ftp://x"'],
  [[...IN, '--part-size', '1m'], '--part-size must be between 5242880 and 5368709120 bytes, got "1m"'],
  [[...IN, '--upload-queue', '0'], '--upload-queue must be a whole number from 1 to 64, got 0'],
  [[...IN, '--s3-timeout', '0'], '--s3-timeout must be a number of seconds from 0.1 to 3600, got 0'],
  [[...IN, '--s3-timeout', 'slow'], '--s3-timeout must be a number of seconds from 0.1 to 3600, got slow'],
  [[...IN, '--grace', '-1'], '--grace must be a number of seconds from 0 to 2147483, got -1'],
  [[...IN, '--grace', 'soon'], '--grace must be a number of seconds from 0 to 2147483, got soon'],
  [[...IN, '--grace', '1e9'], '--grace must be a number of seconds from 0 to 2147483, got 1e9'],
  // Across options, after each is valid.
  [['-', '-', '--to', '-'], '- (stdin) can be given only once'],
  [['a', 'b', '--to', '-'], '--to - (stdout) takes exactly one input, got 2: a b'],
  [['-', '--to', 'out'], '- (stdin) converts only to --to - (stdout)'],
  [
    [...IN, '--rejects', 'r.jsonl'],
    '--rejects is for stdout mode; with --to DIR, rejects are written beside each output',
  ],
  [['s3://', '--to', 'out'], 's3:// is not an S3 URL of the form s3://bucket/prefix'],
  // yargs' own checks.
  [[...IN, '--bogus'], 'Unknown argument: bogus'],
  [[...IN, '--manifest'], 'Not enough arguments following: manifest'],
  [['--to', 'out'], 'Not enough non-option arguments: got 0, need at least 1'],
];

describe('convert: each bad command line → its message', () => {
  it.each(cliCases)('%j', async (args, message) => {
    expect(await messageOf(() => configOf(args))).toBe(message);
  });

  it('a bad endpoint from the environment names the variable', async () => {
    expect(await messageOf(() => configOf(IN, { AWS_ENDPOINT_URL_S3: 'minio:9000' }))).toBe(
      'AWS_ENDPOINT_URL_S3 must be an http(s) URL, got "minio:9000"',
    );
    expect(await messageOf(() => configOf(IN, { AWS_ENDPOINT_URL: 'x' }))).toBe(
      'AWS_ENDPOINT_URL must be an http(s) URL, got "x"',
    );
  });

  it('createConfig without inputs (a library caller)', async () => {
    expect(await messageOf(() => createConfig({ inputs: [], to: 'out' }, {}))).toBe(
      'convert needs at least one input (a file, a directory, or - for stdin)',
    );
  });

  it('the messages are UsageErrors, not the core’s', async () => {
    await expect(configOf([...IN, '--log-format', 'a a'])).rejects.toBeInstanceOf(UsageError);
    await expect(configOf([...IN, '--workers', '0'])).rejects.toBeInstanceOf(UsageError);
  });

  it('every option that can be wrong has a case above', () => {
    // Free text and switches cannot be wrong on a command line (a switch given a value is a positional).
    const free = new Set(['manifest', 'rejects', 'start-after', 'include', 'exclude']);
    const tested = new Set(cliCases.flatMap(([args]) => args.filter((a) => a.startsWith('-'))));
    for (const spec of Object.values(OPTIONS) as OptionSpec[]) {
      if (spec.kind === 'boolean' || free.has(spec.flag)) continue;
      const spellings = [`--${spec.flag}`, ...(spec.alias ? [`-${spec.alias}`] : [])];
      expect(
        spellings.some((s) => tested.has(s)),
        `no case for --${spec.flag}`,
      ).toBe(true);
    }
  });
});

const libraryCases: [input: ConvertOptionsInput | Record<string, unknown>, message: string][] = [
  [{ gzipLevel: 12 }, 'gzipLevel must be a whole number from 0 to 9, got 12'],
  [{ retries: -1 }, 'retries must be a whole number from 0 to 20, got -1'],
  [{ parallelGzip: 1.5 }, 'parallelGzip must be a whole number from 0 to 256, got 1.5'],
  [{ chunkSize: 10 }, 'chunkSize must be between 1024 and 67108864 bytes, got "10"'],
  [{ maxRecordBytes: 'big' }, 'maxRecordBytes must be a size such as 65536, 64k or 1m, got "big"'],
  [{ payloadParser: 'fast' }, 'payloadParser must be one of wasm, scanner, json, got "fast"'],
  [{ gzipStrategy: 'huffman' }, 'gzipStrategy must be filtered or default, got "huffman"'],
  [{ compression: 'lz4' }, 'compression must be one of gzip, zstd, none, snappy, got "lz4"'],
  [{ outputFormat: 'parquet ' }, 'outputFormat must be one of csv, ndjson, parquet, got "parquet "'],
  [
    { outputFormat: 'ndjson', zstdLevel: 3 },
    'zstdLevel 3 is for zstd output: give compression zstd too (the output is gzip without it)',
  ],
  [{ zstdLevel: 0 }, 'zstdLevel must be a whole number from 1 to 19, got 0'],
  [
    { zstdLevel: 5 },
    'zstdLevel 5 is for zstd output: give compression zstd too (the output is gzip without it)',
  ],
  [
    { compression: 'none', gzipLevel: 9 },
    'gzipLevel 9 is for gzip output; it conflicts with compression none',
  ],
  [
    { compression: 'zstd', parallelGzip: 2 },
    'parallelGzip 2 is for gzip output; it conflicts with compression zstd',
  ],
  [{ overwrite: 'yes' }, 'overwrite must be true or false, got yes'],
  [{ logFormat: 5 }, 'logFormat must be text, got 5'],
  [{ logFormat: 'a b a' }, 'logFormat: field "a" appears twice'],
  [
    { chunksize: 1 },
    'chunksize is not a convert option; the options are logFormat, outputFormat, gzipLevel, gzipStrategy, parallelGzip, compression, zstdLevel, chunkSize, maxRecordBytes, payloadParser, maxPartitions, overwrite, retries, s3',
  ],
  [{ s3: { region: '' } }, 's3.region must be a region name such as us-east-1, got ""'],
  [
    { s3: { region: 'eu-west-1', partsize: 1 } },
    's3.partsize is not a convert option; the options are s3.maxAttempts, s3.endpoint, s3.forcePathStyle, s3.partSize, s3.queueSize, s3.timeoutSeconds, s3.region',
  ],
  [
    { s3: { region: 'eu-west-1', partSize: 1 } },
    's3.partSize must be between 5242880 and 5368709120 bytes, got "1"',
  ],
  [{ s3: { region: 'eu-west-1', endpoint: 'x' } }, 's3.endpoint must be an http(s) URL, got "x"'],
];

describe('createConvertOptions: each bad value → its message, named as the library spells it', () => {
  it.each(libraryCases)('%j', async (input, message) => {
    expect(await messageOf(() => createConvertOptions(input as ConvertOptionsInput, {}))).toBe(message);
  });
});

describe('defaults: one table, the same for the CLI and the library', () => {
  it('createConvertOptions() is what a bare command line gives a task', async () => {
    const config = await configOf(IN);
    expect(createConvertOptions({}, {})).toEqual(config.task);
    expect(createConvertOptions({}, {}).chunkSize).toBe(DEFAULT_CHUNK_SIZE);
    expect(DEFAULT_CHUNK_SIZE).toBe(1024 * 1024);
    expect(createConvertOptions({ s3: { region: 'eu-west-1' } }, {}).s3).toEqual({
      region: 'eu-west-1',
      ...config.s3,
    });
  });

  it('given values are read as the CLI reads them', async () => {
    const config = await configOf([...IN, '--chunk-size', '64k', '--parser', 'json', '--overwrite']);
    expect(createConvertOptions({ chunkSize: 65536, payloadParser: 'json', overwrite: true }, {})).toEqual(
      config.task,
    );
  });

  it('the run-level defaults', async () => {
    const config = await configOf(IN);
    expect(config).toMatchObject({
      inputs: ['in'],
      to: 'out',
      workerHeapMb: 1024,
      gzip: true,
      quiet: false,
      dryRun: false,
      graceSeconds: 30,
      manifest: undefined,
      zlibThreads: undefined,
      selection: { include: [], exclude: [], shard: undefined, skipErrorPrefixes: true },
      task: {
        gzipLevel: 6,
        gzipStrategy: 'filtered',
        parallelGzip: 0,
        compression: 'gzip',
        zstdLevel: DEFAULT_ZSTD_LEVEL,
        chunkSize: 1024 * 1024,
        maxRecordBytes: 16 * 1024 * 1024,
        payloadParser: 'wasm',
        outputFormat: 'csv',
        overwrite: false,
        retries: 2,
        logFormat: undefined,
      },
      s3: { maxAttempts: 6, partSize: 8 * 1024 * 1024, queueSize: 4, forcePathStyle: false },
    });
    expect(config.workers).toBeGreaterThanOrEqual(1);
  });
});

describe('command-line shapes keep working', () => {
  it('--no-gzip writes plain CSV whatever the level', async () => {
    expect((await configOf([...IN, '--no-gzip'])).task.gzipLevel).toBe(0);
    expect((await configOf([...IN, '--gzip-level', '9', '--no-gzip'])).task.gzipLevel).toBe(0);
    expect((await configOf([...IN, '--gzip-level', '0'])).task.gzipLevel).toBe(0);
  });

  it('--compression: gzip by default, none from --no-gzip or --gzip-level 0, or as given where it agrees', async () => {
    const compression = async (args: string[]) => (await configOf([...IN, ...args])).task.compression;
    expect(await compression([])).toBe('gzip');
    expect(
      await compression(['--gzip-level', '9', '--parallel-gzip', '4', '--gzip-strategy', 'default']),
    ).toBe('gzip');
    expect(await compression(['--no-gzip'])).toBe('none');
    expect(await compression(['--gzip-level', '0'])).toBe('none');
    expect(await compression(['--no-gzip', '--gzip-level', '9', '--parallel-gzip', '4'])).toBe('none');
    expect(await compression(['--compression', 'none'])).toBe('none');
    expect(await compression(['--compression', 'none', '--no-gzip', '--gzip-level', '0'])).toBe('none');
    expect(await compression(['--compression', 'gzip', '--gzip', '--gzip-level', '1'])).toBe('gzip');
    expect(createConvertOptions({ gzipLevel: 0 }, {}).compression).toBe('none');
    expect(createConvertOptions({ compression: 'none' }, {}).compression).toBe('none');
  });

  it('- is stdin as an input and stdout as --to, -o or --to=-; --rejects - too', async () => {
    for (const args of [
      ['-', '--to', '-'],
      ['-', '-o', '-'],
      ['-', '--to=-'],
    ]) {
      expect(await configOf(args)).toMatchObject({ inputs: ['-'], to: '-' });
    }
    expect((await configOf(['-', '--to', '-', '--rejects', '-'])).rejects).toBe('-');
  });

  it('several inputs, options between them, and = spellings', async () => {
    const config = await configOf(['a', '-q', 'b', '--workers=4', 'c', '--to=out']);
    expect(config).toMatchObject({ inputs: ['a', 'b', 'c'], to: 'out', workers: 4, quiet: true });
  });

  it('sizes, shards, lists and the S3 settings', async () => {
    const config = await configOf([
      ...IN,
      '--chunk-size',
      '64KiB',
      '--shard',
      '1/4',
      '--include',
      '*.gz',
      '--include',
      'x/*',
      '--exclude',
      'tmp*',
      '--convert-error-prefixes',
      '--endpoint-url',
      'http://127.0.0.1:9000',
      '--grace',
      '0.5',
    ]);
    expect(config.task.chunkSize).toBe(65536);
    expect(config.selection.shard).toEqual({ index: 1, count: 4 });
    expect(config.selection.include.map((re) => re.test('a.gz'))).toEqual([true, false]);
    expect(config.selection.exclude[0]!.test('tmp1')).toBe(true);
    expect(config.selection.skipErrorPrefixes).toBe(false);
    expect(config.s3).toMatchObject({ endpoint: 'http://127.0.0.1:9000', forcePathStyle: true });
    expect(config.graceSeconds).toBe(0.5);
    expect((await configOf(IN, { AWS_ENDPOINT_URL_S3: 'http://h:1' })).s3).toMatchObject({
      endpoint: 'http://h:1',
      forcePathStyle: true,
    });
    expect(
      (await configOf([...IN, '--endpoint-url', 'http://h:1', '--no-force-path-style'])).s3.forcePathStyle,
    ).toBe(false);
  });

  it('a library option names its flag (for error hints)', () => {
    expect(flagFor('maxRecordBytes')).toBe('--max-record-size');
    expect(flagFor('logFormat')).toBe('--log-format');
    expect(flagFor('payloadParser')).toBe('--parser');
    expect(flagFor('toString')).toBeUndefined();
    expect(flagFor('nope')).toBeUndefined();
  });
});

describe.skipIf(zstdAvailable())(`--compression zstd on Node ${process.version}, which has no zstd`, () => {
  it('is a usage error naming this Node and the one needed', async () => {
    const needs = `needs Node 22.15 (or 23.8) or newer, whose node:zlib has zstd; this is Node ${process.version}`;
    expect(await messageOf(() => configOf([...IN, '--compression', 'zstd']))).toBe(
      `--compression zstd ${needs}`,
    );
    expect(await messageOf(() => configOf([...IN, '--compression', 'zstd', '--zstd-level', '9']))).toBe(
      `--compression zstd ${needs}`,
    );
    expect(await messageOf(() => createConvertOptions({ compression: 'zstd' }, {}))).toBe(
      `compression zstd ${needs}`,
    );
  });
});

describe.skipIf(!zstdAvailable())(`--compression zstd on Node ${process.version}`, () => {
  it('takes its level, the default level otherwise, with the gzip options left at theirs', async () => {
    const config = await configOf([...IN, '--compression', 'zstd']);
    expect(config.task).toMatchObject({ compression: 'zstd', zstdLevel: DEFAULT_ZSTD_LEVEL, gzipLevel: 6 });
    expect((await configOf([...IN, '--compression', 'zstd', '--zstd-level', '19'])).task.zstdLevel).toBe(19);
    expect(createConvertOptions({ compression: 'zstd', zstdLevel: 7 }, {})).toMatchObject({
      compression: 'zstd',
      zstdLevel: 7,
    });
  });
});

describe('--zlib-threads: bin/flowhose.cjs reads it before any module loads, with the same range', () => {
  const bin = createRequire(import.meta.url)('../bin/flowhose.cjs') as {
    explicitThreads(value: string | undefined): number | undefined;
    threadPoolSize(args: string[], env: Record<string, string | undefined>): string;
  };

  it.each(['-1', '0', '1', '3', '4', '1024', '1025', '1.5', 'abc', ''])('%j', (value) => {
    let tableAccepts = true;
    try {
      OPTIONS.zlibThreads.parse(value, '--zlib-threads');
    } catch {
      tableAccepts = false;
    }
    expect(bin.explicitThreads(value) !== undefined).toBe(tableAccepts);
  });

  it('an explicit value is used as given, even below 4 and over UV_THREADPOOL_SIZE', () => {
    expect(bin.threadPoolSize(['convert', 'x', '--zlib-threads', '2'], {})).toBe('2');
    expect(bin.threadPoolSize(['convert', 'x', '--zlib-threads=9'], { UV_THREADPOOL_SIZE: '8' })).toBe('9');
    expect(bin.threadPoolSize(['convert', 'x'], { UV_THREADPOOL_SIZE: '8' })).toBe('8');
  });

  it('the default: 2 per worker + 2, room for --parallel-gzip members, never below 4', () => {
    expect(bin.threadPoolSize(['convert', 'x', '-w', '3'], {})).toBe('8');
    expect(bin.threadPoolSize(['convert', 'x', '--workers', '1'], {})).toBe('4');
    expect(bin.threadPoolSize(['convert', 'x', '-w', '1', '--parallel-gzip', '20'], {})).toBe('22');
    expect(bin.threadPoolSize(['convert', 'x', '-w', '1000'], {})).toBe('1024');
    // An invalid value falls back to the default here; the option table then exits 1.
    expect(bin.threadPoolSize(['convert', 'x', '-w', '3', '--zlib-threads', '0'], {})).toBe('8');
  });
});
