const BOM = [0xef, 0xbb, 0xbf];
const EMPTY = Buffer.alloc(0);

/**
 * Drops a UTF-8 byte-order mark at the very start of a stream (Windows tools write one before text
 * and JSON alike), however the chunks cut it. Bytes that begin like a BOM but are not one are
 * handed on unchanged, once it is clear that they are not.
 */
export class BomStripper {
  /** Whether the start of the stream is still being looked at. */
  active = true;
  private matched = 0;

  /** The bytes to go on with (empty while they may all be a BOM's start), and the BOM bytes dropped. */
  strip(chunk: Buffer): { rest: Buffer; dropped: number } {
    if (!this.active) return { rest: chunk, dropped: 0 };
    let i = 0;
    while (this.matched < BOM.length && i < chunk.length && chunk[i] === BOM[this.matched]) {
      this.matched++;
      i++;
    }
    if (this.matched === BOM.length) {
      this.active = false;
      return { rest: chunk.subarray(i), dropped: BOM.length };
    }
    if (i === chunk.length) return { rest: EMPTY, dropped: 0 };
    this.active = false;
    // Not a BOM: the bytes that matched in earlier chunks were held back, and go first.
    const held = this.matched - i;
    return { rest: held > 0 ? Buffer.concat([Buffer.from(BOM.slice(0, held)), chunk]) : chunk, dropped: 0 };
  }

  /** At the end of input: the start of a BOM that never finished is data. */
  flush(): Buffer {
    if (!this.active) return EMPTY;
    this.active = false;
    return Buffer.from(BOM.slice(0, this.matched));
  }
}
