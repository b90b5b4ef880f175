/**
 * The Lambda handler, invoked in-process with AWS's documented event shapes (test/fixtures/lambda/), against a
 * real S3-compatible server on loopback. Outputs are compared with the built CLI's for the same objects (same
 * bytes), and the server's request log shows that a redelivery writes nothing.
 */
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePayloads } from '../../src/gen/corpus.js';
import { createHandler, type ItemResult } from '../../src/lambda/handler.js';
import { convert } from '../helpers.js';
import { startMisbehavingS3 } from '../s3/misbehaving-server.js';
import { type S3TestServer, startS3Server } from '../s3/server.js';
import {
  CORRUPT,
  cli,
  firehose,
  fixture,
  getBytes,
  listItems,
  notificationKey,
  put,
  snapshot,
  timeLeft,
  useServerCredentials,
} from './harness.js';

const SRC = 'src';
const DST = 'dst';
const CLI = 'cli';

let s3: S3TestServer;
let restore: () => void;

beforeAll(async () => {
  s3 = await startS3Server({ buckets: [SRC, DST, CLI] });
  restore = useServerCredentials(s3);
});

afterAll(async () => {
  restore?.();
  await s3?.destroy();
});

const PLENTY = () => timeLeft(600_000);

function handlerFor(to: string, extra: Record<string, string> = {}) {
  const lines: string[] = [];
  const handler = createHandler({
    env: { FLOWHOSE_TO: to, AWS_ENDPOINT_URL_S3: s3.endpoint, AWS_REGION: 'us-east-1', ...extra },
    log: (line) => lines.push(line),
  });
  return { handler, lines };
}

interface MapItemJson {
  Key: string;
  Etag: string;
  Size: number;
  LastModified: number;
}

/** AWS's documented child input, with our bucket, prefix and listed items. */
async function mapBatch(prefix: string, batchInput: Record<string, unknown> = {}) {
  const event = fixture<{ BatchInput: Record<string, unknown>; Items: MapItemJson[] }>(
    'distributed-map-batch.json',
  );
  event.BatchInput = { bucket: SRC, prefix, ...batchInput };
  event.Items = await listItems(s3, SRC, prefix);
  return event;
}

/** AWS's documented S3 notification, naming our object (key encoded as S3 encodes it). */
function notification(bucket: string, key: string, eventName = 'ObjectCreated:Put') {
  const event = fixture<{ Records: Array<Loose> }>('s3-notification.json');
  const record = event.Records[0]!;
  record.eventName = eventName;
  record.s3.bucket.name = bucket;
  record.s3.bucket.arn = `arn:aws:s3:::${bucket}`;
  record.s3.object.key = notificationKey(key);
  return event;
}

function sqsOf(bodies: string[]) {
  const event = fixture<{ Records: Array<Loose> }>('sqs.json');
  const template = event.Records[0]!;
  event.Records = bodies.map((body, i) => ({ ...template, messageId: `message-${i}`, body }));
  return event;
}

/** An event fixture edited in place. */
// biome-ignore lint/suspicious/noExplicitAny: fixtures are AWS's JSON, reshaped per test
type Loose = Record<string, any>;

const statuses = (results: ItemResult[]) => results.map((r) => `${r.source.split('/').pop()} ${r.status}`);

describe('Distributed Map batch', () => {
  it('converts every item as the CLI does (same keys, same bytes), a corrupt one failing alone', async () => {
    const prefix = 'map1/';
    await put(s3, SRC, `${prefix}a/obj-1`, firehose(1));
    await put(s3, SRC, `${prefix}a/obj-2.gz`, firehose(2, { doubleGzip: true }));
    await put(s3, SRC, `${prefix}b/corrupt`, CORRUPT);
    await put(s3, SRC, `${prefix}b/obj-3`, firehose(3));
    const { handler, lines } = handlerFor(`s3://${DST}/map1-out/`);

    const answer = (await handler(await mapBatch(prefix), PLENTY())) as {
      results: ItemResult[];
      ok: number;
      failed: number;
    };

    expect(statuses(answer.results)).toEqual(['obj-1 ok', 'obj-2.gz ok', 'corrupt failed', 'obj-3 ok']);
    expect(answer.results[2]!.error).toMatchObject({ retryable: false });
    expect(answer).toMatchObject({ ok: 3, failed: 1 });
    expect(lines.map((l) => JSON.parse(l).status)).toEqual(['ok', 'ok', 'failed', 'ok']);
    expect(JSON.parse(lines[2]!)).toMatchObject({ level: 'ERROR', source: `s3://${SRC}/${prefix}b/corrupt` });

    const run = await cli(s3, [`s3://${SRC}/${prefix}`, '--to', `s3://${CLI}/map1-out/`]);
    expect(run.code, run.stderr).not.toBe(0); // the corrupt object fails there too
    const ours = await snapshot(s3, DST, 'map1-out/');
    const theirs = await snapshot(s3, CLI, 'map1-out/');
    expect([...ours.keys()].sort()).toEqual([...theirs.keys()].sort());
    expect([...ours.keys()].sort()).toEqual(['a/obj-1.csv.gz', 'a/obj-2.csv.gz', 'b/obj-3.csv.gz']);
    for (const [key, bytes] of ours) expect(bytes.equals(theirs.get(key)!), key).toBe(true);
  });

  it.each([
    ['ndjson', {}, 'obj-1.json.gz'],
    ['parquet', { compression: 'gzip' }, 'obj-1.parquet'],
  ])(
    'writes --output-format %s through BatchInput, the same bytes as the CLI',
    async (format, extra, name) => {
      const prefix = `map-${format}/`;
      await put(s3, SRC, `${prefix}obj-1`, firehose(7));
      const { handler } = handlerFor(`s3://${DST}/${prefix}out/`);
      const answer = (await handler(
        await mapBatch(prefix, { outputFormat: format, ...extra }),
        PLENTY(),
      )) as {
        results: ItemResult[];
      };
      expect(statuses(answer.results)).toEqual(['obj-1 ok']);
      const flags = Object.entries(extra).flatMap(([k, v]) => [`--${k}`, v]);
      const run = await cli(s3, [
        `s3://${SRC}/${prefix}`,
        '--to',
        `s3://${CLI}/${prefix}out/`,
        '--output-format',
        format,
        ...flags,
      ]);
      expect(run.code, run.stderr).toBe(0);
      const ours = await snapshot(s3, DST, `${prefix}out/`);
      const theirs = await snapshot(s3, CLI, `${prefix}out/`);
      expect([...ours.keys()]).toEqual([name]);
      expect(ours.get(name)!.equals(theirs.get(name)!)).toBe(true);
    },
  );

  it('converts nothing twice: a redelivered batch is skipped by the recorded source ETag, with no PUT', async () => {
    const prefix = 'map2/';
    await put(s3, SRC, `${prefix}obj-1`, firehose(11));
    await put(s3, SRC, `${prefix}obj-2`, firehose(12));
    const { handler } = handlerFor(`s3://${DST}/map2-out/`);
    const event = await mapBatch(prefix);
    await handler(event, PLENTY());
    const mark = await s3.mark();
    const again = (await handler(event, PLENTY())) as { results: ItemResult[] };
    await s3.syncRequests();
    expect(statuses(again.results)).toEqual(['obj-1 skipped', 'obj-2 skipped']);
    expect(s3.requests.slice(mark).filter((r) => r.method === 'PUT' || r.method === 'POST')).toEqual([]);
  });

  it('skips what the CLI already converted to the same place (the same ETag record)', async () => {
    const prefix = 'map3/';
    await put(s3, SRC, `${prefix}obj-1`, firehose(21));
    const run = await cli(s3, [`s3://${SRC}/${prefix}`, '--to', `s3://${DST}/map3-out/`]);
    expect(run.code, run.stderr).toBe(0);
    const { handler } = handlerFor(`s3://${DST}/map3-out/`);
    const answer = (await handler(await mapBatch(prefix), PLENTY())) as { results: ItemResult[] };
    expect(statuses(answer.results)).toEqual(['obj-1 skipped']);
  });

  it('returns unstarted items when time runs short, and throws so the batch is retried; the retry finishes it', async () => {
    const prefix = 'map4/';
    for (let i = 1; i <= 3; i++) await put(s3, SRC, `${prefix}obj-${i}`, firehose(30 + i));
    const { handler } = handlerFor(`s3://${DST}/map4-out/`);
    const event = await mapBatch(prefix);
    // Plenty for the first object, then less than the reserve.
    const error = await handler(event, timeLeft(600_000, 1_000)).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'FlowhoseRetryableBatch' });
    const results = (error as { results: ItemResult[] }).results;
    expect(statuses(results)).toEqual(['obj-1 ok', 'obj-2 not-started', 'obj-3 not-started']);
    expect(results[1]!.error).toMatchObject({ code: 'INTERRUPTED', retryable: true });
    expect([...(await snapshot(s3, DST, 'map4-out/')).keys()]).toEqual(['obj-1.csv.gz']);

    const retry = (await handler(event, PLENTY())) as { results: ItemResult[] };
    expect(statuses(retry.results)).toEqual(['obj-1 skipped', 'obj-2 ok', 'obj-3 ok']);
  });

  it('takes options from BatchInput over the environment, checked by the option table', async () => {
    const prefix = 'map5/';
    await put(s3, SRC, `${prefix}obj-1`, firehose(41));
    const { handler } = handlerFor(`s3://${DST}/map5-out/`, { FLOWHOSE_COMPRESSION: 'gzip' });
    const answer = (await handler(await mapBatch(prefix, { compression: 'none' }), PLENTY())) as {
      results: ItemResult[];
    };
    expect(answer.results[0]!.dest).toBe(`s3://${DST}/map5-out/obj-1.csv`);
    await expect(handler(await mapBatch(prefix, { gzipLevel: 'nine' }), PLENTY())).rejects.toThrow(
      'BatchInput.gzipLevel must be a whole number from 0 to 9, got nine',
    );
    await expect(handler(await mapBatch(prefix, { factCheck: 'December 2022' }), PLENTY())).rejects.toThrow(
      /BatchInput.factCheck is not a flowhose setting/,
    );
    const noBucket = await mapBatch(prefix);
    delete noBucket.BatchInput.bucket;
    await expect(handler(noBucket, PLENTY())).rejects.toThrow(
      /BatchInput.bucket must name the source bucket/,
    );
  });
});

describe('S3 event notification', () => {
  it('decodes keys with spaces (+) and unicode, converts as the CLI does, ignores deletes and its own outputs', async () => {
    const key = 'notify/flow logs/été 2024/Überweg +1';
    const body = firehose(51);
    await put(s3, SRC, key, body);
    const { handler, lines } = handlerFor(`s3://${DST}/notify-out/`, { FLOWHOSE_SOURCE_PREFIX: 'notify/' });
    const event = notification(SRC, key);
    event.Records.push(notification(SRC, key, 'ObjectRemoved:Delete').Records[0]!);
    const answer = (await handler(event, PLENTY())) as { results: ItemResult[] };
    expect(answer.results.map((r) => r.status)).toEqual(['ok', 'ignored']);
    expect(answer.results[0]!.source).toBe(`s3://${SRC}/${key}`);
    const out = 'notify-out/flow logs/été 2024/Überweg +1.csv.gz';
    const csv = gunzipSync(await getBytes(s3, DST, out)).toString('utf8');
    expect(csv).toBe(
      convert(generatePayloads({ seed: 51, targetBytes: 1500, eventsMin: 2, eventsMax: 6 }).join('')).csv,
    );
    expect(lines).toHaveLength(2);

    await cli(s3, [`s3://${SRC}/notify/`, '--to', `s3://${CLI}/notify-out/`]);
    expect((await getBytes(s3, CLI, out)).equals(await getBytes(s3, DST, out))).toBe(true);

    // Its own output landing in a notifying bucket is never read back.
    const own = (await handler(notification(DST, out), PLENTY())) as { results: ItemResult[] };
    expect(own.results.map((r) => [r.status, r.reason])).toEqual([
      ['ignored', 'below the destination prefix'],
    ]);
  });

  it('throws on a retryable failure (Lambda retries async invocations) and not on a permanent one', async () => {
    await put(s3, SRC, 'notify2/corrupt', CORRUPT);
    const { handler } = handlerFor(`s3://${DST}/notify2-out/`);
    const answer = (await handler(notification(SRC, 'notify2/corrupt'), PLENTY())) as {
      results: ItemResult[];
    };
    expect(answer.results.map((r) => r.status)).toEqual(['failed']);
    await expect(handler(notification(SRC, 'notify2/corrupt'), timeLeft(10))).rejects.toMatchObject({
      name: 'FlowhoseRetryableBatch',
    });
  });
});

describe('SQS of S3 notifications', () => {
  it('answers with only the failed messages; the test event and its own outputs succeed', async () => {
    await put(s3, SRC, 'sqs/obj-1', firehose(61));
    await put(s3, SRC, 'sqs/corrupt', CORRUPT);
    const { handler } = handlerFor(`s3://${DST}/sqs-out/`);
    const event = sqsOf([
      JSON.stringify(notification(SRC, 'sqs/obj-1')),
      JSON.stringify(notification(SRC, 'sqs/corrupt')),
      JSON.stringify(fixture('s3-test-event.json')),
      'Test message.', // AWS's own example body: not an S3 notification
      JSON.stringify({ Type: 'Notification', Message: JSON.stringify(notification(SRC, 'sqs/obj-1')) }),
    ]);
    const answer = await handler(event, PLENTY());
    expect(answer).toEqual({
      batchItemFailures: [{ itemIdentifier: 'message-1' }, { itemIdentifier: 'message-3' }],
    });
    expect([...(await snapshot(s3, DST, 'sqs-out/')).keys()]).toEqual(['sqs/obj-1.csv.gz']);
  });

  it('returns the messages it could not start in time', async () => {
    await put(s3, SRC, 'sqs2/obj-1', firehose(71));
    await put(s3, SRC, 'sqs2/obj-2', firehose(72));
    const { handler } = handlerFor(`s3://${DST}/sqs2-out/`);
    const event = sqsOf([
      JSON.stringify(notification(SRC, 'sqs2/obj-1')),
      JSON.stringify(notification(SRC, 'sqs2/obj-2')),
    ]);
    expect(await handler(event, timeLeft(600_000, 500))).toEqual({
      batchItemFailures: [{ itemIdentifier: 'message-1' }],
    });
  });
});

describe('EventBridge Object Created', () => {
  it('converts the named object (EventBridge keys are not encoded)', async () => {
    const key = 'eb/a+b c.gz';
    await put(s3, SRC, key, firehose(81));
    const event = fixture<Loose>('eventbridge-object-created.json');
    event.detail.bucket.name = SRC;
    event.detail.object.key = key;
    const { handler } = handlerFor(`s3://${DST}/`);
    const answer = (await handler(event, PLENTY())) as { results: ItemResult[] };
    expect(answer.results.map((r) => [r.status, r.dest])).toEqual([['ok', `s3://${DST}/eb/a+b c.csv.gz`]]);
  });
});

describe('S3 Batch Operations', () => {
  it('answers schema 1.0 with Succeeded and PermanentFailure per task', async () => {
    await put(s3, SRC, 'bops/obj 1', firehose(91));
    await put(s3, SRC, 'bops/corrupt', CORRUPT);
    const event = fixture<Loose>('batch-operations-1.0.json');
    const template = event.tasks[0];
    event.tasks = [
      { ...template, taskId: 't1', s3Key: 'bops/obj+1', s3BucketArn: `arn:aws:s3:::${SRC}` },
      { ...template, taskId: 't2', s3Key: 'bops/corrupt', s3BucketArn: `arn:aws:s3:::${SRC}` },
    ];
    const { handler } = handlerFor(`s3://${DST}/bops-out/`);
    const answer = (await handler(event, PLENTY())) as Loose;
    expect(answer).toMatchObject({
      invocationSchemaVersion: '1.0',
      treatMissingKeysAs: 'PermanentFailure',
      invocationId: event.invocationId,
    });
    expect(answer.results.map((r: Record<string, string>) => [r.taskId, r.resultCode])).toEqual([
      ['t1', 'Succeeded'],
      ['t2', 'PermanentFailure'],
    ]);
    expect(answer.results[0].resultString).toBe(`ok s3://${DST}/bops-out/bops/obj 1.csv.gz`);
  });

  it('answers schema 2.0 (bucket by name), takes userArguments as options and refuses unknown ones', async () => {
    await put(s3, SRC, 'bops2/obj-1', firehose(92));
    const event = fixture<Loose>('batch-operations-2.0.json');
    event.tasks[0] = { ...event.tasks[0], s3Key: 'bops2/obj-1', s3Bucket: SRC };
    const { handler } = handlerFor(`s3://${DST}/bops2-out/`);
    // AWS's example arguments (k1, k2) mean nothing to flowhose: said so, not ignored.
    await expect(handler(event, PLENTY())).rejects.toThrow(/userArguments.k1 is not a flowhose setting/);
    event.job.userArguments = { compression: 'none' };
    const answer = (await handler(event, PLENTY())) as Loose;
    expect(answer.results).toEqual([
      {
        taskId: event.tasks[0].taskId,
        resultCode: 'Succeeded',
        resultString: `ok s3://${DST}/bops2-out/bops2/obj-1.csv`,
      },
    ]);
    const timedOut = (await handler(event, timeLeft(10))) as Loose;
    expect(timedOut.results[0].resultCode).toBe('TemporaryFailure');
  });
});

describe('an object that overruns the time left', () => {
  it('is stopped before Lambda would stop the invocation, and comes back as a retryable failure', async () => {
    // The body stalls after half of it, for ever: only the handler's deadline can end this object.
    const slow = await startMisbehavingS3({
      bucket: 'src',
      objects: { 'in/slow': firehose(101) },
      behave: (request) => (request.kind === 'get' && request.key === 'in/slow' ? 'half' : 'answer'),
    });
    try {
      const handler = createHandler({
        env: { FLOWHOSE_TO: 's3://src/out/', AWS_ENDPOINT_URL_S3: slow.endpoint, AWS_REGION: 'us-east-1' },
        log: () => {},
        guard: { reserveMs: 2000, minimumMs: 100 },
      });
      const event = fixture<{ BatchInput: Loose; Items: Loose[] }>('distributed-map-batch.json');
      event.BatchInput = { bucket: 'src', prefix: 'in/' };
      event.Items = [{ Key: 'in/slow' }];
      // 3 s left: it starts (3 s > 2 s reserve + 0.1 s), and is stopped 1 s before the end.
      const error = await handler(event, timeLeft(3000)).catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'FlowhoseRetryableBatch' });
      const [result] = (error as { results: ItemResult[] }).results;
      expect(result).toMatchObject({ status: 'failed', error: { code: 'INTERRUPTED', retryable: true } });
      expect(slow.requests.filter((r) => r.kind === 'put')).toEqual([]);
    } finally {
      await slow.close();
    }
  });
});
