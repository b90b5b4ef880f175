import { describe, expect, it } from 'vitest';
import { convertBytes } from '../../src/core/convert-bytes.js';
import type { PayloadParser } from '../../src/core/converter.js';
import { DEFAULT_FORMAT, type FlowFormat, parseLogFormat } from '../../src/core/log-format.js';
import { createNdjsonEncoder, utf8Sequence } from '../../src/core/ndjson-encoder.js';
import { createRandom } from '../../src/gen/corpus.js';
import { AWS_DOC_RECORD, convert, dataPayload, WASM_MODULE } from '../helpers.js';
import { typedCsvRows, typedNdjsonRows } from '../ndjson-reference.js';

function ndjson(
  input: string | Buffer,
  format: FlowFormat = DEFAULT_FORMAT,
  options: { outputChunkBytes?: number; payloadParser?: PayloadParser; chunks?: (b: Buffer) => void } = {},
) {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  let onData: ((chunk: Buffer) => void) | undefined;
  const result = convertBytes(bytes, {
    format,
    wasmModule: WASM_MODULE,
    payloadParser: options.payloadParser,
    outputChunkBytes: options.outputChunkBytes,
    createEncoder: (data, chunkBytes) => {
      onData = (chunk) => {
        options.chunks?.(chunk);
        data(chunk);
      };
      return createNdjsonEncoder((chunk) => onData!(chunk), chunkBytes);
    },
  });
  return { ...result, text: result.output.toString('utf8') };
}

describe('NDJSON rows', () => {
  it('the first AWS documentation record: typed values, Parquet names, the event time', () => {
    const { text, error } = ndjson(dataPayload([{ message: AWS_DOC_RECORD, timestamp: 1418530010000 }]));
    expect(error).toBeUndefined();
    expect(text).toBe(
      '{"timestamp":"2014-12-14T04:06:50.000Z","version":2,"account_id":"123456789010","interface_id":"eni-1235b8ca123456789",' +
        '"srcaddr":"172.31.16.139","dstaddr":"172.31.16.21","srcport":20641,"dstport":22,"protocol":6,"packets":20,' +
        '"bytes":4249,"start":1418530010,"end":1418530070,"action":"ACCEPT","log_status":"OK"}\n',
    );
  });

  it('`-` is null in every type; a record without an envelope and without start has a null time', () => {
    const format = parseLogFormat('version srcport bytes action');
    const { text } = ndjson('- - - -\n', format);
    expect(text).toBe('{"timestamp":null,"version":null,"srcport":null,"bytes":null,"action":null}\n');
    // Without an envelope the time is the record's start, as the CSV's.
    const timed = ndjson('2 5 1418530010 x\n', parseLogFormat('version srcport start action'));
    expect(JSON.parse(timed.text).timestamp).toBe('2014-12-14T04:06:50.000Z');
  });

  it('leading zeros still give JSON numbers: 0022 is 22, 0000 is 0', () => {
    const format = parseLogFormat('version srcport dstport bytes');
    const { text } = ndjson('0002 0022 0000 000000000000000000000000000000000001\n', format);
    expect(text).toBe('{"timestamp":null,"version":2,"srcport":22,"dstport":0,"bytes":1}\n');
    expect(JSON.parse(text)).toEqual({ timestamp: null, version: 2, srcport: 22, dstport: 0, bytes: 1 });
  });

  it('an INT64 maximum is written exactly; past INT32 or INT64 the record is rejected (CSV keeps it)', () => {
    const format = parseLogFormat('srcport bytes');
    const lines = '2147483647 9223372036854775807\n2147483648 1\n1 9223372036854775808\n';
    const result = ndjson(lines, format);
    expect(result.text).toBe('{"timestamp":null,"srcport":2147483647,"bytes":9223372036854775807}\n');
    expect(result.rejects.map((r) => [r.code, r.reason])).toEqual([
      ['BAD_INTEGER', 'srcport 2147483648 does not fit an INT32 column'],
      ['BAD_INTEGER', 'bytes 9223372036854775808 does not fit an INT64 column'],
    ]);
    expect(result.stats).toMatchObject({ rows: 1, rejected: 2 });
    expect(convert(lines, format).stats).toMatchObject({ rows: 3, rejected: 0 });
  });

  it('escapes ", \\ and control characters as JSON requires; DEL, U+2028 and non-ASCII pass as they are', () => {
    const format = parseLogFormat('version note action');
    const note = 'a"b\\c\u0000\u0001\u001f\u007f\u2028é東😀,';
    const { text, rejects } = ndjson(dataPayload([{ message: `2 ${note} ACCEPT`, timestamp: 0 }]), format);
    expect(rejects).toEqual([]);
    expect(text).toContain('"note":"a\\"b\\\\c\\u0000\\u0001\\u001f\u007f\u2028é東😀,"');
    expect(JSON.parse(text).note).toBe(note);
    expect(JSON.parse(text).timestamp).toBe('1970-01-01T00:00:00.000Z');
  });

  it('an input with no record writes nothing (NDJSON has no header line)', () => {
    expect(ndjson('').text).toBe('');
    expect(ndjson('version srcaddr\n').text).toBe('');
    expect(ndjson('version srcaddr\n').error).toBeUndefined();
  });

  it('hands on whole lines in slices near the chunk size', () => {
    const records = Array.from({ length: 200 }, (_, i) => AWS_DOC_RECORD.replace('20641', String(i)));
    const chunks: Buffer[] = [];
    const { text } = ndjson(dataPayload(records.map((message) => ({ message }))), DEFAULT_FORMAT, {
      outputChunkBytes: 1024,
      chunks: (chunk) => chunks.push(Buffer.from(chunk)),
    });
    expect(chunks.length).toBeGreaterThan(20);
    for (const chunk of chunks) expect(chunk.at(-1)).toBe(0x0a);
    expect(text.split('\n')).toHaveLength(201);
  });

  it('every value equals the CSV of the same input, with every parser', () => {
    const format = parseLogFormat('version srcaddr note srcport packets start action log-status');
    const events = [
      { message: '2 10.0.0.1 "q",x 22 10 1418530010 ACCEPT OK' },
      { message: '2 ::1 - - - - - NODATA', timestamp: 7 },
      { message: '2 2001:db8::1 caf\u00e9 0443 9007199254740993 1418530010 REJECT OK' },
      { message: '2 bad' },
    ];
    for (const payloadParser of ['wasm', 'scanner', 'json'] as const) {
      const input = dataPayload(events);
      const json = ndjson(input, format, { payloadParser });
      const csv = convertBytes(Buffer.from(input), { format, payloadParser, wasmModule: WASM_MODULE });
      expect(json.rejects, payloadParser).toEqual(csv.rejects);
      const rows = typedNdjsonRows(json.text, format);
      expect(rows, payloadParser).toEqual(typedCsvRows(csv.output.toString('utf8'), format));
      expect(rows[2]![5]).toBe(9007199254740993n);
    }
  });
});

describe('bytes that are not UTF-8', () => {
  it('become U+FFFD as Buffer.prototype.toString does (one per maximal ill-formed subpart)', () => {
    const format = parseLogFormat('version note');
    const cases: [number[], string][] = [
      [[0xff], '\ufffd'],
      [[0xc0, 0xaf], '\ufffd\ufffd'], // an overlong lead is never valid
      [[0xe0, 0x80, 0x80], '\ufffd\ufffd\ufffd'], // E0 needs A0–BF next
      [[0xed, 0xa0, 0x80], '\ufffd\ufffd\ufffd'], // a UTF-16 surrogate
      [[0xf4, 0x90, 0x80, 0x80], '\ufffd\ufffd\ufffd\ufffd'], // past U+10FFFF
      [[0xf0, 0x9f, 0x98], '\ufffd'], // truncated at the field's end: one for the lot
      [[0xe2, 0x82, 0x41], '\ufffdA'],
      [[0x41, 0xc3, 0xa9, 0x80, 0x42], 'Aé\ufffdB'],
    ];
    for (const [bytes, expected] of cases) {
      const line = Buffer.concat([Buffer.from('2 '), Buffer.from(bytes), Buffer.from('\n')]);
      const { text } = ndjson(line, format);
      expect(JSON.parse(text).note, JSON.stringify(bytes)).toBe(expected);
      expect(Buffer.from(bytes).toString('utf8')).toBe(expected);
    }
  });

  it('random bytes: the output is always valid UTF-8 and each value what toString makes of the bytes', () => {
    const format = parseLogFormat('version note action');
    const random = createRandom(9);
    const strict = new TextDecoder('utf-8', { fatal: true });
    const fieldBytes = () => {
      const bytes: number[] = [];
      const n = 1 + Math.floor(random() * 12);
      while (bytes.length < n) {
        // Biased to the bytes UTF-8 is made of, separators (space, tab … CR) left out.
        const r = random();
        const c =
          r < 0.3
            ? 0x80 + Math.floor(random() * 64)
            : r < 0.6
              ? 0xc0 + Math.floor(random() * 64)
              : Math.floor(random() * 256);
        if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) continue;
        bytes.push(c);
      }
      return Buffer.from(bytes);
    };
    for (let round = 0; round < 300; round++) {
      const notes = Array.from({ length: 8 }, fieldBytes);
      const input = Buffer.concat(notes.flatMap((note) => [Buffer.from('2 '), note, Buffer.from(' OK\n')]));
      const { output, rejects } = ndjson(input, format);
      expect(rejects).toEqual([]);
      const text = strict.decode(output);
      const values = text
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line).note);
      expect(values).toEqual(notes.map((note) => note.toString('utf8')));
    }
  });

  it('utf8Sequence: the length of a well-formed sequence, or minus what one U+FFFD replaces', () => {
    const at = (bytes: number[]) => utf8Sequence(Uint8Array.from(bytes), 0, bytes.length);
    expect(at([0xc3, 0xa9])).toBe(2);
    expect(at([0xe2, 0x82, 0xac])).toBe(3);
    expect(at([0xf0, 0x9f, 0x98, 0x80])).toBe(4);
    expect(at([0xf4, 0x8f, 0xbf, 0xbf])).toBe(4);
    expect(at([0x80])).toBe(-1);
    expect(at([0xf5, 0x80])).toBe(-1);
    expect(at([0xe2, 0x82])).toBe(-2);
    expect(at([0xf0, 0x9f, 0x98, 0x41])).toBe(-3);
  });
});
