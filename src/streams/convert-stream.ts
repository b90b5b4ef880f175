import { Transform, type TransformCallback } from 'node:stream';
import { type ConverterOptions, DEFAULT_PAYLOAD_PARSER, FlowLogConverter } from '../core/converter.js';
import type { Reject } from '../core/errors.js';
import { loadPayloadToCsv } from '../wasm/load.js';

/** Where rejected records go: a writer with backpressure, like a Writable. */
export interface RejectSink {
  /** Returns false when the caller should wait for drained() before producing more. */
  write(reject: Reject): boolean;
  drained(): Promise<void>;
}

export type ConvertStreamOptions = Omit<ConverterOptions, 'onData' | 'onReject'> & { rejects?: RejectSink };

/** The core as a Transform: decompressed bytes in, CSV bytes out, in ~64 KiB slices. */
export class ConvertStream extends Transform {
  readonly converter: FlowLogConverter;
  private rejectsFull = false;
  private readonly rejects: RejectSink | undefined;

  constructor(options: ConvertStreamOptions = {}) {
    super({ readableHighWaterMark: 256 * 1024, writableHighWaterMark: 64 * 1024 });
    this.rejects = options.rejects;
    this.converter = new FlowLogConverter({
      ...withWasmModule(options),
      onData: (chunk) => this.push(chunk),
      onReject: (reject) => {
        if (this.rejects && !this.rejects.write(reject)) this.rejectsFull = true;
      },
    });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const error = this.converter.write(chunk);
    if (error) {
      callback(error);
      return;
    }
    this.afterRejects(callback);
  }

  override _flush(callback: TransformCallback): void {
    const error = this.converter.end();
    if (error) {
      callback(error);
      return;
    }
    this.afterRejects(callback);
  }

  private afterRejects(callback: TransformCallback): void {
    if (!this.rejectsFull || !this.rejects) {
      callback();
      return;
    }
    this.rejectsFull = false;
    this.rejects.drained().then(() => callback(), callback);
  }
}

/**
 * The CLI's parser (wasm) unless told otherwise, with the module loaded once per thread unless
 * given. A runtime that cannot compile it reads with the scanner: the same output, only slower.
 */
export function withWasmModule<T extends ConvertStreamOptions>(options: T): T {
  const parser = options.payloadParser ?? DEFAULT_PAYLOAD_PARSER;
  if (parser !== 'wasm' || options.wasmModule) return { ...options, payloadParser: parser };
  const wasmModule = loadPayloadToCsv();
  return { ...options, payloadParser: wasmModule ? 'wasm' : 'scanner', wasmModule };
}
