import { existsSync, readFileSync } from 'node:fs';
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
  reserve(length: number): number;
  inputPtr(): number;
  outputPtr(): number;
  maskPtr(): number;
  maxFields(): number;
  convert(length: number, fields: number): number;
  rows(): number;
}

const WASM_FILE = 'payload-to-csv.wasm';
let compiled: WebAssembly.Module | undefined;

/**
 * The module is built next to this file's compiled form (dist/src/wasm); tests that import the
 * TypeScript sources find it in dist/ after `npm run build`. Compiling is synchronous and takes
 * about a millisecond: the module is 5 KB.
 */
function wasmModule(): WebAssembly.Module {
  if (compiled) return compiled;
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
  compiled = new WebAssembly.Module(readFileSync(found));
  return compiled;
}

/**
 * The WebAssembly fast path for one complete CloudWatch Logs payload: it writes the CSV rows
 * of a well-formed DATA_MESSAGE whose records all convert cleanly, and declines everything else
 * (escapes, rejects, control messages, unusual JSON) so that the TypeScript reader handles it
 * with the same result as if the fast path did not exist.
 */
export class WasmPayloadConverter {
  private readonly wasm: PayloadToCsv;
  private maskFormat: FlowFormat | undefined;

  constructor() {
    const instance = new WebAssembly.Instance(wasmModule(), {
      env: {
        abort: () => {
          throw new Error('payload-to-csv.wasm aborted');
        },
      },
    });
    this.wasm = instance.exports as unknown as PayloadToCsv;
  }

  /** Rows in the CSV of the last successful convert. */
  get rows(): number {
    return this.wasm.rows();
  }

  /**
   * The CSV of b[start, end), as a view into WebAssembly memory that the next call overwrites;
   * undefined when the payload must go to the full reader.
   */
  convert(b: Uint8Array, start: number, end: number, format: FlowFormat): Uint8Array | undefined {
    const wasm = this.wasm;
    const fields = format.fields.length;
    if (fields > wasm.maxFields()) return undefined;
    const length = end - start;
    if (!wasm.reserve(length)) return undefined;
    const memory = new Uint8Array(wasm.memory.buffer);
    if (this.maskFormat !== format) {
      memory.set(format.intMask, wasm.maskPtr());
      this.maskFormat = format;
    }
    memory.set(b.subarray(start, end), wasm.inputPtr());
    const csvLength = wasm.convert(length, fields);
    if (csvLength < 0) return undefined;
    const from = wasm.outputPtr();
    return memory.subarray(from, from + csvLength);
  }
}
