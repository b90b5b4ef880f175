/**
 * The handler's options, from the same option table as the CLI: each option is an environment variable
 * named after its flag (`--gzip-level` → FLOWHOSE_GZIP_LEVEL, `--to` → FLOWHOSE_TO), and a Distributed Map's
 * BatchInput (or an S3 Batch Operations job's userArguments) may set any of them by its library key
 * (`gzipLevel`), winning over the environment. Every value is checked by the table's own parser, and the
 * message names the variable or key it came from. The S3 endpoint comes from the SDK's own
 * AWS_ENDPOINT_URL_S3 (the table's default for --endpoint-url).
 */
import { type Config, createConfig } from '../cli/config.js';
import { OPTIONS, type OptionKey, type OptionSpec, type RawConvertOptions, rawKey } from '../cli/options.js';
import { UsageError } from '../cli/usage-error.js';
import { parseS3Url } from '../io/s3-url.js';
import type { ConvertOptions } from '../object/task.js';

/**
 * Options that only a command-line run has a use for (threads, the manifest file, progress, listing, Ctrl-C):
 * refused by name. Every other option, including ones added to the table later (an output format, a
 * partition layout), reaches the handler's Config and layout unchanged.
 */
const CLI_ONLY: readonly OptionKey[] = [
  'workers',
  'workerHeapMb',
  'manifest',
  'rejects',
  'zlibThreads',
  'quiet',
  'startAfter',
  'dryRun',
  'graceSeconds',
  'shard', // splits a listing, which the handler never makes
];

export const ENV_PREFIX = 'FLOWHOSE_';
/** The handler's own settings beside the table's: the prefix that output names are taken relative to. */
export const SOURCE_PREFIX_ENV = 'FLOWHOSE_SOURCE_PREFIX';
/** BatchInput keys that are not options: the listed bucket and prefix. */
const BATCH_INPUT_FIELDS = ['bucket', 'prefix'] as const;

export const envName = (spec: OptionSpec): string => ENV_PREFIX + spec.flag.toUpperCase().replace(/-/g, '_');

const SPECS = Object.entries(OPTIONS) as [OptionKey, OptionSpec][];
const usable = ([key]: readonly [OptionKey, OptionSpec]) => !CLI_ONLY.includes(key);
const USABLE = SPECS.filter(usable);
const BY_ENV = new Map(SPECS.map(([key, spec]) => [envName(spec), [key, spec] as const]));

export interface HandlerSettings {
  config: Config;
  /** What convertObject gets for every object. */
  options: ConvertOptions;
  /** Keys are named below this prefix (with its trailing `/`), as `flowhose convert s3://bucket/prefix/` names them. */
  prefix: string;
}

/** Text (an environment variable, a userArguments value) as the table's parsers take it, by option kind. */
function fromText(spec: OptionSpec, text: string): unknown {
  if (spec.kind === 'boolean') {
    const word = text.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(word)) return true;
    if (['false', '0', 'no', 'off'].includes(word)) return false;
    return text; // the table's parser says what it wants
  }
  if (spec.kind === 'list') {
    const trimmed = text.trim();
    if (trimmed.startsWith('[')) {
      try {
        return JSON.parse(trimmed) as unknown;
      } catch {
        throw new UsageError(`the value ${text} starts like a JSON list but is not one`);
      }
    }
    return trimmed === '' ? [] : trimmed.split(',').map((s) => s.trim());
  }
  return text;
}

/** A given value checked by its option's parser under the name it came from, then handed on as the CLI's raw value. */
function give(raw: Record<string, unknown>, spec: OptionSpec, value: unknown, name: string): void {
  const given = typeof value === 'string' ? fromText(spec, value) : value;
  spec.parse(given, name); // throws a UsageError naming `name`
  raw[rawKey(spec.flag)] = given;
}

/** The FLOWHOSE_* variables as raw options; a variable of no option, or of one without meaning here, is an error. */
export function readEnvOptions(env: Record<string, string | undefined>): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(env)) {
    // An empty variable is an unset one (the console keeps variables whose value was cleared).
    if (!name.startsWith(ENV_PREFIX) || !value || name === SOURCE_PREFIX_ENV) continue;
    const entry = BY_ENV.get(name);
    if (!entry) {
      throw new UsageError(
        `${name} is not a flowhose setting; the handler reads ${[...USABLE.map(([, s]) => envName(s)), SOURCE_PREFIX_ENV].join(', ')}`,
      );
    }
    const [, spec] = entry;
    if (!usable(entry))
      throw new UsageError(
        `${name} (--${spec.flag}) is for the command line; the Lambda handler has no use for it`,
      );
    give(raw, spec, value, name);
  }
  return raw;
}

/** BatchInput or userArguments: options by library key (`gzipLevel`), plus `bucket` and `prefix`. */
function readKeyed(given: Record<string, unknown>, where: string, raw: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(given)) {
    if ((BATCH_INPUT_FIELDS as readonly string[]).includes(key) || value === undefined) continue;
    const spec = Object.hasOwn(OPTIONS, key) ? OPTIONS[key as OptionKey] : undefined;
    if (!spec || !usable([key as OptionKey, spec])) {
      throw new UsageError(
        `${where}.${key} is not a flowhose setting; ${where} may hold ${[...BATCH_INPUT_FIELDS, ...USABLE.map(([k]) => k)].join(', ')}`,
      );
    }
    give(raw, spec, value, `${where}.${key}`);
  }
}

function prefixOf(value: unknown, name: string): string {
  if (value === undefined || value === '') return '';
  if (typeof value !== 'string')
    throw new UsageError(`${name} must be a key prefix (text), got ${JSON.stringify(value)}`);
  // As the CLI reads s3://bucket/logs: the prefix logs/ (outputs are named below it).
  return value.endsWith('/') ? value : `${value}/`;
}

/**
 * The settings for one invocation: the environment's, overridden by `overrides` (a BatchInput, named
 * `where` in messages). Throws a UsageError that names the variable or key at fault.
 */
export function createSettings(
  env: Record<string, string | undefined>,
  overrides: Record<string, unknown> = {},
  where = 'BatchInput',
): HandlerSettings {
  const raw = readEnvOptions(env);
  readKeyed(overrides, where, raw);
  if (raw.to === undefined)
    throw new UsageError(`${envName(OPTIONS.to)} is required: the s3://bucket/prefix/ the outputs go to`);
  const to = raw.to as string;
  if (!parseS3Url(to)) {
    const from = overrides.to !== undefined ? `${where}.to` : envName(OPTIONS.to);
    throw new UsageError(
      `${from} must be an s3://bucket/prefix/ URL in the Lambda handler, got ${JSON.stringify(to)}`,
    );
  }
  const prefix =
    overrides.prefix !== undefined
      ? prefixOf(overrides.prefix, `${where}.prefix`)
      : prefixOf(env[SOURCE_PREFIX_ENV], SOURCE_PREFIX_ENV);
  // The input only satisfies createConfig; objects come from the event.
  const config = createConfig({ ...(raw as Partial<RawConvertOptions>), inputs: ['s3://event/'] }, env);
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1';
  return { config, options: { ...config.task, s3: { region, ...config.s3 } }, prefix };
}
