import { describe, expect, it } from 'vitest';
import { columnName, columnsOf } from '../../src/core/columns.js';
import { DEFAULT_FORMAT, parseLogFormat } from '../../src/core/log-format.js';

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
