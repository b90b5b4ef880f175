// The host's side of payload-to-csv.wasm: the exports it calls and the imports it gives, declared
// once. No I/O here, so the core can instantiate a module it was handed; load.ts reads the file.

// @types/node leaves WebAssembly to the DOM library; these are the parts used here.
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
    static exports(module: Module): { name: string; kind: string }[];
    static imports(module: Module): { module: string; name: string; kind: string }[];
  }
  class Instance {
    constructor(module: Module, imports: object);
    readonly exports: object;
  }
  class Memory {
    readonly buffer: ArrayBuffer;
  }
  class Global {
    readonly value: number;
  }
}

/** The compiled module (a WebAssembly.Module), as loadPayloadToCsv() returns it. */
export type PayloadToCsvModule = WebAssembly.Module;

/** What the module exports; the comments on each are in payload-to-csv.ts. */
export interface PayloadToCsvExports {
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
  // The constants of abi.ts, exported so that a test can tell a stale build.
  NEED_MORE: WebAssembly.Global;
  DECLINED: WebAssembly.Global;
  OUTPUT_FULL: WebAssembly.Global;
  NOT_AN_OBJECT: WebAssembly.Global;
  TOO_LARGE_PENDING: WebAssembly.Global;
  TOO_LARGE_COMPLETE: WebAssembly.Global;
  TOO_DEEP: WebAssembly.Global;
  MAX_FIELDS: WebAssembly.Global;
  MAX_NESTING_DEPTH: WebAssembly.Global;
}

type ExportKind<T> = T extends (...args: never[]) => unknown
  ? 'function'
  : T extends WebAssembly.Memory
    ? 'memory'
    : 'global';

/** PayloadToCsvExports at run time: every export by name and WebAssembly kind (tsc keeps the two in step). */
export const PAYLOAD_TO_CSV_EXPORTS: {
  readonly [K in keyof PayloadToCsvExports]: ExportKind<PayloadToCsvExports[K]>;
} = {
  memory: 'memory',
  maskPtr: 'function',
  start: 'function',
  unfinishedStart: 'function',
  inputLength: 'function',
  appendPtr: 'function',
  run: 'function',
  unfinishedSpansChunks: 'function',
  outputPtr: 'function',
  outputLength: 'function',
  rows: 'function',
  payloads: 'function',
  drained: 'function',
  inputPtr: 'function',
  stopStartAt: 'function',
  stopEndAt: 'function',
  droppedBytes: 'function',
  NEED_MORE: 'global',
  DECLINED: 'global',
  OUTPUT_FULL: 'global',
  NOT_AN_OBJECT: 'global',
  TOO_LARGE_PENDING: 'global',
  TOO_LARGE_COMPLETE: 'global',
  TOO_DEEP: 'global',
  MAX_FIELDS: 'global',
  MAX_NESTING_DEPTH: 'global',
};

/** The imports the host gives (AssemblyScript's abort, should a build ever call it). */
export const PAYLOAD_TO_CSV_IMPORTS = {
  env: {
    abort: (): never => {
      throw new Error('payload-to-csv.wasm aborted');
    },
  },
};

/** Compiles the module's bytes; throws when this runtime cannot (no WebAssembly SIMD). */
export function compilePayloadToCsv(bytes: Uint8Array): PayloadToCsvModule {
  return new WebAssembly.Module(bytes);
}

/** A fresh instance: its own memory, so one per stream. */
export function instantiatePayloadToCsv(module: PayloadToCsvModule): PayloadToCsvExports {
  return new WebAssembly.Instance(module, PAYLOAD_TO_CSV_IMPORTS).exports as PayloadToCsvExports;
}

/** The exports and imports a compiled module declares, for the drift test. */
export function declaredInterface(module: PayloadToCsvModule): {
  exports: { name: string; kind: string }[];
  imports: { module: string; name: string; kind: string }[];
} {
  return { exports: WebAssembly.Module.exports(module), imports: WebAssembly.Module.imports(module) };
}
