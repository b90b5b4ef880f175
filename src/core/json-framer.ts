import { FlowhoseError } from './errors.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

export type OnValue = (
  bytes: Buffer,
  start: number,
  end: number,
  offset: number,
) => FlowhoseError | undefined;

/**
 * Splits a byte stream of JSON objects glued together (`{…}{…}`, or separated by white space)
 * into complete objects, across any chunk boundary. It tracks only nesting depth and string
 * state, so each byte is looked at once; inside strings it jumps with indexOf to the next quote.
 * Between chunks it carries only the unfinished object, as slices, joined once when it completes.
 */
export class JsonFramer {
  private depth = 0;
  private inString = false;
  private escaped = false;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Stream offset of the first byte of the next chunk, and of the object being framed. */
  private base = 0;
  private objectOffset = 0;

  constructor(private readonly maxObjectBytes: number) {}

  /** Where the next byte sits in the stream (after leading bytes that were not fed here). */
  startAt(offset: number): void {
    this.base = offset;
  }

  push(chunk: Buffer, onValue: OnValue): FlowhoseError | undefined {
    const n = chunk.length;
    let objectStart = this.depth > 0 ? 0 : -1;
    let i = 0;
    while (i < n) {
      if (this.inString) {
        if (this.escaped) {
          this.escaped = false;
          i++;
          continue;
        }
        const quote = chunk.indexOf(QUOTE, i);
        if (quote < 0) {
          this.escaped = backslashRun(chunk, i, n) % 2 === 1;
          i = n;
          break;
        }
        // A quote preceded by an odd run of backslashes is itself escaped.
        if (backslashRun(chunk, i, quote) % 2 === 0) this.inString = false;
        i = quote + 1;
        continue;
      }
      const c = chunk[i]!;
      if (this.depth === 0) {
        if (c === 0x7b) {
          this.depth = 1;
          objectStart = i;
          this.objectOffset = this.base + i;
        } else if (!(c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09)) {
          return notAnObjectError(c, this.base + i);
        }
      } else if (c === QUOTE) {
        this.inString = true;
      } else if (c === 0x7b || c === 0x5b) {
        this.depth++;
      } else if (c === 0x7d || c === 0x5d) {
        if (--this.depth === 0) {
          const error = this.emit(chunk, objectStart, i + 1, onValue);
          if (error) return error;
          objectStart = -1;
        }
      }
      i++;
    }
    if (this.depth > 0 && objectStart >= 0) {
      this.pending.push(chunk.subarray(objectStart));
      this.pendingBytes += n - objectStart;
      if (this.pendingBytes > this.maxObjectBytes) {
        return tooLargeError(this.maxObjectBytes, this.objectOffset, true);
      }
    }
    this.base += n;
    return undefined;
  }

  /** Called at end of input: an unfinished object means the input was cut short. */
  end(): FlowhoseError | undefined {
    if (this.depth === 0) return undefined;
    return truncatedError(this.pendingBytes, this.objectOffset);
  }

  private emit(chunk: Buffer, start: number, end: number, onValue: OnValue): FlowhoseError | undefined {
    if (this.pending.length === 0) return onValue(chunk, start, end, this.objectOffset);
    this.pending.push(chunk.subarray(start, end));
    const whole = Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    if (whole.length > this.maxObjectBytes) {
      return tooLargeError(this.maxObjectBytes, this.objectOffset, false);
    }
    return onValue(whole, 0, whole.length, this.objectOffset);
  }
}

export const notAnObjectError = (c: number, offset: number) =>
  new FlowhoseError('BAD_JSON', `expected "{" between payloads, found ${describeByte(c)}`, offset);

/** `unfinished`: found while the payload was still arriving, when raising the limit may help. */
export const tooLargeError = (max: number, offset: number, unfinished: boolean) =>
  new FlowhoseError(
    'RECORD_TOO_LARGE',
    unfinished
      ? `a JSON payload exceeds ${max} bytes (raise --max-record-size if this is genuine)`
      : `a JSON payload exceeds ${max} bytes`,
    offset,
  );

export const truncatedError = (pendingBytes: number, offset: number) =>
  new FlowhoseError(
    'TRUNCATED',
    `input ended inside a JSON payload (${pendingBytes} bytes of it read)`,
    offset,
  );

/** Length of the run of backslashes that ends just before `end`, not looking before `from`. */
function backslashRun(b: Buffer, from: number, end: number): number {
  let k = end - 1;
  while (k >= from && b[k] === BACKSLASH) k--;
  return end - 1 - k;
}

export function describeByte(c: number): string {
  return c >= 0x21 && c <= 0x7e ? `"${String.fromCharCode(c)}"` : `byte 0x${c.toString(16).padStart(2, '0')}`;
}
