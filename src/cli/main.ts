import yargs, { type Argv, type Options } from 'yargs';
import { DEFAULT_FIELDS } from '../core/fields.js';
import { escapeControl } from '../core/safe-text.js';
import { writeCorpus } from '../gen/write-corpus.js';
import { exitCodeOf } from '../run/run.js';
import { SetupError } from '../run/setup-error.js';
import { createConfig } from './config.js';
import { createDdl, DEFAULT_PROJECTION_YEARS, type RawDdlOptions } from './ddl.js';
import { defaultHelp, OPTIONS, type OptionSpec, type RawConvertOptions, rawKey } from './options.js';
import { runWithSignals } from './signals.js';
import { UsageError } from './usage-error.js';
import { readLogFormat } from './validate.js';

const EPILOG =
  'Exit codes: 0 all objects converted, 1 usage error (nothing done), 2 some objects failed, 130 interrupted.';

/** A stand-in for a positional `-`, which yargs drops; NUL cannot occur in a real path. */
const STDIN_ARG = '\0stdin';

const SPECS = Object.values(OPTIONS) as OptionSpec[];

/** Each spelling (`--flag`, `-alias`) of the options that take a value, to its `--flag`. */
const VALUE_OPTIONS = new Map<string, string>();
for (const spec of SPECS) {
  if (spec.kind === 'boolean') continue;
  VALUE_OPTIONS.set(`--${spec.flag}`, `--${spec.flag}`);
  if (spec.alias) VALUE_OPTIONS.set(`-${spec.alias}`, `--${spec.flag}`);
}

/**
 * yargs takes a value that starts with `-` and is not a plain number for more options: a lone `-`
 * (`--to -`) is dropped and `--shard -1/2` became "Unknown argument: 1". So such a value after an
 * option that takes one is joined to it (`--to=-`, `--shard=-1/2`) and reaches validation as typed.
 * `-x` (a letter) stays an option. A positional `-` travels as STDIN_ARG until the handler.
 */
function normalizeArgs(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const flag = VALUE_OPTIONS.get(arg);
    const next = argv[i + 1];
    if (flag && next !== undefined && /^-(?![A-Za-z-])/.test(next)) {
      out.push(`${flag}=${next}`);
      i++;
    } else {
      out.push(arg === '-' ? STDIN_ARG : arg);
    }
  }
  return out;
}

function yargsOption(spec: OptionSpec): Options {
  return {
    alias: spec.alias,
    describe: spec.describe,
    // No yargs type for numbers (and parse-numbers off): the value reaches validation as typed,
    // so a message can echo `abc` rather than NaN.
    type: spec.kind === 'boolean' ? 'boolean' : spec.kind === 'number' ? undefined : 'string',
    array: spec.kind === 'list' ? true : undefined,
    requiresArg: spec.kind !== 'boolean',
    defaultDescription: defaultHelp(spec),
  };
}

/** The table's options as given on the command line; defaults are applied later, by createConfig. */
function rawOptions(args: Record<string, unknown>): RawConvertOptions {
  const inputs = (args.inputs as unknown[] | undefined) ?? [];
  const raw: Record<string, unknown> = {
    inputs: inputs.map((input) => (input === STDIN_ARG ? '-' : String(input))),
  };
  for (const spec of SPECS) raw[rawKey(spec.flag)] = args[rawKey(spec.flag)];
  return raw as RawConvertOptions;
}

function convertCommand(y: Argv): Argv {
  let command = y.positional('inputs', {
    type: 'string',
    array: true,
    describe: 'Files, directories, s3://bucket/prefix/, or - for stdin',
  });
  for (const spec of SPECS) command = command.option(spec.flag, yargsOption(spec));
  return command
    .example('$0 convert ./dumps/ --to ./csv/', 'a directory tree, mirrored under ./csv/')
    .example('$0 convert - --to - < dump > rows.csv.gz', 'stdin to stdout')
    .example('$0 convert s3://src/firehose/2020/02/ --to s3://dst/csv/2020/02/', 'S3 prefix to S3 prefix')
    .epilog(EPILOG);
}

/** `ddl` takes convert's options (what is written decides the table) and its own two. */
function ddlCommand(y: Argv): Argv {
  let command = y;
  for (const spec of SPECS) command = command.option(spec.flag, yargsOption(spec));
  return command
    .option('table', { type: 'string', requiresArg: true, describe: 'Table name', default: 'vpc_flow_logs' })
    .option('projection-range', {
      type: 'string',
      requiresArg: true,
      describe: `Years to project: FIRST[,LAST] (2020, 2020-02-01, 2020,2035); LAST defaults to the later of FIRST and this year, + ${DEFAULT_PROJECTION_YEARS}`,
    })
    .option('manifest', {
      ...yargsOption(OPTIONS.manifest as OptionSpec),
      describe: "The conversion's manifest: the earliest year= of its outputs is the projection's FIRST",
    })
    .example(
      '$0 ddl --to s3://dst/flows/ --layout aws --aws-region-label us-east-1 --projection-range 2019',
      "the table over AWS's tree",
    )
    .example(
      '$0 ddl --to s3://dst/csv/ --partition hour --manifest run.jsonl',
      'projection from the earliest hour converted',
    );
}

/** The ddl handler's view of the command line: convert's options as given, and the table's own. */
function rawDdlOptions(args: Record<string, unknown>): RawDdlOptions {
  const { inputs: _, ...raw } = rawOptions(args);
  return {
    ...raw,
    table: args.table as string | undefined,
    projectionRange: args.projectionRange as string | undefined,
  };
}

/**
 * The command line over a handler for `convert` (and one for `ddl`), which receives the options as
 * given (tests call it in-process). Usage errors are thrown as UsageError.
 */
export function commandLine(
  argv: string[],
  onConvert: (raw: RawConvertOptions) => Promise<void>,
  onDdl: (raw: RawDdlOptions) => Promise<void> = async (raw) => {
    process.stdout.write(await createDdl(raw));
  },
) {
  return yargs(normalizeArgs(argv))
    .parserConfiguration({ 'parse-numbers': false })
    .scriptName('flowhose')
    .usage('$0 <command> [options]')
    .command(
      'convert <inputs..>',
      'Convert Firehose flow-log objects (files, directories, or - for stdin) to gzip CSV',
      convertCommand,
      (args) => onConvert(rawOptions(args)),
    )
    .command(
      'ddl',
      'Print the Athena CREATE EXTERNAL TABLE (with partition projection) over what convert writes with these options',
      ddlCommand,
      (args) => onDdl(rawDdlOptions(args)),
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
          ? readLogFormat(args.logFormat).fields.map((f) => f.name)
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
    .demandCommand(1, 'name a command: convert, ddl or gen')
    .strict()
    .help()
    .alias('h', 'help')
    .version()
    .wrap(Math.min(110, process.stdout.columns || 110))
    .exitProcess(false)
    .fail((message, error) => {
      throw error ?? new UsageError(message);
    });
}

/** Problems with the command line or what it names: exit 1, nothing done. */
const isUsageError = (error: unknown): error is Error =>
  error instanceof UsageError ||
  error instanceof SetupError ||
  (error instanceof Error && error.name === 'YError');

/** The command line: a typed option table over run(config). Returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0); // the reader went away (| head)
    throw error;
  });
  let exitCode = 0;
  try {
    await commandLine(argv, async (raw) => {
      exitCode = exitCodeOf(await runWithSignals(createConfig(raw)));
    }).parseAsync();
    return exitCode;
  } catch (error) {
    // Messages quote what was typed and what was read (paths, keys): no control characters reach the terminal.
    if (isUsageError(error)) {
      process.stderr.write(`flowhose: ${escapeControl(error.message)}\nflowhose: see flowhose --help\n`);
      return 1;
    }
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(`flowhose: ${text.split('\n').map(escapeControl).join('\n')}\n`);
    return 1;
  }
}
