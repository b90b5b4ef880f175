/**
 * Reads the V8 CPU profiles `node --cpu-prof --cpu-prof-dir=DIR` writes (one per thread: the main
 * thread and each worker) and prints, per thread: when it started and ended against the earliest
 * thread, how much of that span it was on CPU, the timeline of busy samples in 100 ms buckets,
 * and where the busy time went (self time by function, then by script).
 *   node dist/bench/cpu-profile.js DIR [--top 15]
 * A CPU profile sees JavaScript and WebAssembly only: zlib runs on libuv's threads, which it
 * counts as (idle) or (program) time of the thread that waits for them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ThreadSummary {
  file: string;
  /** µs, V8's monotonic clock (shared by the threads of one process). */
  startUs: number;
  endUs: number;
  /** µs on CPU in JavaScript, WebAssembly or GC: every sample but (idle). */
  busyUs: number;
  gcUs: number;
  /** Busy µs per 100 ms bucket from the earliest thread's start. */
  buckets: number[];
  byFunction: Map<string, number>;
  byScript: Map<string, number>;
}

const BUCKET_US = 100_000;

function shortUrl(url: string): string {
  if (!url) return '(native)';
  const i = url.search(/\/(dist|node_modules)\//);
  return i >= 0 ? url.slice(i + 1) : url.replace(/^node:/, 'node:');
}

export function summarize(file: string, profile: CpuProfile, originUs: number): ThreadSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const summary: ThreadSummary = {
    file: basename(file),
    startUs: profile.startTime,
    endUs: profile.endTime,
    busyUs: 0,
    gcUs: 0,
    buckets: [],
    byFunction: new Map(),
    byScript: new Map(),
  };
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    const node = byId.get(profile.samples[i]!)!;
    const name = node.callFrame.functionName;
    if (name === '(idle)') continue;
    summary.busyUs += delta;
    if (name === '(garbage collector)') summary.gcUs += delta;
    const bucket = Math.max(0, Math.floor((t - originUs) / BUCKET_US));
    while (summary.buckets.length <= bucket) summary.buckets.push(0);
    summary.buckets[bucket]! += delta;
    const script = shortUrl(node.callFrame.url);
    const key = `${name || '(anonymous)'} ${script}:${node.callFrame.lineNumber + 1}`;
    summary.byFunction.set(key, (summary.byFunction.get(key) ?? 0) + delta);
    summary.byScript.set(script, (summary.byScript.get(script) ?? 0) + delta);
  }
  return summary;
}

export function readProfiles(dir: string): ThreadSummary[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(dir, f));
  const profiles = files.map((f) => [f, JSON.parse(readFileSync(f, 'utf8')) as CpuProfile] as const);
  const origin = Math.min(...profiles.map(([, p]) => p.startTime));
  return profiles.map(([f, p]) => summarize(f, p, origin));
}

const ms = (us: number) => (us / 1000).toFixed(0);

function top(map: Map<string, number>, n: number, total: number): string[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v]) => `    ${ms(v).padStart(6)} ms ${((v / total) * 100).toFixed(1).padStart(5)}%  ${k}`);
}

export function report(threads: ThreadSummary[], n = 15): string {
  const origin = Math.min(...threads.map((t) => t.startUs));
  const lines: string[] = [];
  for (const t of threads) {
    const span = t.endUs - t.startUs;
    lines.push(
      `${t.file}: from ${ms(t.startUs - origin)} to ${ms(t.endUs - origin)} ms; busy ${ms(t.busyUs)} ms of ${ms(span)} (${((t.busyUs / span) * 100).toFixed(0)}%), GC ${ms(t.gcUs)} ms`,
      `  busy per 100 ms: ${t.buckets.map((b) => Math.round(b / 10_000)).join(' ')}`,
      '  by script:',
      ...top(t.byScript, 8, t.busyUs),
      '  by function:',
      ...top(t.byFunction, n, t.busyUs),
      '',
    );
  }
  return lines.join('\n');
}

const entry = process.argv[1] ?? '';
if (entry.endsWith('bench/cpu-profile.js')) {
  const dir = process.argv[2];
  if (!dir) {
    process.stderr.write('usage: node dist/bench/cpu-profile.js DIR [--top N]\n');
    process.exitCode = 1;
  } else {
    const at = process.argv.indexOf('--top');
    process.stdout.write(report(readProfiles(dir), at > 0 ? Number(process.argv[at + 1]) : 15));
  }
}
