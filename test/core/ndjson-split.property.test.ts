import { describe, expect, it } from 'vitest';
import { convertBytes } from '../../src/core/convert-bytes.js';
import type { PayloadParser } from '../../src/core/converter.js';
import { DEFAULT_FORMAT, type FlowFormat, parseLogFormat } from '../../src/core/log-format.js';
import { createNdjsonEncoder } from '../../src/core/ndjson-encoder.js';
import { generatePayloads } from '../../src/gen/corpus.js';
import { CONTROL_PAYLOAD, dataPayload, randomCuts, WASM_MODULE } from '../helpers.js';

/**
 * The NDJSON output must not depend on where the input is cut (as split.property.test.ts checks for CSV):
 * every byte boundary, one byte at a time with a tiny output buffer, random splits of a generated object;
 * escapes, multi-byte UTF-8, bytes that are not UTF-8, rejects and control messages among the records.
 */
const format = parseLogFormat('version srcaddr note srcport action log-status');

function ndjsonPieces(
  input: Buffer,
  cuts: number[],
  f: FlowFormat = format,
  outputChunkBytes = 64 * 1024,
  payloadParser: PayloadParser = 'wasm',
) {
  const pieces: Buffer[] = [];
  let from = 0;
  for (const cut of [...cuts, input.length]) {
    pieces.push(input.subarray(from, cut));
    from = cut;
  }
  const result = convertBytes(pieces, {
    format: f,
    outputChunkBytes,
    payloadParser,
    wasmModule: WASM_MODULE,
    createEncoder: createNdjsonEncoder,
  });
  return {
    text: result.output.toString('latin1'),
    rejects: result.rejects,
    stats: result.stats,
    error: result.error,
  };
}

const json = Buffer.from(
  [
    CONTROL_PAYLOAD,
    dataPayload([
      { message: '2 10.0.0.1 "quoted"\\back\\\\slash 0022 ACCEPT OK' },
      { message: '2 10.0.0.2 café,東京😀\u0001 99999999999 REJECT OK', timestamp: '1580517578999' },
      { message: '2 bad-count' },
      { message: '2 ::1 - - - NODATA' },
    ]),
    '\n',
    JSON.stringify({ message: '2 10.0.0.9 {}[] 443 ACCEPT OK' }),
  ].join(''),
  'utf8',
);
const text = Buffer.concat([
  Buffer.from('version srcaddr note srcport action log-status\r\n2 1.1.1.1 a 1 ACCEPT OK\r\n\r\n2 1.1.1.2 '),
  Buffer.from([0xe2, 0x82, 0xff, 0xf0, 0x9f, 0x98, 0x80, 0xc3]),
  Buffer.from(' 2 REJECT OK\n2 x\n2 ::1 d - ACCEPT OK'),
]);

describe('NDJSON: chunk boundaries never change the output', () => {
  for (const [name, input] of [
    ['JSON payloads', json],
    ['text lines with a header and bytes that are not UTF-8', text],
  ] as const) {
    const whole = ndjsonPieces(input, []);

    it(`${name}: the reference is what we think it is`, () => {
      expect(whole.error).toBeUndefined();
      expect(whole.stats.rows).toBe(3);
      expect(whole.rejects.length).toBe(name === 'JSON payloads' ? 2 : 1);
    });

    it(`${name}: split once at every byte boundary, and for every parser`, () => {
      for (const parser of ['wasm', 'scanner', 'json'] as const) {
        for (let cut = 1; cut < input.length; cut++)
          expect(ndjsonPieces(input, [cut], format, 64 * 1024, parser), `${parser} ${cut}`).toEqual(whole);
      }
    });

    it(`${name}: one byte at a time, with a tiny output buffer`, () => {
      const cuts = Array.from({ length: input.length - 1 }, (_, i) => i + 1);
      expect(ndjsonPieces(input, cuts, format, 16)).toEqual(whole);
    });
  }

  it('random splits over a generated multi-payload object', () => {
    const big = Buffer.from(
      generatePayloads({
        seed: 11,
        targetBytes: 300_000,
        eventsMin: 20,
        eventsMax: 200,
        controlRate: 0.1,
      }).join('\n'),
    );
    const whole = ndjsonPieces(big, [], DEFAULT_FORMAT);
    expect(whole.stats.rows).toBeGreaterThan(1000);
    for (let seed = 1; seed <= 20; seed++)
      expect(ndjsonPieces(big, randomCuts(big.length, 1 + seed * 7, seed), DEFAULT_FORMAT, 1000)).toEqual(
        whole,
      );
  });
});
