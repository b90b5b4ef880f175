import { IsoTimeWriter } from './iso-time.js';
import type { FlowFormat } from './log-format.js';
import { FIELD_SEPARATOR, NEEDS_QUOTES, type RecordView } from './record-view.js';
import type { CreateRowEncoder, RowEncoder } from './row-encoder.js';

const QUOTE = 0x22;
const LF = 0x0a;
/** Room left for the time before a lent image: the length of `2020-02-01T00:39:38.000Z`. */
const ISO_BYTES = 24;

/**
 * Writes CSV rows into a preallocated buffer and hands it on in `chunkBytes` slices: no string
 * per field, no object per row. A row is the record view's image (each field after a comma, `-`
 * as nothing) behind the time, so the encoder lends the view room in its buffer and the record's
 * bytes are copied once, while they are tokenised; a rejected record's bytes are simply not kept.
 * The WebAssembly fast path writes the same rows itself (src/wasm/payload-to-csv.ts), which is
 * why it runs only when this is the converter's encoder.
 */
export class CsvEncoder implements RowEncoder {
  private out: Buffer;
  private pos = 0;
  private readonly iso = new IsoTimeWriter();

  constructor(
    private readonly chunkBytes: number,
    private readonly onData: (chunk: Buffer) => void,
  ) {
    this.out = Buffer.allocUnsafe(chunkBytes);
  }

  header(format: FlowFormat): void {
    const line = `timestamp,${format.fields.map((field) => csvField(field.name)).join(',')}\n`;
    const bytes = Buffer.from(line, 'utf8');
    this.reserve(bytes.length);
    this.pos += bytes.copy(this.out, this.pos);
  }

  lend(record: RecordView, recordBytes: number, fieldCount: number): void {
    // Worst case: every byte a quote (doubled), plus quotes and a comma per field, timestamp, LF.
    this.reserve(recordBytes * 2 + fieldCount * 3 + 40);
    record.lend(this.out, this.pos + ISO_BYTES);
  }

  /** `ISO time,field,…` with `-` as an empty field and RFC 4180 quotes where a field needs them. */
  row(record: RecordView): void {
    if (record.image !== this.out || record.imageStart !== this.pos + ISO_BYTES) {
      // Read without a loan (or into an older buffer): copy the image to where a loan puts it.
      this.reserve(record.recordBytes * 2 + record.fieldCount * 3 + 40);
      this.out.set(record.image.subarray(record.imageStart, record.imageEnd), this.pos + ISO_BYTES);
    }
    const out = this.out;
    const rowStart = this.pos;
    const imageStart = rowStart + ISO_BYTES;
    const ms = record.timeMs;
    const isoBytes = Number.isNaN(ms) ? 0 : this.iso.bytes(ms);
    let p: number;
    if ((record.classes & NEEDS_QUOTES) !== 0) {
      p = this.quoteFields(record, imageStart, rowStart + isoBytes);
    } else {
      const imageEnd = imageStart + record.imageEnd - record.imageStart;
      if (isoBytes !== ISO_BYTES) out.copyWithin(rowStart + isoBytes, imageStart, imageEnd);
      p = imageEnd + isoBytes - ISO_BYTES;
    }
    if (isoBytes !== 0) this.iso.write(ms, out, rowStart);
    out[p++] = LF;
    this.pos = p;
    if (p >= this.chunkBytes) this.flush();
  }

  /** Writes the fields of the image at `imageStart` from `to` on, quoting those that need it; returns the end. */
  private quoteFields(record: RecordView, imageStart: number, to: number): number {
    const image = Buffer.from(
      this.out.subarray(imageStart, imageStart + record.imageEnd - record.imageStart),
    );
    const offset = record.imageStart;
    const out = this.out;
    let p = to;
    for (let field = 0; field < record.fieldCount; field++) {
      out[p++] = FIELD_SEPARATOR;
      const from = record.fieldStart(field) - offset;
      const end = record.ends[field]! - offset;
      const quoted = image.subarray(from, end).some((c) => c === QUOTE || c === FIELD_SEPARATOR);
      if (quoted) out[p++] = QUOTE;
      for (let i = from; i < end; i++) {
        const c = image[i]!;
        if (quoted && c === QUOTE) out[p++] = QUOTE;
        out[p++] = c;
      }
      if (quoted) out[p++] = QUOTE;
    }
    return p;
  }

  /**
   * Appends whole rows encoded elsewhere (the WebAssembly fast path), copying them. Like
   * row() it hands on only whole rows, so output cut short by an error ends at a row.
   */
  writeBytes(rows: Uint8Array): void {
    this.reserve(rows.length);
    this.out.set(rows, this.pos);
    this.pos += rows.length;
    if (this.pos >= this.chunkBytes) this.flush();
  }

  /** Hands on whatever is buffered. */
  flush(): void {
    if (this.pos === 0) return;
    this.onData(this.out.subarray(0, this.pos));
    // The slice now belongs downstream; never write into it again.
    this.out = Buffer.allocUnsafe(Math.max(this.chunkBytes, this.out.length - this.pos));
    this.pos = 0;
  }

  private reserve(bytes: number): void {
    if (this.pos + bytes <= this.out.length) return;
    this.flush();
    if (bytes > this.out.length) this.out = Buffer.allocUnsafe(bytes);
  }
}

/** The default encoder: CSV. */
export const createCsvEncoder: CreateRowEncoder = (onData, chunkBytes) => new CsvEncoder(chunkBytes, onData);

export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}
