/**
 * `--output-format parquet` through the built command line: the bundled sample to a directory and to
 * stdout (the encoder streams, so stdout is the file's bytes), every value read back by DuckDB equal to
 * the CSV output's; the name is `.parquet` whatever the compression (it is inside the file); resume, dry
 * run, rejects, collisions; the compressions it takes and the Node zstd needs. S3 to S3: test/s3/parquet.test.ts.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as zlib from 'node:zlib';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_FORMAT } from '../src/core/log-format.js';
import { zstdAvailable } from '../src/streams/codecs.js';
import { defaultParquetCompression } from '../src/streams/parquet-encoder.js';
import { ROW_FORMATS } from '../src/streams/row-formats.js';
import {
  AWS_DOC_RECORD,
  dataPayload,
  expectExit,
  firehoseObject,
  runFlowhose as flowhose,
  listFiles,
} from './helpers.js';
import { expectParquetEqualsCsv, queryRows } from './parquet-reader.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SAMPLE = join(ROOT, 'examples', 'firehose-sample');
const R1 = AWS_DOC_RECORD;
const PARQUET = ['--output-format', 'parquet'];

let tmp: string;
let counter = 0;
const fresh = async (name: string) => {
  const dir = join(tmp, `${name}-${++counter}`);
  await mkdir(dir, { recursive: true });
  return dir;
};

let csv: string;
let db: DuckDBInstance;
let sql: DuckDBConnection;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'flowhose-cli-parquet-'));
  const out = await fresh('csv');
  expectExit(await flowhose(['convert', SAMPLE, '--to', out, '-q']), 0);
  csv = zlib.gunzipSync(await readFile(join(out, 'firehose-sample.csv.gz'))).toString('utf8');
  db = await DuckDBInstance.create(':memory:', { threads: '1' });
  sql = await db.connect();
});
afterAll(async () => {
  sql?.closeSync();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const codecOf = async (path: string) =>
  (await queryRows(sql, `SELECT DISTINCT compression FROM parquet_metadata('${path}')`)).map(
    (r) => r.compression,
  );

describe('--output-format parquet', () => {
  it('the sample to a directory: firehose-sample.parquet, every value as in the CSV; record and manifest name it', async () => {
    const out = await fresh('dir');
    const manifest = join(out, '..', `manifest-${counter}.jsonl`);
    expectExit(await flowhose(['convert', SAMPLE, '--to', out, ...PARQUET, '--manifest', manifest]), 0);
    expect(await listFiles(out, { records: true })).toEqual([
      '.firehose-sample.flowhose.json',
      'firehose-sample.parquet',
    ]);
    const path = join(out, 'firehose-sample.parquet');
    await expectParquetEqualsCsv(sql, path, csv, DEFAULT_FORMAT);
    // The default: zstd where node:zlib has it, gzip elsewhere (Node 20).
    expect(await codecOf(path)).toEqual([defaultParquetCompression().toUpperCase()]);
    expect(ROW_FORMATS.parquet.defaultCompression).toBe(defaultParquetCompression());
    const bytes = await readFile(path);
    const [line] = (await readFile(manifest, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(line).toMatchObject({ dest: path, status: 'ok', bytesOut: bytes.length });
    expect(line.rows).toBeGreaterThan(9000);
    const record = JSON.parse(await readFile(join(out, '.firehose-sample.flowhose.json'), 'utf8'));
    expect(record.members).toEqual([{ name: 'firehose-sample.parquet', bytes: bytes.length }]);
  });

  it('snappy, gzip (at --gzip-level) and none: the codec inside the file, the name .parquet each time', async () => {
    for (const [args, codec] of [
      [['--compression', 'snappy'], 'SNAPPY'],
      [['--compression', 'gzip', '--gzip-level', '1'], 'GZIP'],
      [['--compression', 'none'], 'UNCOMPRESSED'],
      [['--no-gzip'], 'UNCOMPRESSED'],
    ] as const) {
      const out = await fresh('codec');
      expectExit(await flowhose(['convert', SAMPLE, '--to', out, ...PARQUET, ...args, '-q']), 0);
      expect(await listFiles(out)).toEqual(['firehose-sample.parquet']);
      const path = join(out, 'firehose-sample.parquet');
      expect(await codecOf(path), args.join(' ')).toEqual([codec]);
      await expectParquetEqualsCsv(sql, path, csv, DEFAULT_FORMAT);
    }
  });

  it('to stdout: the same bytes as the file, from a file and from stdin', async () => {
    const out = await fresh('stdout');
    expectExit(
      await flowhose(['convert', SAMPLE, '--to', out, ...PARQUET, '--compression', 'snappy', '-q']),
      0,
    );
    const file = await readFile(join(out, 'firehose-sample.parquet'));
    const piped = await flowhose([
      'convert',
      SAMPLE,
      '--to',
      '-',
      ...PARQUET,
      '--compression',
      'snappy',
      '-q',
    ]);
    expectExit(piped, 0);
    expect(piped.stdout.equals(file)).toBe(true);
    const stdin = await flowhose(['convert', '-', '--to', '-', ...PARQUET, '--compression', 'snappy', '-q'], {
      stdin: await readFile(SAMPLE),
    });
    expectExit(stdin, 0);
    expect(stdin.stdout.equals(file)).toBe(true);
  });

  it('--dry-run shows .parquet; a rerun skips; a rerun as CSV converts again beside it', async () => {
    const dir = await fresh('resume');
    const input = join(dir, 'in');
    await mkdir(input);
    await writeFile(join(input, 'obj'), firehoseObject([dataPayload([{ message: R1 }])]));
    const out = join(dir, 'out');
    const dry = await flowhose(['convert', input, '--to', out, ...PARQUET, '--dry-run']);
    expectExit(dry, 0);
    expect(dry.stdout.toString()).toContain(`convert ${join(input, 'obj')} -> ${join(out, 'obj.parquet')}`);
    expect(existsSync(out)).toBe(false);

    expectExit(await flowhose(['convert', input, '--to', out, ...PARQUET]), 0);
    const again = await flowhose(['convert', input, '--to', out, ...PARQUET]);
    expectExit(again, 0);
    expect(again.stderr).toMatch(/objects 0 ok, 0 failed, 1 skipped/);
    const dryAgain = await flowhose(['convert', input, '--to', out, ...PARQUET, '--dry-run']);
    expect(dryAgain.stdout.toString()).toContain(`(up to date: ${join(out, 'obj.parquet')})`);
    const asCsv = await flowhose(['convert', input, '--to', out]);
    expectExit(asCsv, 0);
    expect(asCsv.stderr).toMatch(/objects 1 ok, 0 failed/);
    expect(await listFiles(out)).toEqual(['obj.csv.gz', 'obj.parquet']);
    const back = await flowhose(['convert', input, '--to', out, ...PARQUET]);
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
    expectExit(await flowhose(['convert', input, '--to', out, ...PARQUET, '-q']), 0);
    expect(await listFiles(out)).toEqual(['_obj.rejects.jsonl', 'obj.parquet']);
    const [reject] = (await readFile(join(out, '_obj.rejects.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(reject).toMatchObject({
      code: 'BAD_INTEGER',
      reason: 'srcport 99999999999 does not fit an INT32 column',
      record: wide,
    });
    const [count] = await queryRows(sql, `SELECT count(*) AS n FROM '${join(out, 'obj.parquet')}'`);
    expect(count!.n).toBe(1n);

    await writeFile(join(input, 'obj'), firehoseObject([dataPayload([{ message: R1 }])]));
    const collide = await flowhose(['convert', input, '--to', join(dir, 'c'), ...PARQUET, '-w', '1']);
    expectExit(collide, 2);
    expect(collide.stderr).toMatch(/DEST_COLLISION: another source already writes .*obj\.parquet/);
  });

  it('an input directory holding .parquet outputs does not read them back', async () => {
    const dir = await fresh('inside');
    await writeFile(join(dir, 'obj'), firehoseObject([dataPayload([{ message: R1 }])]));
    expectExit(await flowhose(['convert', dir, '--to', join(dir, 'out'), ...PARQUET]), 0);
    const second = await flowhose(['convert', dir, '--to', dir, ...PARQUET]);
    expectExit(second, 0);
    expect(second.stderr).toMatch(/objects 1 ok, 0 failed/);
  });

  it('options of a codec it does not use are usage errors, nothing written', async () => {
    for (const [args, message] of [
      [['--compression', 'snappy', '--zstd-level', '3'], '--zstd-level 3 is for zstd output'],
      [['--compression', 'snappy', '--gzip-level', '3'], '--gzip-level 3 is for gzip output'],
      [['--compression', 'gzip', '--parallel-gzip', '4'], '--parallel-gzip 4'],
    ] as const) {
      const out = join(await fresh('usage'), 'out');
      const run = await flowhose(['convert', SAMPLE, '--to', out, ...PARQUET, ...args]);
      expectExit(run, 1);
      expect(run.stderr).toContain(message);
      expect(existsSync(out)).toBe(false);
    }
    const csvSnappy = await flowhose(['convert', SAMPLE, '--to', '-', '--compression', 'snappy']);
    expectExit(csvSnappy, 1);
    expect(csvSnappy.stderr).toContain('csv output takes gzip, zstd or none');
  });
});

describe.skipIf(!zstdAvailable())('--output-format parquet --compression zstd', () => {
  it('takes --zstd-level: a higher level makes a smaller file of the same values', async () => {
    const sizes: number[] = [];
    for (const level of ['1', '9']) {
      const out = await fresh('zstd');
      expectExit(
        await flowhose([
          'convert',
          SAMPLE,
          '--to',
          out,
          ...PARQUET,
          '--compression',
          'zstd',
          '--zstd-level',
          level,
          '-q',
        ]),
        0,
      );
      const path = join(out, 'firehose-sample.parquet');
      expect(await codecOf(path)).toEqual(['ZSTD']);
      await expectParquetEqualsCsv(sql, path, csv, DEFAULT_FORMAT);
      sizes.push((await readFile(path)).length);
    }
    expect(sizes[1]).toBeLessThan(sizes[0]!);
  });
});

describe.skipIf(zstdAvailable())(`--output-format parquet on Node ${process.version}`, () => {
  it('--compression zstd is the usage error naming both versions; without it, gzip', async () => {
    const out = join(await fresh('old-node'), 'out');
    const run = await flowhose(['convert', SAMPLE, '--to', out, ...PARQUET, '--compression', 'zstd']);
    expectExit(run, 1);
    expect(run.stderr).toContain('--compression zstd needs Node 22.15 (or 23.8) or newer');
    expect(existsSync(out)).toBe(false);
    expect(ROW_FORMATS.parquet.defaultCompression).toBe('gzip');
  });
});
