import { Duplex } from 'node:stream';

/**
 * node:zlib's zstd compressor behind a Duplex that hands it one chunk at a time and ends it only once
 * every chunk has been compressed. Ended with a write still queued, node:zlib (checked on 24.21)
 * finishes the frame with that chunk and then finishes another, empty one (nodejs/node#66078): valid
 * zstd, but a trailing 9-byte frame whose presence depends on timing, so the same input would not
 * always give the same bytes (resume compares sizes, tests compare bytes). gzip is unaffected: a second
 * Z_FINISH writes nothing.
 */
export class SerialZstd extends Duplex {
  constructor(private readonly inner: Duplex) {
    super();
    inner.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) inner.pause();
    });
    inner.on('end', () => this.push(null));
    inner.on('error', (error) => this.destroy(error));
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    // The inner stream calls back once the chunk is compressed (and its output taken): the next waits.
    this.inner.write(chunk, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.inner.end(callback);
  }

  override _read(): void {
    this.inner.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.inner.destroy();
    callback(error);
  }
}
