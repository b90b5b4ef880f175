import yargs from 'yargs';
import { createConfig, DEFAULT_CHUNK_SIZE, DEFAULT_GZIP_LEVEL, defaultWorkers } from './config.js';
import { UsageError } from './core/errors.js';
import { DEFAULT_FIELDS } from './core/fields.js';
import { parseLogFormat } from './core/log-format.js';
import { writeCorpus } from './gen/write-corpus.js';
import { exitCodeOf, run } from './run.js';

const EPILOG =
  'Exit codes: 0 all objects converted, 1 usage error (nothing done), 2 some objects failed, 130 interrupted.';

/** The command line: a typed option table over run(config). Returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0); // the reader went away (| head)
    throw error;
  });
  let exitCode = 0;
  const parser = yargs(argv)
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
            describe: 'Files, directories, or - for stdin',
          })
          .option('to', { alias: 'o', type: 'string', describe: 'Output directory, or - for stdout' })
          .option('workers', {
            alias: 'w',
            type: 'number',
            default: defaultWorkers(),
            describe: 'Worker threads',
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
            describe: 'Only errors and the summary',
          })
          .example('$0 convert ./dumps/ --to ./csv/', 'a directory tree, mirrored under ./csv/')
          .example('$0 convert - --to - < dump > rows.csv.gz', 'stdin to stdout')
          .epilog(EPILOG),
      async (args) => {
        const config = createConfig({
          inputs: (args.inputs ?? []).map(String),
          to: args.to,
          workers: args.workers,
          logFormat: args.logFormat,
          gzipLevel: args.gzipLevel,
          gzip: args.gzip,
          chunkSize: args.chunkSize,
          maxRecordSize: args.maxRecordSize,
          manifest: args.manifest,
          rejects: args.rejects,
          quiet: args.quiet,
        });
        const controller = new AbortController();
        const onSignal = () => {
          if (controller.signal.aborted) process.exit(130);
          process.stderr.write(
            'flowhose: interrupted: finishing the objects in flight (again to stop at once)\n',
          );
          controller.abort();
        };
        process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
        try {
          const summary = await run(config, { stderr: process.stderr, signal: controller.signal });
          exitCode = controller.signal.aborted ? 130 : exitCodeOf(summary);
        } finally {
          process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
        }
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
