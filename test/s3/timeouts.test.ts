/**
 * S3 endpoints that accept a connection and then never answer, or send half an answer and stall: every such
 * request must end as a retryable timeout (--s3-timeout), go through the SDK's attempts and the whole-object
 * retries, and fail that object alone; a stalled listing ends the run with exit 2 and the summary. And a
 * Ctrl-C must end a run whose listing (or lookup) hangs at once, with the summary and exit 130.
 *
 * The built command line against ./misbehaving-server.ts on 127.0.0.1.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createConfig } from '../../src/cli/config.js';
import { UsageError } from '../../src/cli/usage-error.js';
import { generateObject } from '../../src/gen/corpus.js';
import { openS3Source, s3Client } from '../../src/io/s3.js';
import { DEFAULT_S3_TIMEOUT_SECONDS } from '../../src/io/s3-url.js';
import { dataPayload, firehoseObject } from '../helpers.js';
import {
  type Behaviour,
  type MisbehavingS3,
  type SeenRequest,
  startMisbehavingS3,
} from './misbehaving-server.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'flowhose.cjs');
const BUCKET = 'src';
/** Small enough that a test ends quickly, large enough that a healthy 127.0.0.1 round trip never trips it. */
const FAST = ['--s3-timeout', '1', '--max-attempts', '2', '--retries', '1', '--workers', '1'];
const SUMMARY = /flowhose: objects \d+ ok, \d+ failed/;

function record(n: number): string {
  return `2 123456789010 eni-1235b8ca123456789 172.31.16.${n % 250} 172.31.16.21 ${20000 + n} 22 6 ${n + 1} ${4000 + n} 1418530010 1418530070 ACCEPT OK`;
}

/** A valid Firehose object of a few kilobytes. */
const object = (seed: number) =>
  firehoseObject([
    dataPayload(Array.from({ length: 40 }, (_, i) => ({ message: record(seed * 100 + i) }))),
    dataPayload(Array.from({ length: 40 }, (_, i) => ({ message: record(seed * 100 + 50 + i) }))),
  ]);

let tmp: string;
let dirs = 0;
const servers: MisbehavingS3[] = [];

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'flowhose-timeouts-'));
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function server(
  objects: Record<string, Buffer>,
  behave: (request: SeenRequest) => Behaviour,
): Promise<MisbehavingS3> {
  const s3 = await startMisbehavingS3({ bucket: BUCKET, objects, behave });
  servers.push(s3);
  return s3;
}

const freshDir = () => join(tmp, `out-${++dirs}`);

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Spawns the CLI against `s3`; `done` resolves at its exit, and kills it (then rejects) after `limitMs`. */
function start(
  s3: MisbehavingS3,
  args: string[],
  limitMs = 90_000,
): { child: ChildProcess; done: Promise<Run> } {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...s3.env, NO_COLOR: '1' },
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => {
    stderr += s;
  });
  const done = new Promise<Run>((resolve, reject) => {
    const limit = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`flowhose still running after ${limitMs} ms; its stderr:\n${stderr}`));
    }, limitMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(limit);
      resolve({ code, signal, stderr });
    });
  });
  return { child, done };
}

const count = (s3: MisbehavingS3, kind: SeenRequest['kind'], key: string) =>
  s3.requests.filter((r) => r.kind === kind && r.key === key).length;

describe('--s3-timeout', () => {
  it('defaults to 30 s and takes seconds from 0.1 to 3600', () => {
    const config = (s3Timeout?: number) => createConfig({ inputs: ['in'], to: 'out', s3Timeout });
    expect(config().s3.timeoutSeconds).toBe(DEFAULT_S3_TIMEOUT_SECONDS);
    expect(DEFAULT_S3_TIMEOUT_SECONDS).toBe(30);
    expect(config(1.5).s3.timeoutSeconds).toBe(1.5);
    for (const bad of [0, -1, 0.05, 3601, Number.NaN]) {
      expect(() => config(bad)).toThrow(
        new UsageError(`--s3-timeout must be a number of seconds from 0.1 to 3600, got ${bad}`),
      );
    }
  });
});

describe('--s3-timeout: requests that stall fail and are retried', () => {
  it('a GetObject that never answers, and one that stalls mid-body, fail alone as READ_FAILED after every retry', async () => {
    const s3 = await server(
      { 'in/ok.gz': object(1), 'in/silent.gz': object(2), 'in/stalls.gz': object(3) },
      (r) =>
        r.kind !== 'get'
          ? 'answer'
          : r.key === 'in/silent.gz'
            ? 'silent'
            : r.key === 'in/stalls.gz'
              ? 'half'
              : 'answer',
    );
    const out = freshDir();
    const run = await start(s3, ['convert', `s3://${BUCKET}/in/`, '--to', out, ...FAST]).done;

    expect(run.code, run.stderr).toBe(2);
    expect(existsSync(join(out, 'ok.csv.gz')), run.stderr).toBe(true);
    expect(existsSync(join(out, 'silent.csv.gz'))).toBe(false);
    expect(existsSync(join(out, 'stalls.csv.gz'))).toBe(false);
    // No answer at all: the request timeout (up to the response headers), --max-attempts 2 per request, and
    // --retries 1 for the whole object, so four requests.
    expect(run.stderr).toContain(
      `flowhose: failed: s3://${BUCKET}/in/silent.gz: READ_FAILED: cannot read s3://${BUCKET}/in/silent.gz: TimeoutError: `,
    );
    expect(count(s3, 'get', 'in/silent.gz')).toBe(4);
    // Half a body: the SDK's send() has succeeded, so only the whole-object retry sends it again.
    expect(run.stderr).toContain(
      `flowhose: failed: s3://${BUCKET}/in/stalls.gz: READ_FAILED: cannot read s3://${BUCKET}/in/stalls.gz: TimeoutError: s3://${BUCKET}/in/stalls.gz stopped sending: no data for 1 s (ETIMEDOUT)`,
    );
    expect(count(s3, 'get', 'in/stalls.gz')).toBe(2);
    expect(run.stderr).toMatch(/flowhose: objects 1 ok, 2 failed/);
  });

  it('an upload that is never answered fails alone as S3_ERROR after every retry', async () => {
    const s3 = await server({}, (r) => (r.kind === 'put' ? 'silent' : 'answer'));
    const input = join(tmp, `upload-${++dirs}.gz`);
    await writeFile(input, object(4));
    const run = await start(s3, ['convert', input, '--to', `s3://${BUCKET}/out/`, ...FAST]).done;

    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(
      /flowhose: failed: .*upload-\d+\.gz: S3_ERROR: cannot write s3:\/\/src\/out\/upload-\d+\.csv\.gz: TimeoutError: /,
    );
    const key = `out/${input.slice(tmp.length + 1).replace(/\.gz$/, '.csv.gz')}`;
    expect(count(s3, 'put', key)).toBe(4);
    expect(run.stderr).toMatch(/flowhose: objects 0 ok, 1 failed/);
  });

  for (const behaviour of ['silent', 'half'] as const) {
    it(`a listing that ${behaviour === 'silent' ? 'is never answered' : 'stalls mid-body'} ends the run: exit 2, the summary`, async () => {
      const s3 = await server({ 'in/a.gz': object(5) }, (r) => (r.kind === 'list' ? behaviour : 'answer'));
      const run = await start(s3, ['convert', `s3://${BUCKET}/in/`, '--to', freshDir(), ...FAST]).done;

      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain(`flowhose: stopped early: cannot list s3://${BUCKET}/in/: TimeoutError: `);
      expect(run.stderr).toContain('(2 attempts)');
      expect(count(s3, 'list', '')).toBe(2);
      expect(run.stderr).toMatch(/flowhose: objects 0 ok, 0 failed/);
    });
  }
});

describe('--s3-timeout never fails a slow reader', () => {
  it('a GetObject body read with pauses far longer than the timeout arrives whole', async () => {
    const body = Buffer.alloc(32 * 1024 * 1024);
    for (let i = 0; i < body.length; i += 4096) body.writeUInt32LE(i, i);
    const s3 = await server({ 'big/object': body }, () => 'answer');
    const timeoutMs = 200;
    const client = s3Client({
      region: 'us-east-1',
      endpoint: s3.endpoint,
      forcePathStyle: true,
      maxAttempts: 1,
      partSize: 5 * 1024 * 1024,
      queueSize: 1,
      timeoutSeconds: timeoutMs / 1000,
    });
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'TEST');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'TEST');
    const { stream } = await openS3Source(client, BUCKET, 'big/object', undefined).finally(() =>
      vi.unstubAllEnvs(),
    );
    const chunks: Buffer[] = [];
    let pauses = 0;
    let received = 0;
    for await (const chunk of stream) {
      chunks.push(chunk as Buffer);
      received += (chunk as Buffer).length;
      // The connection idles for a while each time (its buffers full): a socket timeout would fire here.
      // Paused by bytes read, not chunks counted: how the socket cuts chunks varies from run to run.
      if (received >= pauses * 6 * 1024 * 1024 && pauses < 4) {
        pauses++;
        await sleep(timeoutMs * 4);
      }
    }
    expect(pauses).toBe(4);
    expect(Buffer.concat(chunks).equals(body)).toBe(true);
  });
});

describe('Ctrl-C while S3 does not answer', () => {
  const GRACE = 1;
  // Well above what ending takes, well below an S3 timeout with its retries (the default 30 s, 6 attempts):
  // only a run that stopped waiting on its own ends within it.
  const BOUND_MS = (GRACE + 25) * 1000;

  it('an object still aborting 15 s after the cancel is reported abandoned; exit 130 with the summary', async () => {
    // Plain CSV over 5 MiB, so the output goes up as a multipart upload. Its CreateMultipartUpload is never
    // answered, and aborting an upload waits for that answer (lib-storage sends it without our signal).
    const input = join(tmp, `big-${++dirs}.gz`);
    await writeFile(input, generateObject({ seed: 9, targetBytes: 14e6 }));
    const s3 = await server({}, (r) => (r.kind === 'other' && r.method === 'POST' ? 'silent' : 'answer'));
    const running = start(s3, [
      'convert',
      input,
      '--to',
      `s3://${BUCKET}/out/`,
      '--no-gzip',
      '--part-size',
      '5m',
      '--grace',
      '0',
      '--s3-timeout',
      '600',
      '--workers',
      '1',
    ]);
    await s3.waitFor((r) => r.kind === 'other' && r.method === 'POST', 60_000);
    const sent = performance.now();
    running.child.kill('SIGINT');
    const run = await running.done;
    const tookMs = performance.now() - sent;

    expect(run.code, run.stderr).toBe(130);
    expect(run.stderr).toMatch(
      /flowhose: failed: .*big-\d+\.gz: INTERRUPTED: still being cancelled 15 s after the cancel, so left behind: /,
    );
    expect(run.stderr).toMatch(/flowhose: objects 0 ok, 1 failed/);
    expect(tookMs, run.stderr).toBeLessThan(25_000); // the 20 s cap, and some slack
  });

  for (const [what, input, kind] of [
    ['a listing', `s3://${BUCKET}/in/`, 'list'],
    ['the lookup of an s3:// input that may be an object', `s3://${BUCKET}/in/one`, 'head'],
  ] as const) {
    it(`${what} that hangs: SIGINT ends the run with exit 130 and the summary`, async () => {
      const s3 = await server({ 'in/one': object(6) }, (r) => (r.kind === kind ? 'silent' : 'answer'));
      const running = start(s3, [
        'convert',
        input,
        '--to',
        freshDir(),
        '--grace',
        String(GRACE),
        '--workers',
        '1',
      ]);
      await s3.waitFor((r) => r.kind === kind);
      const sent = performance.now();
      running.child.kill('SIGINT');
      const run = await running.done;
      const tookMs = performance.now() - sent;

      expect(run.code, run.stderr).toBe(130);
      expect(run.stderr).toContain('flowhose: interrupted');
      expect(run.stderr).toMatch(SUMMARY);
      expect(run.stderr).not.toContain('stopped early');
      expect(tookMs, run.stderr).toBeLessThan(BOUND_MS);
    });
  }
});
