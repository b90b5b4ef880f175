/**
 * Integration tests of S3 backfills: the built command line (`node bin/flowhose.cjs convert …`) against a real
 * S3-compatible server (s3rver in a child process, ./server.ts), driven and inspected with the real AWS SDK v3.
 * Inputs are seeded Firehose objects (src/gen/corpus.ts); expected CSV comes from the pure core (FlowLogConverter
 * through test/helpers.ts) over the same decompressed payloads. The server's request log tells what a run sent:
 * no PUT on a resume, nothing written by a dry run, every multipart upload completed or aborted.
 *
 * One server for the file; every test works under its own key prefixes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRandom, generateObject, generatePayloads, type ObjectOptions } from '../../src/gen/corpus.js';
import { convert, listFiles } from '../helpers.js';
import { type S3Request, type S3TestServer, startS3Server } from './server.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'flowhose.cjs');
const SRC = 'src';
const DST = 'dst';

// ── fixtures ─────────────────────────────────────────────────────────────────────────────────────────────────

/** A Firehose object and what converting it must give. */
interface Body {
  bytes: Buffer;
  csv: string;
  rows: number;
  sha: string;
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

function makeBody(options: ObjectOptions): Body {
  const bytes = generateObject(options);
  const { csv, stats, error } = convert(generatePayloads(options).join(''));
  if (error) throw error;
  return { bytes, csv, rows: stats.rows, sha: sha256(csv) };
}

/** Tiny valid Firehose objects (a control message and a data message or two), distinct per seed. */
const tiny = (seed: number) => makeBody({ seed, targetBytes: 1500, eventsMin: 2, eventsMax: 6 });
const TINY = [1, 2, 3, 4].map(tiny);

/** Seeded bytes that are neither gzip nor JSON. */
function garbage(length: number, seed: number): Buffer {
  const random = createRandom(seed);
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256);
  bytes[0] = 0x7f; // never the gzip magic, never `{`
  return bytes;
}

// ── the server, the CLI, and S3 helpers ──────────────────────────────────────────────────────────────────────

let s3: S3TestServer;
let tmp: string;
let dirCounter = 0;

beforeAll(async () => {
  s3 = await startS3Server({ buckets: [SRC, DST] });
  tmp = await mkdtemp(join(tmpdir(), 'flowhose-backfill-'));
});

afterAll(async () => {
  await s3?.destroy();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function freshDir(name: string): Promise<string> {
  const dir = join(tmp, `${name}-${++dirCounter}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface Running {
  child: ChildProcess;
  done: Promise<Run>;
  /** Resolves once stderr contains `text`; rejects if the process exits without printing it. */
  stderrIncludes(text: string): Promise<void>;
}

/** Spawns `node bin/flowhose.cjs …args` with the server's endpoint and credentials in its environment. */
function start(args: string[]): Running {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...s3.env, NO_COLOR: '1' },
  });
  const out: Buffer[] = [];
  let stderr = '';
  const stderrWaiters: Array<{ text: string; resolve: () => void; reject: (error: Error) => void }> = [];
  child.stdout!.on('data', (b: Buffer) => out.push(b));
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => {
    stderr += s;
    for (const waiter of [...stderrWaiters]) {
      if (stderr.includes(waiter.text)) {
        stderrWaiters.splice(stderrWaiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  });
  const done = new Promise<Run>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      for (const waiter of stderrWaiters.splice(0)) {
        waiter.reject(
          new Error(`flowhose exited (${signal ?? code}) without printing "${waiter.text}":\n${stderr}`),
        );
      }
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr });
    });
  });
  return {
    child,
    done,
    stderrIncludes: (text) =>
      stderr.includes(text)
        ? Promise.resolve()
        : new Promise((resolve, reject) => stderrWaiters.push({ text, resolve, reject })),
  };
}

const flowhose = (args: string[]) => start(args).done;

/** `convert <input> --to <to> -q …extra`; manifest lines come back parsed. */
async function convertRun(input: string, to: string, extra: string[] = []) {
  const manifest = join(await freshDir('manifest'), 'manifest.jsonl');
  const run = await flowhose(['convert', input, '--to', to, '--quiet', '--manifest', manifest, ...extra]);
  return { ...run, manifest: await readManifest(manifest) };
}

interface ManifestLine {
  source: string;
  dest: string;
  status: 'ok' | 'failed' | 'skipped';
  rows: number;
  error?: { code: string; message: string };
}

/** The manifest's lines, each checked to be complete JSON (the file must end with a newline). */
async function readManifest(path: string): Promise<ManifestLine[]> {
  if (!existsSync(path)) return [];
  const text = await readFile(path, 'utf8');
  if (text === '') return [];
  expect(text.endsWith('\n'), `manifest ${path} ends mid-line`).toBe(true);
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => JSON.parse(line) as ManifestLine);
}

const byStatus = (lines: ManifestLine[], status: ManifestLine['status']) =>
  lines
    .filter((l) => l.status === status)
    .map((l) => l.source)
    .sort();

/** Runs `fn` over `items` with at most `limit` calls in flight. */
async function mapLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

async function putObjects(entries: ReadonlyArray<readonly [string, Buffer]>, bucket = SRC): Promise<void> {
  await mapLimit(entries, 32, ([Key, Body]) =>
    s3.client.send(new PutObjectCommand({ Bucket: bucket, Key, Body })),
  );
}

async function listKeys(bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const page of paginateListObjectsV2({ client: s3.client }, { Bucket: bucket, Prefix: prefix })) {
    for (const o of page.Contents ?? []) keys.push(o.Key!);
  }
  return keys.sort();
}

async function getBytes(bucket: string, key: string): Promise<Buffer> {
  const response = await s3.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await response.Body!.transformToByteArray());
}

const csvOf = (bytes: Buffer, gzip = true) => (gzip ? gunzipSync(bytes) : bytes).toString('utf8');
const rowsOf = (csv: string) => (csv === '' ? 0 : csv.split('\n').length - (csv.endsWith('\n') ? 2 : 1));

/** Asserts that the object at `key` is the whole conversion of `body` (same rows, same bytes of CSV). */
async function expectComplete(key: string, body: Body, gzip = true): Promise<void> {
  const csv = csvOf(await getBytes(DST, key), gzip);
  expect({ key, rows: rowsOf(csv), sha: sha256(csv) }).toEqual({ key, rows: body.rows, sha: body.sha });
}

/** Every request the server received from index `since` on that writes to the destination bucket. */
const writesTo = (bucket: string, since: number, prefix = '') =>
  s3.requests
    .slice(since)
    .filter(
      (r) => r.bucket === bucket && r.key.startsWith(prefix) && ['PUT', 'POST', 'DELETE'].includes(r.method),
    );

const describeRequests = (requests: S3Request[]) =>
  requests.map(
    (r) => `${r.method} ${r.path}?${r.query} → ${r.status ?? (r.aborted ? 'connection closed' : 'pending')}`,
  );

async function writeLocal(dir: string, entries: ReadonlyArray<readonly [string, Buffer]>): Promise<void> {
  for (const [relative, bytes] of entries) {
    await mkdir(dirname(join(dir, relative)), { recursive: true });
    await writeFile(join(dir, relative), bytes);
  }
}

// ── tests ────────────────────────────────────────────────────────────────────────────────────────────────────

describe('convert s3://… (backfill against s3rver)', () => {
  it('converts every object of a prefix listed across pages (1,005 objects, --workers 2)', {
    timeout: 150_000,
  }, async () => {
    const keys = Array.from({ length: 1005 }, (_, i) => `pages/in/${String(i).padStart(4, '0')}`);
    await putObjects(keys.map((key, i) => [key, TINY[i % TINY.length]!.bytes] as const));
    const since = await s3.mark();

    const run = await convertRun(`s3://${SRC}/pages/in/`, `s3://${DST}/pages/out/`, ['--workers', '2']);

    expect(run.stderr).toContain('objects 1,005 ok, 0 failed');
    expect(run.code, run.stderr).toBe(0);
    expect(run.manifest).toHaveLength(1005);
    expect(byStatus(run.manifest, 'ok')).toEqual(keys.map((k) => `s3://${SRC}/${k}`));
    const listings = s3.requests
      .slice(since)
      .filter((r) => r.method === 'GET' && r.params.get('list-type') === '2');
    expect(listings.filter((r) => r.bucket === SRC).length).toBeGreaterThanOrEqual(2); // two pages at least
    expect(await listKeys(DST, 'pages/out/')).toEqual(
      keys.map((k) => `${k.replace('/in/', '/out/')}.csv.gz`),
    );
    for (const i of [0, 999, 1000, 1004])
      await expectComplete(`pages/out/${String(i).padStart(4, '0')}.csv.gz`, TINY[i % 4]!);
  });

  describe('the same objects in S3 and in a local directory', () => {
    const relative = ['a/b/obj', 'a/two.gz', 'top', 'x/y/z/double'] as const;
    let bodies: Body[];
    let localIn: string;
    let localOut: string;

    beforeAll(async () => {
      bodies = [
        TINY[0]!,
        makeBody({ seed: 21, targetBytes: 40_000, eventsMin: 20, eventsMax: 60 }),
        makeBody({ seed: 22, targetBytes: 400_000, eventsMax: 400 }), // several zlib chunks
        makeBody({ seed: 23, targetBytes: 30_000, eventsMax: 50, doubleGzip: true }),
      ];
      const entries = relative.map((r, i) => [r, bodies[i]!.bytes] as const);
      await putObjects(entries.map(([r, bytes]) => [`same/in/${r}`, bytes] as const));
      localIn = await freshDir('same-in');
      await writeLocal(localIn, entries);
      localOut = await freshDir('same-local-out');
      const local = await convertRun(localIn, localOut, ['--gzip-level', '4', '--workers', '2']);
      expect(local.code, local.stderr).toBe(0);
    });

    const outputName = (r: string) => `${r.replace(/\.gz$/, '')}.csv.gz`;

    it('prefix → prefix gives byte-identical .csv.gz to the local conversion, keys mirrored, metadata recorded', async () => {
      const run = await convertRun(`s3://${SRC}/same/in/`, `s3://${DST}/same/out/`, ['--gzip-level', '4']);
      expect(run.code, run.stderr).toBe(0);
      expect(await listKeys(DST, 'same/out/')).toEqual(
        relative.map((r) => `same/out/${outputName(r)}`).sort(),
      );
      for (const [i, r] of relative.entries()) {
        const key = `same/out/${outputName(r)}`;
        const remote = await getBytes(DST, key);
        const local = await readFile(join(localOut, outputName(r)));
        expect(remote.equals(local), `${key} differs from the local output`).toBe(true);
        await expectComplete(key, bodies[i]!);

        const source = await s3.client.send(new HeadObjectCommand({ Bucket: SRC, Key: `same/in/${r}` }));
        const head = await s3.client.send(new HeadObjectCommand({ Bucket: DST, Key: key }));
        expect(head.Metadata).toMatchObject({
          'flowhose-source': encodeURIComponent(`s3://${SRC}/same/in/${r}`),
          'flowhose-source-etag': encodeURIComponent(source.ETag!),
        });
        expect(head.ContentType).toBe('application/gzip');
      }
    });

    it('S3 → local directory gives the same files as local → local', async () => {
      const out = await freshDir('s3-to-local');
      const run = await convertRun(`s3://${SRC}/same/in/`, out, ['--gzip-level', '4']);
      expect(run.code, run.stderr).toBe(0);
      expect(await listFiles(out)).toEqual(relative.map(outputName).sort());
      for (const r of relative) {
        const remote = await readFile(join(out, outputName(r)));
        expect(remote.equals(await readFile(join(localOut, outputName(r)))), r).toBe(true);
      }
    });

    it('local directory → S3 gives the same objects, with the local path recorded as the source', async () => {
      const run = await convertRun(localIn, `s3://${DST}/from-local/`, ['--gzip-level', '4']);
      expect(run.code, run.stderr).toBe(0);
      expect(await listKeys(DST, 'from-local/')).toEqual(
        relative.map((r) => `from-local/${outputName(r)}`).sort(),
      );
      for (const r of relative) {
        const key = `from-local/${outputName(r)}`;
        expect((await getBytes(DST, key)).equals(await readFile(join(localOut, outputName(r)))), key).toBe(
          true,
        );
        const head = await s3.client.send(new HeadObjectCommand({ Bucket: DST, Key: key }));
        expect(head.Metadata?.['flowhose-source']).toBe(encodeURIComponent(join(localIn, r)));
        expect(head.Metadata?.['flowhose-source-etag']).toMatch(/^\d+-\d+$/);
      }
    });
  });

  it('resumes: a rerun converts and PUTs nothing, a changed source alone is redone, --overwrite redoes all', async () => {
    const keys = ['k0', 'k1', 'k2', 'k3', 'k4'].map((k) => `resume/in/${k}`);
    await putObjects(keys.map((k, i) => [k, TINY[i % 4]!.bytes] as const));
    const args = [`s3://${SRC}/resume/in/`, `s3://${DST}/resume/out/`] as const;
    const sources = keys.map((k) => `s3://${SRC}/${k}`);

    const first = await convertRun(...args);
    expect(first.code, first.stderr).toBe(0);
    expect(byStatus(first.manifest, 'ok')).toEqual(sources);

    let since = await s3.mark();
    const second = await convertRun(...args);
    await s3.syncRequests();
    expect(second.code, second.stderr).toBe(0);
    expect(byStatus(second.manifest, 'skipped')).toEqual(sources);
    expect(second.manifest).toHaveLength(5);
    expect(second.stderr).toContain('objects 0 ok, 0 failed, 5 skipped');
    expect(describeRequests(writesTo(DST, since))).toEqual([]);

    // A new version of one source (different content, so a different ETag).
    await putObjects([[keys[2]!, TINY[3]!.bytes]]);
    since = await s3.mark();
    const third = await convertRun(...args);
    await s3.syncRequests();
    expect(third.code, third.stderr).toBe(0);
    expect(byStatus(third.manifest, 'ok')).toEqual([sources[2]]);
    expect(byStatus(third.manifest, 'skipped')).toEqual(sources.filter((_, i) => i !== 2));
    // (A DELETE of k2's stale rejects object may go with it: that is not an output.)
    const uploads = writesTo(DST, since).filter((r) => r.method !== 'DELETE');
    expect(uploads.map((r) => `${r.method} ${r.key}`)).toEqual(['PUT resume/out/k2.csv.gz']);
    await expectComplete('resume/out/k2.csv.gz', TINY[3]!);

    const fourth = await convertRun(...args, ['--overwrite']);
    expect(fourth.code, fourth.stderr).toBe(0);
    expect(byStatus(fourth.manifest, 'ok')).toEqual(sources);
  });

  it('a corrupt object fails alone: exit 2, its key and code on stderr, no output for it', async () => {
    const truncated = TINY[1]!.bytes.subarray(0, Math.floor(TINY[1]!.bytes.length / 2));
    await putObjects([
      ['corrupt/in/good-1', TINY[0]!.bytes],
      ['corrupt/in/random', garbage(4096, 5)],
      ['corrupt/in/truncated', truncated],
      ['corrupt/in/zz-good-2', TINY[2]!.bytes],
    ]);
    const run = await convertRun(`s3://${SRC}/corrupt/in/`, `s3://${DST}/corrupt/out/`, ['--workers', '2']);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/failed: s3:\/\/src\/corrupt\/in\/random: [A-Z_]+: /);
    expect(run.stderr).toMatch(/failed: s3:\/\/src\/corrupt\/in\/truncated: TRUNCATED: /);
    expect(byStatus(run.manifest, 'failed')).toEqual([
      `s3://${SRC}/corrupt/in/random`,
      `s3://${SRC}/corrupt/in/truncated`,
    ]);
    expect(byStatus(run.manifest, 'ok')).toEqual([
      `s3://${SRC}/corrupt/in/good-1`,
      `s3://${SRC}/corrupt/in/zz-good-2`,
    ]);
    expect(await listKeys(DST, 'corrupt/out/')).toEqual([
      'corrupt/out/good-1.csv.gz',
      'corrupt/out/zz-good-2.csv.gz',
    ]);
    await expectComplete('corrupt/out/good-1.csv.gz', TINY[0]!);
    await expectComplete('corrupt/out/zz-good-2.csv.gz', TINY[2]!);
  });

  it('an output prefix inside the input prefix is never read back as input', async () => {
    await putObjects([['nested/a', TINY[0]!.bytes]], SRC);
    const first = await convertRun(`s3://${SRC}/nested/`, `s3://${SRC}/nested/csv/`);
    expect(first.code, first.stderr).toBe(0);
    const second = await convertRun(`s3://${SRC}/nested/`, `s3://${SRC}/nested/csv/`);
    expect(second.code, second.stderr).toBe(0);
    expect(await listKeys(SRC, 'nested/')).toEqual(['nested/a', 'nested/csv/a.csv.gz']);
    expect(second.manifest.map((l) => [l.source, l.status])).toEqual([[`s3://${SRC}/nested/a`, 'skipped']]);
  });

  it('one S3 object to a local directory records its LastModified, so a rerun skips it', async () => {
    await putObjects([['single/obj', TINY[1]!.bytes]], SRC);
    const out = join(tmp, 'single-out');
    const first = await convertRun(`s3://${SRC}/single/obj`, out);
    expect(first.code, first.stderr).toBe(0);
    expect(csvOf(await readFile(join(out, 'obj.csv.gz')))).toBe(TINY[1]!.csv);
    const second = await convertRun(`s3://${SRC}/single/obj`, out);
    expect(second.manifest.map((l) => l.status)).toEqual(['skipped']);
  });

  it('leaves out Firehose error prefixes by default (saying so), converts them with --convert-error-prefixes', async () => {
    await putObjects([
      ['errp/in/2020/02/01/obj', TINY[0]!.bytes],
      ['errp/in/processing-failed/2020/02/01/bad', TINY[1]!.bytes],
      ['errp/in/2020/format-conversion-failed/bad2', TINY[2]!.bytes],
    ]);
    const plain = await convertRun(`s3://${SRC}/errp/in/`, `s3://${DST}/errp/plain/`);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stderr).toMatch(
      /left out 2 objects under Firehose error prefixes.*--convert-error-prefixes/,
    );
    expect(await listKeys(DST, 'errp/plain/')).toEqual(['errp/plain/2020/02/01/obj.csv.gz']);

    const all = await convertRun(`s3://${SRC}/errp/in/`, `s3://${DST}/errp/all/`, [
      '--convert-error-prefixes',
    ]);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stderr).not.toContain('error prefixes (');
    expect(await listKeys(DST, 'errp/all/')).toEqual([
      'errp/all/2020/02/01/obj.csv.gz',
      'errp/all/2020/format-conversion-failed/bad2.csv.gz',
      'errp/all/processing-failed/2020/02/01/bad.csv.gz',
    ]);
    await expectComplete('errp/all/processing-failed/2020/02/01/bad.csv.gz', TINY[1]!);
  });

  it('selects keys with --include/--exclude globs and --start-after (relative or full key)', async () => {
    const relative = ['2020/01/a', '2020/01/b.gz', '2020/02/c', '2021/01/d', 'logs/e.txt'];
    await putObjects(relative.map((r, i) => [`sel/in/${r}`, TINY[i % 4]!.bytes] as const));
    const input = `s3://${SRC}/sel/in/`;
    const converted = (lines: ManifestLine[]) =>
      byStatus(lines, 'ok').map((s) => s.slice(`s3://${SRC}/sel/in/`.length));

    const globs = await convertRun(input, `s3://${DST}/sel/globs/`, [
      '--include',
      '2020/*',
      '--exclude',
      '*.gz',
    ]);
    expect(globs.code, globs.stderr).toBe(0);
    expect(converted(globs.manifest)).toEqual(['2020/01/a', '2020/02/c']);
    expect(await listKeys(DST, 'sel/globs/')).toEqual([
      'sel/globs/2020/01/a.csv.gz',
      'sel/globs/2020/02/c.csv.gz',
    ]);

    const after = await convertRun(input, `s3://${DST}/sel/after/`, ['--start-after', '2020/02/c']);
    expect(after.code, after.stderr).toBe(0);
    expect(converted(after.manifest)).toEqual(['2021/01/d', 'logs/e.txt']);

    const afterFull = await convertRun(input, `s3://${DST}/sel/after-full/`, [
      '--start-after',
      'sel/in/2020/01/b.gz',
    ]);
    expect(afterFull.code, afterFull.stderr).toBe(0);
    expect(converted(afterFull.manifest)).toEqual(['2020/02/c', '2021/01/d', 'logs/e.txt']);
    expect(await listKeys(DST, 'sel/after-full/')).toEqual([
      'sel/after-full/2020/02/c.csv.gz',
      'sel/after-full/2021/01/d.csv.gz',
      'sel/after-full/logs/e.txt.csv.gz',
    ]);
  });

  it('--shard 0/3, 1/3 and 2/3 into one destination cover every key exactly once', async () => {
    const keys = Array.from({ length: 24 }, (_, i) => `shard/in/h${String(i).padStart(2, '0')}/obj-${i}`);
    await putObjects(keys.map((k, i) => [k, TINY[i % 4]!.bytes] as const));
    const runs = [];
    for (const shard of ['0/3', '1/3', '2/3']) {
      runs.push(await convertRun(`s3://${SRC}/shard/in/`, `s3://${DST}/shard/out/`, ['--shard', shard]));
    }
    for (const run of runs) {
      expect(run.code, run.stderr).toBe(0);
      expect(run.manifest.every((l) => l.status === 'ok')).toBe(true);
    }
    const union = runs.flatMap((r) => r.manifest.map((l) => l.source));
    expect(union.length).toBe(keys.length); // no key twice
    expect([...union].sort()).toEqual(keys.map((k) => `s3://${SRC}/${k}`));
    expect(await listKeys(DST, 'shard/out/')).toEqual(
      keys.map((k) => `${k.replace('/in/', '/out/')}.csv.gz`),
    );
  });

  it('--dry-run writes nothing and prints one line per object', async () => {
    const keys = ['a', 'b', 'c/d', 'e'].map((k) => `dry/in/${k}`);
    await putObjects(keys.map((k, i) => [k, TINY[i]!.bytes] as const));
    const dryRun = () =>
      flowhose(['convert', `s3://${SRC}/dry/in/`, '--to', `s3://${DST}/dry/out/`, '--dry-run']);
    const writes = (since: number) =>
      describeRequests(s3.requests.slice(since).filter((r) => ['PUT', 'POST', 'DELETE'].includes(r.method)));

    let since = await s3.mark();
    const fresh = await dryRun();
    await s3.syncRequests();
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(writes(since)).toEqual([]);
    expect(await listKeys(DST, 'dry/out/')).toEqual([]);
    // Objects are looked at concurrently: lines come in any order.
    expect(fresh.stdout.trimEnd().split('\n').sort()).toEqual(
      ['a', 'b', 'c/d', 'e'].map((k) =>
        expect.stringMatching(
          new RegExp(`^convert s3://${SRC}/dry/in/${k} -> s3://${DST}/dry/out/${k}\\.csv\\.gz`),
        ),
      ),
    );
    expect(fresh.stderr).toMatch(/dry run: 4 objects .* 0 are up to date; nothing was written/);

    // One output up to date, so the next dry run has one of each verdict.
    const once = await convertRun(`s3://${SRC}/dry/in/`, `s3://${DST}/dry/out/`, ['--include', 'b']);
    expect(once.code, once.stderr).toBe(0);
    since = await s3.mark();

    const run = await dryRun();
    await s3.syncRequests();
    expect(run.code, run.stderr).toBe(0);
    expect(writes(since)).toEqual([]);
    expect(await listKeys(DST, 'dry/out/')).toEqual(['dry/out/b.csv.gz']);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines.filter((l) => l.startsWith('convert ')).sort()).toEqual(
      ['a', 'c/d', 'e'].map((k) =>
        expect.stringContaining(`s3://${SRC}/dry/in/${k} -> s3://${DST}/dry/out/${k}.csv.gz`),
      ),
    );
    expect(lines.filter((l) => l.startsWith('skip '))).toEqual([
      expect.stringContaining(`s3://${SRC}/dry/in/b`),
    ]);
    expect(run.stderr).toMatch(/dry run: 3 objects .* 1 are up to date; nothing was written/);
  });

  it('a server outage mid-run fails the objects it hits (exit 2), leaves nothing partial; a rerun completes the rest', async () => {
    const count = 120;
    const body = makeBody({ seed: 31, targetBytes: 200_000, eventsMax: 300 });
    const keys = Array.from({ length: count }, (_, i) => `outage/in/${String(i).padStart(3, '0')}`);
    await putObjects(keys.map((k) => [k, body.bytes] as const));
    const since = await s3.mark();
    const manifest = join(await freshDir('outage'), 'manifest.jsonl');
    const args = ['convert', `s3://${SRC}/outage/in/`, '--to', `s3://${DST}/outage/out/`, '--quiet'];

    const running = start([
      ...args,
      '--manifest',
      manifest,
      '--workers',
      '2',
      '--retries',
      '0',
      '--max-attempts',
      '1',
    ]);
    try {
      const isOutputWrite = (r: S3Request) =>
        r.bucket === DST && r.key.startsWith('outage/out/') && (r.method === 'PUT' || r.method === 'POST');
      // Let a few outputs complete, then pull the plug while the next one goes up.
      let answered = 0;
      const fifth = await s3.waitForRequest(
        (r) => isOutputWrite(r) && r.status === 200 && ++answered === 5,
        30_000,
        since,
      );
      await s3.waitForRequest(isOutputWrite, 30_000, fifth.seq + 1);
      await s3.stop();
      const run = await running.done;
      expect(run.code, run.stderr).toBe(2);
      const lines = await readManifest(manifest);
      const failed = lines.filter((l) => l.status === 'failed');
      expect(failed.length).toBeGreaterThan(0);
      for (const line of failed) {
        expect(run.stderr).toContain(`failed: ${line.source}: ${line.error!.code}: `);
      }
    } finally {
      await s3.restart();
    }
    // Whatever reached the destination is whole.
    const present = await listKeys(DST, 'outage/out/');
    expect(present.length).toBeGreaterThanOrEqual(5);
    expect(present.length).toBeLessThan(count);
    for (const key of present) await expectComplete(key, body);

    const rerun = await convertRun(`s3://${SRC}/outage/in/`, `s3://${DST}/outage/out/`, ['--workers', '2']);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.manifest.filter((l) => l.status === 'ok')).toHaveLength(count - present.length);
    const all = await listKeys(DST, 'outage/out/');
    expect(all).toEqual(keys.map((k) => `${k.replace('/in/', '/out/')}.csv.gz`));
    for (const key of [all[0]!, all[count - 1]!]) await expectComplete(key, body);
  });

  it('a source deleted after listing fails alone (READ_FAILED or S3_ERROR); the rest finish', async () => {
    const count = 60;
    const keys = Array.from({ length: count }, (_, i) => `gone/in/${String(i).padStart(3, '0')}`);
    await putObjects(keys.map((k, i) => [k, TINY[i % 4]!.bytes] as const));
    const late = keys[count - 1]!;
    const since = await s3.mark();
    const manifest = join(await freshDir('gone'), 'manifest.jsonl');

    const running = start([
      'convert',
      `s3://${SRC}/gone/in/`,
      '--to',
      `s3://${DST}/gone/out/`,
      '--quiet',
      '--workers',
      '1',
      '--manifest',
      manifest,
    ]);
    await s3.waitForRequest(
      (r) => r.bucket === DST && r.method === 'PUT' && r.key.startsWith('gone/out/'),
      30_000,
      since,
    );
    await s3.client.send(new DeleteObjectCommand({ Bucket: SRC, Key: late }));
    const run = await running.done;

    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`failed: s3://${SRC}/${late}: (READ_FAILED|S3_ERROR): `));
    const lines = await readManifest(manifest);
    expect(byStatus(lines, 'failed')).toEqual([`s3://${SRC}/${late}`]);
    expect(byStatus(lines, 'ok')).toHaveLength(count - 1);
    const expected = keys.slice(0, -1).map((k) => `${k.replace('/in/', '/out/')}.csv.gz`);
    expect(await listKeys(DST, 'gone/out/')).toEqual(expected);
  });

  describe('Ctrl-C while outputs go up in parts', () => {
    let big: Body;
    const count = 4;

    beforeAll(() => {
      // About 16 MB of CSV: with --no-gzip and 5 MiB parts, every output is a multipart upload.
      big = makeBody({ seed: 41, targetBytes: 25_000_000, eventsMax: 2000 });
      expect(big.csv.length).toBeGreaterThan(10_000_000);
    });

    const bigArgs = (name: string) => [
      'convert',
      `s3://${SRC}/${name}/in/`,
      '--to',
      `s3://${DST}/${name}/out/`,
      '--quiet',
      '--no-gzip',
      '--part-size',
      '5m',
      '--workers',
      '2',
    ];

    const isCreateMultipart = (name: string) => (r: S3Request) =>
      r.method === 'POST' && r.bucket === DST && r.key.startsWith(`${name}/out/`) && r.params.has('uploads');

    it('SIGINT with --grace 0: exit 130, manifest flushed, no partial object, no multipart upload left open', async () => {
      const keys = Array.from({ length: count }, (_, i) => `sigint/in/big-${i}`);
      await putObjects(keys.map((k) => [k, big.bytes] as const));
      const since = await s3.mark();
      const manifest = join(await freshDir('sigint'), 'manifest.jsonl');

      const running = start([...bigArgs('sigint'), '--grace', '0', '--manifest', manifest]);
      await s3.waitForRequest(isCreateMultipart('sigint'), 60_000, since);
      running.child.kill('SIGINT');
      const run = await running.done;
      await s3.syncRequests();

      expect(run.code, run.stderr).toBe(130);
      expect(run.stderr).toContain('interrupted');
      const lines = await readManifest(manifest); // every line whole JSON
      for (const line of lines) expect(['ok', 'failed']).toContain(line.status);
      for (const key of await listKeys(DST, 'sigint/out/')) await expectComplete(key, big, false);
      const ledger = s3.multipartLedger();
      const mine = ledger.uploads.filter((u) => u.bucket === DST && u.key.startsWith('sigint/out/'));
      expect(mine.length).toBeGreaterThan(0);
      // On real S3 an upload neither completed nor aborted keeps its parts (and their storage bill) forever.
      const trail = (uploadId: string | undefined) =>
        describeRequests(
          s3.requests
            .slice(since)
            .filter((r) => r.uploadId === uploadId || r.params.get('uploadId') === uploadId),
        );
      expect(
        mine.filter((u) => u.state === 'open').map((u) => ({ key: u.key, requests: trail(u.uploadId) })),
        'multipart uploads neither completed nor aborted',
      ).toEqual([]);
    });

    it('SIGINT with a long --grace: objects in flight finish whole, none starts after it, exit 130', async () => {
      const keys = Array.from({ length: count }, (_, i) => `grace/in/big-${i}`);
      await putObjects(keys.map((k) => [k, big.bytes] as const));
      const since = await s3.mark();
      const manifest = join(await freshDir('grace'), 'manifest.jsonl');

      const running = start([...bigArgs('grace'), '--grace', '300', '--manifest', manifest]);
      await s3.waitForRequest(isCreateMultipart('grace'), 60_000, since);
      running.child.kill('SIGINT');
      await running.stderrIncludes('interrupted');
      const run = await running.done;
      await s3.syncRequests();

      expect(run.code, run.stderr).toBe(130);
      const lines = await readManifest(manifest);
      const ok = byStatus(lines, 'ok');
      expect(lines.map((l) => l.status)).toEqual(ok.map(() => 'ok'));
      // The objects that were read are exactly those that finished: nothing new was started after the signal.
      const read = [
        ...new Set(
          s3.requests
            .slice(since)
            .filter((r) => r.method === 'GET' && r.bucket === SRC && r.key.startsWith('grace/in/'))
            .map((r) => `s3://${SRC}/${r.key}`),
        ),
      ].sort();
      expect(ok).toEqual(read);
      expect(ok.length).toBeGreaterThanOrEqual(1);
      expect(ok.length).toBeLessThanOrEqual(2); // two workers, one object each
      const present = await listKeys(DST, 'grace/out/');
      expect(present).toEqual(
        ok.map((s) => `${s.slice(`s3://${SRC}/`.length).replace('/in/', '/out/')}.csv`),
      );
      for (const key of present) await expectComplete(key, big, false);
      const mine = s3
        .multipartLedger()
        .uploads.filter((u) => u.bucket === DST && u.key.startsWith('grace/out/'));
      expect(mine.map((u) => u.state)).toEqual(mine.map(() => 'completed'));
    });
  });
});
