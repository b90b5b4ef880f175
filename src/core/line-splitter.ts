import { FlowhoseError } from './errors.js';

export type OnLine = (bytes: Buffer, start: number, end: number, offset: number) => void;

/**
 * Splits bytes into LF-terminated lines (a CR before the LF is dropped) across chunk boundaries,
 * carrying only the unfinished line, as slices joined once when its end arrives.
 */
export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private base = 0;

  constructor(private readonly maxLineBytes: number) {}

  /** Where the next byte sits in the stream (after leading bytes that were not fed here). */
  startAt(offset: number): void {
    this.base = offset;
  }

  push(chunk: Buffer, onLine: OnLine): FlowhoseError | undefined {
    let start = 0;
    for (;;) {
      const lf = chunk.indexOf(0x0a, start);
      if (lf < 0) break;
      if (this.pending.length > 0) {
        this.pending.push(chunk.subarray(0, lf));
        const line = Buffer.concat(this.pending);
        const offset = this.base - this.pendingBytes;
        this.pending = [];
        this.pendingBytes = 0;
        emit(line, 0, line.length, offset, onLine);
      } else {
        emit(chunk, start, lf, this.base + start, onLine);
      }
      start = lf + 1;
    }
    if (start < chunk.length) {
      this.pending.push(chunk.subarray(start));
      this.pendingBytes += chunk.length - start;
      if (this.pendingBytes > this.maxLineBytes) {
        return new FlowhoseError(
          'RECORD_TOO_LARGE',
          `a line exceeds ${this.maxLineBytes} bytes: not a flow log, or raise --max-record-size`,
          this.base + chunk.length - this.pendingBytes,
        );
      }
    }
    this.base += chunk.length;
    return undefined;
  }

  /** The last line may lack its LF. */
  end(onLine: OnLine): void {
    if (this.pending.length === 0) return;
    const line = Buffer.concat(this.pending);
    this.pending = [];
    emit(line, 0, line.length, this.base - this.pendingBytes, onLine);
    this.pendingBytes = 0;
  }
}

function emit(b: Buffer, start: number, end: number, offset: number, onLine: OnLine): void {
  if (end > start && b[end - 1] === 0x0d) end--;
  onLine(b, start, end, offset);
}
