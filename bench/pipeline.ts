/**
 * Pipeline suite: end-to-end `convert` over a corpus on local disk with 1…N workers at each gzip
 * level, and, on the same bytes in the same run, the floors it is judged against: Node gunzip
 * alone, gunzip plus gzip of the very CSV produced, and the naive pipeline (gunzip → regex → gzip)
 * run on as many processes as convert has workers. Every run is a fresh process.
 */
import { spawn } from 'node:child_process';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CHUNK_SIZE, DEFAULT_ZSTD_LEVEL } from '../src/cli/options.js';
import { zstdUnavailable } from '../src/streams/codecs.js';
import { kib } from './parser.js';
import type { ChildJob, ChildResult } from './pipeline-child.js';

const CHILD = fileURLToPath(new URL('./pipeline-child.js', import.meta.url));

export interface PipelineSuiteOptions {
  corpus: string;
  scratch: string;
  workers: number[];
  levels: number[];
  /** Chunk sizes tried with one worker at the last level; the other runs use convert's default. */
  chunkSizes: number[];
  /** Also gzip the CSV alone at every level 1–9: CPU against size, to choose the default level. */
  levelSweep?: boolean;
  /** With levelSweep: the zstd levels the CSV is compressed at alone (skipped, with a note, where Node has no zstd). */
  zstdSweep?: number[];
  /** zstd levels convert runs at, at each worker count, beside the gzip levels (none where Node has no zstd). */
  zstdLevels?: number[];
  /**
   * Output formats measured side by side at the most workers, each with gzip-6 and with zstd at its default
   * level (zstd left out, with a note, where Node has none), against CSV at gzip-6 of the same run.
   */
  formats?: string[];
  log: (line: string) => void;
}

/** One output format × codec, at the most workers measured. */
export interface FormatRun extends ConvertRun {
  format: string;
  compression: 'gzip' | 'zstd';
}

export interface ConvertRun extends ChildResult {
  workers: number;
  level: number;
  chunkSize: number;
}

export interface LevelFloors {
  level: number;
  /** gunzip + gzip of the produced CSV at this level, one thread. */
  floor: ChildResult;
  /** The naive pipeline on as many processes as the most workers measured. */
  naive: ChildResult & { processes: number };
  /** The naive pipeline as it is usually run: one process, one stream. */
  naiveSingle: ChildResult;
}

export interface PipelineSuiteResult {
  gunzip: ChildResult;
  levels: LevelFloors[];
  runs: ConvertRun[];
  /** One worker at the last level, by --chunk-size. */
  chunkRuns: ConvertRun[];
  /** gzip alone of the produced CSV at each level 1–9 (bytesDecoded: CSV bytes in). */
  gzipLevels: (ChildResult & { level: number })[];
  /** zstd alone of the same CSV, by level. */
  zstdLevels: (ChildResult & { level: number })[];
  /** convert with --compression zstd at each zstd level and worker count. */
  zstdRuns: ConvertRun[];
  /** gunzip + zstd of the produced CSV, by zstd level. */
  zstdFloors: { level: number; floor: ChildResult }[];
  /** Why the zstd measurements are missing, when they are (Node without zstd). */
  zstdNote?: string;
  /** Each output format with gzip-6 and zstd, in the order measured (CSV gzip-6 first). */
  formatRuns: FormatRun[];
  /** Why zstd is missing from formatRuns, when it is. */
  formatZstdNote?: string;
  corpusBytes: number;
  files: number;
}

export function runChild(job: ChildJob, env: NodeJS.ProcessEnv = process.env): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, JSON.stringify(job)], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(JSON.parse(out.trim().split('\n').pop()!) as ChildResult);
      else reject(new Error(`bench child ${job.mode} exited ${code}: ${err.trim()}`));
    });
  });
}

export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && !e.name.startsWith('.'))
    .map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name))
    .sort();
}

/** The libuv pool sized as bin/flowhose.cjs sizes it for convert. */
export const pipelineEnv = (workers: number) => ({
  ...process.env,
  UV_THREADPOOL_SIZE: String(Math.max(4, 2 * workers + 2)),
});

export async function runPipelineSuite(options: PipelineSuiteOptions): Promise<PipelineSuiteResult> {
  const { log } = options;
  const files = await listFiles(options.corpus);
  let corpusBytes = 0;
  for (const file of files) corpusBytes += (await stat(file)).size;
  const maxWorkers = Math.max(...options.workers);

  // The floors read and inflate in convert's chunk size, so the ratios compare like with like.
  const chunkSize = DEFAULT_CHUNK_SIZE;
  log('  floor: Node gunzip alone');
  const gunzip = await runChild({ mode: 'gunzip', files, chunkSize });
  const csvDir = join(options.scratch, 'csv');
  log('  producing the plain CSV that the gzip floor compresses');
  await runChild(
    { mode: 'convert', input: options.corpus, out: csvDir, workers: maxWorkers, level: 0 },
    pipelineEnv(maxWorkers),
  );
  const csvFiles = (await listFiles(csvDir)).filter((f) => f.endsWith('.csv'));

  const gzipLevels: PipelineSuiteResult['gzipLevels'] = [];
  if (options.levelSweep) {
    for (let level = 1; level <= 9; level++) {
      log(`  gzip-${level} of the CSV alone`);
      gzipLevels.push({ ...(await runChild({ mode: 'gzip', csvFiles, level, chunkSize })), level });
    }
  }
  // Where node:zlib has no zstd the suite still runs: the zstd tables say why they are empty.
  const zstdAsked = (options.levelSweep && options.zstdSweep?.length) || options.zstdLevels?.length;
  const zstdNote = zstdAsked ? zstdUnavailable('zstd') : undefined;
  if (zstdNote) log(`  skipped: ${zstdNote}`);
  const zstdLevels: PipelineSuiteResult['zstdLevels'] = [];
  if (options.levelSweep && !zstdNote) {
    for (const level of options.zstdSweep ?? []) {
      log(`  zstd-${level} of the CSV alone`);
      zstdLevels.push({ ...(await runChild({ mode: 'zstd', csvFiles, level, chunkSize })), level });
    }
  }
  const zstdRuns: ConvertRun[] = [];
  const zstdFloors: PipelineSuiteResult['zstdFloors'] = [];
  for (const level of zstdNote ? [] : (options.zstdLevels ?? [])) {
    log(`  floor: gunzip + zstd-${level} of the same CSV`);
    zstdFloors.push({
      level,
      floor: await runChild({ mode: 'gunzip-zstd', files, csvFiles, level, chunkSize }),
    });
    for (const workers of options.workers) {
      log(`  convert --workers ${workers} --compression zstd --zstd-level ${level}`);
      const out = join(options.scratch, `out-${workers}-zstd-${level}`);
      const result = await runChild(
        { mode: 'convert', input: options.corpus, out, workers, level, zstd: true },
        pipelineEnv(workers),
      );
      zstdRuns.push({ ...result, workers, level, chunkSize });
      await rm(out, { recursive: true, force: true });
    }
  }
  const levels: LevelFloors[] = [];
  const runs: ConvertRun[] = [];
  for (const level of options.levels) {
    log(`  floor: gunzip + gzip-${level} of the same CSV`);
    const floor = await runChild({ mode: 'gunzip-gzip', files, csvFiles, level, chunkSize });
    log(`  naive pipeline at gzip-${level} on ${maxWorkers} processes`);
    const naive = await naivePipeline(files, level, maxWorkers, join(options.scratch, `naive-${level}`));
    const naiveSingle =
      maxWorkers === 1
        ? naive
        : await naivePipeline(files, level, 1, join(options.scratch, `naive1-${level}`));
    levels.push({ level, floor, naive: { ...naive, processes: maxWorkers }, naiveSingle });
    for (const workers of options.workers) {
      log(`  convert --workers ${workers} --gzip-level ${level}`);
      const out = join(options.scratch, `out-${workers}-${level}`);
      const result = await runChild(
        { mode: 'convert', input: options.corpus, out, workers, level },
        pipelineEnv(workers),
      );
      runs.push({ ...result, workers, level, chunkSize });
      await rm(out, { recursive: true, force: true });
    }
  }
  const chunkRuns: ConvertRun[] = [];
  const level = options.levels[options.levels.length - 1]!;
  for (const size of options.chunkSizes) {
    log(`  convert --workers 1 --gzip-level ${level} --chunk-size ${kib(size)}`);
    const out = join(options.scratch, `out-chunk-${size}`);
    const result = await runChild(
      { mode: 'convert', input: options.corpus, out, workers: 1, level, chunkSize: size },
      pipelineEnv(1),
    );
    chunkRuns.push({ ...result, workers: 1, level, chunkSize: size });
    await rm(out, { recursive: true, force: true });
  }
  const formatRuns: FormatRun[] = [];
  const formatZstdNote = options.formats?.length ? zstdUnavailable('zstd') : undefined;
  for (const format of options.formats ?? []) {
    for (const compression of ['gzip', 'zstd'] as const) {
      if (compression === 'zstd' && formatZstdNote) continue;
      const level = compression === 'gzip' ? 6 : DEFAULT_ZSTD_LEVEL;
      log(
        `  convert --workers ${maxWorkers} --output-format ${format} --compression ${compression} (level ${level})`,
      );
      const out = join(options.scratch, `out-${format}-${compression}`);
      const result = await runChild(
        {
          mode: 'convert',
          input: options.corpus,
          out,
          workers: maxWorkers,
          level,
          zstd: compression === 'zstd',
          outputFormat: format,
        },
        pipelineEnv(maxWorkers),
      );
      formatRuns.push({ ...result, workers: maxWorkers, level, chunkSize, format, compression });
      await rm(out, { recursive: true, force: true });
    }
  }
  await rm(options.scratch, { recursive: true, force: true });
  return {
    formatRuns,
    formatZstdNote,
    gunzip,
    levels,
    runs,
    chunkRuns,
    gzipLevels,
    zstdLevels,
    zstdRuns,
    zstdFloors,
    zstdNote,
    corpusBytes,
    files: files.length,
  };
}

/** The naive pipeline with the same parallelism: files dealt round-robin to N processes. */
export async function naivePipeline(
  files: string[],
  level: number,
  processes: number,
  out: string,
): Promise<ChildResult> {
  const started = performance.now();
  const shares = Array.from({ length: processes }, (_, i) =>
    files.filter((_, k) => k % processes === i),
  ).filter((s) => s.length > 0);
  const results = await Promise.all(
    shares.map((share) => runChild({ mode: 'naive', files: share, level, out })),
  );
  await rm(out, { recursive: true, force: true });
  return {
    wallS: (performance.now() - started) / 1000,
    cpuS: results.reduce((a, r) => a + r.cpuS, 0),
    maxRssMB: Math.max(...results.map((r) => r.maxRssMB)),
    rows: results.reduce((a, r) => a + r.rows, 0),
    bytesDecoded: results.reduce((a, r) => a + r.bytesDecoded, 0),
    bytesOut: results.reduce((a, r) => a + r.bytesOut, 0),
  };
}

const f = (n: number, d = 2) => n.toFixed(d);

export function pipelineTables(result: PipelineSuiteResult, cores: number): string {
  const mb = (r: ChildResult) => r.bytesDecoded / 1e6 / r.wallS;
  const lines: string[] = [
    `Corpus: ${result.files} objects, ${f(result.corpusBytes / 1e6, 1)} MB gzip, ${f(result.gunzip.bytesDecoded / 1e6, 1)} MB decompressed. ` +
      `Node gunzip alone: ${f(result.gunzip.cpuS)} CPU s (${f(mb(result.gunzip), 0)} MB/s).`,
    '',
    '| gzip | workers | wall s | CPU s | MB/s (decompressed) | records/s | peak RSS MB | output MB | CPU ÷ floor CPU | parallel efficiency | × naive, 1 process | × naive, same parallelism | main thread ms/object |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const run of result.runs) {
    const floors = result.levels.find((l) => l.level === run.level)!;
    const efficiency = floors.floor.cpuS / run.workers / run.wallS;
    const rate = run.bytesDecoded / run.wallS;
    // The naive pipeline only knows CloudWatch envelopes in the default format: on other input it
    // writes other rows, and a speed ratio would compare unlike work.
    const comparable = floors.naive.rows === run.rows && floors.naiveSingle.rows === run.rows;
    const same =
      comparable && run.workers === floors.naive.processes
        ? f(rate / (floors.naive.bytesDecoded / floors.naive.wallS))
        : '';
    const single = comparable
      ? f(rate / (floors.naiveSingle.bytesDecoded / floors.naiveSingle.wallS))
      : `n/a (naive wrote ${floors.naive.rows} rows)`;
    const mainMs =
      run.mainBusyS !== undefined && run.objects ? f((run.mainBusyS * 1000) / run.objects, 2) : '';
    lines.push(
      `| ${run.level} | ${run.workers} | ${f(run.wallS)} | ${f(run.cpuS)} | ${f(mb(run), 1)} | ${Math.round(run.rows / run.wallS).toLocaleString('en-US')} | ${f(run.maxRssMB, 0)} | ${f(run.bytesOut / 1e6, 1)} | ${f(run.cpuS / floors.floor.cpuS)} | ${f(efficiency * 100, 0)}% | ${single} | ${same} | ${mainMs} |`,
    );
  }
  lines.push(
    '',
    '| gzip | floor: gunzip + gzip CPU s | floor ÷ cores | naive, 1 process: wall s, MB/s | naive, N processes: wall s, CPU s, MB/s |',
    '| ---: | ---: | ---: | ---: | ---: |',
  );
  for (const l of result.levels) {
    lines.push(
      `| ${l.level} | ${f(l.floor.cpuS)} | ${f(l.floor.cpuS / cores)} | ${f(l.naiveSingle.wallS)}, ${f(mb(l.naiveSingle), 1)} | ${f(l.naive.wallS)}, ${f(l.naive.cpuS)}, ${f(mb(l.naive), 1)} (${l.naive.processes} processes) |`,
    );
  }
  lines.push(...ceilingLines(result, cores));
  if (result.gzipLevels.length > 0) {
    const six = result.gzipLevels.find((g) => g.level === 6);
    lines.push(
      '',
      `gzip alone of the same CSV (${f(result.gzipLevels[0]!.bytesDecoded / 1e6, 1)} MB, strategy Z_FILTERED), by level:`,
      '',
      '| level | CPU s | MB of CSV per CPU s | output MB | size vs level 6 |',
      '| ---: | ---: | ---: | ---: | ---: |',
    );
    for (const g of result.gzipLevels) {
      const vsSix = six
        ? `${g.bytesOut >= six.bytesOut ? '+' : ''}${f((g.bytesOut / six.bytesOut - 1) * 100, 1)}%`
        : '';
      lines.push(
        `| ${g.level} | ${f(g.cpuS)} | ${f(g.bytesDecoded / 1e6 / g.cpuS, 0)} | ${f(g.bytesOut / 1e6, 2)} | ${vsSix} |`,
      );
    }
  }
  lines.push(...zstdTables(result));
  lines.push(...formatTables(result));
  if (result.chunkRuns.length > 0) {
    lines.push(
      '',
      `Read and zlib chunk size (\`--chunk-size\`), one worker, gzip-${result.chunkRuns[0]!.level}; the floors above use ${kib(DEFAULT_CHUNK_SIZE)}, convert's default:`,
      '',
      '| chunk | wall s | CPU s | MB/s (decompressed) | peak RSS MB |',
      '| ---: | ---: | ---: | ---: | ---: |',
    );
    for (const run of result.chunkRuns) {
      lines.push(
        `| ${kib(run.chunkSize)} | ${f(run.wallS)} | ${f(run.cpuS)} | ${f(mb(run), 1)} | ${f(run.maxRssMB, 0)} |`,
      );
    }
  }
  return lines.join('\n');
}

/**
 * Each level at all cores against its ceiling (the floor's CPU over the cores), and where every
 * convert run's CPU went by thread, with the cores it left idle (bench/thread-sampler.ts).
 */
function ceilingLines(result: PipelineSuiteResult, cores: number): string[] {
  const lines: string[] = [''];
  for (const l of result.levels) {
    const run = result.runs.filter((r) => r.level === l.level).sort((a, b) => b.workers - a.workers)[0];
    if (!run) continue;
    const ceiling = l.floor.cpuS / cores;
    lines.push(
      `gzip-${l.level} at ${run.workers} workers on ${cores} cores: **${f((ceiling / run.wallS) * 100, 0)}% of the ceiling** ` +
        `(floor CPU ÷ cores ${f(ceiling)} s against ${f(run.wallS)} s wall), ` +
        `${f(l.naiveSingle.wallS / run.wallS)}× the one-process naive run.`,
    );
  }
  const sampled = result.runs.filter((r) => r.threads);
  if (sampled.length === 0) return lines;
  lines.push(
    '',
    "Where convert's CPU went, by thread (Linux schedstat), and the cores left idle (/proc/stat; start-up: until every worker is busy; tail: after the first has run out of objects). Other load: CPU other processes of this machine took, and the hypervisor's steal, during the run:",
    '',
    '| gzip | workers | main CPU s | worker threads CPU s | zlib (libuv) CPU s | V8 platform CPU s | idle core-s: start-up, steady, tail | other load core-s, steal |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const run of sampled) {
    const t = run.threads!;
    lines.push(
      `| ${run.level} | ${run.workers} | ${f(t.main)} | ${f(t.workers)} | ${f(t.zlib)} | ${f(t.v8)} | ${f(t.idle.startup)}, ${f(t.idle.steady)}, ${f(t.idle.tail)} | ${f(t.othersS)}, ${f(t.stolenS)} |`,
    );
  }
  return lines;
}

/** As the gzip table writes it: +17.9%, -3.2%. */
const signed = (n: number) => `${n >= 0 ? '+' : ''}${f(n, 1)}%`;

/** zstd next to gzip-6 of the same CSV: the level sweep, then convert itself at the measured zstd levels. */
function zstdTables(result: PipelineSuiteResult): string[] {
  const lines: string[] = [];
  if (result.zstdNote) return ['', `zstd: not measured: ${result.zstdNote}.`];
  const six = result.gzipLevels.find((g) => g.level === 6);
  if (result.zstdLevels.length > 0) {
    lines.push(
      '',
      `zstd alone of the same CSV (${f(result.zstdLevels[0]!.bytesDecoded / 1e6, 1)} MB, as convert writes it: one frame, XXH64 checksum), by level${six ? ', against gzip-6 above' : ''}:`,
      '',
      '| zstd level | CPU s | MB of CSV per CPU s | output MB | size vs gzip-6 | CPU vs gzip-6 |',
      '| ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const z of result.zstdLevels) {
      const size = six ? signed((z.bytesOut / six.bytesOut - 1) * 100) : '';
      const cpu = six ? signed((z.cpuS / six.cpuS - 1) * 100) : '';
      lines.push(
        `| ${z.level} | ${f(z.cpuS)} | ${f(z.bytesDecoded / 1e6 / z.cpuS, 0)} | ${f(z.bytesOut / 1e6, 2)} | ${size} | ${cpu} |`,
      );
    }
  }
  if (result.zstdRuns.length > 0) {
    lines.push(
      '',
      'convert --compression zstd, against convert at gzip-6 with the same workers (when measured above):',
      '',
      '| zstd | workers | wall s | CPU s | MB/s (decompressed) | peak RSS MB | output MB | CPU ÷ floor CPU | × gzip-6 MB/s | output ÷ gzip-6 |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const run of result.zstdRuns) {
      const floor = result.zstdFloors.find((z) => z.level === run.level)!.floor;
      const gzip = result.runs.find((r) => r.level === 6 && r.workers === run.workers);
      const rate = run.bytesDecoded / run.wallS;
      lines.push(
        `| ${run.level} | ${run.workers} | ${f(run.wallS)} | ${f(run.cpuS)} | ${f(rate / 1e6, 1)} | ${f(run.maxRssMB, 0)} | ${f(run.bytesOut / 1e6, 1)} | ${f(run.cpuS / floor.cpuS)} | ${gzip ? f(rate / (gzip.bytesDecoded / gzip.wallS)) : ''} | ${gzip ? f(run.bytesOut / gzip.bytesOut, 3) : ''} |`,
      );
    }
  }
  return lines;
}

/** Every output format × codec side by side, against CSV at gzip-6 of the same run. */
function formatTables(result: PipelineSuiteResult): string[] {
  if (result.formatRuns.length === 0) return [];
  const base = result.formatRuns.find((r) => r.format === 'csv' && r.compression === 'gzip');
  const lines = [
    '',
    `Output formats at ${result.formatRuns[0]!.workers} workers, each a fresh process on the same corpus${base ? ', against CSV at gzip-6' : ''}:`,
    '',
    '| format | codec | wall s | CPU s | MB/s (decompressed) | output MB | peak RSS MB | CPU ÷ CSV gzip-6 | MB/s × CSV gzip-6 | output ÷ CSV gzip-6 |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  const rate = (r: ChildResult) => r.bytesDecoded / 1e6 / r.wallS;
  for (const run of result.formatRuns) {
    const ratio = (x: number, y: number | undefined) => (y ? f(x / y) : '');
    lines.push(
      `| ${run.format} | ${run.compression}-${run.level} | ${f(run.wallS)} | ${f(run.cpuS)} | ${f(rate(run), 0)} | ${f(run.bytesOut / 1e6)} | ${f(run.maxRssMB, 0)} | ${ratio(run.cpuS, base?.cpuS)} | ${ratio(rate(run), base && rate(base))} | ${ratio(run.bytesOut, base?.bytesOut)} |`,
    );
  }
  if (result.formatZstdNote) lines.push('', `zstd: not measured: ${result.formatZstdNote}.`);
  return lines;
}
