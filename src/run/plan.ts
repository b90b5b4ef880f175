import { stat } from 'node:fs/promises';
import { basename, isAbsolute, relative, resolve } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../cli/config.js';
import { walkFiles } from '../io/local-walk.js';
import { joinKey } from '../io/paths.js';
import { parseS3Url, type S3Location } from '../io/s3-url.js';
import { isLayoutName, type Layout } from '../object/layout.js';
import type { SourceRef } from '../object/task.js';
import { fileCodecOf, rowFormatNamed } from '../streams/row-formats.js';
import { select, type Verdict } from './select.js';
import { SetupError } from './setup-error.js';

export type Input =
  | { kind: 'stdin' }
  | { kind: 'file'; path: string }
  | { kind: 'dir'; path: string }
  | { kind: 's3-prefix'; location: S3Location }
  | { kind: 's3-object'; bucket: string; key: string };

export interface Planned {
  source: SourceRef;
  /** The source's path relative to its input (what filters, shards and output names use). */
  relative: string;
  size?: number;
}

/**
 * Checks every input and the destination before any work starts: problems here are SetupErrors.
 * `signal` aborts the S3 lookups (a Ctrl-C while the endpoint does not answer).
 */
export async function resolveInputs(
  config: Config,
  s3: () => Promise<S3Client>,
  signal?: AbortSignal,
): Promise<Input[]> {
  if (config.to !== '-' && !config.to.startsWith('s3://')) {
    const to = await stat(config.to).catch(() => undefined);
    if (to && !to.isDirectory()) throw new SetupError(`--to ${config.to} exists and is not a directory`);
  }
  const inputs: Input[] = [];
  for (const path of config.inputs) {
    if (path === '-') {
      inputs.push({ kind: 'stdin' });
      continue;
    }
    const location = parseS3Url(path);
    if (location) {
      inputs.push(await resolveS3Input(location, await s3(), signal));
      continue;
    }
    const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
      throw new SetupError(
        `cannot read input ${path}: ${error.code === 'ENOENT' ? 'no such file or directory' : error.message}`,
      );
    });
    inputs.push(info.isDirectory() ? { kind: 'dir', path } : { kind: 'file', path });
  }
  if (config.to === '-' && !['stdin', 'file', 's3-object'].includes(inputs[0]!.kind)) {
    throw new SetupError(
      `--to - (stdout) takes one file, one S3 object or stdin, and ${config.inputs[0]} is a directory or prefix`,
    );
  }
  return inputs;
}

/** `s3://b/p/` is a prefix; `s3://b/p/key` is one object when it exists, else the prefix `p/key/`. */
async function resolveS3Input(location: S3Location, client: S3Client, signal?: AbortSignal): Promise<Input> {
  if (location.prefix === '' || location.prefix.endsWith('/')) return { kind: 's3-prefix', location };
  const { headObject } = await import('../io/s3.js');
  try {
    if (await headObject(client, location.bucket, location.prefix, signal)) {
      return { kind: 's3-object', bucket: location.bucket, key: location.prefix };
    }
  } catch (error) {
    throw new SetupError(
      `cannot read s3://${location.bucket}/${location.prefix}: ${(error as Error).name}: ${(error as Error).message}`,
    );
  }
  return { kind: 's3-prefix', location: { bucket: location.bucket, prefix: `${location.prefix}/` } };
}

export interface PlanCounts {
  filtered: number;
  errorPrefix: number;
  otherShard: number;
}

/**
 * Every selected source object, input by input, lazily (a listing is never held whole). `signal`
 * aborts a listing request in flight (no more objects are wanted).
 */
export async function* planSources(
  inputs: Input[],
  config: Config,
  s3: () => Promise<S3Client>,
  counts: PlanCounts,
  signal?: AbortSignal,
): AsyncGenerator<Planned> {
  const take = (relative: string) => {
    const verdict: Verdict = select(relative, config.selection);
    if (verdict === 'filtered') counts.filtered++;
    else if (verdict === 'error-prefix') counts.errorPrefix++;
    else if (verdict === 'other-shard') counts.otherShard++;
    return verdict === 'take';
  };
  for (const input of inputs) {
    if (input.kind === 'stdin') {
      yield { source: { kind: 'stdin' }, relative: 'stdin' };
    } else if (input.kind === 'file') {
      const relative = basename(resolve(input.path));
      if (take(relative)) yield { source: { kind: 'file', path: input.path }, relative };
    } else if (input.kind === 'dir') {
      const skip = config.to.startsWith('s3://') || config.to === '-' ? undefined : config.to;
      for await (const file of walkFiles(input.path, skip)) {
        if (skip && isLayoutName(file.relative) && isInside(file.path, skip)) continue;
        if (config.startAfter !== undefined && file.relative <= config.startAfter) continue;
        if (take(file.relative)) yield { source: { kind: 'file', path: file.path }, relative: file.relative };
      }
    } else if (input.kind === 's3-object') {
      const relative = input.key.slice(input.key.lastIndexOf('/') + 1);
      yield { source: { kind: 's3', bucket: input.bucket, key: input.key }, relative };
    } else {
      const { bucket, prefix } = input.location;
      const startAfter =
        config.startAfter === undefined
          ? undefined
          : config.startAfter.startsWith(prefix)
            ? config.startAfter
            : joinKey(prefix, config.startAfter);
      const { listObjects } = await import('../io/s3.js');
      // An output prefix inside the input prefix is never read back as input; where the output prefix is
      // the input prefix or above it, the names the layout writes are left out.
      const to = parseS3Url(config.to);
      const toPrefix = to && to.bucket === bucket ? to.prefix.replace(/(?<=.)\/?$/, '/') : undefined;
      const ownSubtree =
        toPrefix !== undefined && toPrefix.length > prefix.length && toPrefix.startsWith(prefix);
      const ownNames = toPrefix !== undefined && !ownSubtree && prefix.startsWith(toPrefix);
      for await (const object of listObjects(await s3(), input.location, startAfter, signal)) {
        const relative = object.key.slice(prefix.length);
        if (ownSubtree && object.key.startsWith(toPrefix)) continue;
        if (ownNames && isLayoutName(object.key)) continue;
        if (!take(relative)) continue;
        yield {
          source: {
            kind: 's3',
            bucket,
            key: object.key,
            etag: object.etag,
            size: object.size,
            lastModified: object.lastModified,
          },
          relative,
          size: object.size,
        };
      }
    }
  }
}

/** A source's layout: the destination root, its name below the input, and the output's format and codec. */
export function layoutOf(planned: Planned, config: Config): Layout {
  return {
    to: config.to,
    relative: planned.relative,
    format: config.task.outputFormat,
    codec: fileCodecOf(rowFormatNamed(config.task.outputFormat), config.task),
    rejects: config.rejects,
    ...(config.layout === 'aws'
      ? { aws: config.awsRegionLabel === undefined ? {} : { regionLabel: config.awsRegionLabel } }
      : config.partition !== 'none'
        ? { partition: config.partition }
        : {}),
  };
}

const isInside = (path: string, dir: string): boolean => {
  const rel = relative(resolve(dir), resolve(path));
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
};
