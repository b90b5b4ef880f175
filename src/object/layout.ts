/**
 * Where one source's outputs go: a pure mapping from plain arguments (the destination root, the source's
 * name below its input, the row format and the codec) to names, usable without a run or a Config.
 *
 *   a/b/obj.gz ─► a/b/obj.csv.gz        the output: the source's stem + row format + codec extension
 *             ─► a/b/_obj.rejects.jsonl rejected records, under a name Athena, Hive and Spark skip (`_`)
 *             ─► a/b/.obj.flowhose.json the commit record, written last (local destinations; hidden, `.`)
 *
 * Partitioned by flow time (`partition: 'hour'`), one output per partition the rows touch, named from the
 * source's own name so that a rerun writes the same names; rejects and the commit record stay at the
 * mirror's place (also on S3, where the record is what resume reads):
 *
 *   a/b/obj.gz ─► year=2020/month=02/day=01/hour=00/obj.csv.gz   (and hour=01/obj.csv.gz …)
 *             ─► AWSLogs/aws-account-id=…/aws-service=vpcflowlogs/aws-region=…/year=…/hour=…/obj.csv.gz  (aws)
 *             ─► a/b/_obj.rejects.jsonl, a/b/.obj.flowhose.json
 */
import { join } from 'node:path';
import type { PartitionBy, PartitionScheme } from '../core/partition.js';
import { joinKey, safeJoin } from '../io/paths.js';
import { parseS3Url } from '../io/s3-url.js';
import { CODECS, type CodecName, codecNamed } from '../streams/codecs.js';
import { ROW_FORMATS, type RowFormatName } from '../streams/row-formats.js';

// The row formats' descriptors (name, extension, Content-Type, compressions, encoder) live beside the
// codecs' (streams/row-formats.ts); this module reads only their names.
export { ROW_FORMATS, type RowFormat, type RowFormatName } from '../streams/row-formats.js';

/** Plain data, so a task can carry it into a worker. */
export interface Layout {
  /** The destination root as given: a directory, `s3://bucket/prefix`, or `-` for standard output. */
  to: string;
  /** The source's path or key below its input, `/`-separated. */
  relative: string;
  format: RowFormatName;
  codec: CodecName;
  /** Standard output only: a local file for rejected records (elsewhere they sit beside the output). */
  rejects?: string;
  /** One output per partition of flow time; absent: one output that mirrors the source. */
  partition?: PartitionBy;
  /** AWS's native tree (`AWSLogs/aws-account-id=…/…`, by hour); the label names the region when records do not. */
  aws?: { regionLabel?: string };
}

/**
 * How a partitioned destination names its outputs: `<root><partition key>/<base>`. `output` of the
 * DestRef is then the pattern of those names (`year=*\/…/obj.csv.gz`), which is how results name it.
 */
export interface Partitioned {
  scheme: PartitionScheme;
  /** `AWSLogs/` for AWS's tree, else empty. */
  root: string;
  /** The source's name without its directory, plus the output's extensions. */
  base: string;
  /** What the commit record says was written, so that a rerun with other options is not taken as done. */
  describe: string;
}

/** Names below the destination root (`/`-separated), with where that root is. */
export type DestRef =
  | { kind: 'file'; root: string; output: string; rejects: string; record: string; partitioned?: Partitioned }
  | {
      kind: 's3';
      bucket: string;
      prefix: string;
      output: string;
      rejects: string;
      contentType: string;
      /** The commit record of a partitioned set (one output's metadata cannot speak for many). */
      record?: string;
      partitioned?: Partitioned;
    }
  | { kind: 'stdout'; rejects?: string };

/** Firehose's own `.gz` (any case) says nothing about the output: it is dropped first. */
export const sourceStem = (relative: string): string => relative.replace(/\.gz$/i, '');

export function outputName(relative: string, codec: CodecName, format: RowFormatName = 'csv'): string {
  return sourceStem(relative) + ROW_FORMATS[format].extension + codecNamed(codec).extension;
}

/** `a/b/obj.gz` → `a/b/_obj.rejects.jsonl`: beside the output, hidden from table engines. */
export const rejectsName = (relative: string): string => besideStem(relative, '_', '.rejects.jsonl');

/** `a/b/obj.gz` → `a/b/.obj.flowhose.json`: one per source, whatever the codec or format. */
export const commitRecordName = (relative: string): string => besideStem(relative, '.', '.flowhose.json');

function besideStem(relative: string, prefix: string, suffix: string): string {
  const stem = sourceStem(relative);
  const slash = stem.lastIndexOf('/');
  return `${stem.slice(0, slash + 1)}${prefix}${stem.slice(slash + 1)}${suffix}`;
}

/**
 * The same rule for a directory and a prefix: no absolute name, no `.`, `..` or empty segment (by `/` or
 * `\`), no NUL. S3-compatible stores may normalise `..` and write outside the prefix.
 */
export function isSafeName(name: string): boolean {
  if (name === '' || name.includes('\0')) return false;
  return !name.split(/[\\/]/).some((s) => s === '' || s === '.' || s === '..');
}

const OUTPUT_SUFFIXES = Object.values(ROW_FORMATS).flatMap((f) =>
  f.compressesInside ? [f.extension] : Object.values(CODECS).map((c) => f.extension + c.extension),
);

/**
 * Whether a file name (the last segment) is one this layout writes: an output, a rejects file, or a hidden
 * commit record or temporary file. A walk of an input that is also (or lies inside) the destination
 * leaves these out, so a rerun never reads its own outputs as input.
 */
export function isLayoutName(name: string): boolean {
  const base = name.slice(name.lastIndexOf('/') + 1);
  if (base.startsWith('.')) return true;
  if (base.startsWith('_') && base.endsWith('.rejects.jsonl')) return true;
  return OUTPUT_SUFFIXES.some((suffix) => base.endsWith(suffix));
}

/** The S3 Content-Type of an output. */
export const contentTypeOf = (format: RowFormatName, codec: CodecName): string =>
  codecNamed(codec).contentType ?? ROW_FORMATS[format].contentType;

/** The partitioning a layout asks for: AWS's tree is always by hour. */
export function schemeOf(layout: Layout): PartitionScheme | undefined {
  if (layout.aws) return { by: 'hour', aws: { ...layout.aws } };
  return layout.partition ? { by: layout.partition } : undefined;
}

/** `year=*\/month=*\/day=*` (and `/hour=*`), with AWS's account, service and region segments before it. */
export function partitionPattern(scheme: PartitionScheme): string {
  const time = scheme.by === 'hour' ? 'year=*/month=*/day=*/hour=*' : 'year=*/month=*/day=*';
  return scheme.aws ? `aws-account-id=*/aws-service=vpcflowlogs/aws-region=*/${time}` : time;
}

function partitionedFor(layout: Layout, scheme: PartitionScheme): Partitioned {
  const stem = sourceStem(layout.relative);
  const base = outputName(stem.slice(stem.lastIndexOf('/') + 1), layout.codec, layout.format);
  const tree = scheme.aws ? `aws(${scheme.aws.regionLabel ?? ''})` : scheme.by;
  return {
    scheme,
    root: scheme.aws ? 'AWSLogs/' : '',
    base,
    describe: `${tree} ${ROW_FORMATS[layout.format].extension}${codecNamed(layout.codec).extension}`,
  };
}

/** The name of one partition's output, below the destination root. */
export const partitionOutputName = (partitioned: Partitioned, key: string): string =>
  `${partitioned.root}${key}/${partitioned.base}`;

/** Where a source's output set goes, mirrored below a directory or a prefix; an error for an unsafe name. */
export function destinationFor(layout: Layout): DestRef | { error: string } {
  if (layout.to === '-') return { kind: 'stdout', rejects: layout.rejects };
  const scheme = schemeOf(layout);
  const partitioned = scheme && partitionedFor(layout, scheme);
  const output = partitioned
    ? `${partitioned.root}${partitionPattern(scheme)}/${partitioned.base}`
    : outputName(layout.relative, layout.codec, layout.format);
  const outside = { error: `output path ${output} would fall outside ${layout.to}` };
  const names = {
    output,
    rejects: rejectsName(layout.relative),
    record: commitRecordName(layout.relative),
    ...(partitioned ? { partitioned } : {}),
  };
  const unsafe = partitioned ? !isSafeName(names.record) : false;
  const location = parseS3Url(layout.to);
  if (location) {
    if (!isSafeName(output) || unsafe) return outside;
    const contentType = contentTypeOf(layout.format, layout.codec);
    const { record, ...rest } = names;
    return {
      kind: 's3',
      bucket: location.bucket,
      prefix: location.prefix,
      ...rest,
      ...(partitioned ? { record } : {}),
      contentType,
    };
  }
  if (!isSafeName(output) || unsafe || !safeJoin(layout.to, output)) return outside;
  return { kind: 'file', root: layout.to, ...names };
}

/** A name below the destination root, as a local path or an S3 key. */
export function locate(dest: DestRef & { kind: 'file' | 's3' }, name: string): string {
  return dest.kind === 'file' ? join(dest.root, name) : joinKey(dest.prefix, name);
}

/** How results and messages name a destination member: a path, `s3://bucket/key`, or `-`. */
export function describeDest(dest: DestRef, member: 'output' | 'rejects' = 'output'): string {
  if (dest.kind === 'stdout') return member === 'output' ? '-' : (dest.rejects ?? '');
  return describeName(dest, dest[member]);
}

/** A name below the destination root as results show it. */
export function describeName(dest: DestRef & { kind: 'file' | 's3' }, name: string): string {
  const at = locate(dest, name);
  return dest.kind === 'file' ? at : `s3://${dest.bucket}/${at}`;
}

/** The output's description, or '' when the layout is unsafe (the task then fails as UNSAFE_PATH). */
export function describeLayout(layout: Layout): string {
  const dest = destinationFor(layout);
  return 'error' in dest ? '' : describeDest(dest);
}
