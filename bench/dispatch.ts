/**
 * How much main-thread time one object costs (listing, dispatch, the result message, manifest
 * and progress), measured with many tiny objects so that conversion is negligible. Divide a real
 * object's conversion time by it to see how many workers one main thread can keep busy.
 *   node dist/bench/dispatch.js [--objects 3000]
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateObject } from '../src/gen/corpus.js';
import { machineLine } from './machine.js';
import { runChild } from './pipeline.js';

export async function runDispatchCheck(objects: number, workers: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'flowhose-dispatch-'));
  try {
    const input = join(dir, 'in');
    const tiny = generateObject({ seed: 5, targetBytes: 1, eventsMin: 1, eventsMax: 1, controlRate: 0 });
    for (let i = 0; i < objects; i++) {
      const sub = join(input, String(i % 100).padStart(2, '0'));
      if (i < 100) await mkdir(sub, { recursive: true });
      await writeFile(join(sub, `object-${i}`), tiny);
    }
    const result = await runChild(
      { mode: 'convert', input, out: join(dir, 'out'), workers, level: 6 },
      { ...process.env, UV_THREADPOOL_SIZE: String(2 * workers + 2) },
    );
    const perObject = ((result.mainBusyS ?? 0) * 1000) / (result.objects ?? objects);
    return [
      '| objects | workers | wall s | main thread busy s | main thread ms per object | objects/s |',
      '| ---: | ---: | ---: | ---: | ---: | ---: |',
      `| ${result.objects} | ${workers} | ${result.wallS.toFixed(2)} | ${(result.mainBusyS ?? 0).toFixed(2)} | ${perObject.toFixed(3)} | ${((result.objects ?? objects) / result.wallS).toFixed(0)} |`,
    ].join('\n');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if ((process.argv[1] ?? '').endsWith('bench/dispatch.js')) {
  const at = process.argv.indexOf('--objects');
  const objects = at > 0 ? Number(process.argv[at + 1]) : 3000;
  runDispatchCheck(objects, 2).then((table) =>
    process.stdout.write(`Machine: ${machineLine()}\n\n${table}\n`),
  );
}
