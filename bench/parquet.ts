/**
 * Parquet beside CSV + gzip-6, in one run on one corpus: each a process of its own running the object
 * pipeline's streams in one thread (read, gunzip, ConvertStream, codec, write), so the CPU, output
 * bytes and peak RSS of the formats compare on equal terms. Parquet zstd needs Node ≥ 22.15.
 *   node dist/bench/parquet.js [--mb 64] [--objects 4] [--runs csv:6,parquet:zstd,parquet:snappy] [--repeat 3]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCorpus } from '../src/gen/write-corpus.js';
import { zstdAvailable } from '../src/streams/codecs.js';
import { machineLine } from './machine.js';
import { runChild } from './pipeline.js';
import type { ChildResult } from './pipeline-child.js';

const option = (name: string, fallback: string) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1]! : fallback;
};

export async function runParquetBench(options: {
  mb: number;
  objects: number;
  runs: string[];
  repeat: number;
  log: (line: string) => void;
}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'flowhose-parquet-bench-'));
  try {
    const { files, bytes } = await writeCorpus({
      out: join(dir, 'in'),
      objects: options.objects,
      mb: options.mb,
      seed: 11,
      ipv6Rate: 0.05,
      noDataRate: 0.03,
    });
    const results = new Map<string, ChildResult[]>();
    // Interleaved repeats, so a burst of load from the other tenants of the machine falls on all runs alike.
    for (let i = 0; i < options.repeat; i++) {
      for (const run of options.runs) {
        const [format, setting] = run.split(':') as ['csv' | 'parquet', string];
        const result = await runChild({
          mode: 'stream',
          files,
          out: join(dir, `out-${run.replace(':', '-')}`),
          format,
          // parquet:zstd-1 is zstd at level 1; parquet:zstd the encoder's default level.
          level: format === 'csv' ? Number(setting) : Number(setting.split('-')[1] ?? 0),
          ...(format === 'parquet' ? { compression: setting.split('-')[0] } : {}),
        });
        options.log(`  ${run}: ${result.cpuS.toFixed(2)} CPU s`);
        results.set(run, [...(results.get(run) ?? []), result]);
      }
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const csv = results.get(options.runs[0]!)!;
    const csvCpu = median(csv.map((r) => r.cpuS));
    const csvBytes = csv[0]!.bytesOut;
    const lines = [
      `Machine: ${machineLine()} (shared with other work); ${files.length} objects, ${(bytes / 1e6).toFixed(1)} MB gzip, ` +
        `${(csv[0]!.bytesDecoded / 1e6).toFixed(0)} MB decompressed, ${csv[0]!.rows} rows; median of ${options.repeat}`,
      '',
      `| run | CPU s | × ${options.runs[0]} CPU | wall s | MB/s | output MB | × ${options.runs[0]} bytes | peak RSS MB |`,
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ];
    for (const [run, all] of results) {
      const cpu = median(all.map((r) => r.cpuS));
      const wall = median(all.map((r) => r.wallS));
      const rss = Math.max(...all.map((r) => r.maxRssMB));
      const out = all[0]!.bytesOut;
      lines.push(
        `| ${run} | ${cpu.toFixed(2)} | ${(cpu / csvCpu).toFixed(2)} | ${wall.toFixed(2)} | ${(all[0]!.bytesDecoded / 1e6 / wall).toFixed(0)} | ${(out / 1e6).toFixed(2)} | ${(out / csvBytes).toFixed(2)} | ${rss.toFixed(0)} |`,
      );
    }
    return lines.join('\n');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if ((process.argv[1] ?? '').endsWith('bench/parquet.js')) {
  const fallback = `csv:6,${zstdAvailable() ? 'parquet:zstd,' : ''}parquet:snappy`;
  runParquetBench({
    mb: Number(option('--mb', '64')),
    objects: Number(option('--objects', '4')),
    runs: option('--runs', fallback).split(','),
    repeat: Number(option('--repeat', '3')),
    log: (line) => process.stderr.write(`${line}\n`),
  }).then((table) => process.stdout.write(`${table}\n`));
}
