import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { gzip } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleDemand, sampleThreads, threadSamplingAvailable } from '../bench/thread-sampler.js';
// The suites spawn their measuring child from the build, so they are exercised from dist/.
import { efficiencyTables, runEfficiencySuite } from '../dist/bench/efficiency.js';
import { pipelineTables, runPipelineSuite } from '../dist/bench/pipeline.js';
import { writeCorpus } from '../src/gen/write-corpus.js';

/** Benchmarks are not tests: these check the measuring parts add up and print, never a time. */
const linux = threadSamplingAvailable();
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flowhose-efficiency-test-'));
  await writeCorpus({ out: join(dir, 'corpus'), objects: 3, mb: 0.6, seed: 2 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!linux)('thread sampler (Linux /proc)', () => {
  it('tells a worker thread and the libuv pool apart from the main thread', async () => {
    const sampler = await sampleThreads(Number(process.env.UV_THREADPOOL_SIZE) || 4, 2, 5);
    // A worker that spins for a while, and zlib work, which runs on libuv's pool.
    const worker = new Worker(
      'const end = Date.now() + 150; while (Date.now() < end); require("node:worker_threads").parentPort.postMessage(0)',
      { eval: true },
    );
    const done = new Promise((resolve) => worker.once('message', resolve));
    const bytes = Buffer.alloc(8 * 1024 * 1024, 'flowhose ');
    await Promise.all(Array.from({ length: 4 }, () => new Promise((r) => gzip(bytes, { level: 9 }, r))));
    await done;
    await worker.terminate();
    const t = sampler.stop();
    expect(t.perWorker).toHaveLength(1);
    expect(t.perWorker[0]!.cpuS).toBeGreaterThan(0.05);
    expect(t.workers).toBe(t.perWorker[0]!.cpuS);
    expect(t.zlib).toBeGreaterThan(0);
    expect(t.busy.length).toBe(t.idleCores.length);
    for (const value of [t.main, t.v8, t.idle.startup, t.idle.steady, t.idle.tail, t.stolenS, t.othersS]) {
      expect(value).toBeGreaterThanOrEqual(0);
    }
  });

  it('counts runnable threads', async () => {
    const demand = sampleDemand(2, 1);
    const worker = new Worker(
      'const end = Date.now() + 80; while (Date.now() < end); require("node:worker_threads").parentPort.postMessage(0)',
      { eval: true },
    );
    await new Promise((resolve) => worker.once('message', resolve));
    await worker.terminate();
    const d = demand.stop();
    expect(d.samples).toBeGreaterThan(0);
    expect(d.meanRunnable).toBeGreaterThan(0);
    expect(d.unwantedCores).toBeLessThanOrEqual(2);
    expect(d.shortShare).toBeLessThanOrEqual(1);
  });
});

describe('ceiling ratios', () => {
  it('the pipeline suite prints convert at all cores against its ceiling, and where its CPU went', async () => {
    const result = await runPipelineSuite({
      corpus: join(dir, 'corpus'),
      scratch: join(dir, 'scratch'),
      workers: [1, 2],
      levels: [6],
      chunkSizes: [],
      log: () => {},
    });
    const tables = pipelineTables(result, 2);
    expect(tables).toMatch(
      /gzip-6 at 2 workers on 2 cores: \*\*\d+% of the ceiling\*\* \(floor CPU ÷ cores [\d.]+ s against [\d.]+ s wall\), [\d.]+× the one-process naive run\./,
    );
    if (linux) {
      const threads = result.runs.map((r) => r.threads!);
      expect(threads.map((t) => t.perWorker.length)).toEqual([1, 2]);
      for (const t of threads) expect(t.workers).toBeGreaterThan(0);
      expect(tables).toContain('| gzip | workers | main CPU s | worker threads CPU s |');
      expect(
        tables.match(
          /^\| 6 \| [12] \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+, [\d.]+, [\d.]+ \| [\d.]+, [\d.]+ \|$/gm,
        ),
      ).toHaveLength(2);
    }
  });

  it('the efficiency suite repeats floor, naive and convert, and sums the rounds up', async () => {
    const result = await runEfficiencySuite({
      corpus: join(dir, 'corpus'),
      scratch: join(dir, 'scratch-efficiency'),
      level: 6,
      workers: [1],
      rounds: 2,
      log: () => {},
    });
    expect(result.rounds).toHaveLength(2);
    for (const round of result.rounds) {
      expect(round.converts.map((c) => c.workers)).toEqual([1]);
      expect(round.converts[0]!.rows).toBe(round.naive.rows);
      expect(round.floor.bytesDecoded).toBe(round.converts[0]!.bytesDecoded);
    }
    const tables = efficiencyTables(result);
    expect(tables.match(/^\| [12] \| 1 \| [\d.]+ \| [\d.]+ \| [\d.]+ \| \d+% \| [\d.]+ \|/gm)).toHaveLength(
      2,
    );
    for (const round of result.rounds) expect(round.cliWallS).toBeGreaterThan(0);
    expect(tables).toMatch(
      /`flowhose convert` as a process .*, 1 workers: wall [\d.]+ \([\d.]+–[\d.]+\) s, \d+% \(\d+–\d+%\) of the ceiling, [\d.]+ \([\d.]+–[\d.]+\)× the one-process naive run\./,
    );
    expect(tables).toMatch(/^\| 1 \| 2 \| \d+% \(\d+–\d+%\) \| [\d.]+ \([\d.]+–[\d.]+\) \|/m);
  });
});
