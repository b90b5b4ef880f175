import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AWS_DOC_RECORD, dataPayload, expectExit, firehoseObject, runFlowhose } from './helpers.js';

const exec = promisify(execFile);
const root = join(import.meta.dirname, '..');
const R1 = AWS_DOC_RECORD;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flowhose-guards-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const flowhose = runFlowhose;

it('x and x.gz would write one output: the second fails as DEST_COLLISION, the first is kept whole', async () => {
  const input = join(dir, 'collide');
  await mkdir(input);
  await writeFile(join(input, 'obj'), firehoseObject([dataPayload([{ message: R1 }])]));
  await writeFile(join(input, 'obj.gz'), firehoseObject([dataPayload([{ message: R1 }, { message: R1 }])]));
  const manifest = join(dir, 'collide.jsonl');
  const run = await flowhose([
    'convert',
    input,
    '--to',
    join(dir, 'collide-out'),
    '-w',
    '2',
    '--manifest',
    manifest,
  ]);
  expectExit(run, 2);
  expect(run.stderr).toMatch(/obj\.gz: DEST_COLLISION: another source already writes .*obj\.csv\.gz/);
  expect((await readdir(join(dir, 'collide-out'))).sort()).toEqual(['.obj.flowhose.json', 'obj.csv.gz']);
  const lines = (await readFile(manifest, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  expect(lines.map((l) => [l.source.split('/').pop(), l.status, l.rows]).sort()).toEqual([
    ['obj', 'ok', 1],
    ['obj.gz', 'failed', 0],
  ]);
});

it('a manifest that cannot be written is a usage error before any work', async () => {
  const input = join(dir, 'm-in');
  await mkdir(input);
  await writeFile(join(input, 'obj'), firehoseObject([dataPayload([{ message: R1 }])]));
  const run = await flowhose([
    'convert',
    input,
    '--to',
    join(dir, 'm-out'),
    '--manifest',
    join(dir, 'no-such-dir', 'm.jsonl'),
  ]);
  expectExit(run, 1);
  expect(run.stderr).toMatch(/cannot write --manifest .*no-such-dir/);
  await expect(readdir(join(dir, 'm-out'))).rejects.toThrow();
});

it('--dry-run writes nothing, not even the manifest', async () => {
  const input = join(dir, 'dry-in');
  await mkdir(input);
  await writeFile(join(input, 'obj'), firehoseObject([dataPayload([{ message: R1 }])]));
  const manifest = join(dir, 'dry.jsonl');
  const run = await flowhose([
    'convert',
    input,
    '--to',
    join(dir, 'dry-out'),
    '--dry-run',
    '--manifest',
    manifest,
  ]);
  expectExit(run, 0);
  expect(run.stdout.toString()).toMatch(/^convert .*obj -> .*obj\.csv\.gz/m);
  await expect(readFile(manifest)).rejects.toThrow();
  await expect(readdir(join(dir, 'dry-out'))).rejects.toThrow();
});

it('failed objects count no rows in the summary: it reports what was written', async () => {
  const input = join(dir, 'counts');
  await mkdir(input);
  await writeFile(join(input, 'good'), firehoseObject([dataPayload([{ message: R1 }])]));
  // Two good records, then a truncated payload: the object fails after rows were produced.
  await writeFile(
    join(input, 'bad'),
    Buffer.from(`${dataPayload([{ message: R1 }, { message: R1 }])}{"logEvents":[`),
  );
  const run = await flowhose(['convert', input, '--to', join(dir, 'counts-out')]);
  expectExit(run, 2);
  expect(run.stderr).toMatch(/objects 1 ok, 1 failed · rows 1 ·/);
});

it('--gzip-strategy filtered (the default) writes smaller gzip of the same CSV; a bad value is a usage error', async () => {
  const opts = { cwd: root, encoding: 'buffer' as const, maxBuffer: 64 * 1024 * 1024 };
  const args = (strategy: string) => [
    'bin/flowhose.cjs',
    'convert',
    'examples/firehose-sample',
    '--to',
    '-',
    '--gzip-strategy',
    strategy,
  ];
  const filtered = await exec(process.execPath, args('filtered'), opts);
  const plain = await exec(process.execPath, args('default'), opts);
  const { gunzipSync } = await import('node:zlib');
  expect(gunzipSync(filtered.stdout).equals(gunzipSync(plain.stdout))).toBe(true);
  expect(filtered.stdout.length).toBeLessThan(plain.stdout.length);
  const bad = await flowhose([
    'convert',
    'examples/firehose-sample',
    '--to',
    '-',
    '--gzip-strategy',
    'huffman',
  ]);
  expectExit(bad, 1);
  expect(bad.stderr).toMatch(/--gzip-strategy must be filtered or default, got "huffman"/);
});

it.skipIf(!existsSync('/dev/full'))(
  '--manifest /dev/full: the run fails (exit 2) and the summary says so',
  async () => {
    const run = await flowhose([
      'convert',
      'examples/firehose-sample',
      '--to',
      join(dir, 'full-out'),
      '--manifest',
      '/dev/full',
      '-q',
    ]);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/^flowhose: cannot write the manifest: ENOSPC/m);
    expect(run.stderr).toMatch(/^flowhose: objects 1 ok, 0 failed · .* · manifest FAILED: ENOSPC/m);
  },
);

it('a record with terminal escapes reaches stderr escaped (FORMAT_MISMATCH quotes it)', async () => {
  const input = join(dir, 'hostile');
  await writeFile(
    input,
    firehoseObject([dataPayload([{ message: 'a \x1b]0;pwned\x07 b \x1b[2J c \x9b1m' }])]),
  );
  const run = await flowhose(['convert', input, '--to', join(dir, 'hostile-out')]);
  expect(run.code, run.stderr).toBe(2);
  expect(run.stderr).toContain('FORMAT_MISMATCH');
  expect(run.stderr).toContain('a \\x1b]0;pwned\\x07 b \\x1b[2J c \\x9b1m');
  expect(run.stderr).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
});

it('--shard -1/2 and --zlib-threads 0 are usage errors that say the rule (exit 1)', async () => {
  const shard = await flowhose(['convert', 'examples/firehose-sample', '--to', '-', '--shard', '-1/2']);
  expect(shard.code, shard.stderr).toBe(1);
  expect(shard.stderr).toContain('--shard must be i/n with 0 <= i < n, such as 0/4, got "-1/2"');
  const threads = await flowhose(['convert', 'examples/firehose-sample', '--to', '-', '--zlib-threads', '0']);
  expect(threads.code, threads.stderr).toBe(1);
  expect(threads.stderr).toContain('--zlib-threads must be a whole number from 1 to 1024, got 0');
  expect(threads.stdout.length).toBe(0);
});

it('a failure the core ties to an option names its flag end to end (RECORD_TOO_LARGE → --max-record-size)', async () => {
  const input = join(dir, 'too-large');
  await writeFile(input, firehoseObject([dataPayload([{ message: `2 ${'x'.repeat(2000)}` }])]));
  const run = await flowhose([
    'convert',
    input,
    '--to',
    join(dir, 'too-large-out'),
    '--max-record-size',
    '1k',
  ]);
  expect(run.code, run.stderr).toBe(2);
  expect(run.stderr).toMatch(
    /RECORD_TOO_LARGE: a JSON payload exceeds the record size limit of 1024 bytes .*; see --max-record-size\n/,
  );
});

it('--dry-run lists a file name holding terminal escapes escaped', async () => {
  const input = join(dir, 'hostile-names');
  await mkdir(input, { recursive: true });
  await writeFile(join(input, 'evil\x1b]0;pwned\x07name'), firehoseObject([dataPayload([{ message: 'x' }])]));
  const run = await flowhose(['convert', input, '--to', join(dir, 'hostile-names-out'), '--dry-run']);
  expect(run.code, run.stderr).toBe(0);
  const stdout = String(run.stdout);
  expect(stdout).toContain('evil\\x1b]0;pwned\\x07name');
  expect(stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
});
