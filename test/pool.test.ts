/**
 * The worker pool's start and end (issue 8, fix 1). Terminating a thread while Node is still
 * loading its module can abort the whole process, and rarely enough that no test can wait for the
 * abort itself (test/stress/worker-start.mjs hunts for that); these tests pin the rules that keep
 * it from happening: threads start only for work, and destroy() terminates a thread only after
 * Piscina has reported it ready, which it does once its module has loaded.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Piscina } from 'piscina';
import { afterAll, beforeAll, expect, it } from 'vitest';
// The built pool: its workers load dist/workers/convert.js (npm test builds first).
import { STOPPING } from '../dist/src/object/task.js';
import { createPool } from '../dist/src/run/pool.js';
import { trackLoadedThreads } from '../dist/src/run/worker-loaded.js';
import { expectExit, runFlowhose } from './helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flowhose-pool-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A task the worker answers 'not-started' at once (the run is stopping): it exercises only the pool. */
function stoppedTask(): Parameters<ReturnType<typeof createPool>['run']>[0] {
  const control = new SharedArrayBuffer(4);
  Atomics.store(new Int32Array(control), 0, STOPPING);
  return {
    source: { kind: 'file', path: join(dir, 'unused') },
    layout: { to: dir, relative: 'unused', format: 'csv', codec: 'gzip' },
    options: {} as Parameters<ReturnType<typeof createPool>['run']>[0]['options'],
    control,
  };
}

it('one object starts one thread, however many workers the pool may use', async () => {
  const pool = createPool(3);
  expect((await pool.run(stoppedTask())).status).toBe('not-started');
  await pool.destroy();
  expect(pool.terminated).toEqual({ loaded: 1, of: 1 });
});

it('destroy() waits for a thread that is still loading its module, then terminates it loaded', async () => {
  const pool = createPool(2);
  const task = pool.run(stoppedTask()).catch((error: Error) => error);
  await pool.destroy(); // at once: the one thread has only just been started
  expect(pool.terminated).toEqual({ loaded: 1, of: 1 });
  // The task either ran before the thread was terminated or was rejected by the termination.
  const outcome = await task;
  expect(outcome instanceof Error ? outcome.message : outcome.status).toMatch(/not-started|Terminating/);
});

it('a task submitted after destroy() is rejected and starts no thread', async () => {
  const pool = createPool(1);
  await pool.destroy();
  await expect(pool.run(stoppedTask())).rejects.toThrow(/destroyed/);
});

it("a thread counts as loaded only once Piscina reports it ready, after its module's evaluation", async () => {
  // A module that takes a while to evaluate and counts, at its very end, that it has.
  const module = join(dir, 'slow-module.mjs');
  await writeFile(
    module,
    [
      "import { workerData } from 'node:worker_threads';",
      'const until = Date.now() + 150;',
      'while (Date.now() < until);',
      'Atomics.add(new Int32Array(workerData.evaluated), 0, 1);',
      'export default () => 0;',
    ].join('\n'),
  );
  const evaluated = new Int32Array(new SharedArrayBuffer(4));
  const pool = new Piscina({
    filename: module,
    minThreads: 0,
    maxThreads: 2,
    // Kept while idle: the second thread may load after the first has run both tasks.
    idleTimeout: 60_000,
    workerData: { evaluated: evaluated.buffer },
  });
  const loaded = trackLoadedThreads(pool);
  const tasks = [pool.run(null), pool.run(null)];
  expect(loaded.count()).toEqual({ loaded: 0, of: 2 });
  let count = loaded.count();
  while (count.loaded < count.of) {
    await loaded.changed();
    count = loaded.count();
    expect(Atomics.load(evaluated, 0)).toBeGreaterThanOrEqual(count.loaded);
  }
  expect(count).toEqual({ loaded: 2, of: 2 });
  await Promise.all(tasks);
  await pool.destroy();
  expect(loaded.count()).toEqual({ loaded: 0, of: 0 });
  // Threads started up front are marked ready by Piscina before they load: not trackable.
  const eager = new Piscina({
    filename: module,
    minThreads: 1,
    maxThreads: 1,
    workerData: { evaluated: evaluated.buffer },
  });
  expect(() => trackLoadedThreads(eager)).toThrow(/minThreads 0/);
  await eager.run(null); // its thread has loaded once it has run a task: safe to terminate
  await eager.destroy();
});

it('a thread that dies with a task queued behind it: the queued task still runs', async () => {
  // -w 1: the small object waits behind the big one, whose thread exceeds its heap cap. Piscina
  // starts no replacement by itself (minThreads 0); without the pool holding tasks back, the run
  // ended with exit 0 and the small object never converted.
  const input = join(dir, 'crash-in');
  const out = join(dir, 'crash-out');
  await mkdir(input);
  const R1 =
    '2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK';
  const event = JSON.stringify({ id: '1', timestamp: 1418530010000, message: R1 });
  const payload = (n: number) =>
    `{"messageType":"DATA_MESSAGE","logEvents":[${Array(n).fill(event).join(',')}]}`;
  // ~50 MB of JSON text: more than a 40 MB heap holds on Node 20 and 24 (25 MB sometimes fits on 24).
  await writeFile(join(input, 'a-big'), gzipSync(payload(300_000)));
  await writeFile(join(input, 'b-small'), gzipSync(payload(3)));
  const run = await runFlowhose([
    'convert',
    input,
    '--to',
    out,
    '-w',
    '1',
    '--parser',
    'json',
    '--worker-heap-mb',
    '40',
    '--max-record-size',
    '64m',
  ]);
  expectExit(run, 2);
  expect(run.stderr).toMatch(/a-big: WORKER_CRASHED/);
  expect(run.stderr).toMatch(/objects 1 ok, 1 failed/);
  expect(existsSync(join(out, 'b-small.csv.gz'))).toBe(true);
});
