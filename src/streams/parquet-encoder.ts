import * as zlib from 'node:zlib';
import { ByteWriter, type ColumnSource, ParquetWriter, type SchemaElement } from 'hyparquet-writer';
import { type Column, columnsOf, rangeProblem } from '../core/columns.js';
import type { FlowFormat } from '../core/log-format.js';
import type { RecordProblem, RecordView } from '../core/record-view.js';
import type { CreateRowEncoder, RowEncoder } from '../core/row-encoder.js';
import { ZSTD_NODE, zstdAvailable } from './codecs.js';

/**
 * Parquet as a RowEncoder, written by hyparquet-writer (pure JavaScript, chosen by measurement: see
 * bench/RESULTS.md "Parquet writer choice"). Rows are gathered into columns of one row group at a
 * time; each full group is encoded, compressed and handed on at once, and the footer at the end, so
 * memory is bounded by the group, not the object, and the bytes stream (stdout, S3 upload, one
 * encoder per partition). Load this module with import() only when Parquet is asked for.
 */
export const PARQUET_COMPRESSIONS = ['zstd', 'snappy', 'gzip', 'none'] as const;
export type ParquetCompression = (typeof PARQUET_COMPRESSIONS)[number];

export interface ParquetSettings {
  compression: ParquetCompression;
  /** zstd's level (1–19) for zstd, zlib's (1–9) for gzip; ignored otherwise. */
  level?: number;
  /** Rows per row group (the last one may hold fewer). */
  rowGroupRows?: number;
}

/**
 * Rows per row group, from the sweep in bench/RESULTS.md: past this the file hardly shrinks, while
 * the group's columns (held as JavaScript values until the group is written) grow with it.
 */
export const DEFAULT_ROW_GROUP_ROWS = 16_384;
export const DEFAULT_PARQUET_ZSTD_LEVEL = 3;
export const DEFAULT_PARQUET_GZIP_LEVEL = 6;

/**
 * zstd where node:zlib has it (Node ≥ 22.15), else gzip: a Node 20 user who asks for nothing gets a
 * compressed file Athena reads rather than a usage error for a choice they did not make. gzip, not
 * snappy, because it is what AWS's own Parquet delivery of flow logs uses, and on Node 20 node:zlib's
 * gzip-6 costs about what hyparquet-writer's JavaScript snappy costs for a third smaller files
 * (bench/RESULTS.md, "Parquet writer choice").
 */
export const defaultParquetCompression = (): ParquetCompression => (zstdAvailable() ? 'zstd' : 'gzip');

/** Why `compression` cannot be had on this Node, or undefined when it can. */
export function parquetCompressionUnavailable(compression: ParquetCompression): string | undefined {
  if (compression !== 'zstd' || zstdAvailable()) return undefined;
  return (
    `Parquet with zstd compression needs Node ${ZSTD_NODE} or newer, whose node:zlib has zstd; this is Node ` +
    `${process.version} (use --compression snappy or gzip, or a newer Node)`
  );
}

/** A column chunk's footer statistics, as the writer keeps them until the footer. */
type Statistics = NonNullable<
  NonNullable<ParquetWriter['row_groups'][number]['columns'][number]['meta_data']>['statistics']
>;

const CODEC_NAMES = { zstd: 'ZSTD', snappy: 'SNAPPY', gzip: 'GZIP', none: 'UNCOMPRESSED' } as const;

type Compressor = (input: Uint8Array) => Uint8Array;
type Compressors = { ZSTD?: Compressor; GZIP?: Compressor };

interface ZstdSync {
  zstdCompressSync?: (input: Uint8Array, options: { params: Record<number, number> }) => Buffer;
  constants: { ZSTD_c_compressionLevel?: number };
}

function compressorsFor(settings: ParquetSettings): Compressors {
  if (settings.compression === 'gzip') {
    const level = settings.level ?? DEFAULT_PARQUET_GZIP_LEVEL;
    return { GZIP: (input) => zlib.gzipSync(input, { level }) };
  }
  if (settings.compression === 'zstd') {
    const problem = parquetCompressionUnavailable('zstd');
    if (problem) throw new Error(problem);
    const z = zlib as unknown as ZstdSync;
    const params = { [z.constants.ZSTD_c_compressionLevel!]: settings.level ?? DEFAULT_PARQUET_ZSTD_LEVEL };
    return { ZSTD: (input) => z.zstdCompressSync!(input, { params }) };
  }
  return {};
}

/** The Parquet schema of a column: every one OPTIONAL, since AWS's `-` is null. */
export function schemaElement(column: Column): SchemaElement {
  const { name } = column;
  switch (column.type) {
    case 'timestamp':
      return {
        name,
        type: 'INT64',
        repetition_type: 'OPTIONAL',
        converted_type: 'TIMESTAMP_MILLIS',
        logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' },
      };
    case 'int32':
      return { name, type: 'INT32', repetition_type: 'OPTIONAL' };
    case 'int64':
      return { name, type: 'INT64', repetition_type: 'OPTIONAL' };
    case 'string':
      return {
        name,
        type: 'BYTE_ARRAY',
        repetition_type: 'OPTIONAL',
        converted_type: 'UTF8',
        logical_type: { type: 'STRING' },
      };
  }
}

/**
 * hyparquet-writer's byte writer, handing its bytes on whenever a write would need more room than is
 * left past `chunkBytes`: everything before the write is final (the writer never seeks back), so each
 * handed-on slice is whole bytes of the file in order. A fresh buffer follows, since onData owns its chunk.
 */
class HandingWriter extends ByteWriter {
  constructor(
    private readonly chunkBytes: number,
    private readonly onData: (chunk: Buffer) => void,
  ) {
    super(chunkBytes);
  }

  override ensure(size: number): void {
    if (this.index + size > this.buffer.byteLength && this.index > 0) this.handOn();
    if (size > this.buffer.byteLength) {
      this.buffer = new ArrayBuffer(Math.max(size, this.chunkBytes));
      this.view = new DataView(this.buffer);
    }
  }

  handOn(): void {
    if (this.index === 0) return;
    this.onData(Buffer.from(this.buffer, 0, this.index));
    this.buffer = new ArrayBuffer(this.chunkBytes);
    this.view = new DataView(this.buffer);
    this.index = 0;
  }

  override finish(): void {
    this.handOn();
  }
}

/** Digits image[start, end) as a number; the view checked they are digits, rangeProblem that they fit. */
function digitsValue(image: Uint8Array, start: number, end: number): number {
  let value = 0;
  for (let i = start; i < end; i++) value = value * 10 + (image[i]! - 0x30);
  return value;
}

const SLOTS = 4096;
const ARENA_BYTES = 64 * 1024;

/**
 * The values of one string column in one row group, as UTF-8 bytes: hyparquet-writer writes a
 * Uint8Array as it is, where a string would be decoded from the record and encoded again. A value
 * seen recently (same bytes in its hash slot) is the same Uint8Array again, which is also how the
 * writer's dictionary recognises it at once; the others are copied into arenas that live as long as
 * the group. Bytes that are not all ASCII go through a string, so the column holds well-formed UTF-8
 * even when the input does not (U+FFFD for a bad sequence, as a UTF-8 decoder reads it).
 */
class GroupStrings {
  private slots: (Uint8Array | undefined)[] = new Array(SLOTS);
  private arena = new Uint8Array(ARENA_BYTES);
  private used = 0;

  value(record: RecordView, i: number, start: number, end: number): Uint8Array {
    const image = record.image;
    let hash = 0x811c9dc5;
    let high = 0;
    for (let k = start; k < end; k++) {
      const c = image[k]!;
      high |= c;
      hash = Math.imul(hash ^ c, 0x01000193);
    }
    if (high >= 0x80) return Buffer.from(record.text(i), 'utf8');
    const length = end - start;
    const slot = (hash ^ (hash >>> 15)) & (SLOTS - 1);
    const cached = this.slots[slot];
    if (cached !== undefined && cached.length === length && sameBytes(cached, image, start)) return cached;
    if (this.used + length > this.arena.length) {
      this.arena = new Uint8Array(Math.max(ARENA_BYTES, length));
      this.used = 0;
    }
    const bytes = this.arena.subarray(this.used, this.used + length);
    bytes.set(image.subarray(start, end));
    this.used += length;
    this.slots[slot] = bytes;
    return bytes;
  }
}

function sameBytes(a: Uint8Array, image: Uint8Array, start: number): boolean {
  for (let k = 0; k < a.length; k++) if (a[k] !== image[start + k]) return false;
  return true;
}

/**
 * The min, max and null count of one column chunk, gathered as the rows come: hyparquet-writer's own
 * statistics walk every value again with a comparison that asks each value its type (a tenth of the
 * encoder's CPU). Bounds are kept as the writer keeps them: numbers for INT32 and TIMESTAMP (it
 * converts the footer's bounds as it converts values), bigints for INT64, and UTF-8 bytes compared
 * unsigned, copied so no group's string arena outlives its group.
 */
class ChunkBounds {
  nulls = 0;
  private lo: number | bigint | undefined;
  private hi: number | bigint | undefined;
  private low: Uint8Array | undefined;
  private high: Uint8Array | undefined;

  /** An INT64 up to 15 digits comes as a number: one bigint per chunk end, not per value. */
  number(value: number | bigint): void {
    if (this.lo === undefined) {
      this.lo = value;
      this.hi = value;
    } else if (value < this.lo) this.lo = value;
    else if (value > this.hi!) this.hi = value;
  }

  bytes(value: Uint8Array): void {
    if (this.low === undefined) {
      this.low = value;
      this.high = value;
    } else if (value !== this.low && value !== this.high) {
      if (compareBytes(value, this.low) < 0) this.low = value;
      else if (compareBytes(value, this.high!) > 0) this.high = value;
    }
  }

  statistics(type: Column['type']): Statistics {
    const null_count = BigInt(this.nulls);
    if (type === 'string') {
      return { null_count, min_value: this.low?.slice(), max_value: this.high?.slice() };
    }
    const big = type === 'int64';
    const bound = (v: number | bigint | undefined) =>
      v === undefined ? undefined : big ? BigInt(v) : Number(v);
    // The writer's own normalisation (a zero minimum is -0), so the two agree value for value.
    const min_value = bound(this.lo);
    return { null_count, min_value: min_value === 0 ? -0 : min_value, max_value: bound(this.hi) };
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let k = 0; k < length; k++) if (a[k] !== b[k]) return a[k]! - b[k]!;
  return a.length - b.length;
}

/** Up to 15 digits are exact as a double; INT64 columns take bigints. */
const EXACT_DIGITS = 15;

export class ParquetEncoder implements RowEncoder {
  private readonly writer: HandingWriter;
  private readonly rowGroupRows: number;
  private readonly codec: (typeof CODEC_NAMES)[ParquetCompression];
  private readonly compressors: Compressors;
  private parquet: ParquetWriter | undefined;
  private columns: readonly Column[] = [];
  private data: (Uint8Array | number | bigint | null)[][] = [];
  /** Per column, its GroupStrings when it is a string column. */
  private strings: (GroupStrings | undefined)[] = [];
  /** Per column, the min, max and null count of the group's values so far. */
  private bounds: ChunkBounds[] = [];
  private rows = 0;
  private finished = false;

  constructor(chunkBytes: number, onData: (chunk: Buffer) => void, settings: ParquetSettings) {
    this.writer = new HandingWriter(chunkBytes, onData);
    this.rowGroupRows = settings.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS;
    this.codec = CODEC_NAMES[settings.compression];
    this.compressors = compressorsFor(settings);
  }

  header(format: FlowFormat): void {
    this.columns = columnsOf(format);
    const schema: SchemaElement[] = [
      { name: 'schema', num_children: this.columns.length },
      ...this.columns.map(schemaElement),
    ];
    this.parquet = new ParquetWriter({
      writer: this.writer,
      schema,
      codec: this.codec,
      compressors: this.compressors,
      // Exact bounds for every value a flow field holds (IPv6 is 39 bytes, ARNs some 100); longer are
      // truncated, correctly since hyparquet-writer 0.15.7.
      statisticsTruncateLength: 256,
      createdBy: 'flowhose (hyparquet-writer)',
    });
    this.startGroup();
  }

  check(record: RecordView): RecordProblem | undefined {
    return rangeProblem(record);
  }

  row(record: RecordView): void {
    const columns = this.columns;
    const data = this.data;
    const bounds = this.bounds;
    const image = record.image;
    const n = this.rows;
    for (let c = 0; c < columns.length; c++) {
      const column = columns[c]!;
      const i = column.field;
      const values = data[c]!;
      const bound = bounds[c]!;
      if (i < 0) {
        const ms = record.timeMs;
        if (Number.isNaN(ms)) {
          values[n] = null; // the writer makes the INT64 of a TIMESTAMP
          bound.nulls++;
        } else {
          values[n] = ms;
          bound.number(ms);
        }
        continue;
      }
      const start = record.fieldStart(i);
      const end = record.ends[i]!;
      if (end === start) {
        values[n] = null;
        bound.nulls++;
      } else if (column.type === 'string') {
        const bytes = this.strings[c]!.value(record, i, start, end);
        values[n] = bytes;
        bound.bytes(bytes);
      } else if (column.type === 'int32') {
        const value = digitsValue(image, start, end);
        values[n] = value;
        bound.number(value);
      } else if (end - start <= EXACT_DIGITS) {
        const value = digitsValue(image, start, end);
        values[n] = BigInt(value);
        bound.number(value);
      } else {
        const value = BigInt(record.text(i));
        values[n] = value;
        bound.number(value);
      }
    }
    this.rows = n + 1;
    if (this.rows >= this.rowGroupRows) this.writeGroup();
  }

  /** At the end of the input: the last row group, the footer, and every byte still held. */
  flush(): void {
    if (this.finished || !this.parquet) return;
    this.writeGroup();
    this.parquet.finish();
    this.finished = true;
  }

  private startGroup(): void {
    // The writer copies each column's values out (its own slice) before it encodes them, so the arrays
    // are the encoder's to fill again: one set for the file rather than new ones a group.
    if (this.data.length !== this.columns.length)
      this.data = this.columns.map(() => new Array(this.rowGroupRows));
    this.strings = this.columns.map((column) => (column.type === 'string' ? new GroupStrings() : undefined));
    this.bounds = this.columns.map(() => new ChunkBounds());
    this.rows = 0;
  }

  private writeGroup(): void {
    if (this.rows === 0) return;
    const rows = this.rows;
    const columnData: ColumnSource[] = this.columns.map((column, c) => {
      const values = this.data[c]!;
      if (values.length > rows) values.length = rows;
      // hyparquet-writer's own choice per chunk: a dictionary where it at least halves the values
      // (interface ids, accounts, action, log status; addresses where they repeat), else PLAIN.
      // Statistics are ours (ChunkBounds, gathered in row() on the values' own types), put in below.
      return { name: column.name, data: values, statistics: false };
    });
    const parquet = this.parquet!;
    const indexesBefore = parquet.pendingIndexes.length;
    parquet.write({ columnData, rowGroupSize: rows });
    const chunks = parquet.row_groups.at(-1)?.columns ?? [];
    for (let c = 0; c < chunks.length; c++) {
      const meta = chunks[c]!.meta_data;
      if (!meta) continue;
      meta.statistics = this.bounds[c]!.statistics(this.columns[c]!.type);
      // What the writer says with its own statistics on: every page of the chunk in its one encoding.
      const pages = parquet.pendingIndexes[indexesBefore + c]?.offsetIndex?.page_locations.length ?? 1;
      const encoding = meta.encodings.at(-1)!;
      meta.encoding_stats = [
        ...(meta.dictionary_page_offset === undefined
          ? []
          : [{ page_type: 'DICTIONARY_PAGE' as const, encoding: 'PLAIN' as const, count: 1 }]),
        { page_type: 'DATA_PAGE_V2' as const, encoding, count: pages },
      ];
    }
    this.writer.handOn();
    this.startGroup();
  }
}

/** The converter's encoder factory for Parquet with these settings. */
export const createParquetEncoder =
  (settings: ParquetSettings): CreateRowEncoder =>
  (onData, chunkBytes) =>
    new ParquetEncoder(chunkBytes, onData, settings);
