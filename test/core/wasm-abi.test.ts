import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  byteClass,
  DECLINED,
  MAX_FIELDS,
  MAX_NESTING_DEPTH,
  NEED_MORE,
  NEEDS_QUOTES,
  NOT_AN_OBJECT,
  OUTPUT_FULL,
  SPACE,
  TOO_DEEP,
  TOO_LARGE_COMPLETE,
  TOO_LARGE_PENDING,
} from '../../src/wasm/abi.js';
import {
  declaredInterface,
  instantiatePayloadToCsv,
  PAYLOAD_TO_CSV_EXPORTS,
  PAYLOAD_TO_CSV_IMPORTS,
} from '../../src/wasm/interface.js';
import { WASM_MODULE } from '../helpers.js';

/**
 * The host and payload-to-csv.wasm meet at src/wasm/abi.ts (both compilers import it) and at the
 * export list in src/wasm/interface.ts. This reads the built module (dist/, npm run build) and
 * fails when either side changed without the other, or when dist/ holds a stale build.
 */
describe('WebAssembly module interface', () => {
  const module = WASM_MODULE!;

  it('exports exactly what the host declares, with the same kinds', () => {
    expect(module).toBeDefined();
    const { exports } = declaredInterface(module);
    const actual = Object.fromEntries(exports.map((e) => [e.name, e.kind]));
    expect(actual).toEqual(PAYLOAD_TO_CSV_EXPORTS);
  });

  it('needs no import the host does not give', () => {
    const given = PAYLOAD_TO_CSV_IMPORTS as Record<string, Record<string, unknown>>;
    for (const wanted of declaredInterface(module).imports) {
      expect(typeof given[wanted.module]?.[wanted.name], `${wanted.module}.${wanted.name}`).toBe('function');
    }
  });

  it('was built from the constants the host reads (abi.ts)', () => {
    const host: Record<string, number> = {
      NEED_MORE,
      DECLINED,
      OUTPUT_FULL,
      NOT_AN_OBJECT,
      TOO_LARGE_PENDING,
      TOO_LARGE_COMPLETE,
      TOO_DEEP,
      MAX_FIELDS,
      MAX_NESTING_DEPTH,
    };
    const wasm = instantiatePayloadToCsv(module) as unknown as Record<string, { value: number }>;
    const globals = Object.entries(PAYLOAD_TO_CSV_EXPORTS).filter(([, kind]) => kind === 'global');
    expect(Object.fromEntries(globals.map(([name]) => [name, wasm[name]!.value]))).toEqual(host);
  });

  it('classifies bytes by one rule: separators, digits, bytes that need quotes', () => {
    const classes = Array.from({ length: 256 }, (_, c) => byteClass(c));
    const spaces = [0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20];
    expect(classes.flatMap((k, c) => (k === SPACE ? [c] : []))).toEqual(spaces);
    expect(classes.flatMap((k, c) => (k === 0 ? [c] : []))).toEqual(
      [...'0123456789'].map((d) => d.charCodeAt(0)),
    );
    expect(classes.flatMap((k, c) => ((k & NEEDS_QUOTES) !== 0 ? [c] : []))).toEqual([0x22, 0x2c]);
  });
});

describe('a runtime that cannot compile the module', () => {
  it('gets no module from the loader, and ConvertStream converts with the scanner instead', () => {
    // A child process against dist/ (npm run build) whose WebAssembly cannot compile, as V8 on a
    // CPU without SIMD: the loader returns undefined and the output is the scanner's.
    const dist = (path: string) => JSON.stringify(new URL(`../../dist/src/${path}`, import.meta.url).href);
    const script = `
      WebAssembly.Module = class { constructor() { throw new WebAssembly.CompileError('no SIMD here'); } };
      const { loadPayloadToCsv } = await import(${dist('wasm/load.js')});
      const { ConvertStream } = await import(${dist('streams/convert-stream.js')});
      const { convertBytes } = await import(${dist('core/convert-bytes.js')});
      const { generatePayloads } = await import(${dist('gen/corpus.js')});
      const input = Buffer.from(generatePayloads({ seed: 2, targetBytes: 20_000 }).join(''));
      const stream = new ConvertStream();
      const chunks = [];
      stream.on('data', (chunk) => chunks.push(chunk));
      stream.end(input);
      await new Promise((resolve, reject) => stream.on('end', resolve).on('error', reject));
      const scanner = convertBytes(input, { payloadParser: 'scanner' }).output;
      console.log(JSON.stringify({ module: loadPayloadToCsv() === undefined ? 'none' : 'compiled',
        same: Buffer.concat(chunks).equals(scanner), rows: stream.converter.stats.rows }));`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(child.error).toBeUndefined();
    expect(child.stderr).toBe('');
    expect(JSON.parse(child.stdout)).toMatchObject({ module: 'none', same: true });
    expect(JSON.parse(child.stdout).rows).toBeGreaterThan(50);
  });
});
