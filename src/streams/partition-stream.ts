import { once } from 'node:events';
import { Writable } from 'node:stream';
import { FlowLogConverter } from '../core/converter.js';
import { createCsvEncoder } from '../core/csv-encoder.js';
import { DEFAULT_FORMAT } from '../core/log-format.js';
import { CsvPartitionRouter, PartitionRouter, type PartitionScheme } from '../core/partition.js';
import { type ConvertStreamOptions, type RejectSink, withWasmModule } from './convert-stream.js';

/** Where one partition's bytes go: the head of its own pipeline (codec, then sink) and that pipeline's end. */
export interface PartitionOutput {
  stream: Writable;
  /** Settles when the partition's pipeline has finished (after stream.end()) or failed. */
  done: Promise<void>;
}

export type PartitionStreamOptions = ConvertStreamOptions & {
  scheme: PartitionScheme;
  /** The source's own time, for records that carry none (see core/partition.ts). */
  sourceTimeMs?: number;
  maxPartitions: number;
  /** Opens a partition on its first row (synchronously: its sink may open behind the stream). */
  openPartition(key: string): PartitionOutput;
};

/**
 * The core as the end of a pipeline that fans out: decompressed bytes in, one output per partition of
 * flow time (PartitionRouter over the given encoder, CSV by default), each written into the stream
 * openPartition gave for it. Backpressure is kept per partition: a write is done only once every
 * partition it filled has drained. It finishes when every partition's pipeline has; the first failure
 * of any of them destroys this stream, and destroying it destroys them all.
 *
 *   bytes ─► FlowLogConverter ─► PartitionRouter ─┬─► year=…/hour=00: codec ─► sink
 *                                                  └─► year=…/hour=01: codec ─► sink
 */
export class PartitionStream extends Writable {
  readonly converter: FlowLogConverter;
  private readonly outputs: PartitionOutput[] = [];
  private readonly full = new Set<PartitionOutput>();
  private readonly rejects: RejectSink | undefined;
  private rejectsFull = false;
  private router: PartitionRouter | undefined;

  constructor(options: PartitionStreamOptions) {
    super({ highWaterMark: 64 * 1024 });
    const { scheme, sourceTimeMs, maxPartitions, openPartition, rejects, ...converter } = options;
    this.rejects = rejects;
    // Over CSV the router also takes the rows the WebAssembly path writes for whole payloads (it routes
    // each row); over another encoder the module's work would be wasted, and the scanner reads.
    // Without account-id in the format, AWS's tree takes each payload's owner, which the module does not pass on.
    const ownerNeeded =
      scheme.aws !== undefined &&
      !(converter.format ?? DEFAULT_FORMAT).fields.some((field) => field.name === 'account-id');
    const csv =
      !ownerNeeded && (converter.createEncoder === undefined || converter.createEncoder === createCsvEncoder);
    const createEncoder = converter.createEncoder ?? createCsvEncoder;
    const reading: ConvertStreamOptions = csv
      ? withWasmModule(converter)
      : {
          ...converter,
          payloadParser: converter.payloadParser === 'json' ? 'json' : 'scanner',
          wasmModule: undefined,
        };
    this.converter = new FlowLogConverter({
      ...reading,
      createEncoder: (_, chunkBytes) => {
        const options = {
          scheme,
          createEncoder,
          chunkBytes,
          sourceTimeMs,
          maxPartitions,
          onPartition: (key: string) => this.open(openPartition(key)),
        };
        this.router = csv ? new CsvPartitionRouter(options) : new PartitionRouter(options);
        return this.router;
      },
      onData: () => {},
      onReject: (reject) => {
        if (this.rejects && !this.rejects.write(reject)) this.rejectsFull = true;
      },
    });
  }

  /** How many partitions this input has opened. */
  get partitions(): number {
    return this.router?.size ?? 0;
  }

  private open(output: PartitionOutput): (chunk: Buffer) => void {
    this.outputs.push(output);
    output.done.catch((error: unknown) => this.destroy(error as Error));
    return (chunk) => {
      if (!output.stream.write(chunk)) this.full.add(output);
    };
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const error = this.guarded(() => this.converter.write(chunk));
    if (error) {
      callback(error);
      return;
    }
    this.settle().then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    const error = this.guarded(() => this.converter.end());
    if (error) {
      callback(error);
      return;
    }
    this.settle()
      .then(() => {
        for (const output of this.outputs) output.stream.end();
        return Promise.all(this.outputs.map((output) => output.done));
      })
      .then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (error) for (const output of this.outputs) output.stream.destroy(error);
    callback(error);
  }

  /** The router throws past its bound of partitions: that fails the input like any other core error. */
  private guarded(step: () => Error | undefined): Error | undefined {
    try {
      return step();
    } catch (error) {
      return error as Error;
    }
  }

  /** Waits until every partition filled by the last write has drained, and the rejects too. */
  private async settle(): Promise<void> {
    const waits: Promise<unknown>[] = [];
    for (const output of this.full) {
      // A pipeline that fails never drains: its failure (which destroys this stream) ends the wait.
      waits.push(Promise.race([once(output.stream, 'drain'), output.done]));
    }
    this.full.clear();
    if (this.rejectsFull && this.rejects) {
      this.rejectsFull = false;
      waits.push(this.rejects.drained());
    }
    if (waits.length > 0) await Promise.all(waits);
  }
}
