import { describe, expect, it } from 'vitest';
import { PAYLOAD_PARSERS } from '../../src/core/converter.js';
import { AWS_DOC_RECORD, convertPieces, dataPayload, HEADER_V2 } from '../helpers.js';

/**
 * A UTF-8 byte-order mark before the first `{` or the first line (Windows tools write one) is
 * dropped once, at the start of the decompressed stream; offsets still count its three bytes.
 * Before, JSON behind a BOM was read as text (FORMAT_MISMATCH) and a first record lost its version.
 */
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const R = AWS_DOC_RECORD;
const HEADER =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';

const withBom = (text: string) => Buffer.concat([BOM, Buffer.from(text)]);
/** No cut, and a cut at every byte of the BOM and just after it. */
const CUTS = [[], [1], [2], [3], [4], [1, 2], [1, 2, 3]];

describe('a UTF-8 BOM at the start is accepted', () => {
  const inputs: [string, string][] = [
    ['JSON payloads', `${dataPayload([{ message: R }])}\n${dataPayload([{ message: R }])}`],
    ['a {"message": …} record', JSON.stringify({ message: R })],
    ['flow-log text without a header', `${R}\n${R}\n`],
    ['flow-log text with a header', `${HEADER}\r\n${R}\r\n`],
  ];
  for (const [name, text] of inputs) {
    it(`${name}, split anywhere in the BOM, for every parser`, () => {
      for (const parser of PAYLOAD_PARSERS) {
        const plain = convertPieces(Buffer.from(text), [], undefined, 4096, parser);
        expect(plain.error).toBeUndefined();
        expect(plain.stats.rows).toBeGreaterThan(0);
        for (const cuts of CUTS) {
          const result = convertPieces(withBom(text), cuts, undefined, 4096, parser);
          expect(result.error, `${parser} ${cuts}`).toBeUndefined();
          expect(result.csv, `${parser} ${cuts}`).toBe(plain.csv);
          expect(result.rejects).toEqual([]);
          expect(result.stats).toEqual({ ...plain.stats, bytes: plain.stats.bytes + 3 });
        }
      }
    });
  }

  it('offsets still count the BOM', () => {
    for (const parser of PAYLOAD_PARSERS) {
      for (const cuts of CUTS) {
        const result = convertPieces(withBom('{"logEvents" [1]}'), cuts, undefined, 4096, parser);
        expect(result.error?.code).toBe('BAD_JSON');
        // JSON.parse does not say where: the json parser gives the payload's offset.
        expect(result.error?.offset).toBe(parser === 'json' ? 3 : 3 + 13);
      }
    }
    const rejected = convertPieces(withBom(`${R}\n2 x\n`), [2]);
    expect(rejected.rejects[0]?.offset).toBe(3 + R.length + 1);
  });

  it('only once: a second BOM is data', () => {
    const result = convertPieces(Buffer.concat([BOM, withBom(`${R}\n`)]));
    expect(result.error?.code).toBe('FORMAT_MISMATCH');
  });

  it('bytes that only begin like a BOM are kept, however they are cut', () => {
    for (const prefix of [[0xef], [0xef, 0xbb]]) {
      const input = Buffer.concat([Buffer.from(prefix), Buffer.from(`${R}\n`)]);
      for (const cuts of [[], [1], [prefix.length]]) {
        const result = convertPieces(input, cuts);
        expect(result.stats.bytes).toBe(input.length);
        expect(result.rejects[0]?.record.startsWith('\ufffd')).toBe(true);
      }
      const alone = convertPieces(
        Buffer.from(prefix),
        [1].filter((c) => c < prefix.length),
      );
      expect(alone.stats.bytes).toBe(prefix.length);
      expect(alone.error?.code).toBe('FORMAT_MISMATCH');
    }
  });

  it('an empty input behind a BOM is an empty output', () => {
    expect(convertPieces(BOM, [1, 2]).csv).toBe(`${HEADER_V2}\n`);
  });
});
