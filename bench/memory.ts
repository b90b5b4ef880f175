/**
 * Memory does not follow object size: converts one small and one very large object (default
 * 1 GB of payloads) with one worker, each in a fresh process, and prints peak RSS for both.
 * `--format parquet` converts to Parquet instead (`--compression zstd|snappy|gzip|none`, zstd on
 * Node ≥ 22.15), as `flowhose convert --workers 1` does; `--format parquet-stream` and `csv-stream` run the
 * object pipeline's streams in this process's one thread instead (no pool), to compare the encoders alone.
 *   node dist/bench/memory.js [--mb 1000] [--format csv|parquet|csv-stream|parquet-stream] [--compression zstd] [--rows N]
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeLargeObject } from '../src/gen/write-corpus.js';
import { machineLine } from './machine.js';
import { runChild } from './pipeline.js';

export type MemoryFormat = 'csv' | 'parquet' | 'csv-stream' | 'parquet-stream';

export async function runMemoryCheck(
  bigMb: number,
  log: (line: string) => void,
  format: MemoryFormat = 'csv',
  compression = 'zstd',
  rowGroupRows?: number,
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'flowhose-memory-'));
  const lines = [
    `| object (decompressed) | gzip | output | peak RSS MB | wall s | MB/s |`,
    '| ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  try {
    for (const mb of [1, bigMb]) {
      const input = join(dir, `in-${mb}`);
      await mkdir(input, { recursive: true });
      log(`  writing a ${mb} MB object`);
      const gz = await writeLargeObject(join(input, 'object'), { seed: 9, targetBytes: mb * 1e6 });
      const out = join(dir, `out-${mb}`);
      log(
        format === 'csv' || format === 'parquet'
          ? `  converting it to ${format} with --workers 1`
          : `  converting it to ${format} in one thread`,
      );
      const result = await runChild(
        format === 'csv' || format === 'parquet'
          ? {
              mode: 'convert',
              input,
              out,
              workers: 1,
              level: 6,
              outputFormat: format,
              ...(format === 'parquet' ? { compression } : {}),
            }
          : {
              mode: 'stream',
              files: [join(input, 'object')],
              out,
              format: format === 'parquet-stream' ? 'parquet' : 'csv',
              level: 6,
              compression,
              ...(rowGroupRows ? { rowGroupRows } : {}),
            },
        { ...process.env, UV_THREADPOOL_SIZE: '4' },
      );
      lines.push(
        `| ${(result.bytesDecoded / 1e6).toFixed(0)} MB | ${(gz / 1e6).toFixed(1)} MB | ${(result.bytesOut / 1e6).toFixed(1)} MB | ${result.maxRssMB.toFixed(0)} | ${result.wallS.toFixed(1)} | ${(result.bytesDecoded / 1e6 / result.wallS).toFixed(0)} |`,
      );
      await rm(input, { recursive: true, force: true });
      await rm(join(dir, `out-${mb}`), { recursive: true, force: true });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return lines.join('\n');
}

if ((process.argv[1] ?? '').endsWith('bench/memory.js')) {
  const at = process.argv.indexOf('--mb');
  const mb = at > 0 ? Number(process.argv[at + 1]) : 1000;
  const option = (name: string, fallback: string) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1]! : fallback;
  };
  const format = option('--format', 'csv') as MemoryFormat;
  const compression = option('--compression', 'zstd');
  const rows = Number(option('--rows', '0')) || undefined;
  runMemoryCheck(mb, (line) => process.stderr.write(`${line}\n`), format, compression, rows).then((table) => {
    const what = format.startsWith('parquet') ? `${format} (${compression})` : format;
    process.stdout.write(`Machine: ${machineLine()}; ${what}\n\n${table}\n`);
  });
}
