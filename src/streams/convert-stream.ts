import { Transform, type TransformCallback } from 'node:stream';
import { type ConverterOptions, DEFAULT_PAYLOAD_PARSER, FlowLogConverter } from '../core/converter.js';
import { createCsvEncoder } from '../core/csv-encoder.js';
import type { Reject } from '../core/errors.js';
import { loadPayloadToCsv } from '../wasm/load.js';

/** Where rejected records go: a writer with backpressure, like a Writable. */
export interface RejectSink {
  /** Returns false when the caller should wait for drained() before producing more. */
  write(reject: Reject): boolean;
  drained(): Promise<void>;
}

export type ConvertStreamOptions = Omit<ConverterOptions, 'onData' | 'onReject'> & { rejects?: RejectSink };

/**
 * The core as a Transform: decompressed bytes in, rows out (CSV unless `createEncoder` says otherwise,
 * see row-formats.ts), in slices of `outputChunkBytes`.
 */
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
 * given (CSV only). A runtime that cannot compile it reads with the scanner: the same output, only slower.
 */
export function withWasmModule<T extends ConvertStreamOptions>(options: T): T {
  const parser = options.payloadParser ?? DEFAULT_PAYLOAD_PARSER;
  // The module writes CSV itself: another format reads with the scanner, so the module is not even compiled.
  const csv = options.createEncoder === undefined || options.createEncoder === createCsvEncoder;
  if (!csv && parser === 'wasm') return { ...options, payloadParser: 'scanner' };
  if (parser !== 'wasm' || options.wasmModule) return { ...options, payloadParser: parser };
  const wasmModule = loadPayloadToCsv();
  return { ...options, payloadParser: wasmModule ? 'wasm' : 'scanner', wasmModule };
}
