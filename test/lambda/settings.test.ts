/**
 * The handler's settings: environment variables named after the option table's flags, every value checked by
 * the table's own parser, each message naming the variable (or BatchInput key) at fault, on the first
 * invocation. And events of no known shape, refused with the list of shapes that are accepted.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { OPTIONS } from '../../src/cli/options.js';
import { EventShapeError, recognise } from '../../src/lambda/events.js';
import { createHandler } from '../../src/lambda/handler.js';
import { createSettings, envName } from '../../src/lambda/settings.js';
import { fixture } from './harness.js';

const TO = { FLOWHOSE_TO: 's3://out/prefix/' };
const time = { getRemainingTimeInMillis: () => 600_000 };

describe('settings from the environment', () => {
  it('names every variable after its flag, from the option table', () => {
    expect(envName(OPTIONS.gzipLevel)).toBe('FLOWHOSE_GZIP_LEVEL');
    expect(envName(OPTIONS.maxRecordBytes)).toBe('FLOWHOSE_MAX_RECORD_SIZE');
    expect(envName(OPTIONS.endpoint)).toBe('FLOWHOSE_ENDPOINT_URL');
  });

  it('gives the CLI defaults, and reads each kind of value from text', () => {
    const defaults = createSettings(TO);
    expect(defaults.options).toMatchObject({
      gzipLevel: 6,
      compression: 'gzip',
      overwrite: false,
      retries: 2,
    });
    expect(defaults.options.s3).toMatchObject({ region: 'us-east-1', maxAttempts: 6 });
    const set = createSettings({
      ...TO,
      FLOWHOSE_GZIP_LEVEL: '1',
      FLOWHOSE_CHUNK_SIZE: '64k',
      FLOWHOSE_OVERWRITE: 'true',
      FLOWHOSE_GZIP: 'false',
      FLOWHOSE_INCLUDE: '*.gz, 2024/*',
      FLOWHOSE_MAX_ATTEMPTS: '3',
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9',
    });
    expect(set.options).toMatchObject({
      gzipLevel: 0,
      chunkSize: 65536,
      overwrite: true,
      compression: 'none',
    });
    expect(set.options.s3).toMatchObject({
      region: 'eu-west-1',
      maxAttempts: 3,
      endpoint: 'http://127.0.0.1:9',
      forcePathStyle: true,
    });
    expect(set.config.selection.include.map((re) => re.test('a.gz'))).toEqual([true, false]);
  });

  it.each([
    [{ FLOWHOSE_GZIP_LEVEL: '11' }, 'FLOWHOSE_GZIP_LEVEL must be a whole number from 0 to 9, got 11'],
    [
      { FLOWHOSE_COMPRESSION: 'brotli' },
      'FLOWHOSE_COMPRESSION must be one of gzip, zstd, none, snappy, got "brotli"',
    ],
    [{ FLOWHOSE_OVERWRITE: 'maybe' }, 'FLOWHOSE_OVERWRITE must be true or false, got maybe'],
    [
      { FLOWHOSE_CHUNK_SIZE: 'lots' },
      'FLOWHOSE_CHUNK_SIZE must be a size such as 65536, 64k or 1m, got "lots"',
    ],
    [{ FLOWHOSE_WORKERS: '4' }, 'FLOWHOSE_WORKERS (--workers) is for the command line'],
    [{ FLOWHOSE_SHARD: '0/2' }, 'FLOWHOSE_SHARD (--shard) is for the command line'],
    [
      { FLOWHOSE_GZIP_LEVLE: '1' },
      'FLOWHOSE_GZIP_LEVLE is not a flowhose setting; the handler reads FLOWHOSE_TO, FLOWHOSE_LOG_FORMAT',
    ],
    [{ FLOWHOSE_TO: '' }, 'FLOWHOSE_TO is required'],
    [
      { FLOWHOSE_TO: '/tmp/out' },
      'FLOWHOSE_TO must be an s3://bucket/prefix/ URL in the Lambda handler, got "/tmp/out"',
    ],
  ])('%j is refused on the first invocation: %s', async (env, message) => {
    const handler = createHandler({ env: { ...TO, ...env }, log: () => {} });
    const event = fixture('s3-notification.json');
    await expect(handler(event, time)).rejects.toThrow(message);
    await expect(handler(event, time)).rejects.toThrow(message); // and every later one alike
  });

  it('takes a missing FLOWHOSE_TO as required', () => {
    expect(() => createSettings({})).toThrow(
      'FLOWHOSE_TO is required: the s3://bucket/prefix/ the outputs go to',
    );
  });

  it('reads the source prefix as the CLI reads s3://bucket/prefix', () => {
    expect(createSettings({ ...TO, FLOWHOSE_SOURCE_PREFIX: 'logs' }).prefix).toBe('logs/');
    expect(createSettings(TO, { prefix: 'a/b/' }).prefix).toBe('a/b/');
    expect(createSettings(TO).prefix).toBe('');
  });
});

describe('event shapes', () => {
  it.each([
    ['distributed-map-batch.json', 'map-batch'],
    ['s3-notification.json', 's3-notification'],
    ['sqs.json', 'sqs'],
    ['eventbridge-object-created.json', 'eventbridge'],
    ['batch-operations-1.0.json', 'batch-operations'],
    ['batch-operations-2.0.json', 'batch-operations'],
  ])("recognises AWS's documented %s", (file, kind) => {
    expect(recognise(fixture(file)).kind).toBe(kind);
  });

  it('reads the documented fields of each', () => {
    expect(recognise(fixture('distributed-map-batch.json'))).toMatchObject({
      items: [
        {
          key: 'processData/images/n02085620_1073.jpg',
          etag: '"05704fbdccb224cb01c59005bebbad28"',
          size: 34910,
          lastModified: 1668699881000,
        },
        {},
      ],
    });
    expect(recognise(fixture('s3-notification.json'))).toMatchObject({
      objects: [{ bucket: 'example-bucket', key: 'test/key', size: 1024 }],
    });
    expect(recognise(fixture('eventbridge-object-created.json'))).toMatchObject({
      objects: [{ bucket: 'amzn-s3-demo-bucket1', key: 'example-key', size: 5 }],
    });
    expect(recognise(fixture('batch-operations-1.0.json'))).toMatchObject({
      version: '1.0',
      tasks: [
        {
          taskId: 'dGFza2lkZ29lc2hlcmUK',
          object: { bucket: 'amzn-s3-demo-bucket1', key: 'customerImage1.jpg' },
        },
      ],
    });
    expect(recognise(fixture('batch-operations-2.0.json'))).toMatchObject({
      version: '2.0',
      userArguments: { k1: 'v1' },
      tasks: [{ object: { bucket: 'amzn-s3-demo-bucket', key: 'customerImage1.jpg' } }],
    });
    // AWS's SQS example bodies are "Test message.": each message is unreadable, not the event.
    const sqs = recognise(fixture('sqs.json'));
    expect(sqs).toMatchObject({ messages: [{ unreadable: 'the message body is not JSON' }, {}] });
  });

  it('decodes notification keys: + is a space, %XX is UTF-8', () => {
    const event = fixture<{ Records: Array<{ s3: { object: { key: string } } }> }>('s3-notification.json');
    event.Records[0]!.s3.object.key = 'a/b+c/%C3%A9t%C3%A9%2B1';
    expect(recognise(event)).toMatchObject({ objects: [{ key: 'a/b c/été+1' }] });
    event.Records[0]!.s3.object.key = 'bad%E9';
    expect(() => recognise(event)).toThrow(EventShapeError);
  });

  it.each([
    [{}],
    [{ Records: [] }],
    [[1, 2]],
    ['text'],
    [{ detail: {} }],
    [{ invocationSchemaVersion: '3.0', tasks: [] }],
  ])('refuses %j, naming the accepted shapes', (event) => {
    expect(() => recognise(event)).toThrow(/S3 event notification|1.0 or 2.0/);
  });
});

describe('the package entry point', () => {
  it('exports handler and createHandler as flowhose/lambda (package.json exports, built into dist/)', () => {
    const script =
      "const m = await import('flowhose/lambda'); process.stdout.write(typeof m.handler + ' ' + typeof m.createHandler);";
    const cwd = fileURLToPath(new URL('../..', import.meta.url));
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('function function');
  });
});
