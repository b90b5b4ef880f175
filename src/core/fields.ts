/**
 * Every documented flow-log field, spelled as AWS spells it, with the type AWS gives it in Parquet
 * delivery. VPC flow logs v2–v8 (ECS fields are v7, reject-reason v8) and Transit Gateway flow logs.
 * Types matter to CSV only as validation: an `int`/`long` field must hold digits or `-`, so a
 * garbled record is rejected instead of breaking an Athena `bigint` column.
 */
export type FieldType = 'int' | 'long' | 'string';

export interface FieldInfo {
  readonly type: FieldType;
  /** The flow-log version that introduced the field (Transit Gateway's own fields are version 6). */
  readonly since: number;
}

const f = (type: FieldType, since: number): FieldInfo => ({ type, since });

export const KNOWN_FIELDS: ReadonlyMap<string, FieldInfo> = new Map([
  ['version', f('int', 2)],
  ['account-id', f('string', 2)], // a string: leading zeros matter and AWS writes `unknown`
  ['interface-id', f('string', 2)],
  ['srcaddr', f('string', 2)],
  ['dstaddr', f('string', 2)],
  ['srcport', f('int', 2)],
  ['dstport', f('int', 2)],
  ['protocol', f('int', 2)],
  ['packets', f('long', 2)],
  ['bytes', f('long', 2)],
  ['start', f('long', 2)],
  ['end', f('long', 2)],
  ['action', f('string', 2)],
  ['log-status', f('string', 2)],
  ['vpc-id', f('string', 3)],
  ['subnet-id', f('string', 3)],
  ['instance-id', f('string', 3)],
  ['tcp-flags', f('int', 3)],
  ['type', f('string', 3)],
  ['pkt-srcaddr', f('string', 3)],
  ['pkt-dstaddr', f('string', 3)],
  ['region', f('string', 4)],
  ['az-id', f('string', 4)],
  ['sublocation-type', f('string', 4)],
  ['sublocation-id', f('string', 4)],
  ['pkt-src-aws-service', f('string', 5)],
  ['pkt-dst-aws-service', f('string', 5)],
  ['flow-direction', f('string', 5)],
  ['traffic-path', f('int', 5)],
  ['ecs-cluster-arn', f('string', 7)],
  ['ecs-cluster-name', f('string', 7)],
  ['ecs-container-instance-arn', f('string', 7)],
  ['ecs-container-instance-id', f('string', 7)],
  ['ecs-container-id', f('string', 7)],
  ['ecs-second-container-id', f('string', 7)],
  ['ecs-service-name', f('string', 7)],
  ['ecs-task-definition-arn', f('string', 7)],
  ['ecs-task-arn', f('string', 7)],
  ['ecs-task-id', f('string', 7)],
  ['reject-reason', f('string', 8)],
  // Newer than v8 (VPC Encryption Controls); typed string until AWS documents more.
  ['resource-id', f('string', 9)],
  ['encryption-status', f('string', 9)],
  ['resource-type', f('string', 6)],
  ['tgw-id', f('string', 6)],
  ['tgw-attachment-id', f('string', 6)],
  ['tgw-src-vpc-account-id', f('string', 6)],
  ['tgw-dst-vpc-account-id', f('string', 6)],
  ['tgw-src-vpc-id', f('string', 6)],
  ['tgw-dst-vpc-id', f('string', 6)],
  ['tgw-src-subnet-id', f('string', 6)],
  ['tgw-dst-subnet-id', f('string', 6)],
  ['tgw-src-eni', f('string', 6)],
  ['tgw-dst-eni', f('string', 6)],
  ['tgw-src-az-id', f('string', 6)],
  ['tgw-dst-az-id', f('string', 6)],
  ['tgw-pair-attachment-id', f('string', 6)],
  ['packets-lost-no-route', f('long', 6)],
  ['packets-lost-blackhole', f('long', 6)],
  ['packets-lost-mtu-exceeded', f('long', 6)],
  ['packets-lost-ttl-expired', f('long', 6)],
]);

export const DEFAULT_FIELDS: readonly string[] = [
  'version',
  'account-id',
  'interface-id',
  'srcaddr',
  'dstaddr',
  'srcport',
  'dstport',
  'protocol',
  'packets',
  'bytes',
  'start',
  'end',
  'action',
  'log-status',
];
