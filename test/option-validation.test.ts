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
  flagFor,
  OPTIONS,
  type OptionSpec,
  type RawConvertOptions,
} from '../src/cli/options.js';
import { UsageError } from '../src/cli/usage-error.js';

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
  [{ overwrite: 'yes' }, 'overwrite must be true or false, got yes'],
  [{ logFormat: 5 }, 'logFormat must be text, got 5'],
  [{ logFormat: 'a b a' }, 'logFormat: field "a" appears twice'],
  [
    { chunksize: 1 },
    'chunksize is not a convert option; the options are logFormat, gzipLevel, gzipStrategy, parallelGzip, chunkSize, maxRecordBytes, payloadParser, overwrite, retries, s3',
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
        chunkSize: 1024 * 1024,
        maxRecordBytes: 16 * 1024 * 1024,
        payloadParser: 'wasm',
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
