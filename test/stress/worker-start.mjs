#!/usr/bin/env node
/**
 * Stress test of the pool's worker start (issue 8, fix 1): many short one-object `convert` runs
 * with the other cores kept busy. A worker thread that is terminated while Node is still
 * loading its module aborts the whole process (exit 134, `facade->InstantiateModule`); a
 * one-object run is where that happened, because the run ends while threads are still starting.
 *
 *   node test/stress/worker-start.mjs [--runs 200] [--parallel 4] [--deadline 150] [--burners N] [--workers N]
 *
 * Runs `--parallel` CLI processes at once until `--runs` have finished or `--deadline` seconds have
 * passed. Passes only when every run exited 0 and at least `--runs` completed. Needs dist/ (npm
 * run build). Plain JavaScript so that it runs on any Node without a build step. `--workers` is
 * passed to the CLI (default: the CLI's own default); more workers than objects is the case at risk.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'flowhose.cjs');
const SAMPLE = join(ROOT, 'examples', 'firehose-sample');
/** A run that takes this long has hung: that is a failure too, not a reason to wait forever. */
const RUN_TIMEOUT_MS = 30_000;

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isInteger(value) || value < 0) {
    console.error(`worker-start: --${name} wants a whole number, got ${process.argv[at + 1]}`);
    process.exit(1);
  }
  return value;
}

const runs = option('runs', 200);
const parallel = option('parallel', 4);
const deadlineMs = option('deadline', 150) * 1000;
// The CLI's own threads get one core; every other core spins.
const burners = option('burners', Math.max(1, availableParallelism() - 1));
const workers = option('workers', 0);
const workerArgs = workers > 0 ? ['--workers', String(workers)] : [];

/** A child that keeps one core busy until it is killed. */
const burn = () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });

/** One `convert` of the one-object sample into its own directory; resolves with how it ended. */
function convertOnce(to) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'convert', SAMPLE, '--to', to, '--quiet', ...workerArgs], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    const stderr = [];
    child.stderr.on('data', (b) => stderr.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const hung = signal === 'SIGKILL';
      resolve({
        outcome: hung ? 'timeout' : signal ? `signal ${signal}` : `exit ${code}`,
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
  });
}

const tmp = await mkdtemp(join(tmpdir(), 'flowhose-stress-'));
const spinning = Array.from({ length: burners }, burn);
const outcomes = new Map();
const failures = [];
const started = Date.now();
let next = 0;
let done = 0;

async function lane() {
  while (next < runs && Date.now() - started < deadlineMs) {
    const to = join(tmp, `run-${next++}`);
    const { outcome, stderr } = await convertOnce(to);
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    if (outcome !== 'exit 0') failures.push({ outcome, stderr });
    done++;
    await rm(to, { recursive: true, force: true });
  }
}

try {
  await Promise.all(Array.from({ length: parallel }, lane));
} finally {
  for (const child of spinning) child.kill('SIGKILL');
  await rm(tmp, { recursive: true, force: true });
}

const seconds = ((Date.now() - started) / 1000).toFixed(1);
const tally = [...outcomes].map(([outcome, n]) => `${outcome} ×${n}`).join(', ');
console.log(
  `worker-start: ${done} one-object runs in ${seconds} s (${parallel} at once, ${workers || 'default'} workers, ${burners} busy-loop burner(s), node ${process.version}): ${tally}`,
);
for (const { outcome, stderr } of failures.slice(0, 3)) {
  console.log(`--- ${outcome}, stderr:\n${stderr.trim().split('\n').slice(-15).join('\n')}`);
}
if (failures.length > 0) {
  console.log(`worker-start: FAILED, ${failures.length} abnormal exits`);
  process.exit(1);
}
if (done < runs) {
  console.log(
    `worker-start: FAILED, only ${done} of ${runs} runs before the ${deadlineMs / 1000} s deadline`,
  );
  process.exit(1);
}
console.log('worker-start: ok');
