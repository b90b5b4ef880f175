/**
 * What a destination records about the source it was made from, and whether it already holds exactly
 * this version of it (then a rerun skips the source).
 *
 * - Local: a commit record beside the outputs (`.obj.flowhose.json`, see layout.ts), written after every
 *   member is in place: `{"flowhose":1,"source":…,"etag":…,"members":[{"name","bytes"}…]}`, names below the
 *   destination root. Up to date when the record holds the source's whole version (size and mtime, or an
 *   S3 ETag) and every member is there with its recorded size.
 * - S3: the output's user metadata holds the source's ETag (one PUT, nothing extra to list).
 * - Partitioned (local and S3): one output per partition, so no output speaks for the set: the commit
 *   record (on S3 an object under the same hidden name) is written after every member is in place and
 *   also says how the set was laid out (`layout`, Partitioned.describe). Up to date when it holds the
 *   source's version and that layout and every member it lists is there with its size: a set cut short
 *   (a kill between two renames or two completed uploads) has no new record, so it is converted again.
 *   O(1) memory per source: one small record, one probe per member.
 */
import type { IoAdapters, SourceVersion } from '../io/adapters.js';
import type { SinkTarget } from '../io/sink.js';
import { type DestRef, isSafeName, locate } from './layout.js';

/** Content-Type of a commit record stored on S3. */
const RECORD_CONTENT_TYPE = 'application/json';

/** Metadata names on S3 outputs. */
export const META_SOURCE = 'flowhose-source';
export const META_SOURCE_ETAG = 'flowhose-source-etag';

/** S3 user metadata must be ASCII; keys may not be. */
export const metadataValue = (value: string): string => encodeURIComponent(value);

export interface CommitRecord {
  flowhose: 1;
  /** The source as results name it. */
  source: string;
  /** The version converted: an S3 ETag, or `size-mtimeMs` for a file. */
  etag: string;
  /** Every member in place, by name below the destination root. */
  members: Committed[];
  /** Partitioned sets: how they were laid out (Partitioned.describe). */
  layout?: string;
}

export interface Committed {
  name: string;
  bytes: number;
}

export const commitRecordText = (record: CommitRecord): string => `${JSON.stringify(record)}\n`;

export function parseCommitRecord(text: string | undefined): CommitRecord | undefined {
  if (text === undefined) return undefined;
  try {
    const record = JSON.parse(text) as CommitRecord;
    const valid =
      record?.flowhose === 1 &&
      typeof record.etag === 'string' &&
      Array.isArray(record.members) &&
      record.members.every(
        (m) => typeof m?.name === 'string' && isSafeName(m.name) && typeof m.bytes === 'number',
      ) &&
      (record.layout === undefined || typeof record.layout === 'string');
    return valid ? record : undefined;
  } catch {
    return undefined; // torn by hand, or from elsewhere: not a claim of anything
  }
}

/**
 * The sink targets of a destination's members: output (of an unpartitioned set), rejects and commit
 * record (local, or any partitioned set).
 */
export function targetsOf(
  dest: DestRef,
  source: string,
  version: SourceVersion | undefined,
): { output: SinkTarget; rejects?: SinkTarget; record?: SinkTarget } {
  if (dest.kind === 'stdout') {
    return {
      output: { kind: 'stdout' },
      rejects: dest.rejects ? { kind: 'file', path: dest.rejects } : undefined,
    };
  }
  if (dest.kind === 'file') {
    return {
      output: { kind: 'file', path: locate(dest, dest.output), mtimeMs: version?.time },
      rejects: { kind: 'file', path: locate(dest, dest.rejects) },
      record: { kind: 'file', path: locate(dest, dest.record) },
    };
  }
  const metadata: Record<string, string> = { [META_SOURCE]: metadataValue(source) };
  const s3 = { kind: 's3' as const, bucket: dest.bucket };
  return {
    output: {
      ...s3,
      key: locate(dest, dest.output),
      contentType: dest.contentType,
      metadata: version ? { ...metadata, [META_SOURCE_ETAG]: metadataValue(version.etag) } : metadata,
    },
    rejects: { ...s3, key: locate(dest, dest.rejects), contentType: 'application/x-ndjson', metadata },
    ...(dest.partitioned && dest.record
      ? { record: { ...s3, key: locate(dest, dest.record), contentType: RECORD_CONTENT_TYPE, metadata } }
      : {}),
  };
}

/** The sink target of one partition's output, `name` below the destination root. */
export function memberTarget(
  dest: DestRef & { kind: 'file' | 's3' },
  name: string,
  source: string,
  version: SourceVersion | undefined,
): SinkTarget {
  if (dest.kind === 'file') return { kind: 'file', path: locate(dest, name), mtimeMs: version?.time };
  const metadata: Record<string, string> = { [META_SOURCE]: metadataValue(source) };
  if (version) metadata[META_SOURCE_ETAG] = metadataValue(version.etag);
  return {
    kind: 's3',
    bucket: dest.bucket,
    key: locate(dest, name),
    contentType: dest.contentType,
    metadata,
  };
}

/** What a destination holds of an earlier conversion: whether to skip, and (partitioned) its record. */
export interface PriorState {
  /** Something of an earlier conversion is there (its rejects may then be stale). */
  exists: boolean;
  upToDate: boolean;
  /** A partitioned set's commit record: members it lists that this conversion does not write are stale. */
  record?: CommitRecord;
}

async function checkPartitioned(
  io: IoAdapters,
  dest: DestRef & { kind: 'file' | 's3' },
  version: SourceVersion,
  signal?: AbortSignal,
): Promise<PriorState> {
  const target = targetsOf(dest, '', version).record!;
  const record = parseCommitRecord(await io.readText(target, signal));
  if (!record) return { exists: false, upToDate: false };
  const prior = { exists: true, record };
  if (record.etag !== version.etag || record.layout !== dest.partitioned!.describe)
    return { ...prior, upToDate: false };
  const stored = await Promise.all(
    record.members.map((m) => io.probe(memberTarget(dest, m.name, '', undefined), signal)),
  );
  return { ...prior, upToDate: record.members.every((m, i) => stored[i]?.bytes === m.bytes) };
}

/** `exists`: something of an earlier conversion is there (its rejects may then be stale). */
export async function checkUpToDate(
  io: IoAdapters,
  dest: DestRef,
  version: SourceVersion,
  signal?: AbortSignal,
): Promise<PriorState> {
  if (dest.kind === 'stdout') return { exists: false, upToDate: false };
  if (dest.partitioned) return checkPartitioned(io, dest, version, signal);
  const targets = targetsOf(dest, '', version);
  if (dest.kind === 's3') {
    const stored = await io.probe(targets.output, signal);
    const etag = stored?.metadata?.[META_SOURCE_ETAG];
    return { exists: stored !== undefined, upToDate: etag === metadataValue(version.etag) };
  }
  const [output, record] = await Promise.all([
    io.probe(targets.output, signal),
    io.readText(targets.record!).then(parseCommitRecord, () => undefined),
  ]);
  const exists = output !== undefined || record !== undefined;
  if (!output || !record || record.etag !== version.etag) return { exists, upToDate: false };
  if (!record.members.some((m) => m.name === dest.output)) return { exists, upToDate: false };
  // mtimes pass through float seconds on the way to the file system: allow that rounding.
  if (Math.abs((output.mtimeMs ?? Number.NaN) - version.time) >= 1) return { exists, upToDate: false };
  const stored = await Promise.all(
    record.members.map((m) =>
      m.name === dest.output ? output : io.probe({ kind: 'file', path: locate(dest, m.name) }, signal),
    ),
  );
  const whole = record.members.every((m, i) => stored[i]?.bytes === m.bytes);
  return { exists, upToDate: whole };
}
