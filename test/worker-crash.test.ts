import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, expect, it } from 'vitest';
import { AWS_DOC_RECORD } from './helpers.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..');
let dir: string;
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const R1 = AWS_DOC_RECORD;
const event = JSON.stringify({ id: '1', timestamp: 1418530010000, message: R1 });
const payload = (n: number) =>
  `{"messageType":"DATA_MESSAGE","logEvents":[${Array(n).fill(event).join(',')}]}`;

it('a worker that dies (heap cap) fails its object only: no temp file left, the pool goes on', async () => {
  dir = await mkdtemp(join(tmpdir(), 'flowhose-crash-'));
  const input = join(dir, 'in');
  const out = join(dir, 'out');
  await mkdir(input);
  // One 25 MB payload: JSON.parse of it cannot fit a 40 MB heap (small caps can abort the whole process: V8 cannot stop a worker inside one huge native allocation), so the worker thread is killed.
  await writeFile(join(input, 'a-big'), gzipSync(payload(300_000)));
  for (const name of ['b-small', 'c-small', 'd-small'])
    await writeFile(join(input, name), gzipSync(payload(3)));
  const manifest = join(dir, 'manifest.jsonl');
  const args = [
    'bin/flowhose.cjs',
    'convert',
    input,
    '--to',
    out,
    '-w',
    '1',
    '--parser',
    'json',
    '--worker-heap-mb',
    '40',
    '--max-record-size',
    '64m',
    '--manifest',
    manifest,
  ];
  const result = await run(process.execPath, args, { cwd: root }).catch(
    (error) => error as { code: number; stderr: string },
  );
  expect((result as { code: number }).code).toBe(2);
  expect(result.stderr).toMatch(/failed: .*a-big: WORKER_CRASHED: worker thread failed: .*memory/);
  // The replacement worker converted everything after the crash; a-big left no temporary file.
  expect((await readdir(out, { withFileTypes: false })).sort()).toEqual([
    '.b-small.flowhose.json',
    '.c-small.flowhose.json',
    '.d-small.flowhose.json',
    'b-small.csv.gz',
    'c-small.csv.gz',
    'd-small.csv.gz',
  ]);
  const { readFile } = await import('node:fs/promises');
  expect(
    gunzipSync(await readFile(join(out, 'd-small.csv.gz')))
      .toString()
      .split('\n'),
  ).toHaveLength(5);
  const lines = (await readFile(manifest, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  expect(lines.map((l) => l.status).sort()).toEqual(['failed', 'ok', 'ok', 'ok']);
});
