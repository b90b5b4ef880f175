/**
 * Ctrl-C ends a run within --grace plus the 20 s cap, with the summary, whatever it waits on. The hard case:
 * an explicit FIFO input nobody writes to. Opening it blocks a libuv pool thread in open(2), which nothing can
 * interrupt; a worker thread with such a request cannot be terminated, and Node's exit joins those threads,
 * so process.exit() itself hangs. flowhose reports, then ends itself by the signal it received: the shell
 * sees 130 for SIGINT (143 for SIGTERM) either way.
 *
 * Linux only: the tests wait until the FIFO open is blocked (a thread in the kernel's wait_for_partner, seen in
 * /proc), so that the signal arrives while the open is in progress.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'flowhose.cjs');
const GRACE = 1;
/** A correctness limit, far above what ending takes: without the fix the process never ends. */
const BOUND_MS = (GRACE + 25) * 1000;
const SUMMARY = /flowhose: objects \d+ ok, \d+ failed/;

let tmp: string;
let fifos = 0;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'flowhose-signals-'));
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** The exit status a shell reports: the exit code, or 128 + the number of the signal that ended the process. */
const shellStatus = (run: Run) => run.code ?? 128 + constants.signals[run.signal!];

function start(args: string[]): { child: ChildProcess; done: Promise<Run> } {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => {
    stderr += s;
  });
  const done = new Promise<Run>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
  return { child, done };
}

/** Resolves once a thread of `pid` waits in the kernel for the other end of a FIFO. */
async function fifoOpenBlocked(pid: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const tasks = await readdir(`/proc/${pid}/task`).catch(() => []);
    for (const task of tasks) {
      const wchan = await readFile(`/proc/${pid}/task/${task}/wchan`, 'utf8').catch(() => '');
      if (wchan.includes('wait_for_partner')) return;
    }
    await sleep(50);
  }
  throw new Error(`no thread of ${pid} blocked opening the FIFO within ${timeoutMs} ms`);
}

/** Ends `run` if it outlives `ms` (the test then fails on the bound, and leaves nothing behind). */
async function within(running: { child: ChildProcess; done: Promise<Run> }, ms: number) {
  const sent = performance.now();
  const limit = setTimeout(() => running.child.kill('SIGKILL'), ms + 5_000);
  const run = await running.done;
  clearTimeout(limit);
  return { run, tookMs: performance.now() - sent };
}

function mkfifo(): string {
  const path = join(tmp, `fifo-${++fifos}`);
  execFileSync('mkfifo', [path]);
  return path;
}

const canSeeFifoWaits = process.platform === 'linux' && existsSync('/proc/self/wchan');

describe.skipIf(!canSeeFifoWaits)('Ctrl-C with a FIFO input nobody writes to', () => {
  it('SIGINT: the summary, exit status 130, within --grace + 25 s', async () => {
    const out = join(tmp, 'out-pool');
    const running = start(['convert', mkfifo(), '--to', out, '--grace', String(GRACE), '--workers', '1']);
    await fifoOpenBlocked(running.child.pid!);
    running.child.kill('SIGINT');
    const { run, tookMs } = await within(running, BOUND_MS);

    expect(shellStatus(run), run.stderr).toBe(130);
    expect(run.stderr).toContain('flowhose: interrupted');
    expect(run.stderr).toMatch(/failed: .*fifo-\d+: INTERRUPTED: /);
    expect(run.stderr).toMatch(SUMMARY);
    expect(tookMs, run.stderr).toBeLessThan(BOUND_MS);
  });

  it('SIGTERM with --to -: the summary, ended by SIGTERM (143), within --grace + 25 s', async () => {
    const running = start(['convert', mkfifo(), '--to', '-', '--grace', String(GRACE)]);
    await fifoOpenBlocked(running.child.pid!);
    running.child.kill('SIGTERM');
    const { run, tookMs } = await within(running, BOUND_MS);

    expect(shellStatus(run), run.stderr).toBe(143);
    expect(run.stderr).toMatch(SUMMARY);
    expect(tookMs, run.stderr).toBeLessThan(BOUND_MS);
  });
});
