/**
 * `flowhose bench` (and `npm run bench`, `npm run bench:pipeline`): runs the parser suite and the
 * pipeline suite on a generated corpus or the user's own, writes a Markdown report and a scaling
 * chart, and ends with the settings it recommends for this host.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import yargs from 'yargs';
import { DEFAULT_ZSTD_LEVEL } from '../src/cli/options.js';
import { generatePayloads } from '../src/gen/corpus.js';
import { writeCorpus } from '../src/gen/write-corpus.js';
import { ROW_FORMAT_NAMES } from '../src/streams/row-formats.js';
import { scalingChart } from './chart.js';
import { efficiencyTables, runEfficiencySuite } from './efficiency.js';
import { machineLine } from './machine.js';
import { kib, type ParserSuiteResult, parserTable, runParserSuite } from './parser.js';
import { listFiles, type PipelineSuiteResult, pipelineTables, runPipelineSuite } from './pipeline.js';

export interface BenchArgs {
  suite: 'all' | 'parser' | 'pipeline' | 'efficiency';
  /** Efficiency suite: rounds of floor, naive and convert. */
  rounds: number;
  input?: string;
  mb: number;
  objects: number;
  seed: number;
  workers: number[];
  levels: number[];
  chunkSizes: number[];
  pipelineChunkSizes: number[];
  levelSweep: boolean;
  /** zstd levels of the level sweep; zstd levels convert runs at. Skipped, with a note, where Node has no zstd. */
  zstdSweep: number[];
  zstdLevels: number[];
  /** Output formats measured side by side (gzip-6 and zstd each); empty: none. Optional for library callers. */
  formats?: string[];
  time: number;
  out: string;
  quiet?: boolean;
}

/** The decompressed bytes the parser suite reads: the user's objects, or a generated corpus. */
async function parserData(args: BenchArgs): Promise<Buffer> {
  if (!args.input)
    return Buffer.from(
      generatePayloads({ seed: args.seed, targetBytes: Math.round(args.mb * 1e6) }).join(''),
    );
  const parts: Buffer[] = [];
  let total = 0;
  for (const file of await listFiles(args.input)) {
    let bytes = await readFile(file);
    while (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
    parts.push(bytes);
    total += bytes.length;
    if (total >= args.mb * 1e6) break;
  }
  return Buffer.concat(parts);
}

export async function runBench(args: BenchArgs): Promise<string> {
  const log = args.quiet ? () => {} : (line: string) => process.stderr.write(`${line}\n`);
  const cores = availableParallelism();
  const sections: string[] = [`Machine: ${machineLine()}`, ''];
  if (args.suite === 'efficiency') return efficiencyReport(args, sections, log);
  let parser: ParserSuiteResult | undefined;
  let pipeline: PipelineSuiteResult | undefined;
  if (args.suite !== 'pipeline') {
    log(
      `parser suite: ${args.input ?? 'generated payloads'}, ${args.mb} MB, chunks ${args.chunkSizes.map(kib).join(', ')}`,
    );
    const data = await parserData(args);
    parser = await runParserSuite({ data, chunkSizes: args.chunkSizes, timeMs: args.time, log });
    sections.push(
      `## Parser suite (${(parser.dataBytes / 1e6).toFixed(1)} MB decompressed, ${parser.records.toLocaleString('en-US')} records)`,
      '',
      parserTable(parser),
      '',
    );
  }
  if (args.suite !== 'parser') {
    const scratch = await mkdtemp(join(tmpdir(), 'flowhose-bench-'));
    try {
      let corpus = args.input;
      if (!corpus) {
        corpus = join(scratch, 'corpus');
        log(
          `pipeline suite: generating ${args.objects} objects, ${args.mb} MB decompressed, seed ${args.seed}`,
        );
        await writeCorpus({ out: corpus, objects: args.objects, mb: args.mb, seed: args.seed });
      }
      pipeline = await runPipelineSuite({
        corpus,
        scratch: join(scratch, 'work'),
        workers: args.workers,
        levels: args.levels,
        chunkSizes: args.pipelineChunkSizes,
        levelSweep: args.levelSweep,
        zstdSweep: args.zstdSweep,
        zstdLevels: args.zstdLevels,
        formats: args.formats,
        log,
      });
      sections.push('## Pipeline suite', '', pipelineTables(pipeline, cores), '');
      await mkdir(args.out, { recursive: true });
      const svg = scalingChart(
        'convert throughput vs workers',
        [
          ...args.levels.map((level, i) => ({
            name: `gzip-${level}`,
            color: ['#1f77b4', '#d62728', '#2ca02c'][i % 3]!,
            points: pipeline!.runs
              .filter((r) => r.level === level)
              .map((r) => ({ x: r.workers, y: r.bytesDecoded / 1e6 / r.wallS })),
          })),
          ...args.zstdLevels
            .map((level, i) => ({
              name: `zstd-${level}`,
              color: ['#9467bd', '#ff7f0e', '#8c564b'][i % 3]!,
              points: pipeline!.zstdRuns
                .filter((r) => r.level === level)
                .map((r) => ({ x: r.workers, y: r.bytesDecoded / 1e6 / r.wallS })),
            }))
            .filter((series) => series.points.length > 0),
          ...args.levels.map((level, i) => {
            const one = pipeline!.runs.find(
              (r) => r.level === level && r.workers === Math.min(...args.workers),
            );
            const base = one ? one.bytesDecoded / 1e6 / one.wallS / one.workers : 0;
            return {
              name: `linear ideal, gzip-${level}`,
              color: ['#1f77b4', '#d62728', '#2ca02c'][i % 3]!,
              dashed: true,
              points: args.workers.map((w) => ({ x: w, y: base * w })),
            };
          }),
        ],
        'workers',
        'MB/s of decompressed input',
      );
      await writeFile(join(args.out, 'scaling.svg'), svg);
      sections.push(`Chart: ${join(args.out, 'scaling.svg')}`, '');
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }
  sections.push('## Recommended for this host', '', ...recommend(parser, pipeline, cores));
  const report = `${sections.join('\n')}\n`;
  await mkdir(args.out, { recursive: true });
  await writeFile(join(args.out, 'bench-results.md'), report);
  return report;
}

/** The efficiency suite alone: convert at the last --levels level against its ceiling, --rounds times. */
async function efficiencyReport(args: BenchArgs, sections: string[], log: (line: string) => void) {
  const scratch = await mkdtemp(join(tmpdir(), 'flowhose-bench-'));
  try {
    let corpus = args.input;
    if (!corpus) {
      corpus = join(scratch, 'corpus');
      log(
        `efficiency suite: generating ${args.objects} objects, ${args.mb} MB decompressed, seed ${args.seed}`,
      );
      await writeCorpus({ out: corpus, objects: args.objects, mb: args.mb, seed: args.seed });
    }
    const files = await listFiles(corpus);
    const result = await runEfficiencySuite({
      corpus,
      scratch: join(scratch, 'work'),
      level: args.levels[args.levels.length - 1] ?? 6,
      workers: args.workers,
      rounds: args.rounds,
      log,
    });
    sections.push(
      `## Efficiency suite (${files.length} objects, ${(result.rounds[0]!.floor.bytesDecoded / 1e6).toFixed(1)} MB decompressed)`,
      '',
      efficiencyTables(result),
      '',
    );
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  const report = `${sections.join('\n')}\n`;
  await mkdir(args.out, { recursive: true });
  await writeFile(join(args.out, 'bench-results.md'), report);
  return report;
}

function recommend(
  parser: ParserSuiteResult | undefined,
  pipeline: PipelineSuiteResult | undefined,
  cores: number,
): string[] {
  const lines: string[] = [];
  const flags: string[] = [];
  if (parser) {
    const flag: Record<string, string> = {
      'JSON.parse': 'json',
      'core scanner': 'scanner',
      'core wasm': 'wasm',
    };
    const ours = parser.rows.filter((r) => flag[r.variant] !== undefined);
    const best = ours.sort((a, b) => b.mbPerSecond - a.mbPerSecond)[0];
    if (best) {
      flags.push(`--parser ${flag[best.variant]}`);
      lines.push(
        `- parser: ${best.variant} (${best.mbPerSecond.toFixed(0)} MB/s at ${kib(best.chunkSize)} chunks, ${best.vsNaive.toFixed(1)}× the naive regex)`,
      );
    }
  }
  if (pipeline) {
    for (const level of new Set(pipeline.runs.map((r) => r.level))) {
      const runs = pipeline.runs.filter((r) => r.level === level);
      const best = runs.sort((a, b) => b.bytesDecoded / b.wallS - a.bytesDecoded / a.wallS)[0]!;
      lines.push(
        `- gzip-${level}: best at --workers ${best.workers} (${(best.bytesDecoded / 1e6 / best.wallS).toFixed(0)} MB/s), output ${(best.bytesOut / 1e6).toFixed(1)} MB`,
      );
    }
    const byLevel = [...new Set(pipeline.runs.map((r) => r.level))].map((level) => {
      const run = pipeline.runs.filter((r) => r.level === level).sort((a, b) => b.workers - a.workers)[0]!;
      return { level, rate: run.bytesDecoded / run.wallS, size: run.bytesOut };
    });
    if (byLevel.length > 1) {
      const fast = byLevel.reduce((a, b) => (a.rate > b.rate ? a : b));
      const small = byLevel.reduce((a, b) => (a.size < b.size ? a : b));
      const extra = (fast.size / small.size - 1) * 100;
      lines.push(
        `- gzip level: ${fast.level} is ${(fast.rate / small.rate).toFixed(2)}× as fast as ${small.level} but writes ${extra.toFixed(0)}% more bytes; ` +
          'Athena bills bytes scanned, so keep the smaller output unless conversion time is what you pay for.',
      );
      flags.push(`--gzip-level ${small.level}`);
    }
    // The worker count with the best throughput at the recommended level.
    const level = Number(
      flags.find((flag) => flag.startsWith('--gzip-level'))?.split(' ')[1] ?? pipeline.runs[0]!.level,
    );
    const atLevel = pipeline.runs.filter((r) => r.level === level);
    const workers = atLevel.reduce((a, b) =>
      b.bytesDecoded / b.wallS > a.bytesDecoded / a.wallS ? b : a,
    ).workers;
    flags.push(`--workers ${workers}`, `--zlib-threads ${2 * workers + 2}`);
    // The trade either side of the chosen level, from gzip alone of the same CSV.
    const sweep = (l: number) => pipeline.gzipLevels.find((g) => g.level === l);
    const chosen = sweep(level);
    if (chosen) {
      for (const other of [sweep(level - 1), sweep(level + 1)]) {
        if (!other) continue;
        const cpu = (other.cpuS / chosen.cpuS - 1) * 100;
        const size = (other.bytesOut / chosen.bytesOut - 1) * 100;
        const signed = (n: number) => `${n >= 0 ? '+' : '−'}${Math.abs(n).toFixed(1)}%`;
        lines.push(
          `- gzip-${other.level} instead of ${level}: ${signed(cpu)} gzip CPU, ${signed(size)} bytes`,
        );
      }
    }
    lines.push(...recommendZstd(pipeline));
    // Chunk size by CPU per byte: on a busy many-core host, CPU is throughput.
    const cheapest = [...pipeline.chunkRuns].sort((a, b) => a.cpuS - b.cpuS)[0];
    if (cheapest) {
      flags.push(`--chunk-size ${cheapest.chunkSize / 1024}k`);
      lines.push(
        `- chunk size: ${kib(cheapest.chunkSize)} costs the least CPU (${cheapest.cpuS.toFixed(2)} s, one worker; peak RSS ${cheapest.maxRssMB.toFixed(0)} MB)`,
      );
    }
  }
  lines.push(
    '',
    `Suggested: flowhose convert … ${flags.join(' ')}`,
    `(${cores} cores here; measure again on the host that runs the backfill.)`,
  );
  return lines;
}

/** zstd against gzip-6 at the most workers measured, and the sweep either side of each zstd level. */
function recommendZstd(pipeline: PipelineSuiteResult): string[] {
  if (pipeline.zstdNote) return [`- zstd: not measured (${pipeline.zstdNote})`];
  const lines: string[] = [];
  const most = Math.max(...pipeline.zstdRuns.map((r) => r.workers));
  const gzip = pipeline.runs.find((r) => r.level === 6 && r.workers === most);
  for (const run of pipeline.zstdRuns.filter((r) => r.workers === most)) {
    const vs = gzip
      ? `: ${(run.bytesDecoded / run.wallS / (gzip.bytesDecoded / gzip.wallS)).toFixed(2)}× gzip-6's MB/s, output ${((run.bytesOut / gzip.bytesOut) * 100).toFixed(1)}% of gzip-6's`
      : '';
    lines.push(
      `- --compression zstd --zstd-level ${run.level} at --workers ${most}: ${(run.bytesDecoded / 1e6 / run.wallS).toFixed(0)} MB/s${vs}`,
    );
  }
  const six = pipeline.gzipLevels.find((g) => g.level === 6);
  if (six && pipeline.zstdLevels.length > 0) {
    const smaller = pipeline.zstdLevels.find((z) => z.bytesOut <= six.bytesOut);
    lines.push(
      smaller
        ? `- the fastest zstd level no larger than gzip-6 is ${smaller.level}: ${((smaller.cpuS / six.cpuS) * 100).toFixed(0)}% of gzip-6's compression CPU`
        : '- no zstd level measured is as small as gzip-6',
    );
  }
  return lines;
}

/** The default zstd sweep: the fast levels one by one, then two steps up. */
const ZSTD_SWEEP = [1, 2, 3, 4, 5, 6, 7, 8, 9, 12];

const list = (value: string | number) =>
  String(value)
    .split(',')
    .map((v) => Number(v.trim()))
    .filter((v) => Number.isFinite(v) && v > 0);

export async function main(argv: string[]): Promise<number> {
  const cores = availableParallelism();
  const args = await yargs(argv)
    .scriptName('flowhose bench')
    .usage('$0 [options]: parser and pipeline benchmarks; writes bench-results.md and scaling.svg')
    .option('suite', {
      choices: ['all', 'parser', 'pipeline', 'efficiency'] as const,
      default: 'all' as const,
      describe: 'efficiency: convert at the last --levels level against its ceiling, --rounds times',
    })
    .option('rounds', {
      type: 'number',
      default: 5,
      describe: 'Efficiency suite: rounds (floor, naive, convert)',
    })
    .option('input', {
      type: 'string',
      describe: 'Benchmark your own Firehose objects (a directory) instead of a generated corpus',
    })
    .option('mb', { type: 'number', default: 200, describe: 'Corpus size, MB decompressed' })
    .option('objects', { type: 'number', default: 40, describe: 'Objects in the generated corpus' })
    .option('seed', { type: 'number', default: 1 })
    .option('workers', {
      type: 'string',
      default: Array.from({ length: cores }, (_, i) => i + 1).join(','),
      describe: 'Worker counts to measure',
    })
    .option('levels', { type: 'string', default: '1,6', describe: 'gzip levels to measure' })
    .option('chunk-sizes', {
      type: 'string',
      default: '16384,65536,262144,1048576',
      describe: 'Parser suite chunk sizes',
    })
    .option('level-sweep', {
      type: 'boolean',
      default: true,
      describe: 'gzip the produced CSV alone at levels 1–9 (CPU against size)',
    })
    .option('zstd-sweep', {
      type: 'string',
      default: ZSTD_SWEEP.join(','),
      describe: 'zstd levels of the level sweep (19 alone costs ~100× level 1)',
    })
    .option('zstd-levels', {
      type: 'string',
      default: String(DEFAULT_ZSTD_LEVEL),
      describe: 'zstd levels convert runs at, at each worker count (Node 22.15+)',
    })
    .option('formats', {
      type: 'string',
      default: ROW_FORMAT_NAMES.join(','),
      describe:
        'Output formats measured side by side at the most workers, with gzip-6 and zstd (empty: none)',
    })
    .option('pipeline-chunk-sizes', {
      type: 'string',
      default: '65536,262144,1048576,4194304',
      describe: 'convert --chunk-size values the pipeline suite tries (one worker, last gzip level)',
    })
    .option('time', { type: 'number', default: 2000, describe: 'tinybench time per parser task, ms' })
    .option('out', { type: 'string', default: 'bench-out', describe: 'Where the report and chart go' })
    .strict()
    .help()
    .parseAsync();
  const report = await runBench({
    suite: args.suite,
    rounds: args.rounds,
    input: args.input,
    mb: args.mb,
    objects: args.objects,
    seed: args.seed,
    workers: list(args.workers),
    levels: list(args.levels),
    chunkSizes: list(args.chunkSizes),
    pipelineChunkSizes: list(args.pipelineChunkSizes),
    levelSweep: args.levelSweep,
    zstdSweep: list(args.zstdSweep),
    zstdLevels: list(args.zstdLevels),
    formats: args.formats.split(',').filter((name) => name !== ''),
    time: args.time,
    out: args.out,
  });
  process.stdout.write(report);
  return 0;
}

const entry = process.argv[1] ?? '';
if (entry.endsWith('bench/cli.js')) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      process.stderr.write(`flowhose bench: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
