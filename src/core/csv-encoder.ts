import type { RejectCode } from './errors.js';
import type { FlowFormat } from './log-format.js';

const COMMA = 0x2c;
const QUOTE = 0x22;
const DASH = 0x2d;
const LF = 0x0a;
/** Largest epoch-millisecond value a JavaScript Date accepts. */
const MAX_DATE_MS = 8.64e15;

export interface RecordProblem {
  code: RejectCode;
  reason: string;
}

/** Space, tab, LF, VT, FF, CR: AWS separates fields by spaces, but runs of any of them occur. */
export const isSpace = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d);

const NOT_DIGIT = 1;
const NEEDS_QUOTES = 2;
const SPACE = 4;
/** Per byte: 0 for a digit, SPACE for a separator, NOT_DIGIT (| NEEDS_QUOTES for , and ") otherwise. */
const BYTE_CLASS = new Uint8Array(256).map((_, c) =>
  isSpace(c)
    ? SPACE
    : c >= 0x30 && c <= 0x39
      ? 0
      : c === COMMA || c === QUOTE
        ? NOT_DIGIT | NEEDS_QUOTES
        : NOT_DIGIT,
);

/**
 * Writes CSV rows straight from the bytes of a flow record into a preallocated buffer and hands
 * it on in `chunkBytes` slices: no string per field, no object per row. A row is written
 * speculatively and rolled back when the record turns out to be bad, so a rejected record never
 * leaves half a row behind.
 */
export class CsvEncoder {
  private out: Buffer;
  private pos = 0;
  private cachedDay = Number.NaN;
  private cachedDate = Buffer.alloc(0);
  private problem: RecordProblem | undefined;

  constructor(
    private readonly chunkBytes: number,
    private readonly onData: (chunk: Buffer) => void,
  ) {
    this.out = Buffer.allocUnsafe(chunkBytes);
  }

  writeHeader(format: FlowFormat): void {
    const line = `timestamp,${format.fields.map((field) => csvField(field.name)).join(',')}\n`;
    const bytes = Buffer.from(line, 'utf8');
    this.reserve(bytes.length);
    this.pos += bytes.copy(this.out, this.pos);
  }

  /**
   * Encodes the record in b[start, end). `timestampMs` is the CloudWatch event time, or
   * undefined to take it from the record's own `start` field. Returns the problem when the record
   * is rejected, undefined when a row was written.
   */
  writeRecord(
    format: FlowFormat,
    b: Uint8Array,
    start: number,
    end: number,
    timestampMs: number | undefined,
  ): RecordProblem | undefined {
    const fieldCount = format.fields.length;
    // Worst case: every byte a quote (doubled), plus quotes and a comma per field, timestamp, LF.
    this.reserve((end - start) * 2 + fieldCount * 3 + 40);
    const out = this.out;
    const rowStart = this.pos;
    let p = rowStart;
    const ms = timestampMs ?? startFieldMs(format, b, start, end);
    if (!Number.isNaN(ms)) {
      if (!Number.isInteger(ms) || Math.abs(ms) > MAX_DATE_MS) {
        return { code: 'BAD_TIMESTAMP', reason: `timestamp ${ms} is not a valid epoch time` };
      }
      p = this.writeIso(ms, p);
    }
    const intMask = format.intMask;
    let field = 0;
    let i = start;
    while (i < end) {
      if (BYTE_CLASS[b[i]!] === SPACE) {
        i++;
        continue;
      }
      if (field >= fieldCount) {
        field += countTokens(b, i, end);
        break;
      }
      out[p++] = COMMA;
      const tokenStart = p;
      // One table lookup per byte: SPACE ends the token, other classes are OR-ed into flags.
      let flags = 0;
      for (; i < end; i++) {
        const c = b[i]!;
        const k = BYTE_CLASS[c]!;
        if (k === SPACE) break;
        out[p++] = c;
        flags |= k;
      }
      if (p - tokenStart === 1 && out[tokenStart] === DASH) {
        p = tokenStart; // `-` is AWS's "no value": an empty CSV field
      } else if (flags !== 0) {
        if ((flags & NOT_DIGIT) !== 0 && intMask[field] === 1) {
          const name = format.fields[field]!.name;
          const value = Buffer.from(out.subarray(tokenStart, p)).toString('utf8');
          this.problem = { code: 'BAD_INTEGER', reason: `field ${name} must be an integer, got "${value}"` };
          return this.rollback(rowStart);
        }
        if ((flags & NEEDS_QUOTES) !== 0) p = quoteInPlace(out, tokenStart, p);
      }
      field++;
    }
    if (field !== fieldCount) {
      this.problem = {
        code: 'FIELD_COUNT',
        reason: `expected ${fieldCount} fields (${format.fields[0]!.name} … ${format.fields[fieldCount - 1]!.name}), found ${field}`,
      };
      return this.rollback(rowStart);
    }
    out[p++] = LF;
    this.pos = p;
    if (p >= this.chunkBytes) this.flush();
    return undefined;
  }

  /**
   * Appends whole rows encoded elsewhere (the WebAssembly fast path), copying them. Like
   * writeRecord it hands on only whole rows, so output cut short by an error ends at a row.
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

  private rollback(rowStart: number): RecordProblem {
    this.pos = rowStart;
    const problem = this.problem!;
    this.problem = undefined;
    return problem;
  }

  private reserve(bytes: number): void {
    if (this.pos + bytes <= this.out.length) return;
    this.flush();
    if (bytes > this.out.length) this.out = Buffer.allocUnsafe(bytes);
  }

  /**
   * ISO-8601 UTC with milliseconds (`2020-02-01T00:39:38.000Z`). The date part is cached per day
   * and the time of day written with integer arithmetic, so rows cost no Date object whatever
   * order their timestamps come in.
   */
  private writeIso(ms: number, p: number): number {
    const day = Math.floor(ms / 86_400_000);
    if (day !== this.cachedDay) {
      const iso = new Date(day * 86_400_000).toISOString();
      this.cachedDate = Buffer.from(iso.slice(0, iso.indexOf('T') + 1), 'latin1');
      this.cachedDay = day;
    }
    const out = this.out;
    const date = this.cachedDate;
    for (let k = 0; k < date.length; k++) out[p++] = date[k]!;
    let t = ms - day * 86_400_000;
    const hours = Math.floor(t / 3_600_000);
    t -= hours * 3_600_000;
    const minutes = Math.floor(t / 60_000);
    t -= minutes * 60_000;
    const seconds = Math.floor(t / 1000);
    const milli = t - seconds * 1000;
    out[p++] = 0x30 + Math.floor(hours / 10);
    out[p++] = 0x30 + (hours % 10);
    out[p++] = 0x3a;
    out[p++] = 0x30 + Math.floor(minutes / 10);
    out[p++] = 0x30 + (minutes % 10);
    out[p++] = 0x3a;
    out[p++] = 0x30 + Math.floor(seconds / 10);
    out[p++] = 0x30 + (seconds % 10);
    out[p++] = 0x2e;
    out[p++] = 0x30 + Math.floor(milli / 100);
    out[p++] = 0x30 + (Math.floor(milli / 10) % 10);
    out[p++] = 0x30 + (milli % 10);
    out[p++] = 0x5a; // Z
    return p;
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

/** Rewrites out[from, to) as an RFC 4180 quoted field; returns the new end. */
function quoteInPlace(out: Buffer, from: number, to: number): number {
  const raw = Buffer.from(out.subarray(from, to));
  let p = from;
  out[p++] = QUOTE;
  for (const c of raw) {
    if (c === QUOTE) out[p++] = QUOTE;
    out[p++] = c;
  }
  out[p++] = QUOTE;
  return p;
}

/**
 * A record without an envelope is timed by its `start` field: Unix seconds, though values in
 * milliseconds have been seen (anything past year 5000 in seconds is taken as milliseconds).
 * NaN means no timestamp: no `start` in the format, or `-`.
 */
function startFieldMs(format: FlowFormat, b: Uint8Array, start: number, end: number): number {
  const wanted = format.startIndex;
  if (wanted < 0) return Number.NaN;
  let field = -1;
  let i = start;
  while (i < end) {
    if (isSpace(b[i]!)) {
      i++;
      continue;
    }
    field++;
    if (field === wanted) {
      let value = 0;
      let digits = 0;
      for (; i < end && !isSpace(b[i]!); i++, digits++) {
        const d = b[i]! - 0x30;
        if (d < 0 || d > 9) return Number.NaN; // `-` or garbage: the row says so via BAD_INTEGER
        value = value * 10 + d;
      }
      if (digits === 0) return Number.NaN;
      return value >= 1e11 ? value : value * 1000;
    }
    while (i < end && !isSpace(b[i]!)) i++;
  }
  return Number.NaN;
}

export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}
