import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parserTable, runParserSuite } from '../bench/parser.js';
// The suite spawns its measuring child from the build, so it is exercised from dist/ too.
import { pipelineTables, runPipelineSuite } from '../dist/bench/pipeline.js';
import { generatePayloads } from '../src/gen/corpus.js';
import { writeCorpus } from '../src/gen/write-corpus.js';
import { zstdAvailable } from '../src/streams/codecs.js';
import { dataPayload } from './helpers.js';

/** Benchmarks are not tests: these run each suite on a tiny corpus so that they cannot rot. Nothing about time is asserted. */
const run = promisify(execFile);
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flowhose-bench-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('parser suite', () => {
  it('times every variant after checking it gives the core CSV', async () => {
    const data = Buffer.from(generatePayloads({ seed: 4, targetBytes: 150_000 }).join(''));
    const result = await runParserSuite({
      data,
      chunkSizes: [16 * 1024, 64 * 1024],
      timeMs: 10,
      log: () => {},
    });
    expect(result.excluded).toEqual([]);
    expect(result.rows.map((r) => r.variant)).toEqual([
      'naive regex',
      'naive regex',
      'tuned regex',
      'tuned regex',
      'JSON.parse',
      'JSON.parse',
      'core scanner',
      'core scanner',
      'core wasm',
      'core wasm',
    ]);
    for (const row of result.rows) {
      expect(row.mbPerSecond).toBeGreaterThan(0);
      expect(row.recordsPerSecond).toBeGreaterThan(0);
    }
    expect(result.rows[0]!.vsNaive).toBe(1);
    expect(parserTable(result)).toContain('| core scanner | 64 KiB |');
  });

  it('leaves out, and says why, the regex variants on input they get wrong', async () => {
    const data = Buffer.from(
      dataPayload(
        [{ message: '2 123456789010 eni-1 1.1.1.1 2.2.2.2 1 2 6 1 1 1418530010 1418530070 ACCEPT OK' }],
        {},
      ).replace('"message":"2 ', '"message":"2\\u0020'),
    );
    const result = await runParserSuite({ data, chunkSizes: [16 * 1024], timeMs: 5, log: () => {} });
    expect(result.excluded.map((e) => e.variant)).toEqual(['naive regex', 'tuned regex']);
    expect(result.excluded[0]!.reason).toMatch(/differs from the core's at byte \d+/);
  });
});

describe('pipeline suite', () => {
  it('measures convert, the floors and the naive pipeline on the same corpus', async () => {
    const corpus = join(dir, 'corpus');
    await writeCorpus({ out: corpus, objects: 3, mb: 0.6, seed: 2 });
    const result = await runPipelineSuite({
      corpus,
      scratch: join(dir, 'scratch'),
      workers: [1, 2],
      levels: [1],
      chunkSizes: [16 * 1024, 1024 * 1024],
      log: () => {},
    });
    expect(result.files).toBe(3);
    expect(result.runs).toHaveLength(2);
    expect(result.chunkRuns.map((r) => [r.chunkSize, r.rows])).toEqual([
      [16 * 1024, result.runs[0]!.rows],
      [1024 * 1024, result.runs[0]!.rows],
    ]);
    const rows = result.runs[0]!.rows;
    expect(rows).toBeGreaterThan(1000);
    expect(result.runs[1]!.rows).toBe(rows);
    expect(result.levels[0]!.naive.rows).toBe(rows);
    expect(result.gunzip.bytesDecoded).toBe(result.runs[0]!.bytesDecoded);
    expect(result.levels[0]!.floor.cpuS).toBeGreaterThan(0);
    expect(pipelineTables(result, 2)).toContain('| 1 | 2 |');
    expect(pipelineTables(result, 2)).toContain('| 1 MiB |');
  });

  it('measures each output format with gzip-6 and zstd side by side, the same rows each', async () => {
    const corpus = join(dir, 'corpus-formats');
    await writeCorpus({ out: corpus, objects: 2, mb: 0.4, seed: 3 });
    const result = await runPipelineSuite({
      corpus,
      scratch: join(dir, 'scratch-formats'),
      workers: [1],
      levels: [],
      chunkSizes: [],
      formats: ['csv', 'ndjson'],
      log: () => {},
    });
    const codecs = zstdAvailable() ? ['gzip', 'zstd'] : ['gzip'];
    expect(result.formatRuns.map((r) => `${r.format} ${r.compression}`)).toEqual(
      ['csv', 'ndjson'].flatMap((format) => codecs.map((codec) => `${format} ${codec}`)),
    );
    const rows = result.formatRuns[0]!.rows;
    expect(rows).toBeGreaterThan(500);
    for (const run of result.formatRuns) expect(run.rows).toBe(rows);
    // NDJSON carries its keys on every line: more bytes than CSV before and after compression.
    const out = (format: string) =>
      result.formatRuns.find((r) => r.format === format && r.compression === 'gzip')!;
    expect(out('ndjson').bytesOut).toBeGreaterThan(out('csv').bytesOut);
    const table = pipelineTables(result, 1);
    expect(table).toContain('Output formats at 1 workers');
    expect(table).toMatch(/^\| ndjson \| gzip-6 \| [\d.]+ \| [\d.]+ \|/m);
    expect(table).toMatch(/^\| csv \| gzip-6 \| .* \| 1\.00 \| 1\.00 \| 1\.00 \|$/m);
    if (!zstdAvailable()) expect(table).toContain('zstd: not measured: zstd needs Node');
  });
});

it('flowhose bench writes a report with recommendations and a scaling chart', async () => {
  const out = join(dir, 'report');
  const args = [
    'bench',
    '--mb',
    '0.5',
    '--objects',
    '2',
    '--workers',
    '1',
    '--levels',
    '1,6',
    '--chunk-sizes',
    '65536',
    '--pipeline-chunk-sizes',
    '262144',
    '--time',
    '5',
    '--out',
    out,
  ];
  const { stdout } = await run(process.execPath, ['bin/flowhose.cjs', ...args], {
    cwd: join(import.meta.dirname, '..'),
  });
  expect(stdout).toContain('## Parser suite');
  expect(stdout).toContain('## Pipeline suite');
  expect(stdout).toMatch(/by level:\n\n\| level \| CPU s/);
  expect(stdout).toMatch(/- gzip-5 instead of 6: [+−][\d.]+% gzip CPU, [+−][\d.]+% bytes/);
  expect(stdout.match(/^\| [1-9] \| [\d.]+ \| \d+ \| [\d.]+ \| [+-]?[\d.]+% \|$/gm)).toHaveLength(9);
  expect(stdout).toMatch(
    /Suggested: flowhose convert … --parser (wasm|scanner|json) --gzip-level 6 --workers 1 --zlib-threads 4 --chunk-size 256k/,
  );
  if (zstdAvailable()) {
    expect(stdout).toMatch(/by level, against gzip-6 above:\n\n\| zstd level \| CPU s/);
    const sweep = stdout.match(/^\| (\d+) \| [\d.]+ \| \d+ \| [\d.]+ \| [+-][\d.]+% \| [+-][\d.]+% \|$/gm);
    expect(sweep?.map((row) => Number(row.split('|')[1]))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 12]);
    expect(stdout).toContain('convert --compression zstd, against convert at gzip-6');
    expect(stdout).toMatch(
      /- --compression zstd --zstd-level 1 at --workers 1: \d+ MB\/s: [\d.]+× gzip-6's MB\/s/,
    );
  } else {
    // Node 20: the zstd measurements are left out with the reason, and the rest of the report stands.
    expect(stdout).toContain(
      `zstd: not measured: zstd needs Node 22.15 (or 23.8) or newer, whose node:zlib has zstd; this is Node ${process.version}.`,
    );
    expect(stdout).not.toContain('| zstd level |');
  }
  expect(await readFile(join(out, 'bench-results.md'), 'utf8')).toBe(stdout);
  const svg = await readFile(join(out, 'scaling.svg'), 'utf8');
  expect(svg).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  expect(svg).toContain('linear ideal, gzip-6');
});
