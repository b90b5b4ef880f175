import { describe, expect, it } from 'vitest';
import { parseLogFormat } from '../../src/core/log-format.js';
import { generatePayloads } from '../../src/gen/corpus.js';
import { CONTROL_PAYLOAD, type Converted, convertPieces, dataPayload, randomCuts } from '../helpers.js';

/**
 * The streaming core must give the same bytes however its input is cut: at every byte boundary,
 * one byte at a time, and at random places, with a small output buffer so flushes fall
 * mid-record too. The inputs mix every framing feature a chunk edge can split: escapes (\" \\
 * \uXXXX, surrogate pairs), multi-byte UTF-8, keys in odd order, control messages, rejects.
 */
const format = parseLogFormat('version srcaddr note action log-status');
const tricky = Buffer.from(
  [
    CONTROL_PAYLOAD,
    dataPayload([
      { message: '2 10.0.0.1 "quoted"\\back\\\\slash ACCEPT OK' },
      { message: '2 10.0.0.2 café,東京😀 REJECT OK', timestamp: '1580517578999' },
      { message: '2 bad-count' },
      { message: '2 10.0.0.3 x ACCEPT OK' },
    ]),
    '\n',
    JSON.stringify({
      logEvents: [{ message: '2 ::1 \u2028sep ACCEPT OK', timestamp: 5 }],
      extractedFields: { a: '}{"' },
      messageType: 'DATA_MESSAGE',
    }),
    JSON.stringify({ message: '2 10.0.0.9 {}[] ACCEPT NODATA' }),
  ].join(''),
  'utf8',
);

function expectSame(actual: Converted, reference: Converted) {
  expect(actual.error).toEqual(reference.error);
  expect(actual.csv).toBe(reference.csv);
  expect(actual.rejects).toEqual(reference.rejects);
  expect(actual.stats).toEqual(reference.stats);
}

describe('chunk boundaries never change the output', () => {
  const reference = convertPieces(tricky, [], format);

  it('the reference is what we think it is', () => {
    expect(reference.error).toBeUndefined();
    expect(reference.stats).toMatchObject({ rows: 5, rejected: 1, control: 1 });
    expect(reference.csv).toContain(',"""quoted""\\back\\\\slash",');
    expect(reference.csv).toContain(',"café,東京😀",');
  });

  it('split once at every byte boundary', () => {
    for (let cut = 1; cut < tricky.length; cut++) expectSame(convertPieces(tricky, [cut], format), reference);
  });

  it('one byte at a time, with a tiny output buffer', () => {
    const cuts = Array.from({ length: tricky.length - 1 }, (_, i) => i + 1);
    expectSame(convertPieces(tricky, cuts, format, 16), reference);
  });

  it('random splits over a generated multi-payload object', () => {
    const big = Buffer.from(
      generatePayloads({
        seed: 7,
        targetBytes: 300_000,
        eventsMin: 20,
        eventsMax: 200,
        controlRate: 0.1,
      }).join('\n'),
    );
    const whole = convertPieces(big);
    expect(whole.stats.rows).toBeGreaterThan(1000);
    for (let seed = 1; seed <= 30; seed++)
      expectSame(convertPieces(big, randomCuts(big.length, 1 + seed * 7, seed), undefined, 1000), whole);
  });

  it('raw text lines with a header, split everywhere', () => {
    const text = Buffer.from(
      'version srcaddr note action log-status\r\n2 1.1.1.1 a ACCEPT OK\r\n\r\n2 1.1.1.2 b,c REJECT OK\n2 x\n2 ::1 d ACCEPT OK',
    );
    const whole = convertPieces(text);
    expect(whole.stats).toMatchObject({ rows: 3, rejected: 1 });
    for (let cut = 1; cut < text.length; cut++) expectSame(convertPieces(text, [cut]), whole);
    expectSame(
      convertPieces(
        text,
        Array.from({ length: text.length - 1 }, (_, i) => i + 1),
      ),
      whole,
    );
  });

  it('errors are reported at the same offset however the input is cut', () => {
    const broken = Buffer.from(
      ` \n\t${dataPayload([{ message: 'a b' }])}{"logEvents":[{"message":"x"} oops]}`,
    );
    const whole = convertPieces(broken, [], format);
    expect(whole.error?.code).toBe('BAD_JSON');
    for (let cut = 1; cut < broken.length; cut++)
      expect(convertPieces(broken, [cut], format).error).toEqual(whole.error);
  });
});
