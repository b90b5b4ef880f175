import { DEFAULT_FORMAT, parseLogFormat } from '../core/log-format.js';
import { isS3Url, parseS3Url } from '../io/s3-url.js';
import type { Selection } from '../run/select.js';
import { rowFormatNamed, stdoutProblem } from '../streams/row-formats.js';
import {
  type RawConvertOptions,
  type RunOptions,
  readCliOptions,
  type S3Options,
  type TaskOptions,
} from './options.js';
import { UsageError } from './usage-error.js';
import { autoShard } from './validate.js';

export type { RawConvertOptions } from './options.js';

/**
 * Everything a run needs, validated once at the edge: the run-level options at the top, the
 * per-object options in `task` (ConvertOptions but its S3 settings), S3 settings but the region in
 * `s3`. Fields and defaults come from the option table (options.ts).
 */
export interface Config extends RunOptions {
  inputs: string[];
  selection: Selection;
  task: TaskOptions;
  s3: S3Options;
}

export function createConfig(
  raw: RawConvertOptions,
  env: Record<string, string | undefined> = process.env,
): Config {
  if (!raw.inputs || raw.inputs.length === 0)
    throw new UsageError('convert needs at least one input (a file, a directory, or - for stdin)');
  // The environment decides `--shard auto` (AWS Batch); the table checks the i/n it gives like a typed one.
  const given = raw.shard === 'auto' ? { ...raw, shard: autoShard(env) } : raw;
  const { run, task, select, s3 } = readCliOptions(given, env);
  const { to } = run;
  const stdinCount = raw.inputs.filter((input) => input === '-').length;
  if (stdinCount > 1) throw new UsageError('- (stdin) can be given only once');
  if (to === '-' && raw.inputs.length !== 1) {
    throw new UsageError(
      `--to - (stdout) takes exactly one input, got ${raw.inputs.length}: ${raw.inputs.join(' ')}`,
    );
  }
  if (stdinCount === 1 && to !== '-') throw new UsageError('- (stdin) converts only to --to - (stdout)');
  const notStreamable = to === '-' ? stdoutProblem(rowFormatNamed(task.outputFormat)) : undefined;
  if (notStreamable) throw new UsageError(notStreamable);
  if (run.rejects !== undefined && to !== '-') {
    throw new UsageError(
      '--rejects is for stdout mode; with --to DIR, rejects are written beside each output',
    );
  }
  checkPartitioning(run, task.logFormat);
  for (const location of [...raw.inputs, to]) {
    if (isS3Url(location) && !parseS3Url(location))
      throw new UsageError(`${location} is not an S3 URL of the form s3://bucket/prefix`);
  }
  return {
    ...run,
    inputs: raw.inputs,
    selection: {
      include: select.include,
      exclude: select.exclude,
      shard: select.shard,
      skipErrorPrefixes: !select.convertErrorPrefixes,
    },
    task: { ...task, gzipLevel: run.gzip ? task.gzipLevel : 0 },
    s3,
  };
}

/**
 * The partitioning options together: AWS's tree is by hour (a day partition would not be its layout),
 * names its region (from the records' `region` field, which the log format must then have, or from
 * --aws-region-label), and neither fits one stream on stdout.
 */
function checkPartitioning(run: RunOptions, logFormat: string | undefined): void {
  const partitioned = run.partition !== 'none' || run.layout === 'aws';
  if (partitioned && run.to === '-') {
    const flag = run.layout === 'aws' ? '--layout aws' : `--partition ${run.partition}`;
    throw new UsageError(
      `${flag} writes one output per partition: give --to DIR or s3://bucket/prefix, not -`,
    );
  }
  if (run.layout !== 'aws') {
    if (run.awsRegionLabel !== undefined)
      throw new UsageError('--aws-region-label is for --layout aws (it names the aws-region=… partition)');
    return;
  }
  if (run.partition === 'day')
    throw new UsageError(
      '--layout aws partitions by hour, as AWS delivers flow logs; it conflicts with --partition day',
    );
  const format = logFormat ? parseLogFormat(logFormat) : DEFAULT_FORMAT;
  if (run.awsRegionLabel === undefined && !format.fields.some((field) => field.name === 'region')) {
    throw new UsageError(
      "--layout aws needs each record's region: the log format has no ${region} field, so give --aws-region-label REGION (e.g. us-east-1)",
    );
  }
}
