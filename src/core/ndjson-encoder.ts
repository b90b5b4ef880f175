import { columnsOf, rangeProblem } from './columns.js';
import { IsoTimeWriter } from './iso-time.js';
import type { FlowFormat } from './log-format.js';
import type { RecordProblem, RecordView } from './record-view.js';
import type { CreateRowEncoder, RowEncoder } from './row-encoder.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LF = 0x0a;
const ZERO = 0x30;
const NULL = Uint8Array.from('null', (ch) => ch.charCodeAt(0));
const HEX = Uint8Array.from('0123456789abcdef', (ch) => ch.charCodeAt(0));
/** What U+FFFD REPLACEMENT CHARACTER is in UTF-8. */
const REPLACEMENT = [0xef, 0xbf, 0xbd] as const;

/** Per byte: 0 is copied as it is inside a JSON string; anything else takes the slow path. */
const SPECIAL = new Uint8Array(256).map((_, c) =>
  c < 0x20 || c === QUOTE || c === BACKSLASH || c >= 0x80 ? 1 : 0,
);

/** Per field: how its value is written. */
const STRING = 0;
const NUMBER = 1;

/**
 * Writes NDJSON: one JSON object per record, one line each, with the columns of columns.ts (the names and
 * types of AWS's native Parquet delivery): `{"timestamp":"2020-02-01T00:39:38.000Z","version":2,
 * "account_id":"123456789010",…,"log_status":"OK"}`. int and long fields are JSON numbers (leading zeros
 * dropped, so `0022` is 22; a long past 2^53 is written exactly, though a JavaScript reader rounds it),
 * strings are JSON strings, AWS's `-` is null, and the event time is null where the CSV's is empty. A
 * record past an INT32 or INT64 column is rejected through check(), as CSV rejects a bad integer.
 *
 * Like the CSV encoder it writes bytes into a preallocated buffer from the record view's byte ranges and
 * hands it on in `chunkBytes` slices: no JSON.stringify, no string and no object per row. The keys are
 * encoded once per format.
 *
 * Text must be valid UTF-8 in JSON, while a flow record may hold any bytes (CSV passes them through).
 * Here every ill-formed sequence becomes U+FFFD by the WHATWG decoder's rule (one per maximal subpart of
 * an ill-formed sequence), which is exactly what Buffer.prototype.toString('utf8') and TextDecoder do, so
 * the value equals what any JavaScript reader of the CSV would decode. `"`, `\` and control bytes are
 * escaped as JSON requires (`\"`, `\\`, `\u001f`); DEL, U+2028 and U+2029 are valid JSON as they are.
 */
export class NdjsonEncoder implements RowEncoder {
  private out: Buffer;
  private pos = 0;
  private format: FlowFormat | undefined;
  /** `{"timestamp":`, then `,"version":` and so on: the bytes before each column's value. */
  private keys: Uint8Array[] = [];
  private keyBytes = 0;
  private kinds = new Uint8Array(0);
  private readonly iso = new IsoTimeWriter();

  constructor(
    private readonly chunkBytes: number,
    private readonly onData: (chunk: Buffer) => void,
  ) {
    this.out = Buffer.allocUnsafe(chunkBytes);
  }

  /** NDJSON has no header line; the keys of the format are encoded here, once. */
  header(format: FlowFormat): void {
    this.prepare(format);
  }

  check(record: RecordView): RecordProblem | undefined {
    return rangeProblem(record);
  }

  row(record: RecordView): void {
    const format = record.format!;
    if (format !== this.format) this.prepare(format);
    const fieldCount = format.fields.length;
    // Worst case: every byte a control byte (`\u00XX`, 6 bytes), every field null, the time, `}` and LF.
    this.reserve(this.keyBytes + record.recordBytes * 6 + fieldCount * 6 + 64);
    const out = this.out;
    const keys = this.keys;
    const kinds = this.kinds;
    const image = record.image;
    const ends = record.ends;
    let p = this.writeKey(keys[0]!, this.pos);
    const ms = record.timeMs;
    if (Number.isNaN(ms)) p = this.writeKey(NULL, p);
    else {
      out[p++] = QUOTE;
      p = this.iso.write(ms, out, p);
      out[p++] = QUOTE;
    }
    // Field i is image[ends[i - 1] + 2 … ends[i]) after the image's first comma (RecordView.fieldStart).
    let previousEnd = record.imageStart;
    for (let i = 0; i < fieldCount; i++) {
      const key = keys[i + 1]!;
      for (let k = 0; k < key.length; k++) out[p++] = key[k]!;
      let start = previousEnd + 1;
      const end = ends[i]!;
      previousEnd = end;
      if (start === end) {
        for (let k = 0; k < 4; k++) out[p++] = NULL[k]!;
      } else if (kinds[i] === NUMBER) {
        while (start < end - 1 && image[start] === ZERO) start++; // JSON numbers have no leading zeros
        for (let j = start; j < end; j++) out[p++] = image[j]!;
      } else {
        out[p++] = QUOTE;
        for (let j = start; j < end; j++) {
          const c = image[j]!;
          if (SPECIAL[c] !== 0) {
            p = this.escape(image, j, end, p);
            break;
          }
          out[p++] = c;
        }
        out[p++] = QUOTE;
      }
    }
    out[p++] = 0x7d; // }
    out[p++] = LF;
    this.pos = p;
    if (p >= this.chunkBytes) this.flush();
  }

  flush(): void {
    if (this.pos === 0) return;
    this.onData(this.out.subarray(0, this.pos));
    // The slice now belongs downstream; never write into it again.
    this.out = Buffer.allocUnsafe(Math.max(this.chunkBytes, this.out.length - this.pos));
    this.pos = 0;
  }

  private prepare(format: FlowFormat): void {
    const columns = columnsOf(format);
    this.keys = columns.map((column, i) => utf8(`${i === 0 ? '{' : ','}${JSON.stringify(column.name)}:`));
    this.keyBytes = this.keys.reduce((sum, key) => sum + key.length, 0);
    this.kinds = Uint8Array.from(columns.slice(1), (column) => (column.type === 'string' ? STRING : NUMBER));
    this.format = format;
  }

  private writeKey(key: Uint8Array, p: number): number {
    const out = this.out;
    for (let k = 0; k < key.length; k++) out[p++] = key[k]!;
    return p;
  }

  /** The rest of a string field from image[i] on, escaped and with ill-formed UTF-8 replaced; returns the end. */
  private escape(image: Uint8Array, i: number, end: number, p: number): number {
    const out = this.out;
    while (i < end) {
      const c = image[i]!;
      if (c < 0x80) {
        if (c === QUOTE || c === BACKSLASH) {
          out[p++] = BACKSLASH;
          out[p++] = c;
        } else if (c < 0x20) {
          out[p++] = BACKSLASH;
          out[p++] = 0x75; // u
          out[p++] = ZERO;
          out[p++] = ZERO;
          out[p++] = HEX[c >> 4]!;
          out[p++] = HEX[c & 15]!;
        } else out[p++] = c;
        i++;
        continue;
      }
      const n = utf8Sequence(image, i, end);
      if (n > 0) {
        for (let k = 0; k < n; k++) out[p++] = image[i + k]!;
        i += n;
      } else {
        out[p++] = REPLACEMENT[0];
        out[p++] = REPLACEMENT[1];
        out[p++] = REPLACEMENT[2];
        i -= n;
      }
    }
    return p;
  }

  private reserve(bytes: number): void {
    if (this.pos + bytes <= this.out.length) return;
    this.flush();
    if (bytes > this.out.length) this.out = Buffer.allocUnsafe(bytes);
  }
}

/**
 * At b[i] (a byte ≥ 0x80): the length of the well-formed UTF-8 sequence that starts there, or minus the
 * length of the ill-formed part that one U+FFFD replaces (the WHATWG Encoding Standard's decoder: a bad
 * lead byte alone; else the lead and the continuation bytes that were still in range).
 */
export function utf8Sequence(b: Uint8Array, i: number, end: number): number {
  const c = b[i]!;
  let needed: number;
  let lower = 0x80;
  let upper = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) needed = 1;
  else if (c >= 0xe0 && c <= 0xef) {
    needed = 2;
    if (c === 0xe0) lower = 0xa0;
    else if (c === 0xed) upper = 0x9f; // no UTF-16 surrogates
  } else if (c >= 0xf0 && c <= 0xf4) {
    needed = 3;
    if (c === 0xf0) lower = 0x90;
    else if (c === 0xf4) upper = 0x8f; // nothing past U+10FFFF
  } else return -1;
  for (let k = 1; k <= needed; k++) {
    if (i + k >= end) return -k;
    const d = b[i + k]!;
    if (d < lower || d > upper) return -k;
    lower = 0x80;
    upper = 0xbf;
  }
  return needed + 1;
}

function utf8(text: string): Uint8Array {
  // TextEncoder is a global in every runtime (no node:* import in the core).
  return new TextEncoder().encode(text);
}

export const createNdjsonEncoder: CreateRowEncoder = (onData, chunkBytes) =>
  new NdjsonEncoder(chunkBytes, onData);
