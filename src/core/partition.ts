import { FlowhoseError } from './errors.js';
import type { FlowFormat } from './log-format.js';
import type { RecordProblem, RecordView } from './record-view.js';
import type { CreateRowEncoder, RowEncoder } from './row-encoder.js';

/**
 * Partitions by flow time: which Hive-style partition (`year=2020/month=02/day=01/hour=00`, UTC,
 * zero-padded) a record belongs to, and a RowEncoder that routes each record to one child encoder per
 * partition, so any output format (CSV, NDJSON, Parquet) is partitioned the same way. Pure: what a
 * partition's bytes go to is the caller's (onPartition).
 *
 * A record's time, in this order: its `start` field (Unix seconds, or milliseconds past year 5000, as
 * RecordView reads it), the CloudWatch event time, the source's own time (S3 LastModified, a file's
 * mtime), else FALLBACK_PARTITION_MS: the epoch, `year=1970/month=01/day=01/hour=00`, where a row
 * that carries no time at all can still be found.
 */
export type PartitionBy = 'day' | 'hour';
export const PARTITION_BYS: readonly ('none' | PartitionBy)[] = ['none', 'day', 'hour'];

export interface PartitionScheme {
  by: PartitionBy;
  /**
   * AWS's native layout: `aws-account-id=<id>/aws-service=vpcflowlogs/aws-region=<region>/` before
   * the time. The account is the record's `account-id` (`unknown` when it has none), the region its
   * `region` field when the format has one (else, or when it is `-`, `regionLabel`).
   */
  aws?: { regionLabel?: string };
}

export const FALLBACK_PARTITION_MS = 0;
/** Largest epoch-millisecond value a JavaScript Date accepts. */
const MAX_DATE_MS = 8.64e15;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

const isDateMs = (ms: number): boolean => Number.isInteger(ms) && Math.abs(ms) <= MAX_DATE_MS;
const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** `year=2020/month=02/day=01` (and `/hour=00` by hour) of an epoch-millisecond time, in UTC. */
export function timePartition(ms: number, by: PartitionBy): string {
  const d = new Date(ms);
  const day = `year=${pad(d.getUTCFullYear(), 4)}/month=${pad(d.getUTCMonth() + 1, 2)}/day=${pad(d.getUTCDate(), 2)}`;
  return by === 'hour' ? `${day}/hour=${pad(d.getUTCHours(), 2)}` : day;
}

/** The time a record is partitioned by (see the module comment). */
export function partitionTimeMs(record: RecordView, sourceTimeMs: number | undefined): number {
  const start = record.startMs();
  if (isDateMs(start)) return start;
  if (isDateMs(record.timeMs)) return record.timeMs;
  if (sourceTimeMs !== undefined && isDateMs(sourceTimeMs)) return sourceTimeMs;
  return FALLBACK_PARTITION_MS;
}

/**
 * A partition value as a path segment, escaped as Hive escapes one: every byte outside
 * `[A-Za-z0-9_-]` as `%XX` (so `..` or `/` can never form a path), the empty value as `unknown`.
 */
export function partitionValue(text: string): string {
  if (text === '') return 'unknown';
  if (/^[A-Za-z0-9_-]+$/.test(text)) return text;
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_-]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export interface PartitionRouterOptions {
  scheme: PartitionScheme;
  createEncoder: CreateRowEncoder;
  chunkBytes: number;
  /** The source's own time (epoch ms), for records with neither a start nor an event time. */
  sourceTimeMs?: number;
  /** Partitions one input may open; a record past the bound fails the input (TOO_MANY_PARTITIONS). */
  maxPartitions: number;
  /** A partition's first record: where that partition's bytes go, by its key (`year=…/hour=…`). */
  onPartition(key: string): (chunk: Buffer) => void;
}

/**
 * One child encoder per partition, each opened on its partition's first record (which gets the
 * header first), so within a partition the rows keep the input's order. The last partition used is
 * remembered: flow logs come roughly in time order, so most records go where the previous one went,
 * found by comparing one number (and, for AWS's layout, the account and region bytes).
 */
export class PartitionRouter implements RowEncoder {
  private readonly children = new Map<string, RowEncoder>();
  private format: FlowFormat | undefined;
  private last: RowEncoder | undefined;
  private lastBucket = Number.NaN;
  private lastAccount: Uint8Array | undefined;
  private lastRegion: Uint8Array | undefined;
  private accountIndex = -1;
  private regionIndex = -1;
  private checker: RowEncoder | undefined;
  private readonly unit: number;

  constructor(private readonly options: PartitionRouterOptions) {
    this.unit = options.scheme.by === 'hour' ? HOUR_MS : DAY_MS;
  }

  /** How many partitions are open. */
  get size(): number {
    return this.children.size;
  }

  header(format: FlowFormat): void {
    this.format = format;
    const names = format.fields.map((field) => field.name);
    this.accountIndex = names.indexOf('account-id');
    this.regionIndex = names.indexOf('region');
  }

  /** Lends from the partition most likely next (the last one): a row that goes elsewhere is copied there. */
  lend(record: RecordView, recordBytes: number, fieldCount: number): void {
    this.last?.lend?.(record, recordBytes, fieldCount);
  }

  check(record: RecordView): RecordProblem | undefined {
    // Every child is the same kind of encoder: any one of them (or a spare, before the first) can tell.
    if (!this.last) {
      this.checker ??= this.options.createEncoder(() => {}, 1024);
      this.last = this.checker;
    }
    return this.last.check?.(record);
  }

  row(record: RecordView): void {
    this.route(record).row(record);
  }

  flush(): void {
    for (const child of this.children.values()) child.flush();
  }

  private route(record: RecordView): RowEncoder {
    const ms = partitionTimeMs(record, this.options.sourceTimeMs);
    const bucket = Math.floor(ms / this.unit);
    const aws = this.options.scheme.aws;
    if (bucket === this.lastBucket && this.last !== this.checker) {
      if (!aws) return this.last!;
      if (
        sameBytes(record, this.accountIndex, this.lastAccount) &&
        sameBytes(record, this.regionIndex, this.lastRegion)
      ) {
        return this.last!;
      }
    }
    let key = timePartition(ms, this.options.scheme.by);
    if (aws) {
      const account = this.accountIndex >= 0 ? record.text(this.accountIndex) : '';
      const region = (this.regionIndex >= 0 ? record.text(this.regionIndex) : '') || (aws.regionLabel ?? '');
      key = `aws-account-id=${partitionValue(account)}/aws-service=vpcflowlogs/aws-region=${partitionValue(region)}/${key}`;
      this.lastAccount = fieldBytes(record, this.accountIndex);
      this.lastRegion = fieldBytes(record, this.regionIndex);
    }
    this.lastBucket = bucket;
    let child = this.children.get(key);
    if (!child) child = this.open(key);
    this.last = child;
    return child;
  }

  private open(key: string): RowEncoder {
    const max = this.options.maxPartitions;
    if (this.children.size >= max) {
      throw new FlowhoseError(
        'TOO_MANY_PARTITIONS',
        `the rows of this object fall in more than ${max} partitions (the next is ${key}); each open partition holds an encoder, a codec and an upload`,
        undefined,
        'maxPartitions',
      );
    }
    const child = this.options.createEncoder(this.options.onPartition(key), this.options.chunkBytes);
    if (this.format) child.header(this.format);
    this.children.set(key, child);
    return child;
  }
}

/** A copy of field i's bytes (undefined when the format has no such field). */
function fieldBytes(record: RecordView, i: number): Uint8Array | undefined {
  if (i < 0) return undefined;
  return record.image.slice(record.fieldStart(i), record.ends[i]!);
}

function sameBytes(record: RecordView, i: number, bytes: Uint8Array | undefined): boolean {
  if (i < 0 || !bytes) return i < 0;
  const start = record.fieldStart(i);
  const end = record.ends[i]!;
  if (end - start !== bytes.length) return false;
  const image = record.image;
  for (let k = 0; k < bytes.length; k++) if (image[start + k] !== bytes[k]) return false;
  return true;
}
