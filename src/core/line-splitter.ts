import { FlowhoseError } from './errors.js';

/** Returns an error to stop the stream at this line. */
export type OnLine = (bytes: Buffer, start: number, end: number, offset: number) => FlowhoseError | undefined;

/**
 * Splits bytes into LF-terminated lines (a CR before the LF is dropped) across chunk boundaries,
 * carrying only the unfinished line, as slices joined once when its end arrives.
 *
 * Size rule: a line's size is its bytes without the LF and without a CR right before it (or at the
 * end of the input), and one larger than maxLineBytes fails RECORD_TOO_LARGE, one within it
 * passes, wherever the chunks are cut. An unfinished line fails as soon as its bytes so far (a
 * final CR not counted: it may be the one before an LF) pass the limit, so memory stays bounded.
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
      let error: FlowhoseError | undefined;
      if (this.pending.length > 0) {
        this.pending.push(chunk.subarray(0, lf));
        const line = Buffer.concat(this.pending);
        const offset = this.base - this.pendingBytes;
        this.pending = [];
        this.pendingBytes = 0;
        error = this.emit(line, 0, line.length, offset, onLine);
      } else {
        error = this.emit(chunk, start, lf, this.base + start, onLine);
      }
      if (error) return error;
      start = lf + 1;
    }
    if (start < chunk.length) {
      this.pending.push(chunk.subarray(start));
      this.pendingBytes += chunk.length - start;
      const counted = chunk[chunk.length - 1] === 0x0d ? this.pendingBytes - 1 : this.pendingBytes;
      if (counted > this.maxLineBytes) {
        return this.tooLarge(this.base + chunk.length - this.pendingBytes);
      }
    }
    this.base += chunk.length;
    return undefined;
  }

  /** The last line may lack its LF. */
  end(onLine: OnLine): FlowhoseError | undefined {
    if (this.pending.length === 0) return undefined;
    const line = Buffer.concat(this.pending);
    const offset = this.base - this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    return this.emit(line, 0, line.length, offset, onLine);
  }

  private emit(
    b: Buffer,
    start: number,
    end: number,
    offset: number,
    onLine: OnLine,
  ): FlowhoseError | undefined {
    if (end > start && b[end - 1] === 0x0d) end--;
    if (end - start > this.maxLineBytes) return this.tooLarge(offset);
    return onLine(b, start, end, offset);
  }

  /** `offset`: where the line starts. */
  private tooLarge(offset: number): FlowhoseError {
    return new FlowhoseError(
      'RECORD_TOO_LARGE',
      `a line exceeds the record size limit of ${this.maxLineBytes} bytes (not a flow log, or the limit is too low)`,
      offset,
      'maxRecordBytes',
    );
  }
}
