/**
 * `--compression zstd` through the built command line: the bundled sample to a directory and to stdout,
 * read back by the zstd tool and compared byte for byte with the CSV inside the gzip output; names,
 * resume, collisions, rejects and the manifest follow the `.zst` codec. Skipped where node:zlib has no
 * zstd (Node 20), where the usage error is tested instead. S3: test/s3/destinations.test.ts.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zstdAvailable } from '../src/streams/codecs.js';
import {
  AWS_DOC_RECORD,
  dataPayload,
  expectExit,
  firehoseObject,
  listFiles,
  runFlowhose,
} from './helpers.js';
import { CAN_ZSTD, unzstd, zstdInfo } from './zstd-tool.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SAMPLE = join(ROOT, 'examples', 'firehose-sample');
const flowhose = runFlowhose;
const R1 = AWS_DOC_RECORD;

let tmp: string;
let counter = 0;
const fresh = async (name: string) => {
  const dir = join(tmp, `${name}-${++counter}`);
  await mkdir(dir, { recursive: true });
  return dir;
};

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'flowhose-cli-zstd-'));
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe.skipIf(!CAN_ZSTD)('--compression zstd (read back by the zstd tool)', () => {
  let gzipCsv: Buffer;
  beforeAll(async () => {
    const out = await fresh('gzip');
    expectExit(await flowhose(['convert', SAMPLE, '--to', out, '-q']), 0);
    gzipCsv = gunzipSync(await readFile(join(out, 'firehose-sample.csv.gz')));
    expect(gzipCsv.toString('utf8').split('\n').length).toBeGreaterThan(9000);
  });

  it('the sample to a directory: firehose-sample.csv.zst, one frame, the gzip output’s CSV byte for byte', async () => {
    const out = await fresh('dir');
    const manifest = join(out, '..', `manifest-${counter}.jsonl`);
    const run = await flowhose([
      'convert',
      SAMPLE,
      '--to',
      out,
      '--compression',
      'zstd',
      '--manifest',
      manifest,
    ]);
    expectExit(run, 0);
    expect(await listFiles(out, { records: true })).toEqual([
      '.firehose-sample.flowhose.json',
      'firehose-sample.csv.zst',
    ]);
    const path = join(out, 'firehose-sample.csv.zst');
    const bytes = await readFile(path);
    expect(unzstd(bytes).equals(gzipCsv)).toBe(true);
    expect(zstdInfo(path).frames).toBe(1);
    const [line] = (await readFile(manifest, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(line).toMatchObject({ dest: path, status: 'ok', bytesOut: bytes.length });
    const record = JSON.parse(await readFile(join(out, '.firehose-sample.flowhose.json'), 'utf8'));
    expect(record.members).toEqual([{ name: 'firehose-sample.csv.zst', bytes: bytes.length }]);
  });

  it('to stdout: the same bytes as the file, and every --zstd-level reads back to the same CSV', async () => {
    const out = await fresh('stdout');
    expectExit(await flowhose(['convert', SAMPLE, '--to', out, '--compression', 'zstd', '-q']), 0);
    const file = await readFile(join(out, 'firehose-sample.csv.zst'));
    const piped = await flowhose(['convert', SAMPLE, '--to', '-', '--compression', 'zstd', '-q']);
    expectExit(piped, 0);
    expect(piped.stdout.equals(file)).toBe(true);
    const stdin = await flowhose(['convert', '-', '--to', '-', '--compression', 'zstd', '-q'], {
      stdin: await readFile(SAMPLE),
    });
    expectExit(stdin, 0);
    expect(stdin.stdout.equals(file)).toBe(true);
    const sizes: number[] = [];
    for (const level of ['1', '19']) {
      const run = await flowhose([
        'convert',
        SAMPLE,
        '--to',
        '-',
        '--compression',
        'zstd',
        '--zstd-level',
        level,
      ]);
      expectExit(run, 0);
      expect(unzstd(run.stdout).equals(gzipCsv), `--zstd-level ${level}`).toBe(true);
      sizes.push(run.stdout.length);
    }
    expect(sizes[1]).toBeLessThan(sizes[0]!);
  });

  it('--dry-run shows .csv.zst; a rerun skips; a rerun as gzip converts again beside it', async () => {
    const dir = await fresh('resume');
    const input = join(dir, 'in');
    await mkdir(input);
    await writeFile(join(input, 'obj'), firehoseObject([dataPayload([{ message: R1 }])]));
    const out = join(dir, 'out');
    const zstd = ['--compression', 'zstd'];
    const dry = await flowhose(['convert', input, '--to', out, ...zstd, '--dry-run']);
    expectExit(dry, 0);
    expect(dry.stdout.toString()).toContain(`convert ${join(input, 'obj')} -> ${join(out, 'obj.csv.zst')}`);
    expect(existsSync(out)).toBe(false);

    expectExit(await flowhose(['convert', input, '--to', out, ...zstd]), 0);
    const again = await flowhose(['convert', input, '--to', out, ...zstd]);
    expectExit(again, 0);
    expect(again.stderr).toMatch(/objects 0 ok, 0 failed, 1 skipped/);
    const dryAgain = await flowhose(['convert', input, '--to', out, ...zstd, '--dry-run']);
    expect(dryAgain.stdout.toString()).toContain(`(up to date: ${join(out, 'obj.csv.zst')})`);
    // Another codec is another output: the record names obj.csv.zst, so gzip is not up to date.
    const gzip = await flowhose(['convert', input, '--to', out]);
    expectExit(gzip, 0);
    expect(gzip.stderr).toMatch(/objects 1 ok, 0 failed/);
    expect(await listFiles(out)).toEqual(['obj.csv.gz', 'obj.csv.zst']);
  });

  it('x and x.gz still collide; rejects keep their name beside a .csv.zst', async () => {
    const dir = await fresh('collide');
    const input = join(dir, 'in');
    await mkdir(input);
    await writeFile(join(input, 'obj'), firehoseObject([dataPayload([{ message: R1 }])]));
    await writeFile(
      join(input, 'obj.gz'),
      firehoseObject([dataPayload([{ message: R1 }, { message: '2 too few fields' }])]),
    );
    const out = join(dir, 'out');
    const run = await flowhose(['convert', input, '--to', out, '--compression', 'zstd', '-w', '1']);
    expectExit(run, 2);
    expect(run.stderr).toMatch(/DEST_COLLISION: another source already writes .*obj\.csv\.zst/);

    const other = join(dir, 'rejects-in');
    await mkdir(other);
    await writeFile(
      join(other, 'obj.gz'),
      firehoseObject([dataPayload([{ message: R1 }, { message: '2 too few fields' }])]),
    );
    const rejects = await flowhose(['convert', other, '--to', join(dir, 'r-out'), '--compression', 'zstd']);
    expectExit(rejects, 0);
    expect(await listFiles(join(dir, 'r-out'))).toEqual(['_obj.rejects.jsonl', 'obj.csv.zst']);
    const csv = unzstd(await readFile(join(dir, 'r-out', 'obj.csv.zst'))).toString('utf8');
    expect(csv.trimEnd().split('\n')).toHaveLength(2);
  });

  it('an input directory holding .csv.zst outputs does not read them back', async () => {
    const dir = await fresh('inside');
    await writeFile(join(dir, 'obj'), firehoseObject([dataPayload([{ message: R1 }])]));
    const out = join(dir, 'out');
    expectExit(await flowhose(['convert', dir, '--to', out, '--compression', 'zstd']), 0);
    const second = await flowhose(['convert', dir, '--to', dir, '--compression', 'zstd']);
    expectExit(second, 0);
    expect(second.stderr).toMatch(/objects 1 ok, 0 failed/);
  });
});

describe.skipIf(zstdAvailable())(`--compression zstd on Node ${process.version} (no zstd)`, () => {
  it('is a usage error naming the versions: exit 1, nothing written', async () => {
    const out = join(await fresh('old-node'), 'out');
    for (const args of [
      ['convert', SAMPLE, '--to', out, '--compression', 'zstd'],
      ['convert', SAMPLE, '--to', '-', '--compression', 'zstd', '--zstd-level', '1'],
      ['convert', SAMPLE, '--to', out, '--compression', 'zstd', '--dry-run'],
    ]) {
      const run = await flowhose(args);
      expectExit(run, 1);
      expect(run.stderr).toContain(
        `flowhose: --compression zstd needs Node 22.15 (or 23.8) or newer, whose node:zlib has zstd; this is Node ${process.version}\n`,
      );
      expect(run.stdout.length).toBe(0);
    }
    expect(existsSync(out)).toBe(false);
  });
});
