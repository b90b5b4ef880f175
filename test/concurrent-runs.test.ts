import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateObject, generatePayloads, type ObjectOptions } from '../src/gen/corpus.js';
import { convert, listFiles, runFlowhose } from './helpers.js';

const flowhose = (args: string[]) => runFlowhose(args);

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'flowhose-race-'));
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const OBJECTS = 6;

it('two processes converting the same objects into one --to never mix bytes (several rounds)', {
  timeout: 120_000,
}, async () => {
  const input = join(tmp, 'in');
  await mkdir(input, { recursive: true });
  const expected = new Map<string, string>();
  for (let i = 0; i < OBJECTS; i++) {
    // ~1.5 MB of CSV each: long enough that the two writers overlap in time.
    const options: ObjectOptions = { seed: 100 + i, targetBytes: 3_000_000 };
    await writeFile(join(input, `obj-${i}`), generateObject(options, 1));
    const { csv, error } = convert(generatePayloads(options).join(''));
    if (error) throw error;
    expected.set(`obj-${i}.csv.gz`, csv);
  }
  for (let round = 0; round < 3; round++) {
    const to = join(tmp, `out-${round}`);
    // Level 9 and one worker each: slow writers, the same order of objects in both processes.
    const args = ['convert', input, '--to', to, '--workers', '1', '--gzip-level', '9'];
    const runs = await Promise.all([flowhose(args), flowhose(args)]);
    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    const files = await listFiles(to);
    expect(files, 'no temporary file is left').toEqual([...expected.keys()].sort());
    for (const [name, csv] of expected) {
      const text = gunzipSync(await readFile(join(to, name))).toString('utf8');
      expect(text === csv, `${name} in round ${round} is one writer's whole output`).toBe(true);
    }
    const again = await flowhose(args);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(`objects 0 ok, 0 failed, ${OBJECTS} skipped`);
  }
});
