import { describe, expect, it } from 'vitest';
import { PAYLOAD_PARSERS } from '../../src/core/converter.js';
import { MAX_NESTING_DEPTH } from '../../src/core/json-framer.js';
import { PayloadReader } from '../../src/core/payload-reader.js';
import { AWS_DOC_RECORD, convertPieces, dataPayload, randomCuts } from '../helpers.js';

/**
 * Nesting inside a key the readers skip used to recurse once per level: 100k levels crashed the
 * wasm and scanner paths with `INTERNAL: RangeError: Maximum call stack size exceeded` (JSON.parse
 * took them). Every parser now fails BAD_JSON at the bracket that opens level 513.
 */
const R = AWS_DOC_RECORD;
const LEVELS = 100_000;
const MESSAGE = `a JSON payload nests deeper than ${MAX_NESTING_DEPTH} levels`;

/** `levels` nested arrays (or objects) as the value of `at` inside `template`; and where the level-513 bracket is. */
function nest(template: string, levels: number, kind: 'array' | 'object', levelsBefore: number) {
  const open = kind === 'array' ? '[' : '{"k":';
  const close = kind === 'array' ? ']' : '}';
  const [head, tail] = template.split('@') as [string, string];
  const text = `${head}${open.repeat(levels)}${kind === 'array' ? '' : '1'}${close.repeat(levels)}${tail}`;
  // Levels 1..levelsBefore are open where the value starts; the value's k-th bracket opens level levelsBefore + k.
  const k = MAX_NESTING_DEPTH + 1 - levelsBefore;
  const bracket = head.length + (k - 1) * open.length;
  return { input: Buffer.from(text), bracket };
}

const cases = [
  ['an unknown key of the payload', `{"messageType":"DATA_MESSAGE","x":@,"logEvents":[]}`, 1],
  ['an unknown key of an event', `{"logEvents":[{"timestamp":1,"message":"${R}","x":@}]}`, 3],
  ['an unknown key of a message record', `{"message":"${R}","x":@}`, 1],
  ['the timestamp of an event', `{"logEvents":[{"message":"${R}","timestamp":@}]}`, 3],
] as const;

describe(`nesting deeper than ${MAX_NESTING_DEPTH} levels fails BAD_JSON with the offset`, () => {
  for (const [where, template, levelsBefore] of cases) {
    for (const kind of ['array', 'object'] as const) {
      it(`${LEVELS} nested ${kind}s in ${where}, for every parser, whole and in pieces`, () => {
        const { input, bracket } = nest(template, LEVELS, kind, levelsBefore);
        expect(input[bracket]).toBe(kind === 'array' ? 0x5b : 0x7b);
        for (const parser of PAYLOAD_PARSERS) {
          for (const cuts of [[], [bracket], [bracket + 1], randomCuts(input.length, 50, 3)]) {
            const { error } = convertPieces(input, cuts, undefined, 4096, parser);
            expect(error?.code, parser).toBe('BAD_JSON');
            expect(error?.message, parser).toBe(`${MESSAGE} (at decompressed byte ${bracket})`);
            expect(error?.offset, parser).toBe(bracket);
          }
        }
      });
    }
  }

  it(`${MAX_NESTING_DEPTH} levels are accepted, and every parser gives the same rows`, () => {
    const before = dataPayload([{ message: R }]);
    const { input } = nest(
      `${before}{"logEvents":[{"timestamp":1,"message":"${R}","x":@}]}`,
      509,
      'array',
      3,
    );
    const scanner = convertPieces(input, [], undefined, 4096, 'scanner');
    expect(scanner.error).toBeUndefined();
    expect(scanner.stats.rows).toBe(2);
    for (const parser of PAYLOAD_PARSERS) {
      const result = convertPieces(input, randomCuts(input.length, 20, 5), undefined, 4096, parser);
      expect(result.error, parser).toBeUndefined();
      expect(result.csv, parser).toBe(scanner.csv);
    }
    const one = nest(`${before}{"logEvents":[{"timestamp":1,"message":"${R}","x":@}]}`, 510, 'array', 3);
    for (const parser of PAYLOAD_PARSERS) {
      expect(convertPieces(one.input, [], undefined, 4096, parser).error?.offset, parser).toBe(one.bracket);
    }
  });

  it('PayloadReader read on its own fails the same way instead of overflowing the stack', () => {
    const { input, bracket } = nest('{"logEvents":[],"x":@}', LEVELS, 'array', 1);
    const error = new PayloadReader().read(input, 0, input.length, 0);
    expect(error?.code).toBe('BAD_JSON');
    expect(error?.offset).toBe(bracket);
    expect(error?.message).toMatch(MESSAGE);
  });
});
