import { Transform, type TransformCallback } from 'node:stream';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

const gzipAsync = promisify(gzip);

export interface ParallelGzipOptions {
  level: number;
  strategy?: number;
  /** Members compressed at once (each on a libuv thread). */
  concurrency: number;
  /** Uncompressed bytes per member. */
  blockSize?: number;
}

/**
 * pigz-style gzip for a single stream: the input is cut into blocks, each compressed as an
 * independent gzip member on the libuv pool, several at a time, and the members are written in
 * order. Multi-member gzip is valid gzip (gunzip, zcat, DuckDB, current Athena read it), but Trino,
 * Athena's engine, lost data on it until a 2023 fix (trinodb/trino#18223): an option, never a default.
 */
export class ParallelGzip extends Transform {
  private block: Buffer[] = [];
  private blockBytes = 0;
  private readonly inFlight: Promise<Buffer>[] = [];
  private readonly blockSize: number;

  constructor(private readonly options: ParallelGzipOptions) {
    super({ readableHighWaterMark: 256 * 1024 });
    this.blockSize = options.blockSize ?? 1024 * 1024;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    // Blocks are cut at exact multiples of blockSize, so the output does not depend on chunking.
    let rest = chunk;
    let started = false;
    while (this.blockBytes + rest.length >= this.blockSize) {
      const take = this.blockSize - this.blockBytes;
      this.block.push(rest.subarray(0, take));
      this.blockBytes += take;
      rest = rest.subarray(take);
      this.startBlock();
      started = true;
    }
    if (rest.length > 0) {
      this.block.push(rest);
      this.blockBytes += rest.length;
    }
    if (!started) {
      callback();
      return;
    }
    this.drainTo(this.options.concurrency - 1).then(() => callback(), callback);
  }

  override _flush(callback: TransformCallback): void {
    if (this.blockBytes > 0 || this.inFlight.length === 0) this.startBlock();
    this.drainTo(0).then(() => callback(), callback);
  }

  private startBlock(): void {
    const data = Buffer.concat(this.block, this.blockBytes);
    this.block = [];
    this.blockBytes = 0;
    const member = gzipAsync(data, { level: this.options.level, strategy: this.options.strategy });
    member.catch(() => {}); // observed in drainTo, in order
    this.inFlight.push(member);
  }

  /** Writes finished members, oldest first, until at most `left` are still compressing. */
  private async drainTo(left: number): Promise<void> {
    while (this.inFlight.length > left) {
      const member = await this.inFlight.shift()!;
      this.push(member);
    }
  }
}
