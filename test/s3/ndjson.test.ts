/**
 * `--output-format ndjson` S3 to S3 against a real s3rver (./server.ts), through the built CLI: .json.gz
 * typed application/gzip (.json application/x-ndjson), every value as in the CSV of the same objects; a
 * rerun skips by the recorded source ETag; --dry-run names the outputs; rejects sit beside them.
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
import { DEFAULT_FORMAT } from '../../src/core/log-format.js';
import { generateObject, generatePayloads } from '../../src/gen/corpus.js';
import { AWS_DOC_RECORD, convert, dataPayload, firehoseObject } from '../helpers.js';
import { typedCsvRows, typedNdjsonRows } from '../ndjson-reference.js';
import { type S3TestServer, startS3Server } from './server.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'flowhose.cjs');
const SRC = 'src';
const DST = 'dst';

let s3: S3TestServer;
let tmp: string;
beforeAll(async () => {
  s3 = await startS3Server({ buckets: [SRC, DST] });
  tmp = await mkdtemp(join(tmpdir(), 'flowhose-s3-ndjson-'));
});
afterAll(async () => {
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

describe('S3 to S3 as NDJSON', () => {
  it('writes .json.gz typed application/gzip, every value as in the CSV; a rerun skips; --dry-run names them', async () => {
    for (const [i, options] of OBJECTS.entries()) {
      await s3.client.send(
        new PutObjectCommand({ Bucket: SRC, Key: `nd/2020/0${i}/obj-${i}`, Body: generateObject(options) }),
      );
    }
    const args = ['convert', `s3://${SRC}/nd/`, '--to', `s3://${DST}/nd-out/`, '--output-format', 'ndjson'];
    const dry = await flowhose([...args, '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    for (let i = 0; i < 3; i++)
      expect(dry.stdout).toContain(`-> s3://${DST}/nd-out/2020/0${i}/obj-${i}.json.gz`);
    expect(await keys(DST, 'nd-out/')).toEqual([]);

    const first = await flowhose(args);
    expect(first.code, first.stderr).toBe(0);
    expect(await keys(DST, 'nd-out/')).toEqual([0, 1, 2].map((i) => `nd-out/2020/0${i}/obj-${i}.json.gz`));
    for (const [i, options] of OBJECTS.entries()) {
      const key = `nd-out/2020/0${i}/obj-${i}.json.gz`;
      const head = await s3.client.send(new HeadObjectCommand({ Bucket: DST, Key: key }));
      expect(head.ContentType).toBe('application/gzip');
      expect(head.Metadata?.['flowhose-source-etag']).toBeDefined();
      const ndjson = gunzipSync(await bytesOf(DST, key)).toString('utf8');
      const csv = convert(generatePayloads(options).join('')).csv;
      const rows = typedNdjsonRows(ndjson, DEFAULT_FORMAT);
      expect(rows.length).toBeGreaterThan(10);
      expect(rows).toEqual(typedCsvRows(csv, DEFAULT_FORMAT));
    }

    const again = await flowhose(args);
    expect(again.code, again.stderr).toBe(0);
    expect(again.manifest.map((l) => l.status)).toEqual(['skipped', 'skipped', 'skipped']);
    const dryAgain = await flowhose([...args, '--dry-run']);
    expect(dryAgain.stdout).toContain(`(up to date: s3://${DST}/nd-out/2020/00/obj-0.json.gz)`);
  });

  it('uncompressed: .json typed application/x-ndjson, rejects beside it', async () => {
    const wide = AWS_DOC_RECORD.replace('20641', '99999999999');
    await s3.client.send(
      new PutObjectCommand({
        Bucket: SRC,
        Key: 'plain/obj.gz',
        Body: firehoseObject([dataPayload([{ message: AWS_DOC_RECORD }, { message: wide }])]),
      }),
    );
    const run = await flowhose([
      'convert',
      `s3://${SRC}/plain/`,
      '--to',
      `s3://${DST}/plain-out/`,
      '--output-format',
      'ndjson',
      '--compression',
      'none',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.manifest[0]).toMatchObject({ status: 'ok', rejected: 1 });
    expect(await keys(DST, 'plain-out/')).toEqual(['plain-out/_obj.rejects.jsonl', 'plain-out/obj.json']);
    const head = await s3.client.send(new HeadObjectCommand({ Bucket: DST, Key: 'plain-out/obj.json' }));
    expect(head.ContentType).toBe('application/x-ndjson');
    const body = (await bytesOf(DST, 'plain-out/obj.json')).toString('utf8');
    expect(JSON.parse(body)).toMatchObject({ srcport: 20641, log_status: 'OK' });
  });
});
