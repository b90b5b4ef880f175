import { describe, expect, it } from 'vitest';
import { convertBytes } from '../../src/core/convert-bytes.js';
import { FlowLogConverter } from '../../src/core/converter.js';
import { CsvEncoder } from '../../src/core/csv-encoder.js';
import {
  createFlowFormat,
  DEFAULT_FORMAT,
  type FlowFormat,
  parseLogFormat,
} from '../../src/core/log-format.js';
import { NEEDS_QUOTES, type RecordProblem, RecordView } from '../../src/core/record-view.js';
import type { RowEncoder } from '../../src/core/row-encoder.js';
import { createRandom, generatePayloads } from '../../src/gen/corpus.js';
import {
  AWS_DOC_RECORD,
  CONTROL_PAYLOAD,
  convertPieces,
  dataPayload,
  randomCuts,
  WASM_MODULE,
} from '../helpers.js';

const RECORD = AWS_DOC_RECORD;

/**
 * What a flow record means, written the slow and obvious way with strings, to check the record
 * view (tokens, `-`, validation, time) and the CSV encoder against.
 */
function reference(
  format: FlowFormat,
  record: string,
  timestampMs: number | undefined,
): { row: string } | { problem: RecordProblem } {
  const tokens = record.split(/[ \t\n\v\f\r]+/).filter((t) => t !== '');
  const fieldCount = format.fields.length;
  let ms = timestampMs;
  if (ms === undefined) {
    const start = tokens[format.startIndex];
    ms = Number.NaN;
    if (format.startIndex >= 0 && start !== undefined && /^[0-9]+$/.test(start)) {
      let value = 0;
      for (const d of start) value = value * 10 + (d.charCodeAt(0) - 0x30);
      ms = value >= 1e11 ? value : value * 1000;
    }
  }
  if (!Number.isNaN(ms) && (!Number.isInteger(ms) || Math.abs(ms) > 8.64e15)) {
    return { problem: { code: 'BAD_TIMESTAMP', reason: `timestamp ${ms} is not a valid epoch time` } };
  }
  for (let f = 0; f < Math.min(tokens.length, fieldCount); f++) {
    const token = tokens[f]!;
    if (format.fields[f]!.type !== 'string' && token !== '-' && !/^[0-9]+$/.test(token)) {
      const reason = `field ${format.fields[f]!.name} must be an integer, got "${token}"`;
      return { problem: { code: 'BAD_INTEGER', reason } };
    }
  }
  if (tokens.length !== fieldCount) {
    const names = `${format.fields[0]!.name} … ${format.fields[fieldCount - 1]!.name}`;
    return {
      problem: {
        code: 'FIELD_COUNT',
        reason: `expected ${fieldCount} fields (${names}), found ${tokens.length}`,
      },
    };
  }
  const time = Number.isNaN(ms) ? '' : new Date(ms).toISOString();
  const fields = tokens.map((t) => (t === '-' ? '' : /[",]/.test(t) ? `"${t.replaceAll('"', '""')}"` : t));
  return { row: `${time},${fields.join(',')}\n` };
}

/** Encodes records one by one with a CsvEncoder, lending it the view as the converter does (or not). */
function encode(
  format: FlowFormat,
  records: { text: string; timestampMs: number | undefined }[],
  options: { chunkBytes: number; lend: boolean },
): (string | RecordProblem)[] {
  const out: Buffer[] = [];
  const encoder = new CsvEncoder(options.chunkBytes, (chunk) => out.push(chunk));
  const view = new RecordView();
  const results: (string | RecordProblem | undefined)[] = [];
  for (const { text, timestampMs } of records) {
    const bytes = Buffer.from(`  ${text}  `, 'utf8');
    if (options.lend) encoder.lend(view, bytes.length - 4, format.fields.length);
    const problem = view.read(format, bytes, 2, bytes.length - 2, timestampMs);
    if (problem) results.push(problem);
    else {
      encoder.row(view);
      results.push(undefined);
    }
  }
  encoder.flush();
  const rows = Buffer.concat(out)
    .toString('utf8')
    .split(/(?<=\n)/);
  return results.map((r) => r ?? rows.shift()!);
}

describe('record view and CSV encoder', () => {
  it('tokenises a record: byte ranges, kinds, types and time, without copying per field', () => {
    const format = parseLogFormat('version srcaddr dstport action start');
    const view = new RecordView();
    const bytes = Buffer.from('\t2  10.0.0.1 -  "A,B"   1418530010 ');
    expect(view.read(format, bytes, 0, bytes.length, undefined)).toBeUndefined();
    expect([0, 1, 2, 3, 4].map((i) => view.text(i))).toEqual(['2', '10.0.0.1', '', '"A,B"', '1418530010']);
    expect([0, 1, 2, 3, 4].map((i) => view.hasValue(i))).toEqual([true, true, false, true, true]);
    expect([0, 1, 2, 3, 4].map((i) => [view.fieldStart(i), view.ends[i]])).toEqual([
      [1, 2],
      [3, 11],
      [12, 12],
      [13, 18],
      [19, 29],
    ]);
    expect(view.classes & NEEDS_QUOTES).toBe(NEEDS_QUOTES);
    expect(view.format?.fields.map((f) => f.type)).toEqual(['int', 'string', 'int', 'string', 'long']);
    expect(view.timeMs).toBe(1418530010_000);
    // The envelope's time wins over `start`, and `start` in milliseconds is taken as such.
    view.read(format, bytes, 0, bytes.length, 7);
    expect(view.timeMs).toBe(7);
    const ms = Buffer.from('2 a - b 1418530010123');
    view.read(format, ms, 0, ms.length, undefined);
    expect(view.timeMs).toBe(1418530010123);
  });

  it('checks the time first, then integer fields in order, then the count', () => {
    const format = parseLogFormat('version srcport start');
    const cases: [string, number | undefined, string | undefined][] = [
      ['2 22 1418530010', undefined, undefined],
      ['x y 99999999999999999', undefined, 'BAD_TIMESTAMP'],
      ['x y', 1.5, 'BAD_TIMESTAMP'],
      ['2 y -', undefined, 'BAD_INTEGER'],
      ['2 22', undefined, 'FIELD_COUNT'],
      ['2 22 3 4', undefined, 'FIELD_COUNT'],
      ['x 22', undefined, 'BAD_INTEGER'],
      ['- - -', undefined, undefined],
    ];
    for (const [text, timestampMs, code] of cases) {
      const bytes = Buffer.from(text);
      expect(new RecordView().read(format, bytes, 0, bytes.length, timestampMs)?.code, text).toBe(code);
      const expected = reference(format, text, timestampMs);
      expect('problem' in expected ? expected.problem.code : undefined).toBe(code);
    }
  });

  it('writes what the reference says for 20,000 random records, lent or not, whatever the chunk size', () => {
    const random = createRandom(8);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const names = ['version', 'srcaddr', 'srcport', 'start', 'action', 'bytes', 'x-custom', 'end'];
    const pieces = [
      '-',
      '7',
      '42',
      '0',
      'a',
      'ACCEPT',
      '1,2',
      '"q"',
      'é',
      '1418530010',
      '1418530010123',
      '-1',
    ];
    const separators = [' ', ' ', ' ', '  ', '\t', '\r', ' \n '];
    for (let n = 0; n < 200; n++) {
      const fields = names.filter(() => random() < 0.6);
      if (fields.length === 0) fields.push('srcaddr');
      const format = createFlowFormat(fields);
      const records = Array.from({ length: 100 }, () => {
        const count = fields.length + (random() < 0.1 ? pick([-1, 1]) : 0);
        const tokens = Array.from({ length: Math.max(count, 0) }, () =>
          random() < 0.8 ? pick(pieces) : pick(pieces) + pick(pieces),
        );
        const text = tokens.map((t, i) => (i === 0 ? t : pick(separators) + t)).join('');
        const timestampMs =
          random() < 0.5
            ? undefined
            : pick([0, 1418530010000, 253402300799999, 253402300800000, 8.64e15, 8.64e15 + 1, 2.5]);
        return { text, timestampMs };
      });
      const expected = records.map(({ text, timestampMs }) => {
        const r = reference(format, text, timestampMs);
        return 'row' in r ? r.row : r.problem;
      });
      for (const lend of [true, false]) {
        expect(encode(format, records, { chunkBytes: pick([1, 64, 4096]), lend })).toEqual(expected);
      }
    }
  });
});

/** A second encoder behind the same seam, as NDJSON would be: one JSON object per record, typed. */
class JsonLinesEncoder implements RowEncoder {
  readonly lines: string[] = [];
  headers = 0;
  flushes = 0;
  private names: string[] = [];
  header(format: FlowFormat): void {
    this.headers++;
    this.names = format.fields.map((f) => f.name);
  }
  row(record: RecordView): void {
    const entries: [string, unknown][] = [['time', Number.isNaN(record.timeMs) ? null : record.timeMs]];
    record.format!.fields.forEach((field, i) => {
      const value = record.hasValue(i) ? record.text(i) : null;
      entries.push([this.names[i]!, value !== null && field.type !== 'string' ? Number(value) : value]);
    });
    this.lines.push(JSON.stringify(Object.fromEntries(entries)));
  }
  flush(): void {
    this.flushes++;
  }
}

describe('the RowEncoder seam', () => {
  const input = Buffer.from(
    generatePayloads({ seed: 4, targetBytes: 200_000, controlRate: 0.1 }).join('') +
      dataPayload([
        { message: RECORD.replace('22 6', '- -') },
        { message: '2 x' },
        { message: `${RECORD} "q",` },
      ]) +
      CONTROL_PAYLOAD,
  );

  it('hands every accepted record to another encoder, in the same order and count as CSV', () => {
    const csv = convertPieces(input, [], DEFAULT_FORMAT, 4096, 'scanner');
    for (const payloadParser of ['scanner', 'json', 'wasm'] as const) {
      const encoder = new JsonLinesEncoder();
      const converter = new FlowLogConverter({
        payloadParser,
        wasmModule: WASM_MODULE,
        createEncoder: () => encoder,
        onData: () => {},
      });
      let from = 0;
      for (const cut of [...randomCuts(input.length, 20, 3), input.length]) {
        expect(converter.write(input.subarray(from, cut))).toBeUndefined();
        from = cut;
      }
      expect(converter.end()).toBeUndefined();
      // The WebAssembly path writes CSV only: with this encoder it declines, and nothing is lost.
      expect(converter.stats).toEqual(csv.stats);
      expect([encoder.headers, encoder.flushes]).toEqual([1, 1]);
      const rows = csv.csv.trimEnd().split('\n').slice(1);
      expect(encoder.lines).toHaveLength(rows.length);
      const last = JSON.parse(encoder.lines.at(-1)!);
      expect(last).toMatchObject({
        version: 2,
        'account-id': '123456789010',
        srcport: 20641,
        action: 'ACCEPT',
      });
      const dashes = encoder.lines.map((line) => JSON.parse(line)).filter((row) => row.dstport === null);
      expect(dashes.at(-1)).toMatchObject({ srcport: 20641, protocol: null, time: 1418530010000 });
    }
  });

  it('refuses the wasm parser without a module instead of silently running another', () => {
    expect(() => new FlowLogConverter({ payloadParser: 'wasm', onData: () => {} })).toThrow(/wasmModule/);
    // Without a module and without a choice, the scanner: the same output.
    expect(convertBytes(input).output).toEqual(convertBytes(input, { wasmModule: WASM_MODULE }).output);
  });
});

describe('convertBytes', () => {
  it('gives the output, rejects and counts of the streaming core, whole or in chunks', () => {
    const input = Buffer.from(
      generatePayloads({ seed: 9, targetBytes: 100_000 }).join('') + dataPayload([{ message: '2 x' }]),
    );
    const whole = convertBytes(new Uint8Array(input), { wasmModule: WASM_MODULE });
    const cuts = randomCuts(input.length, 30, 9);
    const pieces = [0, ...cuts].map((from, i) => input.subarray(from, cuts[i] ?? input.length));
    const chunked = convertBytes(pieces, { payloadParser: 'scanner', outputChunkBytes: 100 });
    expect(whole.error).toBeUndefined();
    expect(chunked).toEqual(whole);
    expect(whole.rejects.map((r) => r.code)).toEqual(['FIELD_COUNT']);
    expect(whole.stats.rows).toBe(whole.output.toString().trimEnd().split('\n').length - 1);
    expect(whole.stats.bytes).toBe(input.length);
  });

  it('stops at an error, keeping the whole rows handed on before it', () => {
    const good = dataPayload(Array.from({ length: 300 }, () => ({ message: RECORD })));
    const result = convertBytes(Buffer.from(`${good}x`), { outputChunkBytes: 1024 });
    expect(result.error?.code).toBe('BAD_JSON');
    expect(result.error?.offset).toBe(good.length);
    const text = result.output.toString();
    expect(text.length).toBeGreaterThan(0);
    expect(text.endsWith('\n')).toBe(true);
  });
});
