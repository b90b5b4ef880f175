/**
 * One measured run of the pipeline suite, in a process of its own so that CPU time (all threads:
 * workers and the libuv pool) and peak RSS belong to that run alone. Prints one JSON line.
 *   node pipeline-child.js '{"mode":"convert",…}'
 */
import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, join } from 'node:path';
import { PassThrough, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants, createGzip } from 'node:zlib';
import { createConfig } from '../src/cli/config.js';
import { run } from '../src/run/run.js';
import { CODECS } from '../src/streams/codecs.js';
import { ConvertStream } from '../src/streams/convert-stream.js';
import { gunzipLayers } from '../src/streams/gunzip-layers.js';
import type { ParquetCompression } from '../src/streams/parquet-encoder.js';
import {
  type Demand,
  sampleDemand,
  sampleThreads,
  type ThreadBreakdown,
  threadSamplingAvailable,
} from './thread-sampler.js';
import { naiveRegex } from './variants.js';

export type ChildJob =
  | {
      mode: 'convert';
      input: string;
      out: string;
      workers: number;
      /** The gzip level; with `zstd`, the zstd level instead. */
      level: number;
      zstd?: boolean;
      /** `--output-format`; csv when absent. */
      outputFormat?: string;
      /** `--compression` of a format that compresses inside its file (Parquet). */
      compression?: string;
      chunkSize?: number;
      parser?: string;
      /** Also sample runnable threads (costs the main thread a little). */
      demand?: boolean;
    }
  | { mode: 'gunzip'; files: string[]; chunkSize: number }
  | {
      mode: 'gunzip-gzip' | 'gunzip-zstd';
      files: string[];
      csvFiles: string[];
      level: number;
      chunkSize: number;
    }
  | { mode: 'gzip' | 'zstd'; csvFiles: string[]; level: number; chunkSize: number }
  | { mode: 'naive'; files: string[]; level: number; out: string }
  | {
      /**
       * One object after another through the object pipeline's streams in this thread (read, gunzip,
       * ConvertStream, codec, write), no pool: CSV + gzip or Parquet side by side on equal terms.
       */
      mode: 'stream';
      files: string[];
      out: string;
      format: 'csv' | 'parquet';
      /** csv: the gzip level; parquet: its codec's level (zstd 1–19, gzip 1–9), 0 for the encoder's default. */
      level: number;
      compression?: string;
      rowGroupRows?: number;
    };

export interface ChildResult {
  wallS: number;
  cpuS: number;
  maxRssMB: number;
  rows: number;
  bytesDecoded: number;
  bytesOut: number;
  /** Main-thread busy time (event-loop utilisation × wall): what dispatch costs, per run. */
  mainBusyS?: number;
  objects?: number;
  /** convert on Linux: CPU by thread and busy cores over time. */
  threads?: ThreadBreakdown;
  /** convert with `demand`: how many of its threads were runnable, sampled every 2 ms. */
  demand?: Demand;
}

/** A pass-through stage that reports each chunk's length. */
const tap = (count: (bytes: number) => void) =>
  new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      count(chunk.length);
      callback(null, chunk);
    },
  });

function counter() {
  let bytes = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      callback();
    },
  });
  return { sink, bytes: () => bytes };
}

async function main(job: ChildJob): Promise<Omit<ChildResult, 'wallS' | 'cpuS' | 'maxRssMB'>> {
  const elu = performance.eventLoopUtilization();
  if (job.mode === 'convert') {
    const devNull = new Writable({ write: (_c, _e, cb) => cb() });
    const config = createConfig({
      inputs: [job.input],
      to: job.out,
      workers: job.workers,
      ...(job.zstd
        ? { compression: 'zstd', zstdLevel: job.level }
        : job.compression && job.compression !== 'gzip'
          ? {}
          : { gzipLevel: job.level }),
      chunkSize: job.chunkSize,
      parser: job.parser,
      outputFormat: job.outputFormat,
      ...(job.compression ? { compression: job.compression } : {}),
      overwrite: true,
      quiet: true,
    });
    const sampler = threadSamplingAvailable()
      ? await sampleThreads(Number(process.env.UV_THREADPOOL_SIZE) || 4, availableParallelism())
      : undefined;
    const demandSampler =
      job.demand && threadSamplingAvailable() ? sampleDemand(availableParallelism()) : undefined;
    const summary = await run(config, { stderr: devNull, stdout: devNull });
    const threads = sampler?.stop();
    const demand = demandSampler?.stop();
    if (summary.failed > 0) throw new Error(`${summary.failed} objects failed`);
    const busy = performance.eventLoopUtilization(elu);
    return {
      rows: summary.rows,
      bytesDecoded: summary.bytesDecoded,
      bytesOut: summary.bytesOut,
      mainBusyS: busy.active / 1000,
      objects: summary.ok,
      threads,
      demand,
    };
  }
  let decoded = 0;
  let out = 0;
  let rows = 0;
  if (job.mode === 'gunzip' || job.mode === 'gunzip-gzip' || job.mode === 'gunzip-zstd') {
    for (const file of job.files) {
      const c = counter();
      await pipeline(
        createReadStream(file, { highWaterMark: job.chunkSize }),
        gunzipLayers({ chunkSize: job.chunkSize }),
        c.sink,
      );
      decoded += c.bytes();
    }
  }
  if (
    job.mode === 'gunzip-gzip' ||
    job.mode === 'gzip' ||
    job.mode === 'gunzip-zstd' ||
    job.mode === 'zstd'
  ) {
    const zstd = job.mode === 'zstd' || job.mode === 'gunzip-zstd';
    for (const file of job.csvFiles) {
      const c = counter();
      await pipeline(
        createReadStream(file, { highWaterMark: job.chunkSize }),
        // zstd exactly as convert writes it (its codec's stage); gzip as zlib alone.
        zstd
          ? CODECS.zstd.createStream({
              level: 0,
              strategy: 'default',
              concurrency: 1,
              zstdLevel: job.level,
              chunkSize: job.chunkSize,
            })!
          : createGzip({ level: job.level, strategy: constants.Z_FILTERED, chunkSize: job.chunkSize }),
        c.sink,
      );
      out += c.bytes();
      if (job.mode === 'gzip' || job.mode === 'zstd') decoded += (await stat(file)).size;
    }
  }
  if (job.mode === 'stream') {
    await mkdir(job.out, { recursive: true });
    const parquet = job.format === 'parquet' ? await import('../src/streams/parquet-encoder.js') : undefined;
    for (const file of job.files) {
      const convert = new ConvertStream(
        parquet
          ? {
              createEncoder: parquet.createParquetEncoder({
                compression: job.compression as ParquetCompression,
                ...(job.rowGroupRows ? { rowGroupRows: job.rowGroupRows } : {}),
                ...(job.level ? { level: job.level } : {}),
              }),
            }
          : {},
      );
      await pipeline(
        createReadStream(file),
        gunzipLayers(),
        convert,
        // Parquet compresses inside its encoder: its file codec is none.
        parquet ? new PassThrough() : createGzip({ level: job.level, strategy: constants.Z_FILTERED }),
        tap((n) => {
          out += n;
        }),
        createWriteStream(join(job.out, `${basename(file)}.${parquet ? 'parquet' : 'csv.gz'}`)),
      );
      rows += convert.converter.stats.rows;
      decoded += convert.converter.stats.bytes;
    }
  }
  if (job.mode === 'naive') {
    await mkdir(job.out, { recursive: true });
    for (const file of job.files) {
      const transform = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          decoded += chunk.length;
          parser.write(chunk);
          callback();
        },
      });
      const parser = naiveRegex.create((chunk) => transform.push(chunk));
      const c = counter();
      const target = createWriteStream(join(job.out, `${basename(file)}.csv.gz`));
      await pipeline(
        createReadStream(file),
        gunzipLayers(),
        transform,
        createGzip({ level: job.level }),
        async function* (source) {
          for await (const chunk of source) {
            c.sink.write(chunk);
            yield chunk;
          }
        },
        target,
      );
      out += c.bytes();
      rows += parser.rows;
    }
  }
  return { rows, bytesDecoded: decoded, bytesOut: out };
}

/**
 * Peak RSS of this process. getrusage's maxRSS survives fork and exec on Linux, so a child of a
 * large parent would report the parent's peak; /proc's VmHWM belongs to this process alone.
 */
function peakRssMb(): number {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const kb = /^VmHWM:\s+(\d+) kB/m.exec(status)?.[1];
    if (kb) return Number(kb) / 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS / 1024;
}

const job = JSON.parse(process.argv[2] ?? '{}') as ChildJob;
const started = performance.now();
const cpuBefore = process.cpuUsage();
main(job).then(
  (result) => {
    const cpu = process.cpuUsage(cpuBefore);
    const out: ChildResult = {
      ...result,
      wallS: (performance.now() - started) / 1000,
      cpuS: (cpu.user + cpu.system) / 1e6,
      maxRssMB: peakRssMb(),
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  },
  (error) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  },
);
