import { describe, expect, it } from 'vitest';
import { DEFAULT_FORMAT, parseLogFormat } from '../../src/core/log-format.js';
import { WasmPayloadConverter } from '../../src/core/wasm-payload.js';
import { generatePayloads } from '../../src/gen/corpus.js';
import { CONTROL_PAYLOAD, convertPieces, dataPayload, randomCuts } from '../helpers.js';

const RECORD =
  '2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK';

/** The fast path must never change a result: same CSV, rejects, counts and error as the scanner. */
function expectSameAsScanner(input: Buffer, format = DEFAULT_FORMAT, cuts: number[] = []): void {
  const scanner = convertPieces(input, cuts, format, 4096, 'scanner');
  const wasm = convertPieces(input, cuts, format, 4096, 'wasm');
  expect(wasm.csv).toBe(scanner.csv);
  expect(wasm.rejects).toEqual(scanner.rejects);
  expect(wasm.stats).toEqual(scanner.stats);
  expect(wasm.error?.code).toBe(scanner.error?.code);
  expect(wasm.error?.message).toBe(scanner.error?.message);
  expect(wasm.error?.offset).toBe(scanner.error?.offset);
}

describe('WebAssembly fast path', () => {
  it('converts a well-formed payload itself, byte for byte as the scanner', () => {
    const wasm = new WasmPayloadConverter();
    const payload = Buffer.from(
      dataPayload([{ message: RECORD }, { message: RECORD.replace('22 6', '- -') }]),
    );
    const csv = wasm.convert(payload, 0, payload.length, DEFAULT_FORMAT);
    expect(csv).toBeDefined();
    expect(wasm.rows).toBe(2);
    const scanner = convertPieces(payload, [], DEFAULT_FORMAT, 4096, 'scanner');
    const header = scanner.csv.slice(0, scanner.csv.indexOf('\n') + 1);
    expect(header + Buffer.from(csv!).toString()).toBe(scanner.csv);
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
    const wasm = new WasmPayloadConverter();
    const payload = Buffer.from(text);
    expect(wasm.convert(payload, 0, payload.length, DEFAULT_FORMAT)).toBeUndefined();
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
    const wasm = new WasmPayloadConverter();
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
      if (wasm.convert(input, 0, input.length, format)) fastPathTaken++;
      expectSameAsScanner(input, format);
    }
    // Mutations that leave a payload valid should mostly still take the fast path.
    expect(fastPathTaken).toBeGreaterThan(300);
  });
});
