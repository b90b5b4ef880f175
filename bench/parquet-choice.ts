/**
 * Which Parquet writer: hyparquet-writer (pure JS, a RowEncoder that hands row groups on as they are
 * made) against DuckDB's writer (@duckdb/node-api: fed by its appender, or reading the CSV flowhose
 * wrote), beside CSV + gzip-6, on the same generated object. Each run is a process of its own, so CPU
 * (all threads) and peak RSS are that run's alone. zstd needs Node ≥ 22.15 for hyparquet-writer.
 *   node dist/bench/parquet-choice.js [--mb 64] [--runs a,b,…] [--rows 65536]
 */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { columnsOf } from '../src/core/columns.js';
import { FlowLogConverter } from '../src/core/converter.js';
import { DEFAULT_FORMAT, type FlowFormat } from '../src/core/log-format.js';
import type { RecordView } from '../src/core/record-view.js';
import type { CreateRowEncoder, RowEncoder } from '../src/core/row-encoder.js';
import { generateObject } from '../src/gen/corpus.js';
import { createParquetEncoder, type ParquetCompression } from '../src/streams/parquet-encoder.js';
import { machineLine } from './machine.js';

interface Job {
  run: string;
  input: string;
  out: string;
  rows: number;
}

/** Feeds the decompressed input to a converter in 1 MB reads, as the pipeline does. */
function convertFile(
  input: string,
  createEncoder: CreateRowEncoder | undefined,
  onData: (b: Buffer) => void,
) {
  const converter = new FlowLogConverter({ onData, ...(createEncoder ? { createEncoder } : {}) });
  const fd = openSync(input, 'r');
  for (;;) {
    // A fresh buffer each time: the converter may hold on to the bytes of a record cut by the read.
    const chunk = Buffer.allocUnsafe(1 << 20);
    const n = readSync(fd, chunk, 0, chunk.length, null);
    if (n === 0) break;
    const error = converter.write(chunk.subarray(0, n));
    if (error) throw error;
  }
  closeSync(fd);
  const error = converter.end();
  if (error) throw error;
  return converter.stats.rows;
}

/** A RowEncoder that appends each record to a DuckDB table; the COPY to Parquet comes at the end. */
function duckAppenderEncoder(appender: {
  appendNull(): void;
  appendInteger(v: number): void;
  appendBigInt(v: bigint): void;
  appendVarchar(v: string): void;
  endRow(): void;
}): RowEncoder {
  let columns: ReturnType<typeof columnsOf> = [];
  return {
    header(format: FlowFormat) {
      columns = columnsOf(format);
    },
    row(record: RecordView) {
      for (const column of columns) {
        if (column.field < 0) {
          if (Number.isNaN(record.timeMs)) appender.appendNull();
          else appender.appendBigInt(BigInt(record.timeMs));
        } else if (!record.hasValue(column.field)) appender.appendNull();
        else if (column.type === 'int32') appender.appendInteger(Number(record.text(column.field)));
        else if (column.type === 'int64') appender.appendBigInt(BigInt(record.text(column.field)));
        else appender.appendVarchar(record.text(column.field));
      }
      appender.endRow();
    },
    flush() {},
  };
}

const SQL_TYPES = { timestamp: 'BIGINT', int32: 'INTEGER', int64: 'BIGINT', string: 'VARCHAR' } as const;

async function child(job: Job): Promise<Record<string, number>> {
  const [writer, codec] = job.run.split(':') as [string, string];
  let rows = 0;
  if (writer === 'csv-gzip6') {
    const parts: Buffer[] = [];
    rows = convertFile(job.input, undefined, (b) => parts.push(b));
    writeFileSync(job.out, gzipSync(Buffer.concat(parts), { level: 6 }));
  } else if (writer === 'hyparquet') {
    const fd = openSync(job.out, 'w');
    const encoder = createParquetEncoder({
      compression: codec as ParquetCompression,
      rowGroupRows: job.rows,
    });
    rows = convertFile(job.input, encoder, (b) => writeSync(fd, b));
    closeSync(fd);
  } else {
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const db = await DuckDBInstance.create(':memory:', { threads: '1' });
    const connection = await db.connect();
    const typed = columnsOf(DEFAULT_FORMAT);
    const select = typed
      .map((c) =>
        c.type === 'timestamp' ? `make_timestamptz(${c.name} * 1000) AS ${c.name}` : `"${c.name}"`,
      )
      .join(', ');
    const copy = `(FORMAT parquet, COMPRESSION ${codec}, ROW_GROUP_SIZE ${job.rows})`;
    if (writer === 'duckdb-appender') {
      await connection.run(
        `CREATE TABLE t (${typed.map((c) => `"${c.name}" ${SQL_TYPES[c.type]}`).join(', ')})`,
      );
      const appender = await connection.createAppender('t');
      rows = convertFile(
        job.input,
        () => duckAppenderEncoder(appender),
        () => {},
      );
      appender.closeSync();
      await connection.run(`COPY (SELECT ${select} FROM t) TO '${job.out}' ${copy}`);
    } else {
      const csv = `${job.out}.csv`;
      const fd = openSync(csv, 'w');
      rows = convertFile(job.input, undefined, (b) => writeSync(fd, b));
      closeSync(fd);
      const types = `{${typed.map((c) => `'${c.name.replace('_', '-')}': '${c.type === 'timestamp' ? 'TIMESTAMPTZ' : SQL_TYPES[c.type]}'`).join(', ')}}`;
      await connection.run(
        `COPY (SELECT * FROM read_csv('${csv}', header = true, types = ${types})) TO '${job.out}' ${copy}`,
      );
    }
    connection.closeSync();
  }
  const usage = process.resourceUsage();
  // VmHWM, not getrusage's maxRSS, which a child inherits from the parent that forked it.
  const hwm = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  return {
    cpuS: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
    maxRssMB: hwm ? Number(hwm) / 1024 : usage.maxRSS / 1024,
    bytesOut: statSync(job.out).size,
    rows,
  };
}

const arg = (name: string, fallback: string) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1]! : fallback;
};

async function main() {
  const childJob = arg('--child', '');
  if (childJob) {
    process.stdout.write(`${JSON.stringify(await child(JSON.parse(childJob) as Job))}\n`);
    return;
  }
  const mb = Number(arg('--mb', '64'));
  const rowGroupRows = Number(arg('--rows', '16384'));
  const runs = arg(
    '--runs',
    'csv-gzip6,hyparquet:zstd,hyparquet:snappy,duckdb-appender:zstd,duckdb-appender:snappy,duckdb-csv:zstd,duckdb-csv:snappy',
  ).split(',');
  const dir = await mkdtemp(join(tmpdir(), 'flowhose-parquet-choice-'));
  try {
    const input = join(dir, 'object.json');
    writeFileSync(input, gunzipSync(generateObject({ seed: 7, targetBytes: mb * 1e6, ipv6Rate: 0.05 }, 1)));
    const lines = [
      `Machine: ${machineLine()}; ${mb} MB of decompressed payloads, row groups of ${rowGroupRows} rows`,
      '',
      '| writer:codec | CPU s | output MB | × CSV gzip-6 bytes | peak RSS MB |',
      '| --- | ---: | ---: | ---: | ---: |',
    ];
    let csvBytes = Number.NaN;
    for (const run of runs) {
      const job: Job = { run, input, out: join(dir, `out-${run.replace(':', '-')}`), rows: rowGroupRows };
      const self = fileURLToPath(import.meta.url);
      let result: Record<string, number>;
      try {
        result = JSON.parse(
          execFileSync(process.execPath, [self, '--child', JSON.stringify(job)], { encoding: 'utf8' }),
        );
      } catch (error) {
        lines.push(`| ${run} | failed: ${String(error).split('\n')[0]} | | | |`);
        continue;
      }
      if (run === 'csv-gzip6') csvBytes = result.bytesOut!;
      lines.push(
        `| ${run} | ${result.cpuS!.toFixed(2)} | ${(result.bytesOut! / 1e6).toFixed(2)} | ${(result.bytesOut! / csvBytes).toFixed(2)} | ${result.maxRssMB!.toFixed(0)} |`,
      );
      process.stderr.write(`${lines.at(-1)}\n`);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
