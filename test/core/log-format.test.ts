import { describe, expect, it } from 'vitest';
import { LogFormatError } from '../../src/core/errors.js';
import { DEFAULT_FIELDS, KNOWN_FIELDS } from '../../src/core/fields.js';
import { DEFAULT_FORMAT, formatSpec, headerFormat, parseLogFormat } from '../../src/core/log-format.js';
import { convert } from '../helpers.js';

const names = (spec: string) => parseLogFormat(spec).fields.map((f) => f.name);

describe('--log-format', () => {
  it("takes AWS's own ${…} syntax", () => {
    expect(names('${version} ${vpc-id} ${srcaddr} ${tgw-id} ${ecs-task-arn} ${reject-reason}')).toEqual([
      'version',
      'vpc-id',
      'srcaddr',
      'tgw-id',
      'ecs-task-arn',
      'reject-reason',
    ]);
  });

  it('takes bare names with hyphens or underscores, separated by spaces or commas', () => {
    expect(names('version account_id,log-status  pkt_src_aws_service')).toEqual([
      'version',
      'account-id',
      'log-status',
      'pkt-src-aws-service',
    ]);
  });

  it('keeps unknown names as string fields', () => {
    const format = parseLogFormat('${version} ${future-field}');
    expect(format.fields[1]).toEqual({ name: 'future-field', type: 'string', known: false });
  });

  it('marks integer fields for validation and finds start', () => {
    const format = parseLogFormat('action srcport start packets account-id');
    expect([...format.intMask]).toEqual([0, 1, 1, 1, 0]);
    expect(format.startIndex).toBe(2);
  });

  it.each([
    ['', /^log format is empty: give field names/],
    ['   ', /^log format is empty/],
    ['${version', /"\$\{version" is missing its closing "}"/],
    ['$version', /"\$version" is not a field/],
    ['version 9lives', /"9lives" is not a valid field name/],
    ['version sr.caddr', /"sr.caddr" is not a valid field name/],
    ['version srcaddr version', /field "version" appears twice/],
    ['account_id account-id', /field "account-id" appears twice/],
  ])('rejects %j with a message naming it', (spec, message) => {
    expect(() => parseLogFormat(spec)).toThrow(message);
    expect(() => parseLogFormat(spec)).toThrow(LogFormatError);
  });

  it('says log format, not a command-line flag, and throws a LogFormatError', () => {
    let thrown: unknown;
    try {
      parseLogFormat('version 9lives');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(LogFormatError);
    expect((thrown as Error).name).toBe('LogFormatError');
    expect((thrown as Error).message).toBe('log format: "9lives" is not a valid field name');
    expect((thrown as Error).message).not.toMatch(/--/);
  });

  it.each(['version timestamp srcaddr', '${version} ${timestamp}', 'Timestamp', 'TIMESTAMP,version'])(
    'refuses a field named timestamp, the name of the event-time column: %j',
    (spec) => {
      const bare = spec.match(/timestamp/i)![0];
      expect(() => parseLogFormat(spec)).toThrow(
        new LogFormatError(
          `log format: "${bare}" cannot be a field name: the output's first column is the event time, named timestamp`,
        ),
      );
    },
  );

  it('the default format is the 14 version-2 fields, and formatSpec round-trips', () => {
    expect(DEFAULT_FORMAT.fields.map((f) => f.name)).toEqual(DEFAULT_FIELDS);
    expect(parseLogFormat(formatSpec(DEFAULT_FORMAT))).toEqual(DEFAULT_FORMAT);
  });

  it('knows every documented field: VPC v2–v8, ECS, Transit Gateway', () => {
    for (const name of [
      'traffic-path',
      'ecs-second-container-id',
      'packets-lost-ttl-expired',
      'tgw-pair-attachment-id',
      'sublocation-id',
    ]) {
      expect(KNOWN_FIELDS.has(name), name).toBe(true);
    }
    expect(KNOWN_FIELDS.get('account-id')?.type).toBe('string');
    expect(KNOWN_FIELDS.get('bytes')?.type).toBe('long');
  });
});

describe('header lines', () => {
  it('recognises the header of flow logs delivered to S3', () => {
    expect(
      headerFormat(
        'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status',
      ),
    ).toEqual(DEFAULT_FORMAT);
  });

  it('refuses a text file whose header line names a field timestamp (NOT_FLOW_LOG, at the line)', () => {
    for (const input of [
      'version timestamp srcaddr\n2 1 1.1.1.1\n',
      'version srcaddr Timestamp\r\n2 1.1.1.1 1\n',
    ]) {
      const result = convert(input);
      expect(result.error?.code).toBe('NOT_FLOW_LOG');
      expect(result.error?.message).toBe(
        'the header line names a field "timestamp", but the output\'s first column is the event time, ' +
          'named timestamp (AWS flow logs have no such field) (at decompressed byte 0)',
      );
      expect(result.csv).toBe('');
    }
    // A first line that is no header (too few documented names) stays a record.
    expect(convert('timestamp foo\n').error?.code).toBe('FORMAT_MISMATCH');
  });

  it('does not mistake records for headers', () => {
    expect(headerFormat('2 123456789010 eni-1 - - - - - - - 1 2 - NODATA')).toBeUndefined();
    expect(headerFormat('vpc-0abc subnet-0def i-0123 eni-0456')).toBeUndefined();
    expect(headerFormat('')).toBeUndefined();
  });
});
