/**
 * Efficiency suite: how close convert at all cores comes to what the cores allow, repeated so that
 * the noise of a shared machine shows. Each round runs, one fresh process each and one after the
 * other: the floor (gunzip + gzip of the very CSV convert writes, one thread), the naive pipeline as
 * one process, and convert with every worker count asked for. The ceiling is the floor's CPU spread
 * over the cores; convert's share of it is ceiling ÷ convert's wall. Per-thread CPU and idle cores
 * (bench/thread-sampler.ts) say where the rest went, and how much other load the round saw.
 *   flowhose bench --suite efficiency --mb 200 --objects 8 --rounds 5
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listFiles, naivePipeline, pipelineEnv, runChild } from './pipeline.js';
import type { ChildResult } from './pipeline-child.js';

export interface EfficiencyOptions {
  corpus: string;
  scratch: string;
  level: number;
  workers: number[];
  rounds: number;
  log: (line: string) => void;
}

export interface EfficiencyRound {
  floor: ChildResult;
  naive: ChildResult;
  converts: (ChildResult & { workers: number })[];
  /** `flowhose convert` as a user runs it, at the most workers: wall s from spawn to exit (Node's start, the CLI's parsing, exit). */
  cliWallS: number;
}

const BIN = fileURLToPath(new URL('../../bin/flowhose.cjs', import.meta.url));

/** The CLI in a process of its own, timed from spawn to exit as the naive pipeline's processes are. */
function runCli(args: string[]): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve((performance.now() - started) / 1000)
        : reject(new Error(`flowhose convert exited ${code}: ${err.trim()}`)),
    );
  });
}

export interface EfficiencyResult {
  cores: number;
  level: number;
  rounds: EfficiencyRound[];
}

export async function runEfficiencySuite(options: EfficiencyOptions): Promise<EfficiencyResult> {
  const files = await listFiles(options.corpus);
  const cores = availableParallelism();
  const most = Math.max(...options.workers);
  const csvDir = join(options.scratch, 'csv');
  options.log('  producing the plain CSV that the floor compresses');
  await runChild(
    { mode: 'convert', input: options.corpus, out: csvDir, workers: most, level: 0 },
    pipelineEnv(most),
  );
  const csvFiles = (await listFiles(csvDir)).filter((f) => f.endsWith('.csv'));
  const rounds: EfficiencyRound[] = [];
  for (let r = 1; r <= options.rounds; r++) {
    options.log(`  round ${r} of ${options.rounds}: floor, naive, convert`);
    const floor = await runChild({
      mode: 'gunzip-gzip',
      files,
      csvFiles,
      level: options.level,
      chunkSize: 1024 * 1024,
    });
    const naive = await naivePipeline(files, options.level, 1, join(options.scratch, 'naive'));
    const converts: EfficiencyRound['converts'] = [];
    for (const workers of options.workers) {
      const result = await runChild(
        {
          mode: 'convert',
          input: options.corpus,
          out: join(options.scratch, `out-${workers}`),
          workers,
          level: options.level,
        },
        pipelineEnv(workers),
      );
      converts.push({ ...result, workers });
    }
    const cliWallS = await runCli([
      'convert',
      options.corpus,
      '--to',
      join(options.scratch, 'out-cli'),
      '--workers',
      String(most),
      '--gzip-level',
      String(options.level),
      '--overwrite',
      '-q',
    ]);
    rounds.push({ floor, naive, converts, cliWallS });
  }
  return { cores, level: options.level, rounds };
}

const f = (n: number, d = 2) => n.toFixed(d);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const range = (xs: number[], d = 2, unit = '') =>
  xs.length > 1
    ? `${f(median(xs), d)}${unit} (${f(Math.min(...xs), d)}–${f(Math.max(...xs), d)}${unit})`
    : `${f(xs[0] ?? 0, d)}${unit}`;

/** Convert's share of the ceiling in one round: (floor CPU ÷ cores) ÷ convert's wall. */
export const ofCeiling = (floor: ChildResult, run: ChildResult, cores: number) =>
  floor.cpuS / cores / run.wallS;

export function efficiencyTables(result: EfficiencyResult): string {
  const { cores, level } = result;
  const lines = [
    `gzip-${level}, ${cores} cores; every round runs the floor, the naive pipeline (one process) and convert, one after the other. ` +
      'Ceiling: the floor (gunzip + gzip of the same CSV, one thread) CPU ÷ cores. Other load: CPU other processes ' +
      "of this machine took, and the hypervisor's steal, during the convert run (core-seconds): high values mean the round measured the neighbours.",
    '',
    '| round | workers | convert wall s | CPU s | CPU ÷ floor CPU | of the ceiling | × naive, 1 process | floor CPU s | naive wall s | main CPU s | worker threads CPU s | zlib (libuv) CPU s | V8 platform CPU s | idle core-s: start-up, steady, tail | other load core-s, steal |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  result.rounds.forEach((round, i) => {
    for (const run of round.converts) {
      const t = run.threads;
      const threads = t
        ? `${f(t.main)} | ${f(t.workers)} | ${f(t.zlib)} | ${f(t.v8)} | ${f(t.idle.startup)}, ${f(t.idle.steady)}, ${f(t.idle.tail)} | ${f(t.othersS)}, ${f(t.stolenS)}`
        : ' |  |  |  |  | ';
      lines.push(
        `| ${i + 1} | ${run.workers} | ${f(run.wallS)} | ${f(run.cpuS)} | ${f(run.cpuS / round.floor.cpuS)} | ${f(ofCeiling(round.floor, run, cores) * 100, 0)}% | ${f(round.naive.wallS / run.wallS)} | ${f(round.floor.cpuS)} | ${f(round.naive.wallS)} | ${threads} |`,
      );
    }
  });
  lines.push(
    '',
    'Median (range) over the rounds, and over the quiet rounds alone (other load and steal under 0.2 core-s):',
    '',
    '| workers | rounds | of the ceiling | × naive, 1 process | CPU ÷ floor CPU | quiet rounds | of the ceiling, quiet | × naive, quiet |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  const cli = result.rounds.map((r) => r.cliWallS);
  const cliCeiling = result.rounds.map(
    (r) => ofCeiling(r.floor, { wallS: r.cliWallS } as ChildResult, cores) * 100,
  );
  const cliNaive = result.rounds.map((r) => r.naive.wallS / r.cliWallS);
  const workerCounts = [...new Set(result.rounds.flatMap((r) => r.converts.map((c) => c.workers)))];
  for (const workers of workerCounts) {
    const pairs = result.rounds.map((r) => ({ r, run: r.converts.find((c) => c.workers === workers)! }));
    const quiet = pairs.filter(
      ({ run }) => run.threads && run.threads.othersS < 0.2 && run.threads.stolenS < 0.2,
    );
    const ceiling = (list: typeof pairs) => list.map(({ r, run }) => ofCeiling(r.floor, run, cores) * 100);
    const naive = (list: typeof pairs) => list.map(({ r, run }) => r.naive.wallS / run.wallS);
    lines.push(
      `| ${workers} | ${pairs.length} | ${range(ceiling(pairs), 0, '%')} | ${range(naive(pairs))} | ${range(pairs.map(({ r, run }) => run.cpuS / r.floor.cpuS))} | ${quiet.length} | ${quiet.length ? range(ceiling(quiet), 0, '%') : ''} | ${quiet.length ? range(naive(quiet)) : ''} |`,
    );
  }
  lines.push(
    '',
    `\`flowhose convert\` as a process (Node's start, the CLI's parsing and exit included, as in the naive pipeline's wall), ${Math.max(...workerCounts)} workers: ` +
      `wall ${range(cli)} s, ${range(cliCeiling, 0, '%')} of the ceiling, ${range(cliNaive)}× the one-process naive run.`,
  );
  return lines.join('\n');
}
