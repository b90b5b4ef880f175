/**
 * Memory does not follow object size: converts one small and one very large object (default
 * 1 GB of payloads) with one worker, each in a fresh process, and prints peak RSS for both.
 *   node dist/bench/memory.js [--mb 1000]
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeLargeObject } from '../src/gen/write-corpus.js';
import { machineLine } from './machine.js';
import { runChild } from './pipeline.js';

export async function runMemoryCheck(bigMb: number, log: (line: string) => void): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'flowhose-memory-'));
  const lines = [
    '| object (decompressed) | gzip | peak RSS MB | wall s | MB/s |',
    '| ---: | ---: | ---: | ---: | ---: |',
  ];
  try {
    for (const mb of [1, bigMb]) {
      const input = join(dir, `in-${mb}`);
      await mkdir(input, { recursive: true });
      log(`  writing a ${mb} MB object`);
      const gz = await writeLargeObject(join(input, 'object'), { seed: 9, targetBytes: mb * 1e6 });
      log('  converting it with --workers 1');
      const result = await runChild(
        { mode: 'convert', input, out: join(dir, `out-${mb}`), workers: 1, level: 6 },
        { ...process.env, UV_THREADPOOL_SIZE: '4' },
      );
      lines.push(
        `| ${(result.bytesDecoded / 1e6).toFixed(0)} MB | ${(gz / 1e6).toFixed(1)} MB | ${result.maxRssMB.toFixed(0)} | ${result.wallS.toFixed(1)} | ${(result.bytesDecoded / 1e6 / result.wallS).toFixed(0)} |`,
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
  runMemoryCheck(mb, (line) => process.stderr.write(`${line}\n`)).then((table) => {
    process.stdout.write(`Machine: ${machineLine()}\n\n${table}\n`);
  });
}
