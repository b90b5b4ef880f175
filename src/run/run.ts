import { open, stat } from 'node:fs/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../cli/config.js';
import { createProgress } from '../cli/progress.js';
import { Reporter, type RunSummary } from '../cli/report.js';
import type { ObjectErrorCode } from '../core/errors.js';
import { escapeControl } from '../core/safe-text.js';
import { createAdapters } from '../io/adapters.js';
import type { S3Settings } from '../io/s3-url.js';
import { convertObject } from '../object/convert-object.js';
import { type DestRef, describeDest, describeLayout, destinationFor, type Layout } from '../object/layout.js';
import { checkUpToDate, targetsOf } from '../object/resume.js';
import {
  CANCELLED,
  type ConvertOptions,
  type ConvertTask,
  describeSource,
  noCounts,
  RUNNING,
  STOPPING,
  type TaskResult,
} from '../object/task.js';
import { forEachBounded } from './dispatch.js';
import { type Input, layoutOf, type PlanCounts, type Planned, planSources, resolveInputs } from './plan.js';
import { type ConvertPool, createPool } from './pool.js';
import { SetupError } from './setup-error.js';

export interface RunEnv {
  stderr: NodeJS.WritableStream;
  stdout: NodeJS.WritableStream;
  /** First Ctrl-C: dispatch nothing more; objects in flight finish. */
  stop?: AbortSignal;
  /** Grace period over or second Ctrl-C: abort objects in flight (uploads aborted, nothing left). */
  cancel?: AbortSignal;
}

export interface RunOutcome extends RunSummary {
  interrupted: boolean;
  /** Set when the run could not go through its inputs (the listing failed part-way). */
  fatal?: string;
  /**
   * Set when, after `cancel`, the worker threads could not be stopped (one is blocked in a system
   * call, such as opening a FIFO nobody writes to): the process cannot exit normally either, as
   * Node joins those threads on exit, so a caller that wants to leave must end the process itself.
   */
  stuck?: string;
}

/**
 * After `cancel`, how long objects in flight get to abort (uploads aborted, temporary files
 * removed) before the run stops waiting for them and reports them as abandoned.
 */
export const ABANDON_AFTER_MS = 15_000;
/** After `cancel`, how long stopping the worker threads may take before the run leaves them. */
export const TEARDOWN_AFTER_CANCEL_MS = 4_000;

export function exitCodeOf(outcome: RunOutcome): number {
  if (outcome.interrupted) return 130;
  return outcome.failed > 0 || outcome.fatal || outcome.manifestError !== undefined ? 2 : 0;
}

/** The region from the environment or profile, else us-east-1 (S3 redirects to the right one). */
async function resolveRegion(): Promise<string> {
  const fromEnv = process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION;
  if (fromEnv) return fromEnv;
  const { S3Client } = await import('@aws-sdk/client-s3');
  try {
    return await new S3Client({}).config.region();
  } catch {
    return 'us-east-1';
  }
}

export async function run(config: Config, env: RunEnv): Promise<RunOutcome> {
  const usesS3 = [...config.inputs, config.to].some((l) => l.startsWith('s3://'));
  const s3: S3Settings | undefined = usesS3 ? { region: await resolveRegion(), ...config.s3 } : undefined;
  // The SDK loads only when an s3:// location is in play.
  const client = async (): Promise<S3Client> => (await import('../io/s3.js')).s3Client(s3!);
  const inputs = await resolveInputs(config, client, env.stop).catch((error: unknown) => {
    if (env.stop?.aborted) return undefined; // an S3 lookup cut short by Ctrl-C
    throw error;
  });
  if (!inputs) {
    return { ...(await new Reporter(env.stderr, undefined, config.quiet).finish()), interrupted: true };
  }
  const options: ConvertOptions = { ...config.task, s3 };
  const counts: PlanCounts = { filtered: 0, errorPrefix: 0, otherShard: 0 };
  if (config.dryRun) return dryRun(inputs, config, options, client, counts, env);
  if (config.manifest) {
    // A manifest that cannot be opened stops the run before any work starts.
    await (
      await open(config.manifest, 'a').catch((error: Error) => {
        throw new SetupError(`cannot write --manifest ${config.manifest}: ${error.message}`);
      })
    ).close();
  }
  const reporter = new Reporter(env.stderr, config.manifest, config.quiet);
  if (config.to === '-') return streamToStdout(inputs[0]!, config, options, env, reporter);

  const control = new Int32Array(new SharedArrayBuffer(4));
  const abandon = new AbortController();
  let abandonTimer: NodeJS.Timeout | undefined;
  const onStop = () => Atomics.store(control, 0, Math.max(STOPPING, Atomics.load(control, 0)));
  const onCancel = () => {
    Atomics.store(control, 0, CANCELLED);
    abandonTimer = setTimeout(() => abandon.abort(), ABANDON_AFTER_MS);
  };
  env.stop?.addEventListener('abort', onStop, { once: true });
  env.cancel?.addEventListener('abort', onCancel, { once: true });
  const progress = createProgress(env.stderr, config.quiet);
  const pool = createPool(config.workers, config.workerHeapMb);
  const outputs = new OutputGuard(inputs.length > 1 ? Number.POSITIVE_INFINITY : 65_536);
  let fatal: string | undefined;
  let stuck: string | undefined;
  try {
    const planned = countListed(
      planSources(inputs, config, client, counts, env.stop),
      () => progress.listed(),
      () => progress.listingDone(),
    );
    const abandoned = await forEachBounded(
      planned,
      // Enough queued that no worker waits for the main thread, few enough to stop promptly.
      config.workers + Math.max(1, Math.ceil(config.workers / 4)),
      async (item) => {
        const result = await convertPlanned(
          item,
          config,
          options,
          pool,
          control.buffer as SharedArrayBuffer,
          outputs,
        );
        if (abandon.signal.aborted) return; // reported as abandoned already
        reporter.add(result);
        progress.update(reporter.summary);
      },
      env.stop,
      abandon.signal,
    );
    for (const item of abandoned) reporter.add(abandonedResult(item, config));
  } catch (error) {
    // The listing or the walk failed part-way (S3 unreachable, a directory that cannot be read):
    // what was converted stays reported, and the run ends as failed.
    fatal = `stopped early: ${error instanceof Error ? error.message : String(error)}`;
  } finally {
    progress.stop();
    clearTimeout(abandonTimer);
    env.stop?.removeEventListener('abort', onStop);
    env.cancel?.removeEventListener('abort', onCancel);
    if ((await unlessCancelledFor(pool.destroy(), env.cancel, TEARDOWN_AFTER_CANCEL_MS)) === LEFT) {
      stuck = `the worker threads did not stop within ${TEARDOWN_AFTER_CANCEL_MS / 1000} s of the cancel (one blocked in a system call, such as opening a FIFO nobody writes to, cannot be stopped)`;
    }
  }
  reportSkips(counts, env.stderr, config.quiet);
  const summary = await reporter.finish(fatal);
  return {
    ...summary,
    fatal,
    stuck,
    interrupted: Atomics.load(control, 0) !== RUNNING || env.stop?.aborted === true,
  };
}

const LEFT = Symbol('left');

/**
 * `work`'s outcome; or LEFT once `cancel` has been aborted for `ms` (counting from when it aborts,
 * or from now if it already has), with `work` left running.
 */
function unlessCancelledFor<V>(
  work: Promise<V>,
  cancel: AbortSignal | undefined,
  ms: number,
): Promise<V | typeof LEFT> {
  if (!cancel) return work;
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const onCancel = () => {
      timer = setTimeout(() => resolve(LEFT), ms);
    };
    if (cancel.aborted) onCancel();
    else cancel.addEventListener('abort', onCancel, { once: true });
    const settle = () => {
      clearTimeout(timer);
      cancel.removeEventListener('abort', onCancel);
    };
    work.then(
      (value) => {
        settle();
        resolve(value);
      },
      (error) => {
        settle();
        reject(error);
      },
    );
  });
}

/** An object still aborting when the run stopped waiting for it (ABANDON_AFTER_MS after the cancel). */
function abandonedResult(item: Planned, config: Config): TaskResult {
  const target = describeLayout(layoutOf(item, config));
  return failed(
    describeSource(item.source),
    target,
    'INTERRUPTED',
    `still being cancelled ${ABANDON_AFTER_MS / 1000} s after the cancel, so left behind: its temporary file or unfinished multipart upload may remain`,
  );
}

/**
 * Two sources must never write one output (`x` and `x.gz` both become `x.csv.gz`; two input
 * directories may hold the same path). With several inputs every output is remembered; within one
 * listing such pairs sit close together in key order, so a window of recent outputs catches them
 * without memory growing with the number of keys.
 */
class OutputGuard {
  private readonly seen = new Set<string>();
  constructor(private readonly window: number) {}

  claim(output: string): boolean {
    if (this.seen.has(output)) return false;
    this.seen.add(output);
    if (this.seen.size > this.window) this.seen.delete(this.seen.values().next().value!);
    return true;
  }
}

async function* countListed(
  items: AsyncIterable<Planned>,
  onItem: () => void,
  onDone: () => void,
): AsyncGenerator<Planned> {
  for await (const item of items) {
    onItem();
    yield item;
  }
  onDone();
}

async function convertPlanned(
  item: Planned,
  config: Config,
  options: ConvertOptions,
  pool: ConvertPool,
  control: SharedArrayBuffer,
  outputs: OutputGuard,
): Promise<TaskResult> {
  const layout = layoutOf(item, config);
  const dest = destinationFor(layout);
  const source = describeSource(item.source);
  if ('error' in dest) return failed(source, '', 'UNSAFE_PATH', dest.error);
  const target = describeDest(dest);
  if (!outputs.claim(target)) {
    return failed(
      source,
      target,
      'DEST_COLLISION',
      `another source already writes ${target} (x and x.gz map to one output)`,
    );
  }
  const task: ConvertTask = { source: item.source, layout, options, control };
  try {
    return await pool.run(task);
  } catch (error) {
    // The worker died (out of memory, a crash): this object fails; Piscina replaces the worker.
    const message = error instanceof Error ? error.message : String(error);
    await cleanUpAfterCrash(dest, options);
    return failed(source, target, 'WORKER_CRASHED', `worker thread failed: ${message}`);
  }
}

/** Removes what a dead worker left of an output set: this process's temporary files, or open uploads. */
async function cleanUpAfterCrash(dest: DestRef, options: ConvertOptions): Promise<void> {
  const io = createAdapters(options.s3);
  const targets = targetsOf(dest, '', undefined);
  await Promise.allSettled(
    [targets.output, targets.rejects, targets.record].map((t) => t && io.cleanUpAfterCrash(t)),
  );
}

function failed(source: string, dest: string, code: ObjectErrorCode, message: string): TaskResult {
  return {
    source,
    dest,
    status: 'failed',
    ...noCounts(),
    error: { code, message },
  };
}

/** A single stream gains nothing from a thread hop: convert in-process. */
async function streamToStdout(
  input: Input,
  config: Config,
  options: ConvertOptions,
  env: RunEnv,
  reporter: Reporter,
): Promise<RunOutcome> {
  const source =
    input.kind === 'stdin'
      ? ({ kind: 'stdin' } as const)
      : input.kind === 's3-object'
        ? ({ kind: 's3', bucket: input.bucket, key: input.key } as const)
        : { kind: 'file' as const, path: (input as { path: string }).path };
  const cancel = new AbortController();
  const onAbort = () => cancel.abort();
  env.stop?.addEventListener('abort', onAbort, { once: true });
  let stuck: string | undefined;
  try {
    const layout: Layout = layoutOf({ source, relative: 'stdin' }, config);
    // A read that cannot be interrupted (a FIFO nobody writes to) would keep the stream, and with
    // it the summary, waiting for good: past the abandon time the run reports what it has.
    const converting = convertObject({ source, layout, options }, undefined, cancel.signal);
    const result = await unlessCancelledFor(converting, cancel.signal, ABANDON_AFTER_MS);
    if (result === LEFT) {
      const target = describeLayout(layout);
      reporter.add(
        failed(
          describeSource(source),
          target,
          'INTERRUPTED',
          `still being cancelled ${ABANDON_AFTER_MS / 1000} s after the cancel, so left behind`,
        ),
      );
      stuck = `the conversion did not stop within ${ABANDON_AFTER_MS / 1000} s of the cancel (a read blocked in a system call, such as opening a FIFO nobody writes to, cannot be stopped)`;
    } else reporter.add(result);
  } finally {
    env.stop?.removeEventListener('abort', onAbort);
  }
  return { ...(await reporter.finish()), stuck, interrupted: cancel.signal.aborted };
}

/** Lists and decides, writes nothing: one line per object on stdout, counts on stderr. */
async function dryRun(
  inputs: Input[],
  config: Config,
  options: ConvertOptions,
  client: () => Promise<S3Client>,
  counts: PlanCounts,
  env: RunEnv,
): Promise<RunOutcome> {
  const io = createAdapters(options.s3);
  let convert = 0;
  let upToDate = 0;
  let bytes = 0;
  let unsized = 0;
  await forEachBounded(
    planSources(inputs, config, client, counts, env.stop),
    16,
    async (item) => {
      const dest = destinationFor(layoutOf(item, config));
      const source = describeSource(item.source);
      if ('error' in dest) {
        env.stdout.write(`fail    ${escapeControl(source)}: ${escapeControl(dest.error)}\n`);
        return;
      }
      const target = describeDest(dest);
      if (!config.task.overwrite) {
        const version = await io.sourceVersion(item.source).catch(() => undefined);
        const state = version && (await checkUpToDate(io, dest, version).catch(() => undefined));
        if (state?.upToDate) {
          upToDate++;
          env.stdout.write(`skip    ${escapeControl(source)} (up to date: ${escapeControl(target)})\n`);
          return;
        }
      }
      convert++;
      // A listing gives S3 sizes; local files are stat'ed here, so the total is not a silent 0.
      const size =
        item.size ??
        (item.source.kind === 'file'
          ? await stat(item.source.path).then(
              (info) => info.size,
              () => undefined,
            )
          : undefined);
      if (size === undefined) unsized++;
      else bytes += size;
      env.stdout.write(
        `convert ${escapeControl(source)} -> ${escapeControl(target)}${size !== undefined ? ` (${size} bytes)` : ''}\n`,
      );
    },
    env.stop,
  );
  reportSkips(counts, env.stderr, false);
  const listed = unsized === 0 ? ` (${(bytes / 1e6).toFixed(1)} MB listed)` : '';
  env.stderr.write(
    `flowhose: dry run: ${convert} objects${listed} would be converted, ${upToDate} are up to date; nothing was written\n`,
  );
  return { ...new Reporter(env.stderr, undefined, true).summary, interrupted: env.stop?.aborted === true };
}

function reportSkips(counts: PlanCounts, stderr: NodeJS.WritableStream, quiet: boolean): void {
  if (counts.errorPrefix > 0) {
    stderr.write(
      `flowhose: left out ${counts.errorPrefix} objects under Firehose error prefixes (…-failed/); --convert-error-prefixes takes them\n`,
    );
  }
  if (quiet) return;
  if (counts.filtered > 0)
    stderr.write(`flowhose: ${counts.filtered} objects left out by --include/--exclude\n`);
  if (counts.otherShard > 0) stderr.write(`flowhose: ${counts.otherShard} objects belong to other shards\n`);
}
