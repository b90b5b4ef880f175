import { byteClass, NEEDS_QUOTES, NOT_DIGIT, SPACE } from '../wasm/abi.js';
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

/**
 * A field's kind in RecordView.kinds: NO_VALUE for AWS's `-`, otherwise the OR of its bytes'
 * classes: 0 for digits only, TOKEN_NOT_DIGIT, with TOKEN_NEEDS_QUOTES when it holds `,` or `"`.
 */
export const TOKEN_NOT_DIGIT = NOT_DIGIT;
export const TOKEN_NEEDS_QUOTES = NEEDS_QUOTES;
export const NO_VALUE = 8;

/** The byte written before each field in the image. */
export const FIELD_SEPARATOR = 0x2c;
const DASH = 0x2d;
/** Largest epoch-millisecond value a JavaScript Date accepts. */
const MAX_DATE_MS = 8.64e15;

/**
 * One flow record, tokenised and validated once for whichever RowEncoder writes it, with no
 * allocation per record. read() copies the fields into an image: each field's bytes preceded by
 * a comma, AWS's `-` as no bytes (the body of a CSV row, which is why the CSV encoder lends room
 * in its own buffer for it, see RowEncoder.lend). Field i is image[starts[i], ends[i]), of kind
 * kinds[i] and typed by format.fields[i].type; timeMs is the record's time. Valid until the next
 * read() or until the encoder's row() returns.
 */
export class RecordView {
  format: FlowFormat | undefined;
  /** The record's fields, in image[imageStart, imageEnd) (see the class comment). */
  image: Uint8Array = new Uint8Array(0);
  imageStart = 0;
  imageEnd = 0;
  /** The OR of every field's kind: 0 when all are digits, no TOKEN_NEEDS_QUOTES when none needs quotes. */
  kindsUnion = 0;
  /** Epoch milliseconds, NaN when the record has no time (no envelope, and `start` is `-` or absent). */
  timeMs = Number.NaN;
  starts = new Int32Array(0);
  ends = new Int32Array(0);
  kinds = new Uint8Array(0);
  /** Length of the record read; its image needs at most this plus one byte. */
  recordBytes = 0;
  private scratch = new Uint8Array(256);
  private lent = false;

  /** Fields of a record that read() accepted: its format's. */
  get fieldCount(): number {
    return this.format?.fields.length ?? 0;
  }

  /** Field i as text (empty for `-`: its kind says NO_VALUE). */
  text(i: number): string {
    const { image, starts, ends } = this;
    return Buffer.from(image.buffer, image.byteOffset + starts[i]!, ends[i]! - starts[i]!).toString('utf8');
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
    if (this.starts.length < fieldCount) this.growFields(fieldCount);
    if (!this.lent) this.useScratch(end - start + 1);
    this.lent = false;
    const starts = this.starts;
    const ends = this.ends;
    const kinds = this.kinds;
    const image = this.image;
    let p = this.imageStart;
    let union = 0;
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
        p = tokenStart;
        flags = NO_VALUE;
      }
      starts[tokens] = tokenStart;
      ends[tokens] = p;
      kinds[tokens++] = flags;
      union |= flags;
    }
    this.format = format;
    this.imageEnd = p;
    this.kindsUnion = union;
    this.recordBytes = end - start;
    const ms = timestampMs ?? this.startFieldMs(format, tokens);
    if (!Number.isNaN(ms) && (!Number.isInteger(ms) || Math.abs(ms) > MAX_DATE_MS)) {
      return { code: 'BAD_TIMESTAMP', reason: `timestamp ${ms} is not a valid epoch time` };
    }
    this.timeMs = ms;
    if ((union & NOT_DIGIT) !== 0) {
      const intMask = format.intMask;
      const present = Math.min(tokens, fieldCount);
      for (let field = 0; field < present; field++) {
        if ((kinds[field]! & NOT_DIGIT) !== 0 && intMask[field] === 1) {
          const name = format.fields[field]!.name;
          return {
            code: 'BAD_INTEGER',
            reason: `field ${name} must be an integer, got "${this.text(field)}"`,
          };
        }
      }
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
   * A record without an envelope is timed by its `start` field: Unix seconds, though values in
   * milliseconds have been seen (anything past year 5000 in seconds is taken as milliseconds).
   * NaN means no timestamp: no `start` in the format, or `-`; garbage there is BAD_INTEGER's.
   */
  private startFieldMs(format: FlowFormat, tokens: number): number {
    const field = format.startIndex;
    if (field < 0 || field >= tokens || this.kinds[field] !== 0) return Number.NaN;
    const image = this.image;
    let value = 0;
    for (let i = this.starts[field]!, end = this.ends[field]!; i < end; i++) {
      value = value * 10 + (image[i]! - 0x30);
    }
    return value >= 1e11 ? value : value * 1000;
  }

  private useScratch(bytes: number): void {
    if (this.scratch.length < bytes) this.scratch = new Uint8Array(Math.max(bytes, this.scratch.length * 2));
    this.image = this.scratch;
    this.imageStart = 0;
  }

  private growFields(fields: number): void {
    this.starts = new Int32Array(fields);
    this.ends = new Int32Array(fields);
    this.kinds = new Uint8Array(fields);
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
