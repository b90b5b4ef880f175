import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseLogFormat } from '../../src/core/log-format.js';
import { generatePayloads } from '../../src/gen/corpus.js';
import { CONTROL_PAYLOAD, convertPieces, dataPayload, randomCuts } from '../helpers.js';

/** --parser scanner and --parser json must be interchangeable: same rows, rejects and counts. */
const format = parseLogFormat('version srcaddr note action log-status');
const inputs: [string, Buffer][] = [
  [
    'the bundled sample',
    gunzipSync(readFileSync(new URL('../../examples/firehose-sample', import.meta.url))),
  ],
  [
    'generated, with controls',
    Buffer.from(generatePayloads({ seed: 3, targetBytes: 400_000, controlRate: 0.2 }).join('\n')),
  ],
  [
    'escapes, UTF-8, rejects, message records',
    Buffer.from(
      CONTROL_PAYLOAD +
        dataPayload([
          { message: '2 10.0.0.1 "q"\\b\\\\s ACCEPT OK' },
          { message: '2 10.0.0.2 café,東京😀 REJECT OK', timestamp: '1580517578999' },
          { message: '2 bad-count' },
          { message: '2 10.0.0.3 x ACCEPT OK', timestamp: 'later' },
          { message: '2 1.1.1.1 y ACCEPT x' },
        ]) +
        JSON.stringify({ message: '2 10.0.0.9 {}[] ACCEPT NODATA' }) +
        '{"logEvents":[{"timestamp":1}]}',
    ),
  ],
  [
    // Found by the WebAssembly fuzz test: the scanner missed a key after ", " (white space
    // after a comma), so a pretty-printed payload lost its timestamps.
    'white space around every token',
    Buffer.from(
      ` { "messageType" : "DATA_MESSAGE" , "logEvents" : [ { "id" : "1" , "timestamp" : 1418530010123 ,\n\t"message" : "2 10.0.0.1 x ACCEPT OK" } , { "message" : "2 10.0.0.2 y REJECT OK" , "timestamp" : 1418530010124 } ] } `,
    ),
  ],
];

describe('scanner and JSON.parse payload readers agree', () => {
  for (const [name, input] of inputs) {
    it(name, () => {
      const fmt = name.startsWith('escapes') || name.startsWith('white') ? format : undefined;
      const scanner = convertPieces(input, randomCuts(input.length, 20, 1), fmt, 4096, 'scanner');
      const json = convertPieces(input, randomCuts(input.length, 20, 2), fmt, 65536, 'json');
      expect(scanner.error).toBeUndefined();
      expect(json.error).toBeUndefined();
      expect(json.csv).toBe(scanner.csv);
      expect(json.rejects).toEqual(scanner.rejects);
      expect(json.stats).toEqual(scanner.stats);
    });
  }

  it('both fail the same objects with the same codes', () => {
    for (const bad of [
      '{"foo":1}',
      '{"messageType":"OTHER","logEvents":[]}',
      '{"logEvents":[{"message":"x"} oops]}',
    ]) {
      const a = convertPieces(Buffer.from(bad), [], undefined, 65536, 'scanner');
      const b = convertPieces(Buffer.from(bad), [], undefined, 65536, 'json');
      expect(b.error?.code).toBe(a.error?.code);
    }
    // And they are two readers, not one: on malformed JSON each words its error its own way.
    const malformed = Buffer.from('{"logEvents":[{"message":"x"} oops]}');
    const scanner = convertPieces(malformed, [], undefined, 65536, 'scanner').error?.message;
    const json = convertPieces(malformed, [], undefined, 65536, 'json').error?.message;
    expect(scanner).toMatch(/expected "]"/);
    expect(json).not.toBe(scanner);
  });
});
