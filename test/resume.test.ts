import { mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dataPayload, firehoseObject, HEADER_V2, listFiles, runFlowhose } from './helpers.js';

const flowhose = (args: string[]) => runFlowhose(args);

let tmp: string;
let counter = 0;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'flowhose-resume-'));
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function freshDir(): Promise<string> {
  const dir = join(tmp, `case-${++counter}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

const record = (n: number) =>
  `2 123456789010 eni-1235b8ca123456789 172.31.16.${n} 172.31.16.21 ${20000 + n} 22 6 20 4249 1418530010 1418530070 ACCEPT OK`;
const object = (...ns: number[]) =>
  firehoseObject([dataPayload(ns.map((n) => ({ message: record(n), timestamp: 1418530010000 })))]);
const csvOf = (...ns: number[]) =>
  `${HEADER_V2}\n${ns.map((n) => `2014-12-14T04:06:50.000Z,${record(n).split(' ').join(',')}\n`).join('')}`;
const gunzipText = async (path: string) => gunzipSync(await readFile(path)).toString('utf8');

it('a source replaced by a different file with the same mtime is converted again', async () => {
  const dir = await freshDir();
  const source = join(dir, 'in', 'obj');
  const to = join(dir, 'out');
  await mkdir(join(dir, 'in'));
  // A whole second: the same mtime survives any file system's timestamp resolution.
  const mtime = new Date(1_700_000_000_000);
  await writeFile(source, object(1));
  await utimes(source, mtime, mtime);
  const first = await flowhose(['convert', join(dir, 'in'), '--to', to]);
  expect(first.code, first.stderr).toBe(0);
  expect(await gunzipText(join(to, 'obj.csv.gz'))).toBe(csvOf(1));

  await writeFile(source, object(1, 2, 3));
  await utimes(source, mtime, mtime);
  expect((await stat(source)).mtimeMs).toBe(mtime.getTime());

  const second = await flowhose(['convert', join(dir, 'in'), '--to', to]);
  expect(second.code, second.stderr).toBe(0);
  expect(second.stderr).toContain('objects 1 ok, 0 failed');
  expect(await gunzipText(join(to, 'obj.csv.gz'))).toBe(csvOf(1, 2, 3));

  const third = await flowhose(['convert', join(dir, 'in'), '--to', to]);
  expect(third.stderr).toContain('objects 0 ok, 0 failed, 1 skipped');
});

it('an output that no longer matches its record (replaced by hand) is converted again', async () => {
  const dir = await freshDir();
  await mkdir(join(dir, 'in'));
  await writeFile(join(dir, 'in', 'obj'), object(1, 2));
  const to = join(dir, 'out');
  expect((await flowhose(['convert', join(dir, 'in'), '--to', to])).code).toBe(0);
  const output = join(to, 'obj.csv.gz');
  const { mtime } = await stat(output);
  await writeFile(output, 'not what was written');
  await utimes(output, mtime, mtime);
  const again = await flowhose(['convert', join(dir, 'in'), '--to', to]);
  expect(again.stderr).toContain('objects 1 ok, 0 failed');
  expect(await gunzipText(output)).toBe(csvOf(1, 2));
});

it('--to equal to the input directory: a rerun converts nothing new and reads no output as input', async () => {
  const dir = await freshDir();
  const input = join(dir, 'data');
  await mkdir(join(input, 'sub'), { recursive: true });
  await writeFile(join(input, 'a.gz'), object(1));
  await writeFile(join(input, 'sub', 'b'), object(2, 3));
  // A record that is rejected, so a rejects file sits in the input directory too.
  await writeFile(
    join(input, 'c'),
    firehoseObject([dataPayload([{ message: record(4) }, { message: 'x y' }])]),
  );
  const manifest = join(dir, 'manifest.jsonl');
  const first = await flowhose(['convert', input, '--to', input, '--manifest', manifest]);
  expect(first.code, first.stderr).toBe(0);
  expect(first.stderr).toContain('objects 3 ok, 0 failed');
  const outputs = ['_c.rejects.jsonl', 'a.csv.gz', 'a.gz', 'c', 'c.csv.gz', 'sub/b', 'sub/b.csv.gz'];
  expect(await listFiles(input)).toEqual(outputs);

  for (const args of [[], ['--overwrite']]) {
    await rm(manifest, { force: true });
    const again = await flowhose(['convert', input, '--to', input, '--manifest', manifest, ...args]);
    expect(again.code, again.stderr).toBe(0);
    const sources = (await readFile(manifest, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line).source as string)
      .sort();
    // Only the three sources, never an output, a rejects file or a marker.
    expect(sources).toEqual([join(input, 'a.gz'), join(input, 'c'), join(input, 'sub', 'b')]);
    expect(again.stderr).toContain(args.length === 0 ? 'objects 0 ok, 0 failed, 3 skipped' : 'objects 3 ok');
    expect(await listFiles(input)).toEqual(outputs);
  }
  expect(await gunzipText(join(input, 'sub', 'b.csv.gz'))).toBe(csvOf(2, 3));
});

it('--to containing the input directory reads no output as input either', async () => {
  const dir = await freshDir();
  const input = join(dir, 'in');
  // in/in/x is written to <to>/in/x.csv.gz: inside the input directory.
  await mkdir(join(input, 'in'), { recursive: true });
  await writeFile(join(input, 'in', 'x'), object(5));
  for (let i = 0; i < 2; i++) {
    const run = await flowhose(['convert', input, '--to', dir]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(i === 0 ? 'objects 1 ok, 0 failed' : 'objects 0 ok, 0 failed, 1 skipped');
  }
  expect(await listFiles(input)).toEqual(['in/x', 'x.csv.gz']);
});
