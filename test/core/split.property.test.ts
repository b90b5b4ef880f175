import { describe, expect, it } from 'vitest';
import { FlowLogConverter, PAYLOAD_PARSERS, type PayloadParser } from '../../src/core/converter.js';
import { FlowhoseError, type Reject } from '../../src/core/errors.js';
import { parseLogFormat } from '../../src/core/log-format.js';
import { generatePayloads } from '../../src/gen/corpus.js';
import {
  CONTROL_PAYLOAD,
  type Converted,
  convertPieces,
  dataPayload,
  randomCuts,
  WASM_MODULE,
} from '../helpers.js';

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

/**
 * The size limit is a property of the payload (from `{` to `}`) or the line (without LF and a CR
 * before it) alone: just under, at and just over the limit, every cut gives the verdict of the
 * whole, for every parser. Before, a payload over the limit passed when it came in one chunk.
 */
describe('the size limit does not depend on chunk edges', () => {
  const MAX = 1024;
  const R =
    '2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK';
  const small = dataPayload([{ message: R, id: '1' }]);

  /** A DATA_MESSAGE of exactly `size` bytes, padded by a key the readers skip. */
  function payloadOfSize(size: number): string {
    const make = (pad: number) => dataPayload([{ message: R, id: '2' }], { pad: 'p'.repeat(pad) });
    const payload = make(size - make(0).length);
    expect(Buffer.byteLength(payload)).toBe(size);
    return payload;
  }

  interface Outcome {
    csv: string;
    rejects: Reject[];
    error: FlowhoseError | undefined;
  }

  function run(input: Buffer, cuts: number[], parser: PayloadParser, max = MAX): Outcome {
    const out: Buffer[] = [];
    const rejects: Reject[] = [];
    const converter = new FlowLogConverter({
      wasmModule: WASM_MODULE,
      maxRecordBytes: max,
      payloadParser: parser,
      onData: (b) => out.push(Buffer.from(b)),
      onReject: (r) => rejects.push(r),
    });
    let error: FlowhoseError | undefined;
    let from = 0;
    for (const cut of [...cuts, input.length]) {
      error = converter.write(input.subarray(from, cut));
      if (error) break;
      from = cut;
    }
    error ??= converter.end();
    return { csv: Buffer.concat(out).toString(), rejects, error };
  }

  const describeError = (e: FlowhoseError | undefined) =>
    e && { code: e.code, message: e.message, offset: e.offset, option: e.option };

  /**
   * For every parser: the whole input gives `expected`, and so does every cut in [from, to), alone
   * and as a 1-byte chunk [cut, cut + 1) (which ends a chunk right after a CR, or on the limit's byte).
   */
  function expectSameVerdicts(
    input: Buffer,
    from: number,
    to: number,
    expected: Outcome,
    max = MAX,
    parsers = PAYLOAD_PARSERS,
  ): void {
    for (const parser of parsers) {
      const whole = run(input, [], parser, max);
      expect(describeError(whole.error), parser).toEqual(describeError(expected.error));
      if (!expected.error) {
        expect(whole.csv, parser).toBe(expected.csv);
        expect(whole.rejects, parser).toEqual(expected.rejects);
      }
      for (let cut = from; cut < to; cut++) {
        for (const cuts of cut + 1 < input.length ? [[cut], [cut, cut + 1]] : [[cut]]) {
          const result = run(input, cuts, parser, max);
          expect(describeError(result.error), `${parser}, cuts ${cuts}`).toEqual(
            describeError(expected.error),
          );
          if (!expected.error) expect(result.csv, `${parser}, cuts ${cuts}`).toBe(expected.csv);
        }
      }
    }
  }

  for (const size of [MAX - 1, MAX, MAX + 1]) {
    it(`a JSON payload of ${size} bytes with a limit of ${MAX}`, () => {
      const big = payloadOfSize(size);
      const input = Buffer.from(`${small}\n${big}\n${small}`);
      const start = small.length + 1;
      const over = size > MAX;
      // Every cut inside the big payload, and at its edges.
      expectSameVerdicts(input, start - 1, start + size + 1, {
        csv: over ? '' : run(input, [], 'scanner', 1 << 30).csv,
        rejects: [],
        error: over
          ? new FlowhoseError(
              'RECORD_TOO_LARGE',
              `a JSON payload exceeds the record size limit of ${MAX} bytes`,
              start,
              'maxRecordBytes',
            )
          : undefined,
      });
    });

    it(`a text line of ${size} bytes (CRLF, and last without its LF) with a limit of ${MAX}`, () => {
      const line = 'x'.repeat(size);
      const over = size > MAX;
      for (const text of [`${R}\r\n${line}\r\n${R}\n`, `${R}\r\n${line}\r`]) {
        const input = Buffer.from(text);
        const start = R.length + 2;
        const reference = run(input, [], 'scanner', 1 << 30);
        expect(reference.rejects).toHaveLength(1);
        expectSameVerdicts(
          input,
          1,
          input.length,
          {
            ...reference,
            error: over
              ? new FlowhoseError(
                  'RECORD_TOO_LARGE',
                  `a line exceeds the record size limit of ${MAX} bytes (not a flow log, or the limit is too low)`,
                  start,
                  'maxRecordBytes',
                )
              : undefined,
          },
          MAX,
          ['scanner'], // text does not go through the payload parsers
        );
      }
    });
  }

  it("the issue's case: 2,604 bytes against 1k, whole and cut at byte 100", () => {
    const input = Buffer.from(payloadOfSize(2604));
    for (const parser of PAYLOAD_PARSERS) {
      for (const cuts of [[], [100]])
        expect(run(input, cuts, parser).error?.code, parser).toBe('RECORD_TOO_LARGE');
    }
  });

  it('a payload nesting too deep fails BAD_JSON within the limit, RECORD_TOO_LARGE past it, at any cut', () => {
    const prefix = `${small}{"messageType":"DATA_MESSAGE","logEvents":[],"x":`;
    const deep = `${prefix}${'['.repeat(600)}${']'.repeat(600)}}`;
    const input = Buffer.from(deep);
    // The payload's own `{` is level 1, so the 512th `[` opens level 513.
    const bracket = prefix.length + 511;
    const payloadStart = small.length;
    const withinBytes = bracket - payloadStart + 1; // the payload's bytes through that bracket
    expectSameVerdicts(
      input,
      payloadStart,
      bracket + 2,
      {
        csv: '',
        rejects: [],
        error: new FlowhoseError('BAD_JSON', 'a JSON payload nests deeper than 512 levels', bracket),
      },
      withinBytes,
    );
    expectSameVerdicts(
      input,
      payloadStart,
      bracket + 2,
      {
        csv: '',
        rejects: [],
        error: new FlowhoseError(
          'RECORD_TOO_LARGE',
          `a JSON payload exceeds the record size limit of ${withinBytes - 1} bytes`,
          payloadStart,
          'maxRecordBytes',
        ),
      },
      withinBytes - 1,
    );
  });
});
