/**
 * `--output-format ndjson` through the built command line: the bundled sample to a directory and to
 * stdout, every value equal to the CSV output's; names (.json.gz, .json.zst, .json), resume, dry run,
 * collisions, rejects and the manifest follow the format. S3 to S3: test/s3/ndjson.test.ts.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_FORMAT } from '../src/core/log-format.js';
import { zstdAvailable } from '../src/streams/codecs.js';
import {
  AWS_DOC_RECORD,
  dataPayload,
  expectExit,
  firehoseObject,
  runFlowhose as flowhose,
  listFiles,
} from './helpers.js';
import { typedCsvRows, typedNdjsonRows } from './ndjson-reference.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SAMPLE = join(ROOT, 'examples', 'firehose-sample');
const R1 = AWS_DOC_RECORD;
const NDJSON = ['--output-format', 'ndjson'];

let tmp: string;
let counter = 0;
const fresh = async (name: string) => {
  const dir = join(tmp, `${name}-${++counter}`);
  await mkdir(dir, { recursive: true });
  return dir;
};

let csv: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'flowhose-cli-ndjson-'));
  const out = await fresh('csv');
  expectExit(await flowhose(['convert', SAMPLE, '--to', out, '-q']), 0);
  csv = zlib.gunzipSync(await readFile(join(out, 'firehose-sample.csv.gz'))).toString('utf8');
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('--output-format ndjson', () => {
  it('the sample to a directory: firehose-sample.json.gz, every value as in the CSV; record and manifest name it', async () => {
    const out = await fresh('dir');
    const manifest = join(out, '..', `manifest-${counter}.jsonl`);
    expectExit(await flowhose(['convert', SAMPLE, '--to', out, ...NDJSON, '--manifest', manifest]), 0);
    expect(await listFiles(out, { records: true })).toEqual([
      '.firehose-sample.flowhose.json',
      'firehose-sample.json.gz',
    ]);
    const path = join(out, 'firehose-sample.json.gz');
    const bytes = await readFile(path);
    const ndjson = zlib.gunzipSync(bytes).toString('utf8');
    const rows = typedNdjsonRows(ndjson, DEFAULT_FORMAT);
    expect(rows.length).toBeGreaterThan(9000);
    expect(rows).toEqual(typedCsvRows(csv, DEFAULT_FORMAT));
    const [line] = (await readFile(manifest, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(line).toMatchObject({ dest: path, status: 'ok', rows: rows.length, bytesOut: bytes.length });
    const record = JSON.parse(await readFile(join(out, '.firehose-sample.flowhose.json'), 'utf8'));
    expect(record.members).toEqual([{ name: 'firehose-sample.json.gz', bytes: bytes.length }]);
  });

  it('uncompressed as .json with --compression none or --no-gzip; gzip level and parallel gzip apply', async () => {
    const out = await fresh('plain');
    expectExit(await flowhose(['convert', SAMPLE, '--to', out, ...NDJSON, '--compression', 'none', '-q']), 0);
    const plain = await readFile(join(out, 'firehose-sample.json'));
    expect(typedNdjsonRows(plain.toString('utf8'), DEFAULT_FORMAT)).toEqual(
      typedCsvRows(csv, DEFAULT_FORMAT),
    );
    const noGzip = await fresh('no-gzip');
    expectExit(await flowhose(['convert', SAMPLE, '--to', noGzip, ...NDJSON, '--no-gzip', '-q']), 0);
    expect((await readFile(join(noGzip, 'firehose-sample.json'))).equals(plain)).toBe(true);
    const parallel = await flowhose([
      'convert',
      SAMPLE,
      '--to',
      '-',
      ...NDJSON,
      '--parallel-gzip',
      '4',
      '-q',
    ]);
    expectExit(parallel, 0);
    expect(zlib.gunzipSync(parallel.stdout).equals(plain)).toBe(true);
    const level1 = await flowhose(['convert', SAMPLE, '--to', '-', ...NDJSON, '--gzip-level', '1', '-q']);
    expect(zlib.gunzipSync(level1.stdout).equals(plain)).toBe(true);
  });

  it('to stdout: the same bytes as the file, from a file and from stdin', async () => {
    const out = await fresh('stdout');
    expectExit(await flowhose(['convert', SAMPLE, '--to', out, ...NDJSON, '-q']), 0);
    const file = await readFile(join(out, 'firehose-sample.json.gz'));
    const piped = await flowhose(['convert', SAMPLE, '--to', '-', ...NDJSON, '-q']);
    expectExit(piped, 0);
    expect(piped.stdout.equals(file)).toBe(true);
    const stdin = await flowhose(['convert', '-', '--to', '-', ...NDJSON, '-q'], {
      stdin: await readFile(SAMPLE),
    });
    expectExit(stdin, 0);
    expect(stdin.stdout.equals(file)).toBe(true);
  });

  it('--dry-run shows .json.gz; a rerun skips; a rerun as CSV converts again beside it', async () => {
    const dir = await fresh('resume');
    const input = join(dir, 'in');
    await mkdir(input);
    await writeFile(join(input, 'obj'), firehoseObject([dataPayload([{ message: R1 }])]));
    const out = join(dir, 'out');
    const dry = await flowhose(['convert', input, '--to', out, ...NDJSON, '--dry-run']);
    expectExit(dry, 0);
    expect(dry.stdout.toString()).toContain(`convert ${join(input, 'obj')} -> ${join(out, 'obj.json.gz')}`);
    expect(existsSync(out)).toBe(false);

    expectExit(await flowhose(['convert', input, '--to', out, ...NDJSON]), 0);
    const again = await flowhose(['convert', input, '--to', out, ...NDJSON]);
    expectExit(again, 0);
    expect(again.stderr).toMatch(/objects 0 ok, 0 failed, 1 skipped/);
    const dryAgain = await flowhose(['convert', input, '--to', out, ...NDJSON, '--dry-run']);
    expect(dryAgain.stdout.toString()).toContain(`(up to date: ${join(out, 'obj.json.gz')})`);
    // Another format is another output: the record names obj.json.gz, so CSV is not up to date.
    const asCsv = await flowhose(['convert', input, '--to', out]);
    expectExit(asCsv, 0);
    expect(asCsv.stderr).toMatch(/objects 1 ok, 0 failed/);
    expect(await listFiles(out)).toEqual(['obj.csv.gz', 'obj.json.gz']);
    // …and back: NDJSON's record was replaced by CSV's, so NDJSON converts again.
    const back = await flowhose(['convert', input, '--to', out, ...NDJSON]);
    expect(back.stderr).toMatch(/objects 1 ok, 0 failed/);
  });

  it('rejects what its typed columns cannot hold (CSV keeps it), beside the output; x and x.gz collide', async () => {
    const dir = await fresh('rejects');
    const input = join(dir, 'in');
    await mkdir(input);
    const wide = R1.replace('20641', '99999999999');
    await writeFile(
      join(input, 'obj.gz'),
      firehoseObject([dataPayload([{ message: R1 }, { message: wide }])]),
    );
    const out = join(dir, 'out');
    expectExit(await flowhose(['convert', input, '--to', out, ...NDJSON, '-q']), 0);
    expect(await listFiles(out)).toEqual(['_obj.rejects.jsonl', 'obj.json.gz']);
    const [reject] = (await readFile(join(out, '_obj.rejects.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(reject).toMatchObject({
      code: 'BAD_INTEGER',
      reason: 'srcport 99999999999 does not fit an INT32 column',
      record: wide,
    });
    expect(
      zlib
        .gunzipSync(await readFile(join(out, 'obj.json.gz')))
        .toString()
        .trimEnd()
        .split('\n'),
    ).toHaveLength(1);
    const csvOut = join(dir, 'csv');
    expectExit(await flowhose(['convert', input, '--to', csvOut, '-q']), 0);
    expect(await listFiles(csvOut)).toEqual(['obj.csv.gz']);

    await writeFile(join(input, 'obj'), firehoseObject([dataPayload([{ message: R1 }])]));
    const collide = await flowhose(['convert', input, '--to', join(dir, 'c'), ...NDJSON, '-w', '1']);
    expectExit(collide, 2);
    expect(collide.stderr).toMatch(/DEST_COLLISION: another source already writes .*obj\.json\.gz/);
  });

  it('an input directory holding .json.gz outputs does not read them back', async () => {
    const dir = await fresh('inside');
    await writeFile(join(dir, 'obj'), firehoseObject([dataPayload([{ message: R1 }])]));
    expectExit(await flowhose(['convert', dir, '--to', join(dir, 'out'), ...NDJSON]), 0);
    const second = await flowhose(['convert', dir, '--to', dir, ...NDJSON]);
    expectExit(second, 0);
    expect(second.stderr).toMatch(/objects 1 ok, 0 failed/);
  });
});

/** node:zlib's zstd decompressor where it exists (a reader other than the writer's stream). */
const zstdDecompress = (zlib as unknown as { zstdDecompressSync?: (b: Buffer) => Buffer }).zstdDecompressSync;

describe.skipIf(!zstdAvailable())('--output-format ndjson --compression zstd', () => {
  it('writes .json.zst, the same NDJSON as .json.gz, to a directory and to stdout', async () => {
    const out = await fresh('zstd');
    expectExit(await flowhose(['convert', SAMPLE, '--to', out, ...NDJSON, '--compression', 'zstd', '-q']), 0);
    expect(await listFiles(out)).toEqual(['firehose-sample.json.zst']);
    const ndjson = zstdDecompress!(await readFile(join(out, 'firehose-sample.json.zst'))).toString('utf8');
    expect(typedNdjsonRows(ndjson, DEFAULT_FORMAT)).toEqual(typedCsvRows(csv, DEFAULT_FORMAT));
    const piped = await flowhose(['convert', SAMPLE, '--to', '-', ...NDJSON, '--compression', 'zstd', '-q']);
    expectExit(piped, 0);
    expect(zstdDecompress!(piped.stdout).toString('utf8')).toBe(ndjson);
  });
});

describe.skipIf(zstdAvailable())(
  `--output-format ndjson --compression zstd on Node ${process.version}`,
  () => {
    it('is the same usage error as for CSV: exit 1, nothing written', async () => {
      const out = join(await fresh('old-node'), 'out');
      const run = await flowhose(['convert', SAMPLE, '--to', out, ...NDJSON, '--compression', 'zstd']);
      expectExit(run, 1);
      expect(run.stderr).toContain('--compression zstd needs Node 22.15 (or 23.8) or newer');
      expect(existsSync(out)).toBe(false);
    });
  },
);
