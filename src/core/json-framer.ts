import { FlowhoseError } from './errors.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

export type OnValue = (
  bytes: Buffer,
  start: number,
  end: number,
  offset: number,
) => FlowhoseError | undefined;

// CloudWatch payloads nest four levels; the bound, shared with the module, keeps the recursive
// readers off the end of the stack.
import { MAX_NESTING_DEPTH } from '../wasm/abi.js';

export { MAX_NESTING_DEPTH };

/**
 * Splits a byte stream of JSON objects glued together (`{…}{…}`, or separated by white space)
 * into complete objects, across any chunk boundary. It tracks only nesting depth and string
 * state, so each byte is looked at once; inside strings it jumps with indexOf to the next quote.
 * Between chunks it carries only the unfinished object, as slices, joined once when it completes.
 *
 * Size rule: a payload's size is its bytes from `{` to the matching `}` inclusive, and one larger
 * than maxObjectBytes fails RECORD_TOO_LARGE, one within it passes, wherever the chunks are cut.
 * An unfinished payload fails as soon as its bytes so far pass the limit, so memory stays bounded;
 * that verdict is the same one its end would give. A failure inside the payload (nesting deeper
 * than MAX_NESTING_DEPTH) at a byte past the limit is reported as RECORD_TOO_LARGE too: the error
 * is the one at the first byte that breaks a rule, however the bytes arrived.
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
        if (++this.depth > MAX_NESTING_DEPTH) return this.failInside(this.base + i);
      } else if (c === 0x7d || c === 0x5d) {
        if (--this.depth === 0) {
          if (this.base + i + 1 - this.objectOffset > this.maxObjectBytes) {
            return tooLargeError(this.maxObjectBytes, this.objectOffset);
          }
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
        return tooLargeError(this.maxObjectBytes, this.objectOffset);
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
    return onValue(whole, 0, whole.length, this.objectOffset);
  }

  /** Nesting too deep at stream offset `at`, unless the payload had already passed the size limit there. */
  private failInside(at: number): FlowhoseError {
    if (at + 1 - this.objectOffset > this.maxObjectBytes) {
      return tooLargeError(this.maxObjectBytes, this.objectOffset);
    }
    return tooDeepError(at);
  }
}

export const notAnObjectError = (c: number, offset: number) =>
  new FlowhoseError('BAD_JSON', `expected "{" between payloads, found ${describeByte(c)}`, offset);

/** `offset`: where the payload starts. */
export const tooLargeError = (max: number, offset: number) =>
  new FlowhoseError(
    'RECORD_TOO_LARGE',
    `a JSON payload exceeds the record size limit of ${max} bytes`,
    offset,
    'maxRecordBytes',
  );

/** `offset`: the bracket one level too deep. */
export const tooDeepError = (offset: number) =>
  new FlowhoseError('BAD_JSON', `a JSON payload nests deeper than ${MAX_NESTING_DEPTH} levels`, offset);

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
