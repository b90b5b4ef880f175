import { describe, expect, it } from 'vitest';
import { columnName, columnsOf, rangeProblem } from '../../src/core/columns.js';
import { convertBytes } from '../../src/core/convert-bytes.js';
import { DEFAULT_FORMAT, parseLogFormat } from '../../src/core/log-format.js';
import type { RowEncoder } from '../../src/core/row-encoder.js';

describe('typed columns (NDJSON, Parquet)', () => {
  it('names and types the default format as AWS native Parquet delivery does', () => {
    const columns = columnsOf(DEFAULT_FORMAT).map((c) => `${c.name}:${c.type}`);
    expect(columns).toEqual([
      'timestamp:timestamp',
      'version:int32',
      'account_id:string',
      'interface_id:string',
      'srcaddr:string',
      'dstaddr:string',
      'srcport:int32',
      'dstport:int32',
      'protocol:int32',
      'packets:int64',
      'bytes:int64',
      'start:int64',
      'end:int64',
      'action:string',
      'log_status:string',
    ]);
  });

  it('types v5 and Transit Gateway fields from the field table, unknown fields as strings', () => {
    const format = parseLogFormat(
      'tcp-flags traffic-path packets-lost-no-route pkt-src-aws-service my-field',
    );
    expect(columnsOf(format).map((c) => [c.name, c.type, c.field])).toEqual([
      ['timestamp', 'timestamp', -1],
      ['tcp_flags', 'int32', 0],
      ['traffic_path', 'int32', 1],
      ['packets_lost_no_route', 'int64', 2],
      ['pkt_src_aws_service', 'string', 3],
      ['my_field', 'string', 4],
    ]);
    expect(columnName('ecs-cluster-arn')).toBe('ecs_cluster_arn');
  });
});

describe("rangeProblem (a typed encoder's check)", () => {
  /** An encoder that keeps each accepted record's srcport and bytes, and checks ranges as typed ones do. */
  function typedRows(lines: string[]) {
    const kept: string[] = [];
    const encoder: RowEncoder = {
      header: () => {},
      check: rangeProblem,
      row: (record) => {
        kept.push(`${record.text(5)} ${record.text(9)}`);
      },
      flush: () => {},
    };
    const { rejects } = convertBytes(Buffer.from(`${lines.join('\n')}\n`), {
      payloadParser: 'scanner',
      createEncoder: () => encoder,
    });
    return { kept, rejects: rejects.map((r) => `${r.code}: ${r.reason}`) };
  }
  const record = (srcport: string, bytes: string) =>
    `2 123456789010 eni-1 10.0.0.1 10.0.0.2 ${srcport} 22 6 20 ${bytes} 1418530010 1418530070 ACCEPT OK`;

  it('keeps values up to INT32 and INT64 maxima, leading zeros included', () => {
    const { kept, rejects } = typedRows([
      record('2147483647', '9223372036854775807'),
      record('0002147483647', '00009223372036854775807'),
      record('0', '0'),
    ]);
    expect(rejects).toEqual([]);
    expect(kept).toEqual(['2147483647 9223372036854775807', '0002147483647 00009223372036854775807', '0 0']);
  });

  it('rejects a record whose int field is past INT32 or long field past INT64, naming field and value', () => {
    const { kept, rejects } = typedRows([
      record('2147483648', '1'),
      record('99999999999', '1'),
      record('1', '9223372036854775808'),
      record('1', '1'),
    ]);
    expect(kept).toEqual(['1 1']);
    expect(rejects).toEqual([
      'BAD_INTEGER: srcport 2147483648 does not fit an INT32 column',
      'BAD_INTEGER: srcport 99999999999 does not fit an INT32 column',
      'BAD_INTEGER: bytes 9223372036854775808 does not fit an INT64 column',
    ]);
  });
});
