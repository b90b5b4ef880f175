import { describe, expect, it } from 'vitest';
import { FlowLogConverter } from '../../src/core/converter.js';
import { parseLogFormat } from '../../src/core/log-format.js';
import { AWS_DOC_RECORD, convert, dataPayload, WASM_MODULE } from '../helpers.js';

const R1 = AWS_DOC_RECORD;

describe('object-level errors', () => {
  it.each([
    [
      'a stray byte between payloads',
      `${dataPayload([{ message: R1 }])}x{}`,
      'BAD_JSON',
      /expected "\{" between payloads, found "x"/,
    ],
    ['a missing colon', '{"logEvents" [1]}', 'BAD_JSON', /expected ":"/],
    ['a bare word', '{"logEvents":[{"message":"a","timestamp":nope}]}', 'BAD_JSON', /unexpected "n"/],
    ['mismatched brackets', '{"logEvents":[{"message":"a"}}}', 'BAD_JSON', /expected "]"/],
    [
      'a payload cut short',
      `${dataPayload([{ message: R1 }]).slice(0, 80)}`,
      'TRUNCATED',
      /input ended inside a JSON payload/,
    ],
    ['a string cut short', '{"logEvents":[{"message":"2 1', 'TRUNCATED', /input ended inside a JSON payload/],
    [
      'JSON that is not CloudWatch nor a record',
      '{"foo":1}',
      'NOT_FLOW_LOG',
      /neither a CloudWatch Logs payload/,
    ],
    ['a JSON array', '[{"message":"x"}]', 'NOT_FLOW_LOG', /starts with "\["/],
    ['binary bytes', Buffer.from([0x00, 0x01, 0x02, 0x03]), 'NOT_FLOW_LOG', /starts with byte 0x00/],
    [
      'gzip still there after the decoder',
      Buffer.from([0x1f, 0x8b, 0x08, 0x00]),
      'NOT_FLOW_LOG',
      /^starts with byte 0x1f, as gzip data does: still gzip-compressed \(flowhose removes up to 3 gzip layers\)/,
    ],
    [
      'an unknown messageType',
      '{"messageType":"OTHER","logEvents":[]}',
      'NOT_FLOW_LOG',
      /messageType other than/,
    ],
    [
      'a number with a leading zero',
      '{"logEvents":[{"message":"a","timestamp":0123}]}',
      'BAD_JSON',
      /unexpected "0"/,
    ],
  ])('%s → %s', (_name, input, code, message) => {
    const result = convert(input as string | Buffer);
    expect(result.error?.code).toBe(code);
    expect(result.error?.message).toMatch(message);
  });

  it('errors carry the decompressed byte offset', () => {
    const first = dataPayload([{ message: R1 }]);
    const result = convert(`${first}  {"logEvents":[ ,]}`);
    expect(result.error?.offset).toBe(first.length + 2 + 15);
    expect(result.error?.message).toContain(`(at decompressed byte ${first.length + 2 + 15})`);
  });

  it('a payload larger than maxRecordBytes fails without buffering the rest', () => {
    const converter = new FlowLogConverter({
      wasmModule: WASM_MODULE,
      maxRecordBytes: 2048,
      onData: () => {},
    });
    const payload = Buffer.from(dataPayload(Array.from({ length: 40 }, () => ({ message: R1 }))));
    let error = converter.write(payload.subarray(0, 1000));
    expect(error).toBeUndefined();
    error = converter.write(payload.subarray(1000, 2100));
    expect(error?.code).toBe('RECORD_TOO_LARGE');
    expect(error?.message).toBe(
      'a JSON payload exceeds the record size limit of 2048 bytes (at decompressed byte 0)',
    );
    expect(error?.option).toBe('maxRecordBytes');
  });

  it('a text line longer than maxRecordBytes fails, also when it comes whole', () => {
    for (const text of ['2 '.repeat(600), `${'2 '.repeat(600)}\n`]) {
      const converter = new FlowLogConverter({
        wasmModule: WASM_MODULE,
        maxRecordBytes: 1024,
        onData: () => {},
      });
      const error = converter.write(Buffer.from(text)) ?? converter.end();
      expect(error?.code).toBe('RECORD_TOO_LARGE');
      expect(error?.message).toBe(
        'a line exceeds the record size limit of 1024 bytes (not a flow log, or the limit is too low) (at decompressed byte 0)',
      );
      expect(error?.option).toBe('maxRecordBytes');
    }
  });

  it('when every record is rejected the object fails as FORMAT_MISMATCH, naming the first reason', () => {
    const wrong = parseLogFormat('${version} ${vpc-id} ${srcaddr}');
    const result = convert(dataPayload([{ message: R1 }, { message: R1 }]), wrong);
    expect(result.error?.code).toBe('FORMAT_MISMATCH');
    expect(result.error?.message).toMatch(
      /all 2 records were rejected.*FIELD_COUNT: expected 3 fields.*found 14/,
    );
    // The option that governs it; the CLI names its flag.
    expect(result.error?.option).toBe('logFormat');
    expect(result.error?.message).not.toMatch(/--/);
  });
});

describe('record-level rejects: the record is set aside, the object goes on', () => {
  it('wrong field count, non-integer numbers, bad timestamps, events without a message', () => {
    const result = convert(
      `${dataPayload([
        { message: R1 },
        { message: R1.replace(' OK', '') },
        { message: `${R1} extra` },
        { message: R1.replace('20641', '20641x') },
        { message: R1.replace(' 6 ', ' tcp ') },
        { message: R1, timestamp: 'soon' },
        { message: R1, timestamp: 1.5 },
        { message: R1, timestamp: 1e21 },
        { message: R1, timestamp: -5 },
      ])}{"logEvents":[{"timestamp":1}]}`,
    );
    expect(result.error).toBeUndefined();
    expect(result.stats.rows).toBe(1);
    expect(result.rejects.map((r) => r.code)).toEqual([
      'FIELD_COUNT',
      'FIELD_COUNT',
      'BAD_INTEGER',
      'BAD_INTEGER',
      'BAD_TIMESTAMP',
      'BAD_TIMESTAMP',
      'BAD_TIMESTAMP',
      'BAD_TIMESTAMP',
      'NO_MESSAGE',
    ]);
    expect(result.rejects[0]).toMatchObject({
      reason: 'expected 14 fields (version … log-status), found 13',
      record: R1.replace(' OK', ''),
    });
    expect(result.rejects[2]?.reason).toBe('field srcport must be an integer, got "20641x"');
    expect(result.rejects[4]?.record).toBe(R1);
  });

  it('a rejected record leaves no half row behind, even with a tiny output buffer', () => {
    const out: Buffer[] = [];
    const converter = new FlowLogConverter({
      wasmModule: WASM_MODULE,
      outputChunkBytes: 8,
      onData: (b) => out.push(Buffer.from(b)),
    });
    converter.write(Buffer.from(`${R1}\n${R1.replace('22', 'x')}\n${R1}\n`));
    converter.end();
    const lines = Buffer.concat(out).toString().trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toBe(lines[2]);
  });
});
