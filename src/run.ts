import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { Config } from './config.js';
import { convertObject } from './convert-object.js';
import { UsageError } from './core/errors.js';
import { forEachBounded } from './dispatch.js';
import { walkFiles } from './local-walk.js';
import { outputName, rejectsName, safeJoin } from './paths.js';
import { type ConvertPool, createPool } from './pool.js';
import { Reporter, type RunSummary } from './report.js';
import type { ConvertOptions, ConvertTask, TaskResult } from './task.js';

export interface RunEnv {
  stderr: NodeJS.WritableStream;
  /** Aborting stops dispatch; objects already converting finish. */
  signal?: AbortSignal;
}

type Input = { kind: 'stdin' } | { kind: 'file'; path: string } | { kind: 'dir'; path: string };

export function exitCodeOf(summary: RunSummary): number {
  return summary.failed > 0 ? 2 : 0;
}

/** Checks every input and the destination before any work starts: problems here are usage errors. */
export async function resolveInputs(config: Config): Promise<Input[]> {
  if (config.to !== '-') {
    const to = await stat(config.to).catch(() => undefined);
    if (to && !to.isDirectory()) throw new UsageError(`--to ${config.to} exists and is not a directory`);
  }
  const inputs: Input[] = [];
  for (const path of config.inputs) {
    if (path === '-') {
      inputs.push({ kind: 'stdin' });
      continue;
    }
    const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
      throw new UsageError(
        `cannot read input ${path}: ${error.code === 'ENOENT' ? 'no such file or directory' : error.message}`,
      );
    });
    if (info.isDirectory()) {
      if (config.to === '-')
        throw new UsageError(`--to - (stdout) takes one file or stdin, and ${path} is a directory`);
      inputs.push({ kind: 'dir', path });
    } else {
      inputs.push({ kind: 'file', path });
    }
  }
  return inputs;
}

export async function run(config: Config, env: RunEnv): Promise<RunSummary> {
  const inputs = await resolveInputs(config);
  const options: ConvertOptions = {
    logFormat: config.logFormat,
    gzipLevel: config.gzipLevel,
    chunkSize: config.chunkSize,
    maxRecordBytes: config.maxRecordBytes,
  };
  const reporter = new Reporter(env.stderr, config.manifest, config.quiet);
  if (config.to === '-') {
    // A single stream gains nothing from a thread hop: convert in-process.
    const input = inputs[0]!;
    const source =
      input.kind === 'stdin' ? ({ kind: 'stdin' } as const) : { kind: 'file' as const, path: input.path };
    reporter.add(
      await convertObject({ source, dest: { kind: 'stdout', rejectsPath: config.rejects }, options }),
    );
    return reporter.finish();
  }
  const pool = createPool(config.workers);
  try {
    await forEachBounded(
      planLocal(inputs, config, options),
      config.workers * 2,
      async (item) => reporter.add('status' in item ? item : await runOnPool(pool, item)),
      env.signal,
    );
  } finally {
    await pool.destroy();
  }
  return reporter.finish();
}

async function runOnPool(pool: ConvertPool, task: ConvertTask): Promise<TaskResult> {
  try {
    return await pool.run(task);
  } catch (error) {
    // The worker died (out of memory, a crash): this object fails, the pool replaces the worker.
    const message = error instanceof Error ? error.message : String(error);
    return failedResult(task, 'WORKER_CRASHED', `worker thread failed: ${message}`);
  }
}

function failedResult(task: ConvertTask, code: string, message: string): TaskResult {
  const source = task.source.kind === 'file' ? task.source.path : '-';
  const dest = task.dest.kind === 'file' ? task.dest.path : '-';
  return {
    source,
    dest,
    status: 'failed',
    rows: 0,
    rejected: 0,
    control: 0,
    bytesIn: 0,
    bytesDecoded: 0,
    bytesOut: 0,
    error: { code, message },
  };
}

/**
 * Local inputs → tasks. A directory mirrors its relative paths under --to; a file lands under its
 * own name. With several inputs, two sources that would write the same output fail the later one
 * instead of overwriting.
 */
async function* planLocal(
  inputs: Input[],
  config: Config,
  options: ConvertOptions,
): AsyncGenerator<ConvertTask | TaskResult> {
  const gzip = config.gzipLevel > 0;
  const seen = inputs.length > 1 ? new Set<string>() : undefined;
  for (const input of inputs) {
    if (input.kind === 'stdin') continue;
    const files = input.kind === 'dir' ? walkFiles(input.path, config.to) : single(input.path);
    for await (const file of files) {
      const rel = outputName(file.relative, gzip);
      const path = safeJoin(config.to, rel);
      const task: ConvertTask = {
        source: { kind: 'file', path: file.path },
        dest: { kind: 'file', path: path ?? rel, rejectsPath: path ? rejectsName(path) : '' },
        options,
      };
      if (!path) {
        yield failedResult(task, 'UNSAFE_PATH', `output path ${rel} would fall outside ${config.to}`);
      } else if (seen?.has(path)) {
        yield failedResult(task, 'DEST_COLLISION', `another input already writes ${path}`);
      } else {
        seen?.add(path);
        yield task;
      }
    }
  }
}

async function* single(path: string) {
  yield { path, relative: basename(resolve(path)) };
}
