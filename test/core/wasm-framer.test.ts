import { describe, expect, it } from 'vitest';
import { FlowLogConverter } from '../../src/core/converter.js';
import type { FlowhoseError } from '../../src/core/errors.js';
import { DEFAULT_FORMAT, parseLogFormat } from '../../src/core/log-format.js';
import { WasmFramer } from '../../src/core/wasm-framer.js';
import { generatePayloads } from '../../src/gen/corpus.js';
import {
  AWS_DOC_RECORD,
  CONTROL_PAYLOAD,
  convertPieces,
  dataPayload,
  expectSameAsScanner,
  randomCuts,
  WASM_MODULE,
} from '../helpers.js';

const RECORD = AWS_DOC_RECORD;

/** Pushes one payload through a fresh WasmFramer: the CSV it wrote itself, or undefined if it declined. */
function fastPath(payload: Buffer, format = DEFAULT_FORMAT): { csv: string; rows: number } | undefined {
  const framer = new WasmFramer(WASM_MODULE!, format, 1 << 20);
  let declined = false;
  let csv = '';
  let rows = 0;
  const error = framer.push(
    payload,
    () => {
      declined = true;
      return undefined;
    },
    (bytes, n) => {
      csv += Buffer.from(bytes).toString();
      rows += n;
    },
  );
  return error || declined || framer.end() ? undefined : { csv, rows };
}

describe('WebAssembly fast path', () => {
  it('converts a well-formed payload itself, byte for byte as the scanner', () => {
    const payload = Buffer.from(
      dataPayload([{ message: RECORD }, { message: RECORD.replace('22 6', '- -') }]),
    );
    const converted = fastPath(payload);
    expect(converted?.rows).toBe(2);
    const scanner = convertPieces(payload, [], DEFAULT_FORMAT, 4096, 'scanner');
    const header = scanner.csv.slice(0, scanner.csv.indexOf('\n') + 1);
    expect(header + converted!.csv).toBe(scanner.csv);
  });

  it.each([
    ['a byte between payloads', ` \n${dataPayload([{ message: RECORD }])}x{}`],
    [
      'a payload cut short',
      `  ${dataPayload([{ message: RECORD }])}${dataPayload([{ message: RECORD }]).slice(0, 90)}`,
    ],
    ['a payload in a string that never ends', '{"logEvents":"'],
    ['a stray closing bracket', '{"logEvents":[]}]'],
  ])('fails %s with JsonFramer’s error and offset', (_, text) => {
    const input = Buffer.from(text);
    for (const cuts of [[], [1, 2, 3], randomCuts(input.length, 8, 7)]) {
      const scanner = convertPieces(input, cuts, DEFAULT_FORMAT, 4096, 'scanner');
      expect(scanner.error).toBeDefined();
      expectSameAsScanner(input, DEFAULT_FORMAT, cuts);
    }
  });

  it('fails a payload over maxRecordBytes as JsonFramer does, whether it arrives whole or in pieces', () => {
    const payload = Buffer.from(`\n${dataPayload([{ message: RECORD }, { message: RECORD }])}`);
    const codes: (string | undefined)[] = [];
    for (const cuts of [[], [40], [40, 200], [40, 400]]) {
      const results = (['scanner', 'wasm'] as const).map((parser) => {
        const out = new FlowLogConverter({
          payloadParser: parser,
          wasmModule: WASM_MODULE,
          maxRecordBytes: 300,
          onData: () => {},
        });
        let error: FlowhoseError | undefined;
        let from = 0;
        for (const cut of [...cuts, payload.length]) {
          error ??= out.write(payload.subarray(from, cut));
          from = cut;
        }
        return error ?? out.end();
      });
      expect(results[1]?.code).toBe(results[0]?.code);
      expect(results[1]?.message).toBe(results[0]?.message);
      expect(results[1]?.offset).toBe(results[0]?.offset);
      codes.push(results[1]?.message);
    }
    // Whole, joined or still arriving: the same failure (it once passed when it came whole).
    expect(codes).toEqual(
      Array(4).fill('a JSON payload exceeds the record size limit of 300 bytes (at decompressed byte 1)'),
    );
  });

  it('hands a payload too big for its memory limit over to JsonFramer, losing nothing', () => {
    const big = dataPayload(Array.from({ length: 20_000 }, () => ({ message: RECORD }))); // ~3.5 MB
    // ~450 KB: fits the input but its rows do not fit the rest of the limit, so it is declined.
    const mid = dataPayload(Array.from({ length: 2_500 }, () => ({ message: RECORD })));
    const small = dataPayload([{ message: RECORD }]);
    const input = Buffer.from(`${small}${mid} ${big}${small}${dataPayload([{ message: '2 x' }])}`);
    const run = (parser: 'scanner' | 'wasm', cuts: number[]) => {
      const out: Buffer[] = [];
      const rejects: unknown[] = [];
      const converter = new FlowLogConverter({
        payloadParser: parser,
        wasmModule: WASM_MODULE,
        wasmMemoryLimit: 1024 * 1024,
        onData: (b) => out.push(Buffer.from(b)),
        onReject: (r) => rejects.push(r),
      });
      let from = 0;
      for (const cut of [...cuts, input.length]) {
        expect(converter.write(input.subarray(from, cut))).toBeUndefined();
        from = cut;
      }
      expect(converter.end()).toBeUndefined();
      return { csv: Buffer.concat(out).toString(), rejects, stats: converter.stats };
    };
    for (const cuts of [[], randomCuts(input.length, 60, 4)]) {
      const wasm = run('wasm', cuts);
      expect(wasm).toEqual(run('scanner', cuts));
      expect(wasm.stats.rows).toBe(22_502);
      expect(wasm.rejects).toHaveLength(1);
    }
  });

  it('keeps JsonFramer’s size checks across a handover, wherever the chunks fall', () => {
    const big = dataPayload(Array.from({ length: 2_000 }, () => ({ message: RECORD }))); // ~350 KB
    const input = Buffer.from(
      `${dataPayload([{ message: RECORD }])}${big}${dataPayload([{ message: RECORD }])}`,
    );
    const outcomes = new Set<string>();
    for (const maxRecordBytes of [200_000, big.length - 1, big.length, 16_000_000]) {
      for (const cuts of [
        [],
        [1000],
        [1000, 150_000],
        [300_000],
        randomCuts(input.length, 12, maxRecordBytes % 97),
      ]) {
        const results = (['scanner', 'wasm'] as const).map((parser) => {
          let bytes = 0;
          const converter = new FlowLogConverter({
            payloadParser: parser,
            wasmModule: WASM_MODULE,
            maxRecordBytes,
            wasmMemoryLimit: 256 * 1024,
            onData: (b) => {
              bytes += b.length;
            },
          });
          let error: FlowhoseError | undefined;
          let from = 0;
          for (const cut of [...cuts, input.length]) {
            error ??= converter.write(input.subarray(from, cut));
            from = cut;
          }
          error ??= converter.end();
          return {
            error: error && `${error.code} ${error.message}`,
            rows: converter.stats.rows,
            bytes: error ? 0 : bytes,
          };
        });
        expect(results[1]).toEqual(results[0]);
        outcomes.add(results[0]!.error ?? 'ok');
      }
    }
    // Both the limit's errors and clean runs were met.
    expect([...outcomes].some((o) => o.startsWith('RECORD_TOO_LARGE'))).toBe(true);
    expect(outcomes.has('ok')).toBe(true);
  });

  it('frames payloads larger than many chunks, and chunks holding many payloads', () => {
    const big = dataPayload(Array.from({ length: 3000 }, () => ({ message: RECORD })));
    const input = Buffer.from(`${big}${generatePayloads({ seed: 5, targetBytes: 400_000 }).join('')}${big}`);
    expectSameAsScanner(input);
    expectSameAsScanner(input, DEFAULT_FORMAT, randomCuts(input.length, 200, 9));
    expect(convertPieces(input).stats.rows).toBeGreaterThan(6000);
  });

  it.each([
    ['an escape in a message', dataPayload([{ message: `${RECORD} \\"x` }])],
    ['a record with too few fields', dataPayload([{ message: '2 1 2' }])],
    ['a letter in an integer field', dataPayload([{ message: RECORD.replace('20641', '2o641') }])],
    ['a field that needs quotes', dataPayload([{ message: RECORD.replace('eni-', 'eni,') }])],
    ['a string timestamp', dataPayload([{ message: RECORD, timestamp: '1418530010000' }])],
    ['a timestamp past 9999', dataPayload([{ message: RECORD, timestamp: 253402300800000 }])],
    ['a control message', CONTROL_PAYLOAD],
    ['a message record', JSON.stringify({ message: RECORD })],
    ['an event without a message', '{"logEvents":[{"timestamp":1}]}'],
    ['a fractional number', dataPayload([{ message: RECORD }], { extra: 1.5 })],
    ['two logEvents arrays', '{"logEvents":[],"logEvents":[]}'],
    ['no logEvents', '{"owner":"1"}'],
  ])('declines %s, and the result is the scanner’s', (_, text) => {
    const payload = Buffer.from(text);
    expect(fastPath(payload)).toBeUndefined();
    expectSameAsScanner(payload);
  });

  it('agrees with the scanner on generated corpora, cut anywhere', () => {
    for (const seed of [1, 2, 3]) {
      const input = Buffer.from(
        generatePayloads({ seed, targetBytes: 300_000, controlRate: 0.1 }).join(seed === 2 ? '\n' : ''),
      );
      expectSameAsScanner(input, DEFAULT_FORMAT, randomCuts(input.length, 30, seed));
    }
  });

  it('agrees with the scanner on 3,000 mutated payloads', () => {
    // Seeded mutations of valid payloads: deleted, duplicated, replaced and inserted bytes
    // drawn from JSON's own alphabet, so most of them land on the edges of the grammar.
    let state = 12345;
    const random = (n: number) => {
      state = (state * 1103515245 + 12345) >>> 0;
      return state % n;
    };
    const alphabet = Buffer.from('{}[]",:\\ 0123456789-.eE+tfnul\n\tx-,"é');
    const format = parseLogFormat(
      'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status',
    );
    const bases = [
      dataPayload([{ message: RECORD }, { message: RECORD.replace('ACCEPT', 'REJECT') }]),
      dataPayload([{ message: RECORD }], {
        policyLevel: 'ACCOUNT_LEVEL_POLICY',
        n: [1, true, null, { a: [] }],
      }),
      `{ "logEvents" : [ { "message" : "${RECORD}" , "timestamp" : 1418530010123 } ] , "messageType" : "DATA_MESSAGE" }`,
      CONTROL_PAYLOAD,
    ];
    let fastPathTaken = 0;
    for (let n = 0; n < 3000; n++) {
      const bytes = [...Buffer.from(bases[n % bases.length]!)];
      const edits = 1 + random(3);
      for (let e = 0; e < edits; e++) {
        const at = random(bytes.length);
        const c = alphabet[random(alphabet.length)]!;
        switch (random(4)) {
          case 0:
            bytes.splice(at, 1);
            break;
          case 1:
            bytes.splice(at, 0, bytes[at]!);
            break;
          case 2:
            bytes[at] = c;
            break;
          default:
            bytes.splice(at, 0, c);
        }
      }
      const input = Buffer.from(bytes);
      if (fastPath(input, format)) fastPathTaken++;
      expectSameAsScanner(input, format);
    }
    // Mutations that leave a payload valid should mostly still take the fast path.
    expect(fastPathTaken).toBeGreaterThan(300);
  });
});
