/**
 * Partitioned output sets from S3 to S3 against a real s3rver: the CLI writes one object per partition plus
 * a hidden commit record, lists every output in the manifest, and skips on a rerun. In-process, a failure
 * after member k completed deletes what was completed; a simulated kill -9 there (nothing after it runs)
 * leaves no commit record, so the rerun redoes the source and ends with exactly the clean set.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, PutObjectCommand, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConvertOptions } from '../../src/cli/options.js';
import { createAdapters, type IoAdapters } from '../../src/io/adapters.js';
import type { ObjectSink } from '../../src/io/sink.js';
import { convertObject } from '../../src/object/convert-object.js';
import type { ConvertTask } from '../../src/object/task.js';
import { dataPayload, firehoseObject } from '../helpers.js';
import { type S3TestServer, startS3Server } from './server.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'flowhose.cjs');
const SRC = 'src';
const DST = 'dst';
const H0 = Date.UTC(2020, 1, 1, 0, 10) / 1000;
const H1 = H0 + 3600;
const record = (start: number, n: number) =>
  `2 123456789010 eni-1235b8ca123456789 172.31.16.${n} 172.31.16.21 20641 22 6 20 4249 ${start} ${start + 60} ACCEPT OK`;
const OBJECT = firehoseObject([
  dataPayload([H0, H1, H0].map((s, n) => ({ message: record(s, n), timestamp: s * 1000 }))),
  dataPayload([{ message: 'not a record' }]),
]);
const P0 = 'year=2020/month=02/day=01/hour=00';
const P1 = 'year=2020/month=02/day=01/hour=01';

let s3: S3TestServer;
let tmp: string;
beforeAll(async () => {
  s3 = await startS3Server({ buckets: [SRC, DST] });
  tmp = await mkdtemp(join(tmpdir(), 'flowhose-s3-partition-'));
  Object.assign(process.env, s3.env); // the in-process adapters' SDK reads credentials from here
  await s3.client.send(new PutObjectCommand({ Bucket: SRC, Key: 'fh/2020/02/01/00/obj-1', Body: OBJECT }));
});
afterAll(async () => {
  await s3?.destroy();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function keys(prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const page of paginateListObjectsV2({ client: s3.client }, { Bucket: DST, Prefix: prefix })) {
    for (const o of page.Contents ?? []) out.push(o.Key!.slice(prefix.length));
  }
  return out.sort();
}
const body = async (key: string) =>
  Buffer.from(
    await (
      await s3.client.send(new GetObjectCommand({ Bucket: DST, Key: key }))
    ).Body!.transformToByteArray(),
  );

let runs = 0;
function flowhose(args: string[]): Promise<{ code: number | null; stderr: string; manifest: string }> {
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
    child.on('close', async (code) =>
      resolve({ code, stderr, manifest: await readFile(manifest, 'utf8').catch(() => '') }),
    );
  });
}

const CLEAN = [
  'fh/2020/02/01/00/.obj-1.flowhose.json',
  'fh/2020/02/01/00/_obj-1.rejects.jsonl',
  `${P0}/obj-1.csv.gz`,
  `${P1}/obj-1.csv.gz`,
];

describe('S3 to S3, partitioned', () => {
  it('one object per hour, a commit record, every output in the manifest; a rerun skips', async () => {
    const first = await flowhose([
      'convert',
      `s3://${SRC}/`,
      '--to',
      `s3://${DST}/cli/`,
      '--partition',
      'hour',
    ]);
    expect(first.code, first.stderr).toBe(0);
    expect(await keys('cli/')).toEqual(CLEAN);
    expect(gunzipSync(await body(`cli/${P0}/obj-1.csv.gz`)).toString()).toMatch(
      /^timestamp,.*\n.*172\.31\.16\.0,.*\n.*172\.31\.16\.2,.*\n$/,
    );
    const line = JSON.parse(first.manifest.trim());
    expect(line.dest).toBe(`s3://${DST}/cli/year=*/month=*/day=*/hour=*/obj-1.csv.gz`);
    expect(line.outputs).toEqual([
      `s3://${DST}/cli/${P0}/obj-1.csv.gz`,
      `s3://${DST}/cli/${P1}/obj-1.csv.gz`,
    ]);
    const second = await flowhose([
      'convert',
      `s3://${SRC}/`,
      '--to',
      `s3://${DST}/cli/`,
      '--partition',
      'hour',
    ]);
    expect(second.stderr).toContain('0 ok, 0 failed, 1 skipped');
  });

  it("--layout aws writes AWS's tree", async () => {
    const run = await flowhose([
      'convert',
      `s3://${SRC}/`,
      '--to',
      `s3://${DST}/aws/`,
      '--layout',
      'aws',
      '--aws-region-label',
      'eu-west-1',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const tree = 'AWSLogs/aws-account-id=123456789010/aws-service=vpcflowlogs/aws-region=eu-west-1';
    expect((await keys('aws/')).filter((k) => k.startsWith('AWSLogs/'))).toEqual([
      `${tree}/${P0}/obj-1.csv.gz`,
      `${tree}/${P1}/obj-1.csv.gz`,
    ]);
  });

  it('Ctrl-C (the signal) while the second hour uploads: nothing left, no upload open; the rerun ends exact', async () => {
    const prefix = 'sigint/';
    const task: ConvertTask = {
      source: { kind: 's3', bucket: SRC, key: 'fh/2020/02/01/00/obj-1' },
      layout: {
        to: `s3://${DST}/${prefix}`,
        relative: 'fh/2020/02/01/00/obj-1',
        format: 'csv',
        codec: 'gzip',
        partition: 'hour',
      },
      options: createConvertOptions({
        retries: 0,
        s3: { region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, maxAttempts: 1 },
      }),
    };
    const controller = new AbortController();
    const real = createAdapters(task.options.s3);
    const io: IoAdapters = {
      ...real,
      openSink: async (target) => {
        const sink = await real.openSink(target);
        if (target.kind === 's3' && target.key.includes('hour=01')) controller.abort();
        return sink;
      },
    };
    const result = await convertObject(task, io, controller.signal);
    expect(result.error?.code).toBe('INTERRUPTED');
    expect(await keys(prefix)).toEqual([]);
    await s3.syncRequests();
    expect(s3.multipartLedger().open).toEqual([]);
    expect((await convertObject(task)).status).toBe('ok');
    expect(await keys(prefix)).toEqual(CLEAN);
  });

  // rejects, hour=00, hour=01, the commit record
  for (const at of [0, 1, 2, 3]) {
    for (const kill9 of [false, true]) {
      it(`${kill9 ? 'kill -9' : 'a failure'} after ${at} completed members: ${kill9 ? 'no record; the rerun ends exact' : 'nothing left'}`, async () => {
        const prefix = `k${at}${kill9 ? 'k' : 'f'}/`;
        const task: ConvertTask = {
          source: { kind: 's3', bucket: SRC, key: 'fh/2020/02/01/00/obj-1' },
          layout: {
            to: `s3://${DST}/${prefix}`,
            relative: 'fh/2020/02/01/00/obj-1',
            format: 'csv',
            codec: 'gzip',
            partition: 'hour',
          },
          options: createConvertOptions({
            retries: 0,
            s3: { region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, maxAttempts: 1 },
          }),
        };
        const result = await convertObject(task, failingAt(createAdapters(task.options.s3), at, kill9));
        expect(result.status).toBe('failed');
        const left = await keys(prefix);
        if (!kill9) expect(left).toEqual([]);
        else expect(left).toEqual(CLEAN.slice(1, at + 1).sort());
        expect((await convertObject(task)).status).toBe('ok');
        expect(await keys(prefix)).toEqual(CLEAN);
        expect((await convertObject(task)).status).toBe('skipped');
      });
    }
  }
});

/** The `at`-th commit (completing an upload) fails; `kill9`: nothing after it runs (no abort, no delete). */
function failingAt(real: IoAdapters, at: number, kill9: boolean): IoAdapters {
  let dead = false;
  let commits = 0;
  const wrap = (sink: ObjectSink): ObjectSink => ({
    ...sink,
    commit: async () => {
      if (dead || commits++ === at) {
        dead = kill9;
        throw Object.assign(new Error('connection reset'), { code: 'ECONNRESET' });
      }
      return sink.commit();
    },
    abort: async () => {
      if (!dead) await sink.abort();
    },
  });
  return {
    ...real,
    openSink: async (target) => wrap(await real.openSink(target)),
    remove: async (target) => {
      if (!dead) await real.remove(target);
    },
  };
}
