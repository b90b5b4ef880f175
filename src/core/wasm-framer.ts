import { existsSync, readFileSync } from 'node:fs';
import type { FlowhoseError } from './errors.js';
import {
  notAnObjectError,
  type OnValue,
  tooDeepError,
  tooLargeError,
  truncatedError,
} from './json-framer.js';
import type { FlowFormat } from './log-format.js';

// @types/node leaves WebAssembly to the DOM library; these are the parts used here.
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module, imports: object);
    readonly exports: object;
  }
  class Memory {
    readonly buffer: ArrayBuffer;
  }
}

interface PayloadToCsv {
  memory: WebAssembly.Memory;
  maskPtr(): number;
  start(fields: number, maxObjectBytes: number, memoryLimit: number): void;
  unfinishedStart(): number;
  inputLength(): number;
  appendPtr(length: number, newChunk: boolean): number;
  run(appended: number, chunkEnds: boolean): number;
  unfinishedSpansChunks(): number;
  outputPtr(): number;
  outputLength(): number;
  rows(): number;
  payloads(): number;
  drained(): void;
  inputPtr(): number;
  stopStartAt(): number;
  stopEndAt(): number;
  droppedBytes(): number;
}

/** Why run() stopped (payload-to-csv.ts). */
const NEED_MORE = 0;
const DECLINED = 1;
const OUTPUT_FULL = 2;
const NOT_AN_OBJECT = 3;
const TOO_LARGE_PENDING = 4;
const TOO_LARGE_COMPLETE = 5;
const TOO_DEEP = 6;

/** The module's limits (payload-to-csv.ts): fields per format, and 32-bit addresses. */
const MAX_FIELDS = 256;
const MAX_SIZE = 2 ** 31;

const WASM_FILE = 'payload-to-csv.wasm';
let compiled: WebAssembly.Module | undefined;
/** Set when this runtime cannot compile the module. */
let unsupported = false;

/**
 * The module is built next to this file's compiled form (dist/src/wasm); tests that import the
 * TypeScript sources find it in dist/ after `npm run build`. Compiling is synchronous and takes
 * about a millisecond: the module is 5 KB.
 */
function wasmModule(): WebAssembly.Module | undefined {
  if (compiled || unsupported) return compiled;
  const candidates = [
    new URL(`../wasm/${WASM_FILE}`, import.meta.url),
    new URL(`../../dist/src/wasm/${WASM_FILE}`, import.meta.url),
  ];
  const found = candidates.find((url) => existsSync(url));
  if (!found) {
    throw new Error(
      `${WASM_FILE} is missing (looked in ${candidates.map((u) => u.pathname).join(', ')}): run npm run build`,
    );
  }
  try {
    compiled = new WebAssembly.Module(readFileSync(found));
  } catch {
    // A runtime without WebAssembly SIMD (V8 on an x86 CPU without SSE4.1): the scanner
    // gives the same output, only slower.
    unsupported = true;
  }
  return compiled;
}

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
  private readonly wasm: PayloadToCsv;
  private base = 0;
  /** The part of the chunk not taken when push() returned HANDOVER. */
  private leftover: Buffer | undefined;

  constructor(
    format: FlowFormat,
    private readonly maxObjectBytes: number,
    memoryLimit = DEFAULT_WASM_MEMORY_LIMIT,
  ) {
    const instance = new WebAssembly.Instance(wasmModule()!, {
      env: {
        abort: () => {
          throw new Error(`${WASM_FILE} aborted`);
        },
      },
    });
    this.wasm = instance.exports as unknown as PayloadToCsv;
    // NaN never compares greater: JsonFramer reads it as no limit.
    const max = Number.isNaN(maxObjectBytes) ? MAX_SIZE : Math.min(maxObjectBytes, MAX_SIZE);
    this.wasm.start(format.fields.length, max, Math.min(memoryLimit, MAX_SIZE));
    new Uint8Array(this.wasm.memory.buffer).set(format.intMask, this.wasm.maskPtr());
  }

  /** Whether the module runs here and can convert this format. */
  static supports(format: FlowFormat): boolean {
    return format.fields.length > 0 && format.fields.length <= MAX_FIELDS && wasmModule() !== undefined;
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
      throw new Error(`${WASM_FILE}: unknown status ${status}`);
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
