import { gzipSync } from 'node:zlib';
import { DEFAULT_FIELDS } from '../core/fields.js';

/** mulberry32: tiny, fast, and the same sequence for a seed on every platform. */
export function createRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface PayloadOptions {
  fields?: readonly string[];
  eventsMin?: number;
  eventsMax?: number;
  /** Share of records that are NODATA or SKIPDATA. */
  noDataRate?: number;
  ipv6Rate?: number;
  /** Epoch ms of the first event. */
  startMs?: number;
}

export interface ObjectOptions extends PayloadOptions {
  seed: number;
  /** Stop adding payloads once the decompressed size reaches this many bytes. */
  targetBytes: number;
  /** Chance that a payload is a CONTROL_MESSAGE (the first one always is when > 0). */
  controlRate?: number;
  /** Gzip the payloads once more as a whole, as Firehose does with its own GZIP setting. */
  doubleGzip?: boolean;
}

const hex = (random: () => number, n: number) => {
  let s = '';
  for (let i = 0; i < n; i++) s += '0123456789abcdef'[Math.floor(random() * 16)];
  return s;
};
const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const int = (random: () => number, min: number, max: number) => min + Math.floor(random() * (max - min + 1));

/** A small world of accounts and interfaces, so the data has the repetition real flow logs have. */
function createWorld(random: () => number) {
  const account = String(int(random, 100000000000, 999999999999));
  const enis = Array.from({ length: 8 }, () => `eni-${hex(random, 17)}`);
  const vpc = `vpc-${hex(random, 17)}`;
  const subnets = Array.from({ length: 3 }, () => `subnet-${hex(random, 17)}`);
  const instances = Array.from({ length: 5 }, () => `i-${hex(random, 17)}`);
  return { account, enis, vpc, subnets, instances, eventCount: 0n };
}

type World = ReturnType<typeof createWorld>;

function ipv4(random: () => number): string {
  return random() < 0.6
    ? `10.0.${int(random, 0, 255)}.${int(random, 1, 254)}`
    : `${int(random, 1, 223)}.${int(random, 0, 255)}.${int(random, 0, 255)}.${int(random, 1, 254)}`;
}

function ipv6(random: () => number): string {
  return `2001:db8:${hex(random, 4)}:${hex(random, 4)}:${hex(random, 4)}:${hex(random, 4)}:${hex(random, 4)}:${hex(random, 4)}`;
}

/** One flow record in the given field order; `-` wherever AWS would write no value. */
export function flowRecord(
  random: () => number,
  world: World,
  fields: readonly string[],
  nowSec: number,
  noData: boolean,
  v6: boolean,
): string {
  const status = noData ? (random() < 0.5 ? 'NODATA' : 'SKIPDATA') : 'OK';
  const start = nowSec - int(random, 0, 60);
  const protocol = pick(random, [6, 6, 6, 17, 17, 1]);
  const values = fields.map((field) => {
    switch (field) {
      case 'version':
        return '2';
      case 'account-id':
        return world.account;
      case 'interface-id':
        return pick(random, world.enis);
      case 'start':
        return String(start);
      case 'end':
        return String(start + int(random, 1, 60));
      case 'log-status':
        return status;
      case 'vpc-id':
        return world.vpc;
      case 'subnet-id':
        return pick(random, world.subnets);
      case 'instance-id':
        return random() < 0.1 ? '-' : pick(random, world.instances);
      case 'region':
        return 'eu-west-1';
      case 'az-id':
        return pick(random, ['euw1-az1', 'euw1-az2', 'euw1-az3']);
    }
    if (noData) return '-';
    switch (field) {
      case 'srcaddr':
      case 'dstaddr':
      case 'pkt-srcaddr':
      case 'pkt-dstaddr':
        return v6 ? ipv6(random) : ipv4(random);
      case 'srcport':
      case 'dstport':
        return protocol === 1
          ? '0'
          : String(random() < 0.5 ? pick(random, [22, 80, 443, 3389, 5432, 53]) : int(random, 1024, 65535));
      case 'protocol':
        return String(protocol);
      case 'packets':
        return String(int(random, 1, 2000));
      case 'bytes':
        return String(int(random, 40, 3_000_000));
      case 'action':
        return random() < 0.85 ? 'ACCEPT' : 'REJECT';
      case 'tcp-flags':
        return protocol === 6 ? String(pick(random, [0, 1, 2, 3, 18, 19, 4])) : '0';
      case 'type':
        return v6 ? 'IPv6' : 'IPv4';
      case 'flow-direction':
        return random() < 0.5 ? 'ingress' : 'egress';
      case 'traffic-path':
        return random() < 0.5 ? '-' : String(int(random, 1, 8));
      case 'pkt-src-aws-service':
      case 'pkt-dst-aws-service':
        return random() < 0.8 ? '-' : pick(random, ['AMAZON', 'S3', 'EC2', 'DYNAMODB']);
      default:
        return '-';
    }
  });
  return values.join(' ');
}

/** A CloudWatch Logs subscription DATA_MESSAGE payload, keys in the order real captures have. */
export function dataPayload(
  random: () => number,
  world: World,
  options: PayloadOptions,
  atMs: number,
): string {
  const fields = options.fields ?? DEFAULT_FIELDS;
  const count = int(random, options.eventsMin ?? 100, options.eventsMax ?? 2000);
  const events: string[] = [];
  let ms = atMs;
  for (let i = 0; i < count; i++) {
    ms += int(random, 0, 3);
    const message = flowRecord(
      random,
      world,
      fields,
      Math.floor(ms / 1000),
      random() < (options.noDataRate ?? 0.02),
      random() < (options.ipv6Rate ?? 0.05),
    );
    world.eventCount += 1n;
    const id = (31953106606966983378809025079804211143289615424298221568n + world.eventCount).toString();
    events.push(`{"id":"${id}","timestamp":${ms},"message":"${message}"}`);
  }
  return (
    `{"messageType":"DATA_MESSAGE","owner":"${world.account}","logGroup":"/aws/vpc/flowlogs","logStream":"${pick(random, world.enis)}-all",` +
    `"subscriptionFilters":["flowhose-firehose"],"logEvents":[${events.join(',')}]}`
  );
}

export function controlPayload(atMs: number): string {
  return `{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":${atMs},"message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}`;
}

/** The JSON payloads of one object (decompressed), one at a time, deterministic for a seed. */
export function* payloads(options: ObjectOptions): Generator<string> {
  const random = createRandom(options.seed);
  const world = createWorld(random);
  let atMs = options.startMs ?? 1_580_517_578_000; // 2020-02-01T00:39:38Z
  let bytes = 0;
  let count = 0;
  const controlRate = options.controlRate ?? 0.01;
  while (bytes < options.targetBytes) {
    const payload =
      (count === 0 && controlRate > 0) || random() < controlRate
        ? controlPayload(atMs)
        : dataPayload(random, world, options, atMs);
    count++;
    bytes += Buffer.byteLength(payload);
    atMs += int(random, 500, 5000);
    yield payload;
  }
}

export const generatePayloads = (options: ObjectOptions): string[] => [...payloads(options)];

/** A Firehose object: each payload its own gzip member, members concatenated (and optionally gzipped again). */
export function generateObject(options: ObjectOptions, level = 6): Buffer {
  const members = generatePayloads(options).map((payload) => gzipSync(payload, { level }));
  const object = Buffer.concat(members);
  return options.doubleGzip ? gzipSync(object, { level }) : object;
}
