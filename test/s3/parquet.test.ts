/**
 * `--output-format parquet` S3 to S3 against a real s3rver (./server.ts), through the built CLI: .parquet
 * typed application/vnd.apache.parquet, every value (read back by DuckDB from the uploaded bytes) as in the
 * CSV of the same objects; a rerun skips by the recorded source ETag; --dry-run names the outputs; rejects
 * sit beside them.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_FORMAT } from '../../src/core/log-format.js';
import { generateObject, generatePayloads } from '../../src/gen/corpus.js';
import { AWS_DOC_RECORD, convert, dataPayload, firehoseObject } from '../helpers.js';
import { expectParquetEqualsCsv, queryRows } from '../parquet-reader.js';
import { type S3TestServer, startS3Server } from './server.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'flowhose.cjs');
const SRC = 'src';
const DST = 'dst';

let s3: S3TestServer;
let tmp: string;
let db: DuckDBInstance;
let sql: DuckDBConnection;
beforeAll(async () => {
  s3 = await startS3Server({ buckets: [SRC, DST] });
  tmp = await mkdtemp(join(tmpdir(), 'flowhose-s3-parquet-'));
  db = await DuckDBInstance.create(':memory:', { threads: '1' });
  sql = await db.connect();
});
afterAll(async () => {
  sql?.closeSync();
  await s3?.destroy();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  manifest: Array<{ source: string; dest: string; status: string; rejected: number }>;
}

let runs = 0;
function flowhose(args: string[]): Promise<Run> {
  const manifest = join(tmp, `manifest-${++runs}.jsonl`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args, '--quiet', '--manifest', manifest], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...s3.env, NO_COLOR: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    child.on('error', reject);
    child.on('close', async (code) => {
      const text = await readFile(manifest, 'utf8').catch(() => '');
      const lines = text === '' ? [] : text.trimEnd().split('\n');
      resolve({ code, stdout, stderr, manifest: lines.map((l) => JSON.parse(l)) });
    });
  });
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

const OBJECTS = [1, 2, 3].map((seed) => ({
  seed,
  targetBytes: 20_000,
  eventsMin: 5,
  eventsMax: 50,
  ipv6Rate: 0.2,
}));

/** An uploaded object saved where DuckDB can read it (the reader gets the bytes S3 holds, not a local copy). */
let saved = 0;
async function savedCopy(key: string): Promise<string> {
  const path = join(tmp, `download-${++saved}.parquet`);
  await writeFile(path, await bytesOf(DST, key));
  return path;
}

describe('S3 to S3 as Parquet', () => {
  it('writes .parquet typed application/vnd.apache.parquet, every value as in the CSV; a rerun skips; --dry-run names them', async () => {
    for (const [i, options] of OBJECTS.entries()) {
      await s3.client.send(
        new PutObjectCommand({ Bucket: SRC, Key: `pq/2020/0${i}/obj-${i}`, Body: generateObject(options) }),
      );
    }
    const args = ['convert', `s3://${SRC}/pq/`, '--to', `s3://${DST}/pq-out/`, '--output-format', 'parquet'];
    const dry = await flowhose([...args, '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    for (let i = 0; i < 3; i++)
      expect(dry.stdout).toContain(`-> s3://${DST}/pq-out/2020/0${i}/obj-${i}.parquet`);
    expect(await keys(DST, 'pq-out/')).toEqual([]);

    const first = await flowhose(args);
    expect(first.code, first.stderr).toBe(0);
    expect(await keys(DST, 'pq-out/')).toEqual([0, 1, 2].map((i) => `pq-out/2020/0${i}/obj-${i}.parquet`));
    for (const [i, options] of OBJECTS.entries()) {
      const key = `pq-out/2020/0${i}/obj-${i}.parquet`;
      const head = await s3.client.send(new HeadObjectCommand({ Bucket: DST, Key: key }));
      expect(head.ContentType).toBe('application/vnd.apache.parquet');
      expect(head.Metadata?.['flowhose-source-etag']).toBeDefined();
      const csv = convert(generatePayloads(options).join('')).csv;
      await expectParquetEqualsCsv(sql, await savedCopy(key), csv, DEFAULT_FORMAT);
    }

    const again = await flowhose(args);
    expect(again.code, again.stderr).toBe(0);
    expect(again.manifest.map((l) => l.status)).toEqual(['skipped', 'skipped', 'skipped']);
    const dryAgain = await flowhose([...args, '--dry-run']);
    expect(dryAgain.stdout).toContain(`(up to date: s3://${DST}/pq-out/2020/00/obj-0.parquet)`);
  });

  it('snappy inside, rejects beside it', async () => {
    const wide = AWS_DOC_RECORD.replace('20641', '99999999999');
    await s3.client.send(
      new PutObjectCommand({
        Bucket: SRC,
        Key: 'snappy/obj.gz',
        Body: firehoseObject([dataPayload([{ message: AWS_DOC_RECORD }, { message: wide }])]),
      }),
    );
    const run = await flowhose([
      'convert',
      `s3://${SRC}/snappy/`,
      '--to',
      `s3://${DST}/snappy-out/`,
      '--output-format',
      'parquet',
      '--compression',
      'snappy',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.manifest[0]).toMatchObject({ status: 'ok', rejected: 1 });
    expect(await keys(DST, 'snappy-out/')).toEqual([
      'snappy-out/_obj.rejects.jsonl',
      'snappy-out/obj.parquet',
    ]);
    const path = await savedCopy('snappy-out/obj.parquet');
    const meta = await queryRows(sql, `SELECT DISTINCT compression FROM parquet_metadata('${path}')`);
    expect(meta.map((m) => m.compression)).toEqual(['SNAPPY']);
    const rows = await queryRows(sql, `SELECT srcport, log_status FROM '${path}'`);
    expect(rows).toEqual([{ srcport: 20641, log_status: 'OK' }]);
  });
});
