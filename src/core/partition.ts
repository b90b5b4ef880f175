import { FlowhoseError } from './errors.js';
import type { FlowFormat } from './log-format.js';
import type { RecordProblem, RecordView } from './record-view.js';
import type { CreateRowEncoder, CsvRowsEncoder, RowEncoder } from './row-encoder.js';

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
   * the time. The account is the record's `account-id` (`unknown` when it is `-`; the CloudWatch
   * payload's `owner` when the format has no account-id, `unknown` without one), the region its
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
  private lastOwner = '';
  private accountIndex = -1;
  private regionIndex = -1;
  private checker: RowEncoder | undefined;
  private readonly unit: number;

  constructor(private readonly options: PartitionRouterOptions) {
    this.unit = options.scheme.by === 'hour' ? HOUR_MS : DAY_MS;
  }

  protected get sourceTimeMs(): number | undefined {
    return this.options.sourceTimeMs;
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
    if (!this.options.scheme.aws) return this.pick(ms, record.image, -1, -1, -1, -1);
    const a = this.accountIndex;
    const r = this.regionIndex;
    return this.pick(
      ms,
      record.image,
      a < 0 ? -1 : record.fieldStart(a),
      a < 0 ? -1 : record.ends[a]!,
      r < 0 ? -1 : record.fieldStart(r),
      r < 0 ? -1 : record.ends[r]!,
      record.owner,
    );
  }

  /**
   * The child for a time and (AWS's tree) the account and region bytes in `bytes` ([start, end), or -1
   * when the format has no such field). Most records go where the one before went: one comparison of
   * numbers (and of a few bytes) finds it.
   */
  protected pick(
    ms: number,
    bytes: Uint8Array,
    accountStart: number,
    accountEnd: number,
    regionStart: number,
    regionEnd: number,
    owner = '',
  ): RowEncoder {
    const bucket = Math.floor(ms / this.unit);
    const aws = this.options.scheme.aws;
    if (
      bucket === this.lastBucket &&
      this.last !== this.checker &&
      (!aws ||
        (sameBytes(bytes, accountStart, accountEnd, this.lastAccount) &&
          sameBytes(bytes, regionStart, regionEnd, this.lastRegion) &&
          (accountStart >= 0 || owner === this.lastOwner)))
    ) {
      return this.last!;
    }
    let key = timePartition(ms, this.options.scheme.by);
    if (aws) {
      // A format without account-id: the payload's owner, the account of the log group.
      const account = accountStart < 0 ? owner : utf8(bytes, accountStart, accountEnd);
      this.lastOwner = owner;
      const region = (regionStart < 0 ? '' : utf8(bytes, regionStart, regionEnd)) || (aws.regionLabel ?? '');
      key = `aws-account-id=${partitionValue(account)}/aws-service=vpcflowlogs/aws-region=${partitionValue(region)}/${key}`;
      this.lastAccount = accountStart < 0 ? undefined : bytes.slice(accountStart, accountEnd);
      this.lastRegion = regionStart < 0 ? undefined : bytes.slice(regionStart, regionEnd);
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

  /** The format's field indexes the routing reads: start, and for AWS's tree account-id and region. */
  protected get fieldsRead(): { start: number; account: number; region: number; fields: number } {
    const aws = this.options.scheme.aws !== undefined;
    return {
      fields: this.format?.fields.length ?? 0,
      start: this.format?.startIndex ?? -1,
      account: aws ? this.accountIndex : -1,
      region: aws ? this.regionIndex : -1,
    };
  }
}

const utf8 = (bytes: Uint8Array, start: number, end: number): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('utf8');

function sameBytes(bytes: Uint8Array, start: number, end: number, last: Uint8Array | undefined): boolean {
  if (start < 0 || !last) return start < 0 && !last;
  if (end - start !== last.length) return false;
  for (let k = 0; k < last.length; k++) if (bytes[start + k] !== last[k]) return false;
  return true;
}

const COMMA = 0x2c;
/** startMsFromEnd met a quote: no time it could give. */
const QUOTED = -1;
const QUOTE = 0x22;
const LF = 0x0a;

/**
 * A router over CSV encoders that also takes whole CSV rows (the WebAssembly fast path writes the rows
 * of whole payloads itself, so the partitioned output keeps its speed): each row is routed by the columns
 * it holds, the start field (column startIndex + 1) or else the event time in column 0, and runs of rows
 * that go to one partition are handed on in one piece. A row with a quote (a field holding `,` or `"`,
 * rare in flow logs) is read by the quoting rules; any other row by its commas.
 */
export class CsvPartitionRouter extends PartitionRouter implements CsvRowsEncoder {
  private readonly bounds = new Int32Array(8);

  writeBytes(rows: Uint8Array): void {
    const text = Buffer.from(rows.buffer, rows.byteOffset, rows.byteLength);
    const { start, account, region, fields } = this.fieldsRead;
    const aws =
      account >= 0 || region >= 0
        ? { account: account < 0 ? -1 : account + 1, region: region < 0 ? -1 : region + 1 }
        : undefined;
    // Commas from the row's end back to the one before the start column: the start field sits near the
    // end of most formats (v2: 4 commas back), so a row is read from its end, a few bytes.
    const back = start < 0 ? -1 : fields - start;
    let run: RowEncoder | undefined;
    let runStart = 0;
    let p = 0;
    while (p < text.length) {
      let end = text.indexOf(LF, p);
      if (end < 0) end = text.length - 1; // rows always end in LF; be safe
      const child = aws ? this.routeAws(text, p, end, back, aws) : this.routeByStart(text, p, end, back);
      if (child !== run) {
        if (run) (run as CsvRowsEncoder).writeBytes(text.subarray(runStart, p));
        run = child;
        runStart = p;
      }
      p = end + 1;
    }
    if (run) (run as CsvRowsEncoder).writeBytes(text.subarray(runStart, p));
  }

  /**
   * The start field's time, read from the row's end (`back` commas), the ms rule applied; NaN when it is
   * empty or past what a Date holds, QUOTED when a quote comes first (the row is then read in full).
   */
  private startMsFromEnd(row: Buffer, from: number, end: number, back: number): number {
    let commas = 0;
    let fieldEnd = end;
    for (let i = end - 1; i > from; i--) {
      const c = row[i]!;
      if (c === COMMA) {
        if (++commas < back) {
          fieldEnd = i;
          continue;
        }
        if (fieldEnd === i + 1) return Number.NaN;
        let value = 0;
        for (let k = i + 1; k < fieldEnd; k++) value = value * 10 + (row[k]! - 0x30);
        const ms = value >= 1e11 ? value : value * 1000;
        return isDateMs(ms) ? ms : Number.NaN;
      }
      if (c === QUOTE) return QUOTED;
    }
    return Number.NaN;
  }

  /** By time alone: the start field found from the row's end, else the event time (column 0). */
  private routeByStart(row: Buffer, from: number, end: number, back: number): RowEncoder {
    const start = back > 0 ? this.startMsFromEnd(row, from, end, back) : Number.NaN;
    if (start === QUOTED) return this.routeRow(row, from, end, this.fieldsRead.fields - back, undefined);
    if (!Number.isNaN(start)) return this.pick(start, row, -1, -1, -1, -1);
    const comma = row.indexOf(COMMA, from);
    const ms = comma > from ? Date.parse(row.toString('latin1', from, comma)) : Number.NaN;
    return this.pick(isDateMs(ms) ? ms : this.fallbackMs(), row, -1, -1, -1, -1);
  }

  /** AWS's tree: the start from the row's end as above, the account and region columns from its beginning. */
  private routeAws(
    row: Buffer,
    from: number,
    end: number,
    back: number,
    aws: { account: number; region: number },
  ): RowEncoder {
    const start = back > 0 ? this.startMsFromEnd(row, from, end, back) : Number.NaN;
    if (start === QUOTED || Number.isNaN(start))
      return this.routeRow(row, from, end, back > 0 ? this.fieldsRead.fields - back : -1, aws);
    // The common row: account (and region) found by their commas from the front, a few dozen bytes.
    if (!this.column(row, from, end, aws.account)) return this.routeRow(row, from, end, -1, aws, start);
    const accountStart = this.found;
    const accountEnd = this.foundEnd;
    if (aws.region < 0) return this.pick(start, row, accountStart, accountEnd, -1, -1);
    if (!this.column(row, from, end, aws.region)) return this.routeRow(row, from, end, -1, aws, start);
    return this.pick(start, row, accountStart, accountEnd, this.found, this.foundEnd);
  }

  private found = -1;
  private foundEnd = -1;

  /**
   * Where CSV column `column` of the row is (in found, foundEnd; -1 for a column the format lacks);
   * false when a quote comes first, so the row must be read by the quoting rules.
   */
  private column(row: Buffer, from: number, end: number, column: number): boolean {
    if (column < 0) {
      this.found = -1;
      this.foundEnd = -1;
      return true;
    }
    let commas = 0;
    let i = from;
    for (; i < end && commas < column; i++) {
      const c = row[i]!;
      if (c === COMMA) commas++;
      else if (c === QUOTE) return false;
    }
    let j = i;
    for (; j < end; j++) {
      const c = row[j]!;
      if (c === COMMA) break;
      if (c === QUOTE) return false;
    }
    this.found = i;
    this.foundEnd = j;
    return true;
  }

  private fallbackMs(): number {
    const source = this.sourceTimeMs;
    return source !== undefined && isDateMs(source) ? source : FALLBACK_PARTITION_MS;
  }

  private routeRow(
    row: Buffer,
    from: number,
    end: number,
    startField: number,
    aws: { account: number; region: number } | undefined,
    knownMs = Number.NaN,
  ): RowEncoder {
    const bounds = this.bounds;
    // bounds: [timeStart, timeEnd, startStart, startEnd, accountStart, accountEnd, regionStart, regionEnd]
    bounds.fill(-1);
    const startColumn = startField < 0 ? -1 : startField + 1;
    const last = Math.max(startColumn, aws?.account ?? -1, aws?.region ?? -1);
    let quoted = false;
    let column = 0;
    let fieldStart = from;
    for (let i = from; i <= end && column <= last; i++) {
      const c = i === end ? COMMA : row[i]!;
      if (c === QUOTE) {
        quoted = true;
        break;
      }
      if (c !== COMMA) continue;
      if (column === 0) this.mark(0, fieldStart, i);
      if (column === startColumn) this.mark(2, fieldStart, i);
      if (aws && column === aws.account) this.mark(4, fieldStart, i);
      if (aws && column === aws.region) this.mark(6, fieldStart, i);
      column++;
      fieldStart = i + 1;
    }
    let bytes: Uint8Array = row;
    if (quoted) bytes = this.unquote(row, from, end, startColumn, aws);
    const ms = Number.isNaN(knownMs) ? this.rowTimeMs(bytes) : knownMs;
    return this.pick(ms, bytes, bounds[4]!, bounds[5]!, bounds[6]!, bounds[7]!);
  }

  private mark(at: number, start: number, end: number): void {
    this.bounds[at] = start;
    this.bounds[at + 1] = end;
  }

  /** The row's fields by RFC 4180 into a fresh buffer, with their bounds in it. */
  private unquote(
    row: Buffer,
    from: number,
    end: number,
    startColumn: number,
    aws: { account: number; region: number } | undefined,
  ): Uint8Array {
    const out = new Uint8Array(end - from);
    let o = 0;
    let column = 0;
    let fieldStart = 0;
    let inQuotes = false;
    for (let i = from; i <= end; i++) {
      const c = i === end ? COMMA : row[i]!;
      if (inQuotes) {
        if (c === QUOTE && row[i + 1] === QUOTE && i + 1 < end) {
          out[o++] = QUOTE;
          i++;
        } else if (c === QUOTE) inQuotes = false;
        else out[o++] = c;
        continue;
      }
      if (c === QUOTE) {
        inQuotes = true;
        continue;
      }
      if (c !== COMMA) {
        out[o++] = c;
        continue;
      }
      if (column === 0) this.mark(0, fieldStart, o);
      if (column === startColumn) this.mark(2, fieldStart, o);
      if (aws && column === aws.account) this.mark(4, fieldStart, o);
      if (aws && column === aws.region) this.mark(6, fieldStart, o);
      column++;
      fieldStart = o;
    }
    return out;
  }

  /** The partition time of a row, by the rule of partitionTimeMs: start, then the event time in column 0. */
  private rowTimeMs(bytes: Uint8Array): number {
    const b = this.bounds;
    if (b[2]! >= 0 && b[3]! > b[2]!) {
      let value = 0;
      for (let i = b[2]!; i < b[3]!; i++) value = value * 10 + (bytes[i]! - 0x30);
      const ms = value >= 1e11 ? value : value * 1000;
      if (isDateMs(ms)) return ms;
    }
    if (b[0]! >= 0 && b[1]! > b[0]!) {
      const ms = Date.parse(utf8(bytes, b[0]!, b[1]!));
      if (isDateMs(ms)) return ms;
    }
    return this.fallbackMs();
  }
}
