import {
  NEEDS_QUOTES as ABI_NEEDS_QUOTES,
  NOT_DIGIT as ABI_NOT_DIGIT,
  SPACE as ABI_SPACE,
  byteClass,
} from '../wasm/abi.js';
import type { RejectCode } from './errors.js';
import type { FlowFormat } from './log-format.js';

export interface RecordProblem {
  code: RejectCode;
  reason: string;
}

/** Space, tab, LF, VT, FF, CR: AWS separates fields by spaces, but runs of any of them occur. */
export const isSpace = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d);

/** Per byte, the WebAssembly module's table (src/wasm/abi.ts). */
const BYTE_CLASS = new Uint8Array(256).map((_, c) => byteClass(c));
// Module-local copies: V8 folds these into the hot loop, but loads an imported binding every time.
const SPACE = ABI_SPACE;
const NOT_DIGIT = ABI_NOT_DIGIT;
/** In RecordView.classes: some field holds `,` or `"`. */
export const NEEDS_QUOTES = ABI_NEEDS_QUOTES;

/** The byte written before each field in the image. */
export const FIELD_SEPARATOR = 0x2c;
const DASH = 0x2d;
/** Largest epoch-millisecond value a JavaScript Date accepts. */
const MAX_DATE_MS = 8.64e15;

/**
 * One flow record, tokenised and validated once for whichever RowEncoder writes it, with no
 * allocation per record. read() copies the fields into an image: each field's bytes preceded by
 * a comma, AWS's `-` as no bytes (the body of a CSV row, which is why the CSV encoder lends room
 * in its own buffer for it, see RowEncoder.lend). Field i is image[fieldStart(i), ends[i]),
 * typed by format.fields[i].type: an int or long field holds digits only, and an empty field is
 * `-`, no value. timeMs is the record's time. Valid until the next read() or until the encoder's
 * row() returns.
 */
export class RecordView {
  format: FlowFormat | undefined;
  /** The record's fields, in image[imageStart, imageEnd) (see the class comment). */
  image: Uint8Array = new Uint8Array(0);
  imageStart = 0;
  imageEnd = 0;
  /** Where each field ends in the image; it starts one byte (the comma) after the one before. */
  ends = new Int32Array(0);
  /** The OR of the byte classes of every field (abi.ts): NEEDS_QUOTES tells whether CSV quotes some. */
  classes = 0;
  /** Epoch milliseconds, NaN when the record has no time (no envelope, and `start` is `-` or absent). */
  timeMs = Number.NaN;
  /** Length of the record read; its image needs at most this plus one byte. */
  recordBytes = 0;
  /**
   * The `owner` of the CloudWatch payload the record came in (the log group's account), '' without one:
   * set by the converter per payload, for AWS's tree when the log format has no account-id.
   */
  owner = '';
  private scratch = new Uint8Array(256);
  private lent = false;

  /** Fields of a record that read() accepted: its format's. */
  get fieldCount(): number {
    return this.format?.fields.length ?? 0;
  }

  fieldStart(i: number): number {
    return (i === 0 ? this.imageStart : this.ends[i - 1]!) + 1;
  }

  /** Whether field i has a value (AWS writes `-` for none). */
  hasValue(i: number): boolean {
    return this.ends[i]! > this.fieldStart(i);
  }

  /** Field i as text (empty for `-`). */
  text(i: number): string {
    const image = this.image;
    const start = this.fieldStart(i);
    return Buffer.from(image.buffer, image.byteOffset + start, this.ends[i]! - start).toString('utf8');
  }

  /** Lends the next read() room for its image: `image` from `at` on, at least the record's length plus one byte. */
  lend(image: Uint8Array, at: number): void {
    this.image = image;
    this.imageStart = at;
    this.lent = true;
  }

  /**
   * Reads the record in b[start, end). `timestampMs` is the CloudWatch event time, or undefined
   * to take it from the record's own `start` field. Returns why the record is rejected, or
   * undefined when the view holds a valid record. The checks run in this order: time, then
   * integer fields from the first, then the field count.
   */
  read(
    format: FlowFormat,
    b: Uint8Array,
    start: number,
    end: number,
    timestampMs: number | undefined,
  ): RecordProblem | undefined {
    const fieldCount = format.fields.length;
    if (this.ends.length < fieldCount) this.ends = new Int32Array(fieldCount);
    if (!this.lent) this.useScratch(end - start + 1);
    this.lent = false;
    const ends = this.ends;
    const intMask = format.intMask;
    const image = this.image;
    let p = this.imageStart;
    let classes = 0;
    let badInteger = -1;
    let tokens = 0;
    let i = start;
    while (i < end) {
      if (BYTE_CLASS[b[i]!] === SPACE) {
        i++;
        continue;
      }
      if (tokens >= fieldCount) {
        tokens += countTokens(b, i, end);
        break;
      }
      image[p++] = FIELD_SEPARATOR;
      const tokenStart = p;
      // One table lookup per byte: SPACE ends the token, other classes are OR-ed into flags.
      let flags = 0;
      for (; i < end; i++) {
        const c = b[i]!;
        const k = BYTE_CLASS[c]!;
        if (k === SPACE) break;
        image[p++] = c;
        flags |= k;
      }
      if (p - tokenStart === 1 && image[tokenStart] === DASH) {
        p = tokenStart; // `-` is AWS's "no value"
      } else if (flags !== 0) {
        if ((flags & NOT_DIGIT) !== 0 && intMask[tokens] === 1 && badInteger < 0) badInteger = tokens;
        classes |= flags;
      }
      ends[tokens++] = p;
    }
    this.format = format;
    this.imageEnd = p;
    this.classes = classes;
    this.recordBytes = end - start;
    const ms = timestampMs ?? this.startFieldMs(format.startIndex, tokens);
    if (!Number.isNaN(ms) && (!Number.isInteger(ms) || Math.abs(ms) > MAX_DATE_MS)) {
      return { code: 'BAD_TIMESTAMP', reason: `timestamp ${ms} is not a valid epoch time` };
    }
    this.timeMs = ms;
    if (badInteger >= 0) {
      const name = format.fields[badInteger]!.name;
      return {
        code: 'BAD_INTEGER',
        reason: `field ${name} must be an integer, got "${this.text(badInteger)}"`,
      };
    }
    if (tokens !== fieldCount) {
      return {
        code: 'FIELD_COUNT',
        reason: `expected ${fieldCount} fields (${format.fields[0]!.name} … ${format.fields[fieldCount - 1]!.name}), found ${tokens}`,
      };
    }
    return undefined;
  }

  /**
   * The accepted record's `start` field as epoch milliseconds (the rule of startFieldMs), whatever
   * timeMs holds: the flow's own time, which is what partitions go by. NaN when it has none.
   */
  startMs(): number {
    const format = this.format;
    return format ? this.startFieldMs(format.startIndex, format.fields.length) : Number.NaN;
  }

  /**
   * A record without an envelope is timed by its `start` field: Unix seconds, though values in
   * milliseconds have been seen (anything past year 5000 in seconds is taken as milliseconds).
   * NaN means no timestamp: no `start` in the format, or `-`; garbage there is BAD_INTEGER's.
   */
  private startFieldMs(field: number, tokens: number): number {
    if (field < 0 || field >= tokens || !this.hasValue(field)) return Number.NaN;
    const image = this.image;
    let value = 0;
    for (let i = this.fieldStart(field), end = this.ends[field]!; i < end; i++) {
      const d = image[i]! - 0x30;
      if (d < 0 || d > 9) return Number.NaN; // garbage: the row says so via BAD_INTEGER
      value = value * 10 + d;
    }
    return value >= 1e11 ? value : value * 1000;
  }

  private useScratch(bytes: number): void {
    if (this.scratch.length < bytes) this.scratch = new Uint8Array(Math.max(bytes, this.scratch.length * 2));
    this.image = this.scratch;
    this.imageStart = 0;
  }
}

function countTokens(b: Uint8Array, i: number, end: number): number {
  let tokens = 0;
  let inToken = false;
  for (; i < end; i++) {
    const space = isSpace(b[i]!);
    if (!space && !inToken) tokens++;
    inToken = !space;
  }
  return tokens;
}
