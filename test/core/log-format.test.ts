import { describe, expect, it } from 'vitest';
import { DEFAULT_FIELDS, KNOWN_FIELDS } from '../../src/core/fields.js';
import { DEFAULT_FORMAT, formatSpec, headerFormat, parseLogFormat } from '../../src/core/log-format.js';

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
    ['', /--log-format is empty/],
    ['   ', /--log-format is empty/],
    ['${version', /"\$\{version" is missing its closing "}"/],
    ['$version', /"\$version" is not a field/],
    ['version 9lives', /"9lives" is not a valid field name/],
    ['version sr.caddr', /"sr.caddr" is not a valid field name/],
    ['version srcaddr version', /field "version" appears twice/],
    ['account_id account-id', /field "account-id" appears twice/],
  ])('rejects %j with a message naming it', (spec, message) => {
    expect(() => parseLogFormat(spec)).toThrow(message);
  });

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

  it('does not mistake records for headers', () => {
    expect(headerFormat('2 123456789010 eni-1 - - - - - - - 1 2 - NODATA')).toBeUndefined();
    expect(headerFormat('vpc-0abc subnet-0def i-0123 eni-0456')).toBeUndefined();
    expect(headerFormat('')).toBeUndefined();
  });
});
