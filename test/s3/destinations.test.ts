/**
 * S3 destinations against a real s3rver (./server.ts), through the built CLI: unsafe keys are refused for an
 * S3 --to exactly as for a local one, an output prefix equal to the input prefix reads no output back, and
 * a missing bucket is named.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateObject, generatePayloads } from '../../src/gen/corpus.js';
import { convert, listFiles } from '../helpers.js';
import { CAN_ZSTD, unzstd } from '../zstd-tool.js';
import { type S3TestServer, startS3Server } from './server.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'flowhose.cjs');
const SRC = 'src';
const DST = 'dst';

let s3: S3TestServer;
let tmp: string;
beforeAll(async () => {
  s3 = await startS3Server({ buckets: [SRC, DST] });
  tmp = await mkdtemp(join(tmpdir(), 'flowhose-s3-dest-'));
});
afterAll(async () => {
  await s3?.destroy();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stderr: string;
  manifest: Array<{ source: string; status: string; error?: { code: string; message: string } }>;
}

let runs = 0;
function flowhose(args: string[]): Promise<Run> {
  const manifest = join(tmp, `manifest-${++runs}.jsonl`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args, '--quiet', '--manifest', manifest], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, ...s3.env, NO_COLOR: '1' },
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    child.on('error', reject);
    child.on('close', async (code) => {
      const text = await readFile(manifest, 'utf8').catch(() => '');
      const lines = text === '' ? [] : text.trimEnd().split('\n');
      resolve({ code, stderr, manifest: lines.map((l) => JSON.parse(l)) });
    });
  });
}

const OBJECT = { seed: 7, targetBytes: 1500, eventsMin: 2, eventsMax: 4 };
const BYTES = generateObject(OBJECT);
const CSV = convert(generatePayloads(OBJECT).join('')).csv;

async function put(bucket: string, key: string, body = BYTES): Promise<void> {
  await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

async function keys(bucket: string, prefix = ''): Promise<string[]> {
  const found: string[] = [];
  for await (const page of paginateListObjectsV2({ client: s3.client }, { Bucket: bucket, Prefix: prefix })) {
    for (const o of page.Contents ?? []) found.push(o.Key!);
  }
  return found.sort();
}

async function bytesOf(bucket: string, key: string): Promise<Buffer> {
  const response = await s3.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await response.Body!.transformToByteArray());
}

async function text(bucket: string, key: string): Promise<string> {
  return gunzipSync(await bytesOf(bucket, key)).toString('utf8');
}

describe('unsafe keys', () => {
  // s3rver normalises `a/../b` and `a/./b` on PUT and refuses `a//b`, so the `/` forms are covered by
  // test/paths.test.ts; the `\` forms reach the listing as sent (checked by listing them back below).
  const UNSAFE = ['unsafe/a\\..\\..\\x', 'unsafe/..\\b', 'unsafe/c\\.\\d', 'unsafe/e\\\\f'];

  it('are refused for an S3 --to (UNSAFE_PATH) exactly as for a local one; the safe key converts', async () => {
    for (const key of [...UNSAFE, 'unsafe/ok']) await put(SRC, key);
    const stored = await keys(SRC, 'unsafe/');
    const unsafe = UNSAFE.filter((k) => stored.includes(k));
    expect(unsafe.length, `s3rver kept none of ${UNSAFE.join(', ')}: ${stored.join(', ')}`).toBeGreaterThan(
      1,
    );

    const local = join(tmp, 'unsafe-local');
    for (const to of [`s3://${DST}/unsafe-out/`, local]) {
      const run = await flowhose(['convert', `s3://${SRC}/unsafe/`, '--to', to]);
      expect(run.code, run.stderr).toBe(2);
      const failed = run.manifest.filter((l) => l.status === 'failed');
      expect(failed.map((l) => l.source).sort(), to).toEqual(unsafe.map((k) => `s3://${SRC}/${k}`).sort());
      for (const line of failed) {
        expect(line.error?.code).toBe('UNSAFE_PATH');
        expect(line.error?.message).toContain(`would fall outside ${to}`);
      }
    }
    expect(await keys(DST)).toEqual(['unsafe-out/ok.csv.gz']);
    expect(await text(DST, 'unsafe-out/ok.csv.gz')).toBe(CSV);
    expect(await listFiles(local)).toEqual(['ok.csv.gz']);
  });
});

it('an output prefix equal to the input prefix converts the sources and never reads an output back', async () => {
  await put(SRC, 'same/a');
  await put(SRC, 'same/sub/b.gz');
  const first = await flowhose(['convert', `s3://${SRC}/same/`, '--to', `s3://${SRC}/same/`]);
  expect(first.code, first.stderr).toBe(0);
  expect(first.manifest.map((l) => [l.source, l.status]).sort()).toEqual([
    [`s3://${SRC}/same/a`, 'ok'],
    [`s3://${SRC}/same/sub/b.gz`, 'ok'],
  ]);
  const second = await flowhose(['convert', `s3://${SRC}/same/`, '--to', `s3://${SRC}/same`]);
  expect(second.code, second.stderr).toBe(0);
  expect(second.manifest.map((l) => [l.source, l.status]).sort()).toEqual([
    [`s3://${SRC}/same/a`, 'skipped'],
    [`s3://${SRC}/same/sub/b.gz`, 'skipped'],
  ]);
  expect(await keys(SRC, 'same/')).toEqual(['same/a', 'same/a.csv.gz', 'same/sub/b.csv.gz', 'same/sub/b.gz']);
});

describe('a bucket that does not exist is named', () => {
  it('as the destination: each object fails as S3_ERROR naming the bucket and key it could not write', async () => {
    await put(SRC, 'to-nowhere/a');
    const run = await flowhose(['convert', `s3://${SRC}/to-nowhere/`, '--to', 's3://no-such-dst/p/']);
    expect(run.code).toBe(2);
    expect(run.manifest[0]?.error?.code).toBe('S3_ERROR');
    expect(run.manifest[0]?.error?.message).toContain('s3://no-such-dst/p/a.csv.gz');
    expect(run.manifest[0]?.error?.message).toContain('The specified bucket does not exist');
  });

  it('as the input: the listing fails naming the bucket (exit 2)', async () => {
    const run = await flowhose(['convert', 's3://no-such-src/p/', '--to', join(tmp, 'nowhere')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/cannot list s3:\/\/no-such-src\/p\/: .*The specified bucket does not exist/);
  });
});

describe.skipIf(!CAN_ZSTD)('--compression zstd to S3 (read back by the zstd tool)', () => {
  it('writes .csv.zst typed application/zstd, the gzip output’s CSV byte for byte; a rerun skips it', async () => {
    await put(SRC, 'zstd/firehose-sample', await readFile(join(ROOT, 'examples', 'firehose-sample')));
    const gzip = await flowhose(['convert', `s3://${SRC}/zstd/`, '--to', `s3://${DST}/zstd-gz/`]);
    expect(gzip.code, gzip.stderr).toBe(0);
    const zstd = ['convert', `s3://${SRC}/zstd/`, '--to', `s3://${DST}/zstd-out/`, '--compression', 'zstd'];
    const first = await flowhose(zstd);
    expect(first.code, first.stderr).toBe(0);
    expect(await keys(DST, 'zstd-out/')).toEqual(['zstd-out/firehose-sample.csv.zst']);
    const head = await s3.client.send(
      new HeadObjectCommand({ Bucket: DST, Key: 'zstd-out/firehose-sample.csv.zst' }),
    );
    expect(head.ContentType).toBe('application/zstd');
    const csv = gunzipSync(await bytesOf(DST, 'zstd-gz/firehose-sample.csv.gz'));
    expect(csv.length).toBeGreaterThan(1_000_000);
    expect(unzstd(await bytesOf(DST, 'zstd-out/firehose-sample.csv.zst')).equals(csv)).toBe(true);
    const again = await flowhose(zstd);
    expect(again.code, again.stderr).toBe(0);
    expect(again.manifest.map((l) => l.status)).toEqual(['skipped']);
  });
});
