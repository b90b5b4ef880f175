/**
 * Per-thread CPU of this process over a run, from Linux's /proc/self/task/<tid>/schedstat (ns on
 * CPU, exact, unlike the 10 ms ticks of /proc's stat): which threads did the work, and in each
 * 100 ms of the run how many cores were busy with them, how many sat idle (/proc/stat: no thread of
 * any process runnable) and how many the hypervisor gave to other machines (steal). Idle cores are
 * what start-up, the last object's tail and hand-offs cost; steal says how loaded the host was, and
 * unlike wall time neither figure is inflated by it.
 *
 * Threads are told apart by when they appeared. Before the run: the main thread, V8's platform
 * threads (GC helpers, background compilation) and libuv's pool, which starts all its threads on
 * first use (module loading has used it already) and runs every zlib stream of every worker.
 * Threads that appear during the run are the pool's worker threads.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';

export interface ThreadBreakdown {
  /** CPU s by kind of thread. */
  main: number;
  workers: number;
  zlib: number;
  v8: number;
  /** Per worker thread, in start order: CPU s, and when it was first and last busy (s into the run). */
  perWorker: { cpuS: number; firstS: number; lastS: number }[];
  bucketS: number;
  /** Per bucket: cores busy with our threads; cores idle; cores stolen by the hypervisor. */
  busy: number[];
  idleCores: number[];
  stolen: number[];
  /**
   * Core-seconds idle (no thread runnable): before every worker is busy (start-up), after the
   * first worker has run out of objects (tail), and in between.
   */
  idle: { startup: number; steady: number; tail: number };
  /** Of the idle core-seconds, those with a thread waiting on disk I/O. */
  ioWaitS: number;
  /** Core-seconds the hypervisor ran other machines on our cores: how loaded the host was. */
  stolenS: number;
  /** Core-seconds other processes of this machine ran (capacity − ours − idle − steal). */
  othersS: number;
}

/** [ns on CPU, ns runnable but waiting for a CPU] of one thread. */
function schedstat(tid: string): [number, number] | undefined {
  try {
    const [cpu, wait] = readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ');
    return [Number(cpu), Number(wait)];
  } catch {
    return undefined; // the thread has exited
  }
}

const tids = () => readdirSync('/proc/self/task');

/**
 * Whole-machine [idle, of which waiting on I/O, steal] in seconds of one core (/proc/stat counts
 * USER_HZ = 100 ticks a second).
 */
function machineIdle(): [number, number, number] {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  return [((cpu[3] ?? 0) + (cpu[4] ?? 0)) / 100, (cpu[4] ?? 0) / 100, (cpu[7] ?? 0) / 100];
}

export function threadSamplingAvailable(): boolean {
  try {
    return schedstat(tids()[0]!) !== undefined;
  } catch {
    return false;
  }
}

interface Sample {
  at: number;
  cpu: number;
  idle: number;
  iowait: number;
  steal: number;
  /** CPU s of each worker thread since the sample before. */
  workers: Map<string, number>;
}

/**
 * Starts sampling; `stop()` ends it and adds up. `zlibThreads`: the libuv pool's size. libuv starts
 * its pool on the first request, so one is made first: its threads must be there to be told apart.
 */
export async function sampleThreads(zlibThreads: number, cores: number, everyMs = 50) {
  await stat('/proc/self');
  const started = performance.now();
  const main = String(process.pid);
  const before = tids();
  // libuv creates its pool in one go, after V8's platform threads: the last zlibThreads tids.
  const others = before.filter((t) => t !== main).sort((a, b) => Number(a) - Number(b));
  const zlib = new Set(others.slice(-zlibThreads));
  const first = new Map<string, [number, number]>();
  for (const t of before) first.set(t, schedstat(t) ?? [0, 0]);
  const last = new Map(first);
  let machine = machineIdle();
  const workers: string[] = [];
  const samples: Sample[] = [];
  const sample = () => {
    const at = (performance.now() - started) / 1000;
    const now = machineIdle();
    const s: Sample = {
      at,
      cpu: 0,
      idle: now[0] - machine[0],
      iowait: now[1] - machine[1],
      steal: now[2] - machine[2],
      workers: new Map(),
    };
    machine = now;
    for (const t of tids()) {
      const now = schedstat(t);
      if (!now) continue;
      if (!first.has(t)) {
        first.set(t, [0, 0]); // a thread born during the run: all its time is the run's
        workers.push(t);
      }
      const cpu = last.get(t)?.[0] ?? 0;
      last.set(t, now);
      s.cpu += (now[0] - cpu) / 1e9;
      if (workers.includes(t)) s.workers.set(t, (now[0] - cpu) / 1e9);
    }
    samples.push(s);
  };
  const timer = setInterval(sample, everyMs);
  return {
    stop(): ThreadBreakdown {
      clearInterval(timer);
      sample();
      const wall = (performance.now() - started) / 1000;
      const used = (t: string) => ((last.get(t)?.[0] ?? 0) - (first.get(t)?.[0] ?? 0)) / 1e9;
      const sum = (list: string[]) => list.reduce((a, t) => a + used(t), 0);
      const all = [...last.keys()];
      const bucketS = 0.1;
      const buckets = Math.max(1, Math.ceil(wall / bucketS));
      const busy = new Array<number>(buckets).fill(0);
      const idleCores = new Array<number>(buckets).fill(0);
      const stolen = new Array<number>(buckets).fill(0);
      // Each sample's time is spread evenly over the interval it covers.
      let from = 0;
      for (const s of samples) {
        const span = Math.max(s.at - from, 1e-9);
        for (let t = from; t < s.at - 1e-12; ) {
          const b = Math.min(buckets - 1, Math.floor(t / bucketS + 1e-9));
          const end = Math.min(s.at, (b + 1) * bucketS);
          busy[b]! += (s.cpu * (end - t)) / span;
          idleCores[b]! += (s.idle * (end - t)) / span;
          stolen[b]! += (s.steal * (end - t)) / span;
          t = end;
        }
        from = s.at;
      }
      const width = (b: number) => Math.min(bucketS, wall - b * bucketS);
      // A worker is busy in an interval when it ran for more than 5% of it (a thread waiting
      // for its next task runs ~0%).
      const perWorker = workers.map((t) => {
        let firstS = wall;
        let lastS = 0;
        let at = 0;
        for (const s of samples) {
          const ran = s.workers.get(t) ?? 0;
          if (ran > 0.05 * (s.at - at)) {
            firstS = Math.min(firstS, at);
            lastS = s.at;
          }
          at = s.at;
        }
        return { cpuS: used(t), firstS, lastS };
      });
      const allBusy = perWorker.length ? Math.max(...perWorker.map((w) => w.firstS)) : 0;
      const firstDone = perWorker.length
        ? Math.max(allBusy, Math.min(...perWorker.map((w) => w.lastS)))
        : wall;
      const idleBetween = (a: number, b: number) => {
        let idle = 0;
        for (let i = 0; i < buckets; i++) {
          const lo = Math.max(a, i * bucketS);
          const hi = Math.min(b, i * bucketS + width(i));
          if (hi > lo) idle += (idleCores[i]! * (hi - lo)) / width(i);
        }
        return idle;
      };
      return {
        main: used(main),
        workers: sum(workers),
        zlib: sum(all.filter((t) => zlib.has(t))),
        v8: sum(all.filter((t) => t !== main && !zlib.has(t) && !workers.includes(t))),
        perWorker,
        bucketS,
        busy: busy.map((c, b) => c / width(b)),
        idleCores: idleCores.map((c, b) => c / width(b)),
        stolen: stolen.map((c, b) => c / width(b)),
        idle: {
          startup: idleBetween(0, allBusy),
          steady: idleBetween(allBusy, firstDone),
          tail: idleBetween(firstDone, wall),
        },
        ioWaitS: samples.reduce((a, s) => a + s.iowait, 0),
        stolenS: stolen.reduce((a, b) => a + b, 0),
        othersS: Math.max(
          0,
          cores * wall -
            busy.reduce((a, b) => a + b, 0) -
            idleCores.reduce((a, b) => a + b, 0) -
            stolen.reduce((a, b) => a + b, 0),
        ),
      };
    },
  };
}

export interface Demand {
  samples: number;
  /** Mean runnable threads of ours, the main thread (which samples) left out. */
  meanRunnable: number;
  /**
   * Mean cores no thread of ours wanted: max(0, cores − runnable) averaged over the samples. A
   * thread another process keeps off a core still counts as runnable, so this is what a quiet
   * machine would leave idle, measured on a loaded one.
   */
  unwantedCores: number;
  /** Share of samples with fewer runnable threads than cores. */
  shortShare: number;
}

/**
 * Samples how many of this process's threads are runnable (state R in /proc/self/task/<tid>/stat),
 * every `everyMs`: a measure of demand that load from other processes barely disturbs. Costs the
 * main thread ~0.1 ms a sample, so it is asked for separately.
 */
export function sampleDemand(cores: number, everyMs = 2) {
  const main = String(process.pid);
  const counts: number[] = [];
  const timer = setInterval(() => {
    let runnable = 0;
    for (const t of tids()) {
      if (t === main) continue;
      try {
        const stat = readFileSync(`/proc/self/task/${t}/stat`, 'latin1');
        // The state follows the command name, which is in parentheses.
        if (stat.charCodeAt(stat.lastIndexOf(')') + 2) === 82 /* R */) runnable++;
      } catch {
        // the thread has exited
      }
    }
    counts.push(runnable);
  }, everyMs);
  return {
    stop(): Demand {
      clearInterval(timer);
      const n = Math.max(1, counts.length);
      return {
        samples: counts.length,
        meanRunnable: counts.reduce((a, b) => a + b, 0) / n,
        unwantedCores: counts.reduce((a, c) => a + Math.max(0, cores - c), 0) / n,
        shortShare: counts.filter((c) => c < cores).length / n,
      };
    },
  };
}
