/**
 * Where one source's outputs go: a pure mapping from plain arguments (the destination root, the source's
 * name below its input, the row format and the codec) to names, usable without a run or a Config.
 *
 *   a/b/obj.gz ─► a/b/obj.csv.gz        the output: the source's stem + row format + codec extension
 *             ─► a/b/_obj.rejects.jsonl rejected records, under a name Athena, Hive and Spark skip (`_`)
 *             ─► a/b/.obj.flowhose.json the commit record, written last (local destinations; hidden, `.`)
 */
import { join } from 'node:path';
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
}

/** Names below the destination root (`/`-separated), with where that root is. */
export type DestRef =
  | { kind: 'file'; root: string; output: string; rejects: string; record: string }
  | { kind: 's3'; bucket: string; prefix: string; output: string; rejects: string; contentType: string }
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

/** Where a source's output set goes, mirrored below a directory or a prefix; an error for an unsafe name. */
export function destinationFor(layout: Layout): DestRef | { error: string } {
  if (layout.to === '-') return { kind: 'stdout', rejects: layout.rejects };
  const output = outputName(layout.relative, layout.codec, layout.format);
  const outside = { error: `output path ${output} would fall outside ${layout.to}` };
  const names = { output, rejects: rejectsName(layout.relative) };
  const location = parseS3Url(layout.to);
  if (location) {
    if (!isSafeName(output)) return outside;
    const contentType = contentTypeOf(layout.format, layout.codec);
    return { kind: 's3', bucket: location.bucket, prefix: location.prefix, ...names, contentType };
  }
  if (!isSafeName(output) || !safeJoin(layout.to, output)) return outside;
  return { kind: 'file', root: layout.to, ...names, record: commitRecordName(layout.relative) };
}

/** A name below the destination root, as a local path or an S3 key. */
export function locate(dest: DestRef & { kind: 'file' | 's3' }, name: string): string {
  return dest.kind === 'file' ? join(dest.root, name) : joinKey(dest.prefix, name);
}

/** How results and messages name a destination member: a path, `s3://bucket/key`, or `-`. */
export function describeDest(dest: DestRef, member: 'output' | 'rejects' = 'output'): string {
  if (dest.kind === 'stdout') return member === 'output' ? '-' : (dest.rejects ?? '');
  const at = locate(dest, dest[member]);
  return dest.kind === 'file' ? at : `s3://${dest.bucket}/${at}`;
}

/** The output's description, or '' when the layout is unsafe (the task then fails as UNSAFE_PATH). */
export function describeLayout(layout: Layout): string {
  const dest = destinationFor(layout);
  return 'error' in dest ? '' : describeDest(dest);
}
