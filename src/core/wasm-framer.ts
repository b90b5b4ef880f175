import {
  DECLINED,
  MAX_FIELDS,
  NEED_MORE,
  NOT_AN_OBJECT,
  OUTPUT_FULL,
  TOO_DEEP,
  TOO_LARGE_COMPLETE,
  TOO_LARGE_PENDING,
} from '../wasm/abi.js';
import {
  instantiatePayloadToCsv,
  type PayloadToCsvExports,
  type PayloadToCsvModule,
} from '../wasm/interface.js';
import type { FlowhoseError } from './errors.js';
import {
  notAnObjectError,
  type OnValue,
  tooDeepError,
  tooLargeError,
  truncatedError,
} from './json-framer.js';
import type { FlowFormat } from './log-format.js';

/** The module addresses its memory with 32 bits. */
const MAX_SIZE = 2 ** 31;

/** push() gave up for lack of memory: go on with JsonFramer from handOver(). */
export const HANDOVER = 'handover';

/** How much of a chunk goes into the module at a time: small enough to stay in L2 cache. */
const SLICE_BYTES = 64 * 1024;

/** WebAssembly memory one framer may use before it hands over (payloads of ~80 MB and more). */
export const DEFAULT_WASM_MEMORY_LIMIT = 256 * 1024 * 1024;

/** Called with CSV rows the module wrote: a view into its memory, valid until the call returns. */
export type OnCsv = (csv: Uint8Array, rows: number, payloads: number) => void;

/**
 * JsonFramer's counterpart with the WebAssembly fast path inside: it frames the stream of
 * payloads with the same rules and converts each well-formed DATA_MESSAGE to CSV itself. Any
 * payload it declines (escapes, rejects, control messages, unusual JSON) goes to `onValue` as
 * JsonFramer would hand it, after the rows before it, so the output is the same as
 * JsonFramer + PayloadReader's. Framing errors are JsonFramer's, word for word.
 */
export class WasmFramer {
  private readonly wasm: PayloadToCsvExports;
  private base = 0;
  /** The part of the chunk not taken when push() returned HANDOVER. */
  private leftover: Buffer | undefined;

  /** `module`: the compiled payload-to-csv.wasm (src/wasm/load.ts); each framer gets its own instance. */
  constructor(
    module: PayloadToCsvModule,
    format: FlowFormat,
    private readonly maxObjectBytes: number,
    memoryLimit = DEFAULT_WASM_MEMORY_LIMIT,
  ) {
    this.wasm = instantiatePayloadToCsv(module);
    // NaN never compares greater: JsonFramer reads it as no limit.
    const max = Number.isNaN(maxObjectBytes) ? MAX_SIZE : Math.min(maxObjectBytes, MAX_SIZE);
    this.wasm.start(format.fields.length, max, Math.min(memoryLimit, MAX_SIZE));
    new Uint8Array(this.wasm.memory.buffer).set(format.intMask, this.wasm.maskPtr());
  }

  /** Whether the module can convert this format. */
  static supports(format: FlowFormat): boolean {
    return format.fields.length > 0 && format.fields.length <= MAX_FIELDS;
  }

  /** Where the next byte sits in the stream (after leading bytes that were not fed here). */
  startAt(offset: number): void {
    this.base = offset;
  }

  /**
   * Frames and converts `chunk`, in slices of SLICE_BYTES so that each is still in cache when
   * the module reads it back (a 1 MiB chunk copied whole has left the cache by then: ~15% more
   * CPU). Returns HANDOVER when the module would pass its memory limit: the stream then goes on
   * in JsonFramer with handOver().
   */
  push(chunk: Buffer, onValue: OnValue, onCsv: OnCsv): FlowhoseError | undefined | typeof HANDOVER {
    const wasm = this.wasm;
    for (let from = 0; from < chunk.length; from += SLICE_BYTES) {
      const slice = chunk.subarray(from, from + SLICE_BYTES);
      const at = wasm.appendPtr(slice.length, from === 0);
      if (at === 0) {
        this.leftover = chunk.subarray(from);
        return HANDOVER;
      }
      new Uint8Array(wasm.memory.buffer).set(slice, at);
      const error = this.run(slice.length, from + SLICE_BYTES >= chunk.length, onValue, onCsv);
      if (error) return error;
    }
    return undefined;
  }

  private run(
    appended: number,
    chunkEnds: boolean,
    onValue: OnValue,
    onCsv: OnCsv,
  ): FlowhoseError | undefined {
    const wasm = this.wasm;
    let status = wasm.run(appended, chunkEnds);
    for (;;) {
      this.drain(onCsv);
      if (status === NEED_MORE) return undefined;
      if (status === OUTPUT_FULL) {
        status = wasm.run(0, chunkEnds);
        continue;
      }
      const start = wasm.stopStartAt();
      const offset = this.offsetOf(start);
      if (status === DECLINED) {
        const from = wasm.inputPtr() + start;
        const payload = Buffer.from(new Uint8Array(wasm.memory.buffer, from, wasm.stopEndAt() - start));
        const error = onValue(payload, 0, payload.length, offset);
        if (error) return error;
        status = wasm.run(0, chunkEnds);
        continue;
      }
      if (status === NOT_AN_OBJECT) {
        return notAnObjectError(new Uint8Array(wasm.memory.buffer)[wasm.inputPtr() + start]!, offset);
      }
      if (status === TOO_LARGE_PENDING || status === TOO_LARGE_COMPLETE) {
        return tooLargeError(this.maxObjectBytes, offset);
      }
      if (status === TOO_DEEP) return tooDeepError(offset);
      throw new Error(`payload-to-csv.wasm: unknown status ${status}`);
    }
  }

  /**
   * After HANDOVER: where JsonFramer starts in the stream, and the chunks to push into it so that
   * it sees the chunk edges this framer saw (an unfinished payload that began in an earlier chunk
   * arrives as a chunk of its own, as JsonFramer would have been holding it).
   */
  handOver(): { offset: number; chunks: Buffer[] } {
    const wasm = this.wasm;
    const start = wasm.unfinishedStart();
    const from = wasm.inputPtr() + start;
    const held = Buffer.from(new Uint8Array(wasm.memory.buffer, from, wasm.inputLength() - start));
    const rest = this.leftover ?? Buffer.alloc(0);
    const chunks = wasm.unfinishedSpansChunks() ? [held, rest] : [Buffer.concat([held, rest])];
    return { offset: this.offsetOf(start), chunks };
  }

  /** Called at end of input: an unfinished payload means the input was cut short. */
  end(): FlowhoseError | undefined {
    // After a push, only an unfinished payload is left unframed (white space is consumed).
    const start = this.wasm.unfinishedStart();
    const bytes = this.wasm.inputLength() - start;
    return bytes > 0 ? truncatedError(bytes, this.offsetOf(start)) : undefined;
  }

  private drain(onCsv: OnCsv): void {
    const wasm = this.wasm;
    const payloads = wasm.payloads();
    if (payloads === 0) return;
    const from = wasm.outputPtr();
    onCsv(new Uint8Array(wasm.memory.buffer, from, wasm.outputLength()), wasm.rows(), payloads);
    wasm.drained();
  }

  private offsetOf(inputOffset: number): number {
    return this.base + this.wasm.droppedBytes() + inputOffset;
  }
}
