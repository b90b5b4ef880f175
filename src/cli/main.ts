import yargs from 'yargs';
import { DEFAULT_PAYLOAD_PARSER } from '../core/converter.js';
import { UsageError } from '../core/errors.js';
import { DEFAULT_FIELDS } from '../core/fields.js';
import { parseLogFormat } from '../core/log-format.js';
import { writeCorpus } from '../gen/write-corpus.js';
import { DEFAULT_S3_TIMEOUT_MS } from '../io/s3-url.js';
import { exitCodeOf } from '../run/run.js';
import { createConfig, DEFAULT_CHUNK_SIZE, DEFAULT_GZIP_LEVEL, defaultWorkers } from './config.js';
import { runWithSignals } from './signals.js';

const EPILOG =
  'Exit codes: 0 all objects converted, 1 usage error (nothing done), 2 some objects failed, 130 interrupted.';

/** A stand-in for a positional `-`, which yargs drops; NUL cannot occur in a real path. */
const STDIN_ARG = '\0stdin';

/**
 * yargs will not take a lone `-`, neither as an option's value nor as a positional: `--to -`
 * becomes `--to=-`, and a positional `-` travels as STDIN_ARG until the handler.
 */
function normalizeArgs(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if ((arg === '--to' || arg === '-o' || arg === '--rejects') && argv[i + 1] === '-') {
      out.push(`${arg === '-o' ? '--to' : arg}=-`);
      i++;
    } else {
      out.push(arg === '-' ? STDIN_ARG : arg);
    }
  }
  return out;
}

/** The command line: a typed option table over run(config). Returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0); // the reader went away (| head)
    throw error;
  });
  let exitCode = 0;
  const parser = yargs(normalizeArgs(argv))
    .scriptName('flowhose')
    .usage('$0 <command> [options]')
    .command(
      'convert <inputs..>',
      'Convert Firehose flow-log objects (files, directories, or - for stdin) to gzip CSV',
      (y) =>
        y
          .positional('inputs', {
            type: 'string',
            array: true,
            describe: 'Files, directories, s3://bucket/prefix/, or - for stdin',
          })
          .option('to', {
            alias: 'o',
            type: 'string',
            describe: 'Output directory, s3://bucket/prefix/, or - for stdout',
          })
          .option('workers', {
            alias: 'w',
            type: 'number',
            default: defaultWorkers(),
            describe: 'Worker threads',
          })
          .option('worker-heap-mb', {
            type: 'number',
            default: 1024,
            describe: 'Heap cap per worker; an object that needs more fails alone',
          })
          .option('log-format', {
            type: 'string',
            describe:
              'Flow log format: "${version} ${account-id} …" or bare names; default: the 14 version-2 fields',
          })
          .option('gzip-level', {
            type: 'number',
            default: DEFAULT_GZIP_LEVEL,
            describe: 'Output gzip level, 0 = plain CSV',
          })
          .option('gzip', {
            type: 'boolean',
            default: true,
            describe: 'Gzip the output (--no-gzip writes plain CSV)',
          })
          .option('gzip-strategy', {
            type: 'string',
            default: 'filtered',
            describe: 'zlib strategy: filtered (about 3% smaller CSV at the same cost) or default',
          })
          .option('parallel-gzip', {
            type: 'number',
            default: 0,
            describe: 'Gzip as independent 1 MiB members, N at once (pigz-style; multi-member output)',
          })
          .option('chunk-size', {
            type: 'string',
            default: String(DEFAULT_CHUNK_SIZE),
            describe: 'Read and zlib chunk size (65536, 64k, 1m)',
          })
          .option('max-record-size', {
            type: 'string',
            default: '16m',
            describe: 'Largest JSON payload or line accepted',
          })
          .option('parser', {
            type: 'string',
            default: DEFAULT_PAYLOAD_PARSER,
            describe:
              'How JSON payloads are read: wasm (WebAssembly fast path, scanner for the rest), scanner (TypeScript) or json (JSON.parse); same output',
          })
          .option('manifest', {
            type: 'string',
            describe: 'Append one JSON line per finished object to FILE',
          })
          .option('rejects', { type: 'string', describe: 'With --to -: keep rejected records in FILE' })
          .option('zlib-threads', {
            type: 'number',
            describe: 'libuv thread-pool size (default 2 × workers + 2)',
          })
          .option('quiet', {
            alias: 'q',
            type: 'boolean',
            default: false,
            describe: 'No progress; only errors and the summary',
          })
          .option('include', {
            type: 'string',
            array: true,
            describe: 'Only keys (relative to the input prefix) matching these globs',
          })
          .option('exclude', { type: 'string', array: true, describe: 'Leave out keys matching these globs' })
          .option('start-after', {
            type: 'string',
            describe: 'Start listing after this key (relative or full)',
          })
          .option('shard', {
            type: 'string',
            describe: 'i/n: take only the keys whose stable hash falls in shard i of n',
          })
          .option('dry-run', {
            type: 'boolean',
            default: false,
            describe: 'List what would be converted and where; write nothing',
          })
          .option('overwrite', {
            type: 'boolean',
            default: false,
            describe: 'Convert even outputs that are up to date',
          })
          .option('convert-error-prefixes', {
            type: 'boolean',
            default: false,
            describe: 'Also convert objects under Firehose error prefixes (…-failed/)',
          })
          .option('retries', {
            type: 'number',
            default: 2,
            describe: 'Whole-object retries after transient failures',
          })
          .option('max-attempts', {
            type: 'number',
            default: 6,
            describe: 'Attempts per S3 request (SDK backoff with jitter)',
          })
          .option('endpoint-url', {
            type: 'string',
            describe: 'S3-compatible endpoint (also AWS_ENDPOINT_URL_S3)',
          })
          .option('force-path-style', {
            type: 'boolean',
            describe: 'Path-style S3 addressing (default on with --endpoint-url)',
          })
          .option('part-size', {
            type: 'string',
            default: '8m',
            describe: 'Multipart upload part size (>= 5m)',
          })
          .option('upload-queue', {
            type: 'number',
            default: 4,
            describe: 'Parts uploaded at once per object',
          })
          .option('grace', {
            type: 'number',
            default: 30,
            describe: 'Seconds in-flight objects get after Ctrl-C',
          })
          .option('s3-timeout', {
            type: 'number',
            default: DEFAULT_S3_TIMEOUT_MS / 1000,
            describe:
              'Seconds an S3 request may make no progress (connect, answer, stalled transfer) before it is retried',
          })
          .example('$0 convert ./dumps/ --to ./csv/', 'a directory tree, mirrored under ./csv/')
          .example('$0 convert - --to - < dump > rows.csv.gz', 'stdin to stdout')
          .example(
            '$0 convert s3://src/firehose/2020/02/ --to s3://dst/csv/2020/02/',
            'S3 prefix to S3 prefix',
          )
          .epilog(EPILOG),
      async (args) => {
        const config = createConfig({
          inputs: (args.inputs ?? []).map((input) => (input === STDIN_ARG ? '-' : String(input))),
          to: args.to,
          workers: args.workers,
          workerHeapMb: args.workerHeapMb,
          logFormat: args.logFormat,
          gzipLevel: args.gzipLevel,
          gzip: args.gzip,
          parallelGzip: args.parallelGzip,
          gzipStrategy: args.gzipStrategy,
          chunkSize: args.chunkSize,
          maxRecordSize: args.maxRecordSize,
          parser: args.parser,
          manifest: args.manifest,
          rejects: args.rejects,
          quiet: args.quiet,
          include: args.include?.map(String),
          exclude: args.exclude?.map(String),
          startAfter: args.startAfter,
          shard: args.shard,
          dryRun: args.dryRun,
          overwrite: args.overwrite,
          convertErrorPrefixes: args.convertErrorPrefixes,
          retries: args.retries,
          maxAttempts: args.maxAttempts,
          endpointUrl: args.endpointUrl,
          forcePathStyle: args.forcePathStyle,
          partSize: args.partSize,
          uploadQueue: args.uploadQueue,
          grace: args.grace,
          s3Timeout: args.s3Timeout,
        });
        exitCode = exitCodeOf(await runWithSignals(config));
      },
    )
    .command(
      'gen',
      'Write a seeded corpus of synthetic Firehose objects (for benchmarks and tests)',
      (y) =>
        y
          .option('out', { type: 'string', demandOption: true, describe: 'Output directory' })
          .option('objects', { type: 'number', default: 10, describe: 'Number of objects' })
          .option('mb', { type: 'number', default: 20, describe: 'Total decompressed size in MB' })
          .option('seed', { type: 'number', default: 1, describe: 'Random seed' })
          .option('log-format', {
            type: 'string',
            describe: 'Record format (default: the 14 version-2 fields)',
          })
          .option('double-gzip', {
            type: 'boolean',
            default: false,
            describe: 'Gzip each object once more (Firehose GZIP)',
          }),
      async (args) => {
        if (!Number.isInteger(args.objects) || args.objects < 1)
          throw new UsageError(`--objects must be a positive whole number, got ${args.objects}`);
        if (!(args.mb > 0)) throw new UsageError(`--mb must be positive, got ${args.mb}`);
        const fields = args.logFormat
          ? parseLogFormat(args.logFormat).fields.map((f) => f.name)
          : DEFAULT_FIELDS;
        const { files, bytes } = await writeCorpus({
          out: args.out,
          objects: args.objects,
          mb: args.mb,
          seed: args.seed,
          fields,
          doubleGzip: args.doubleGzip,
        });
        process.stderr.write(
          `flowhose: wrote ${files.length} objects, ${(bytes / 1e6).toFixed(1)} MB compressed, under ${args.out}\n`,
        );
      },
    )
    .demandCommand(1, 'name a command: convert or gen')
    .strict()
    .help()
    .alias('h', 'help')
    .version()
    .wrap(Math.min(110, process.stdout.columns || 110))
    .exitProcess(false)
    .fail((message, error) => {
      throw error ?? new UsageError(message);
    });
  try {
    await parser.parseAsync();
    return exitCode;
  } catch (error) {
    if (error instanceof UsageError || (error instanceof Error && error.name === 'YError')) {
      process.stderr.write(`flowhose: ${error.message}\nflowhose: see flowhose --help\n`);
      return 1;
    }
    process.stderr.write(
      `flowhose: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return 1;
  }
}
