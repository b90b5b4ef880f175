/**
 * Parser suite: every variant over the same decompressed bytes, at several chunk sizes, timed
 * with tinybench after its output was checked byte for byte against the core's. Ratios are to the
 * naive regex at the same chunk size, measured in the same run.
 */
import { Bench } from 'tinybench';
import { type ParserVariant, runVariant, scanner, VARIANTS } from './variants.js';

export interface ParserSuiteOptions {
  data: Buffer;
  chunkSizes: number[];
  /** tinybench time budget per task, ms. */
  timeMs: number;
  log: (line: string) => void;
  variants?: readonly ParserVariant[];
}

export interface ParserRow {
  variant: string;
  chunkSize: number;
  mbPerSecond: number;
  recordsPerSecond: number;
  /** MB/s over the naive regex's MB/s at the same chunk size (same run). */
  vsNaive: number;
  samples: number;
  rme: number;
}

export interface ParserSuiteResult {
  rows: ParserRow[];
  /** Variants left out because their CSV differed from the core's on this input. */
  excluded: { variant: string; reason: string }[];
  dataBytes: number;
  records: number;
}

export function kib(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${bytes / 1024 / 1024} MiB` : `${bytes / 1024} KiB`;
}

export async function runParserSuite(options: ParserSuiteOptions): Promise<ParserSuiteResult> {
  const { data, log } = options;
  const variants = options.variants ?? VARIANTS;
  const reference = runVariant(scanner, data, 64 * 1024, true);
  const excluded: ParserSuiteResult['excluded'] = [];
  const comparable: ParserVariant[] = [];
  for (const variant of variants) {
    const reason = verify(variant, data, options.chunkSizes, reference.csv!);
    if (reason) {
      excluded.push({ variant: variant.name, reason });
      log(`  ${variant.name}: not timed, ${reason}`);
    } else {
      comparable.push(variant);
    }
  }
  log(
    `  verified: ${comparable.map((v) => v.name).join(', ')} give byte-identical CSV (${reference.rows} records)`,
  );
  const bench = new Bench({ time: options.timeMs, iterations: 3, warmupIterations: 1, warmupTime: 0 });
  for (const variant of comparable) {
    for (const size of options.chunkSizes) {
      bench.add(`${variant.name} @ ${kib(size)}`, () => {
        runVariant(variant, data, size, false);
      });
    }
  }
  await bench.run();
  const rows: ParserRow[] = [];
  for (const variant of comparable) {
    for (const size of options.chunkSizes) {
      const task = bench.getTask(`${variant.name} @ ${kib(size)}`);
      const result = task?.result as
        | { period?: number; latency?: { rme: number; samplesCount?: number; samples?: number[] } }
        | undefined;
      const periodMs = result?.period ?? Number.NaN;
      rows.push({
        variant: variant.name,
        chunkSize: size,
        mbPerSecond: data.length / 1e6 / (periodMs / 1000),
        recordsPerSecond: reference.rows / (periodMs / 1000),
        vsNaive: Number.NaN,
        samples: result?.latency?.samplesCount ?? result?.latency?.samples?.length ?? 0,
        rme: result?.latency?.rme ?? Number.NaN,
      });
    }
  }
  for (const row of rows) {
    const naive = rows.find((r) => r.variant === 'naive regex' && r.chunkSize === row.chunkSize);
    row.vsNaive = naive ? row.mbPerSecond / naive.mbPerSecond : Number.NaN;
  }
  return { rows, excluded, dataBytes: data.length, records: reference.rows };
}

function verify(
  variant: ParserVariant,
  data: Buffer,
  chunkSizes: number[],
  expected: Buffer,
): string | undefined {
  for (const size of chunkSizes) {
    let csv: Buffer;
    try {
      csv = runVariant(variant, data, size, true).csv!;
    } catch (error) {
      return `it failed at ${kib(size)} chunks: ${(error as Error).message}`;
    }
    if (!csv.equals(expected)) {
      let at = 0;
      while (at < csv.length && at < expected.length && csv[at] === expected[at]) at++;
      return `its CSV differs from the core's at byte ${at} with ${kib(size)} chunks`;
    }
  }
  return undefined;
}

export function parserTable(result: ParserSuiteResult): string {
  const lines = [
    '| variant | chunk | MB/s | records/s | × naive | ± % |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...result.rows.map(
      (r) =>
        `| ${r.variant} | ${kib(r.chunkSize)} | ${r.mbPerSecond.toFixed(1)} | ${Math.round(r.recordsPerSecond).toLocaleString('en-US')} | ${r.vsNaive.toFixed(2)} | ${r.rme.toFixed(1)} |`,
    ),
  ];
  for (const e of result.excluded) lines.push(`\n${e.variant}: not timed, ${e.reason}.`);
  return lines.join('\n');
}
