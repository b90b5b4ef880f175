/**
 * --shard auto: the shard of an AWS Batch array job child, from AWS_BATCH_JOB_ARRAY_INDEX and
 * AWS_BATCH_JOB_ARRAY_SIZE; a usage error anywhere else. The built CLI run once per child of a 3-child array
 * into one destination converts every object exactly once: the union of the children's manifests is the
 * whole input with no object twice, and the outputs are those of one unsharded run, byte for byte.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConfig } from '../../src/cli/config.js';
import { generateObject } from '../../src/gen/corpus.js';
import { listFiles } from '../helpers.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'flowhose.cjs');
const SIZE = 3;
const OBJECTS = 30;

let tmp: string;
let input: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'flowhose-shard-auto-'));
  input = join(tmp, 'in');
  for (let i = 0; i < OBJECTS; i++) {
    const dir = join(input, `2024/01/${String(i % 4).padStart(2, '0')}`);
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, `delivery-${i}-été`),
      generateObject({ seed: 500 + i, targetBytes: 800, eventsMin: 1, eventsMax: 3 }),
    );
  }
});

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const batchEnv = (index: number | string, size: number | string = SIZE) => ({
  AWS_BATCH_JOB_ARRAY_INDEX: String(index),
  AWS_BATCH_JOB_ARRAY_SIZE: String(size),
});

function flowhose(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stderr: string }> {
  const base = { ...process.env };
  delete base.AWS_BATCH_JOB_ARRAY_INDEX;
  delete base.AWS_BATCH_JOB_ARRAY_SIZE;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'convert', ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...base, ...env },
    });
    let stderr = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => {
      stderr += s;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('--shard auto', () => {
  it('takes the array child index and the array size', () => {
    const config = createConfig({ inputs: ['in'], to: 'out', shard: 'auto' }, batchEnv(2, 5));
    expect(config.selection.shard).toEqual({ index: 2, count: 5 });
  });

  it.each([
    [
      {},
      'AWS_BATCH_JOB_ARRAY_INDEX and AWS_BATCH_JOB_ARRAY_SIZE are not set: run it as a child of an array job, or give --shard i/n',
    ],
    [{ AWS_BATCH_JOB_ARRAY_INDEX: '1' }, 'AWS_BATCH_JOB_ARRAY_SIZE is not set'],
    [
      batchEnv(3, 3),
      'AWS_BATCH_JOB_ARRAY_INDEX 3 of AWS_BATCH_JOB_ARRAY_SIZE 3 is not an index below a size',
    ],
    [
      batchEnv('one', 3),
      'AWS_BATCH_JOB_ARRAY_INDEX one of AWS_BATCH_JOB_ARRAY_SIZE 3 is not an index below a size',
    ],
    [batchEnv(-1, 3), 'is not an index below a size'],
  ])('is a usage error with %j', (env, message) => {
    expect(() => createConfig({ inputs: ['in'], to: 'out', shard: 'auto' }, env)).toThrow(message);
  });

  it('outside an array job the CLI exits 1 and says why', async () => {
    const run = await flowhose([input, '--to', join(tmp, 'never'), '--shard', 'auto'], {});
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('--shard auto takes the shard from AWS Batch');
  });

  it('the children of one array convert every object exactly once, as one unsharded run does', async () => {
    const out = join(tmp, 'sharded');
    const seen: string[] = [];
    for (let index = 0; index < SIZE; index++) {
      const manifest = join(tmp, `manifest-${index}.jsonl`);
      const run = await flowhose(
        [input, '--to', out, '--shard', 'auto', '--quiet', '--manifest', manifest],
        batchEnv(index),
      );
      expect(run.code, run.stderr).toBe(0);
      const lines = (await readFile(manifest, 'utf8').catch(() => '')).split('\n').filter(Boolean);
      const mine = lines.map((l) => JSON.parse(l) as { source: string; status: string });
      expect(mine.every((l) => l.status === 'ok')).toBe(true);
      expect(mine.length).toBeGreaterThan(0); // 30 keys over 3 shards: none empty
      seen.push(...mine.map((l) => l.source));
    }
    expect(seen).toHaveLength(OBJECTS);
    expect(new Set(seen).size).toBe(OBJECTS);

    const whole = join(tmp, 'whole');
    expect((await flowhose([input, '--to', whole, '--quiet'], {})).code).toBe(0);
    const sharded = await listFiles(out);
    expect(sharded).toEqual(await listFiles(whole));
    for (const file of sharded.filter((f) => f.endsWith('.csv.gz'))) {
      expect((await readFile(join(out, file))).equals(await readFile(join(whole, file))), file).toBe(true);
    }
  });
});
