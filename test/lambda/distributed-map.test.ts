/**
 * The backfill's semantics, replayed over a local S3 server without Step Functions: the deployed definition
 * (deploy/definition.ts) is read for what it says, its ItemReader (ListObjectsV2 over the execution input's
 * bucket and prefix, page by page) lists the objects, its ItemBatcher (MaxItemsPerBatch, MaxInputBytesPerBatch,
 * BatchInput with paths into the execution input) cuts the batches, and the handler is invoked once per batch.
 * The union of the outputs must equal a CLI backfill of the same prefix: the same keys, the same bytes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backfillDefinition, DEFAULT_BACKFILL } from '../../deploy/definition.js';
import { createHandler, type ItemResult } from '../../src/lambda/handler.js';
import { type S3TestServer, startS3Server } from '../s3/server.js';
import {
  CORRUPT,
  cli,
  firehose,
  type Listed,
  listItems,
  put,
  snapshot,
  timeLeft,
  useServerCredentials,
} from './harness.js';

type Json = Record<string, unknown>;

const definition = backfillDefinition({
  functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:flowhose',
  resultBucket: 'results',
  ...DEFAULT_BACKFILL,
});
const map = definition.States.ConvertPrefix;

/** A JSONPath parameter block (`"Key.$": "$.field"`) resolved against the execution input. */
function resolve(parameters: Json, input: Json): Json {
  return Object.fromEntries(
    Object.entries(parameters).map(([key, value]) =>
      key.endsWith('.$') ? [key.slice(0, -2), input[String(value).replace(/^\$\./, '')]] : [key, value],
    ),
  );
}

/**
 * ItemBatcher: items in listing order, a new batch when the count is reached or the batch's JSON would pass the
 * byte limit (Step Functions counts the batch input it hands the child).
 */
function batchItems(items: Listed[], batchInput: Json, maxItems: number, maxBytes: number): Json[] {
  const batches: Json[] = [];
  let current: Listed[] = [];
  const size = (list: Listed[]) => Buffer.byteLength(JSON.stringify({ BatchInput: batchInput, Items: list }));
  for (const item of items) {
    if (current.length > 0 && (current.length >= maxItems || size([...current, item]) > maxBytes)) {
      batches.push({ BatchInput: batchInput, Items: current });
      current = [];
    }
    current.push(item);
  }
  if (current.length > 0) batches.push({ BatchInput: batchInput, Items: current });
  return batches;
}

let s3: S3TestServer;
let restore: () => void;

beforeAll(async () => {
  s3 = await startS3Server({ buckets: ['firehose', 'lambda-out', 'cli-out'] });
  restore = useServerCredentials(s3);
});

afterAll(async () => {
  restore?.();
  await s3?.destroy();
});

describe('the Distributed Map backfill, replayed', () => {
  it('reads the definition: ItemReader over the input bucket and prefix, batches of 20 within 256 KiB', () => {
    expect(map.ItemReader).toEqual({
      Resource: 'arn:aws:states:::s3:listObjectsV2',
      Parameters: { 'Bucket.$': '$.bucket', 'Prefix.$': '$.prefix' },
    });
    expect(map.ItemBatcher).toMatchObject({ MaxItemsPerBatch: 20, MaxInputBytesPerBatch: 262_144 });
  });

  it('cuts batches by count and by bytes', () => {
    const items = Array.from({ length: 7 }, (_, i) => ({
      Key: `k${i}`,
      Etag: '"e"',
      Size: 1,
      LastModified: 1,
    }));
    expect(batchItems(items, {}, 3, 1e6).map((b) => (b.Items as Listed[]).length)).toEqual([3, 3, 1]);
    const one = Buffer.byteLength(JSON.stringify({ BatchInput: {}, Items: [items[0]] }));
    expect(batchItems(items, {}, 100, one + 10).map((b) => (b.Items as Listed[]).length)).toEqual([
      1, 1, 1, 1, 1, 1, 1,
    ]);
  });

  it('converts the prefix as a CLI backfill does: the same keys, the same bytes', async () => {
    const prefix = 'AWSLogs/2024/';
    const keys: string[] = [];
    for (let i = 0; i < 45; i++) {
      const key = `${prefix}${String(i % 3).padStart(2, '0')}/delivery-${i}${i === 7 ? ' été' : ''}`;
      keys.push(key);
      await put(s3, 'firehose', key, firehose(1000 + i, { doubleGzip: i % 5 === 0 }));
    }
    await put(s3, 'firehose', `${prefix}01/corrupt`, CORRUPT);
    await put(s3, 'firehose', `${prefix}processing-failed/delivery-x`, firehose(2000));
    await put(s3, 'firehose', 'AWSLogs/2023/outside', firehose(2001));

    const execution = { bucket: 'firehose', prefix };
    const reader = resolve(map.ItemReader.Parameters, execution);
    const items = await listItems(s3, String(reader.Bucket), String(reader.Prefix));
    const batchInput = resolve(map.ItemBatcher.BatchInput, execution);
    const batches = batchItems(
      items,
      batchInput,
      map.ItemBatcher.MaxItemsPerBatch,
      map.ItemBatcher.MaxInputBytesPerBatch,
    );
    expect(batches.map((b) => (b.Items as Listed[]).length)).toEqual([20, 20, 7]);

    const handler = createHandler({
      env: { FLOWHOSE_TO: 's3://lambda-out/csv/', AWS_ENDPOINT_URL_S3: s3.endpoint, AWS_REGION: 'us-east-1' },
      log: () => {},
    });
    const results: ItemResult[] = [];
    for (const batch of batches) {
      const answer = (await handler(batch, timeLeft(900_000))) as { results: ItemResult[] };
      results.push(...answer.results);
    }
    const by = (status: string) => results.filter((r) => r.status === status).map((r) => r.source);
    expect(by('ok')).toHaveLength(45);
    expect(by('failed')).toEqual([`s3://firehose/${prefix}01/corrupt`]);
    expect(results.find((r) => r.source.includes('processing-failed'))).toMatchObject({ status: 'ignored' });

    const run = await cli(s3, [`s3://firehose/${prefix}`, '--to', 's3://cli-out/csv/']);
    expect(run.code, run.stderr).not.toBe(0); // the corrupt object
    const ours = await snapshot(s3, 'lambda-out', 'csv/');
    const theirs = await snapshot(s3, 'cli-out', 'csv/');
    expect([...ours.keys()].sort()).toEqual([...theirs.keys()].sort());
    expect(ours.size).toBe(45);
    expect(ours.has('00/delivery-0.csv.gz')).toBe(true);
    expect(ours.has('01/delivery-7 été.csv.gz')).toBe(true);
    for (const [key, bytes] of ours) expect(bytes.equals(theirs.get(key)!), key).toBe(true);
  });
});
