import { existsSync, readFileSync } from 'node:fs';
import { compilePayloadToCsv, type PayloadToCsvModule } from './interface.js';

const WASM_FILE = 'payload-to-csv.wasm';
let compiled: PayloadToCsvModule | undefined;
/** Set when this runtime cannot compile the module. */
let unsupported = false;

/**
 * The one place that reads the WebAssembly fast path: compiled once per thread, then handed to
 * the core (`wasmModule` of FlowLogConverter). Undefined when this runtime cannot compile it (V8
 * on an x86 CPU without SSE4.1 has no WebAssembly SIMD): the scanner gives the same output, only
 * slower. The module is built next to this file's compiled form (dist/src/wasm); tests that
 * import the TypeScript sources find it in dist/ after `npm run build`. Compiling is synchronous
 * and takes about a millisecond: the module is 5 KB.
 */
export function loadPayloadToCsv(): PayloadToCsvModule | undefined {
  if (compiled || unsupported) return compiled;
  const candidates = [
    new URL(`./${WASM_FILE}`, import.meta.url),
    new URL(`../../dist/src/wasm/${WASM_FILE}`, import.meta.url),
  ];
  const found = candidates.find((url) => existsSync(url));
  if (!found) {
    throw new Error(
      `${WASM_FILE} is missing (looked in ${candidates.map((u) => u.pathname).join(', ')}): run npm run build`,
    );
  }
  try {
    compiled = compilePayloadToCsv(readFileSync(found));
  } catch {
    unsupported = true;
  }
  return compiled;
}
