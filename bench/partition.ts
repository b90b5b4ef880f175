/**
 * What partitioning costs: the same corpus converted unpartitioned, by hour and into AWS's tree, each run
 * in a process of its own (CPU of every thread: workers, the libuv pool), the modes interleaved and their
 * order rotated round by round so that a loaded machine slows them alike. Prints a Markdown table of median CPU seconds and the
 * ratio to the unpartitioned run.
 *
 *   node dist/bench/partition.js --mb 100 --objects 20 --rounds 5 [--workers 1] [--out bench-out]
 */
import { spawnSync } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createConfig, type RawConvertOptions } from '../src/cli/config.js';
import { DEFAULT_FIELDS } from '../src/core/fields.js';
import { writeCorpus } from '../src/gen/write-corpus.js';
import { run } from '../src/run/run.js';

const MODES: Record<string, Partial<RawConvertOptions>> = {
  unpartitioned: {},
  'partition hour': { partition: 'hour' },
  'layout aws': { layout: 'aws', awsRegionLabel: 'us-east-1' },
  'unpartitioned, scanner': { parser: 'scanner' },
  'partition hour, scanner': { partition: 'hour', parser: 'scanner' },
};

interface ChildResult {
  cpuS: number;
  rows: number;
}

async function child(job: { input: string; out: string; workers: number; mode: string }): Promise<void> {
  const before = process.cpuUsage();
  const devNull = new Writable({ write: (_c, _e, cb) => cb() });
  const config = createConfig({
    inputs: [job.input],
    to: job.out,
    workers: job.workers,
    overwrite: true,
    quiet: true,
    ...MODES[job.mode],
  } as RawConvertOptions);
  const summary = await run(config, { stderr: devNull, stdout: devNull });
  if (summary.failed > 0) throw new Error(`${summary.failed} objects failed`);
  const cpu = process.cpuUsage(before);
  const result: ChildResult = { cpuS: (cpu.user + cpu.system) / 1e6, rows: summary.rows };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function parent(): Promise<void> {
  const { values } = parseArgs({
    options: {
      mb: { type: 'string', default: '100' },
      objects: { type: 'string', default: '20' },
      rounds: { type: 'string', default: '5' },
      workers: { type: 'string', default: '1' },
      out: { type: 'string', default: 'bench-out' },
    },
  });
  const input = join(values.out, 'partition-corpus');
  await rm(input, { recursive: true, force: true });
  await mkdir(values.out, { recursive: true });
  const { bytes } = await writeCorpus({
    out: input,
    objects: Number(values.objects),
    mb: Number(values.mb),
    seed: 1,
    fields: DEFAULT_FIELDS,
    doubleGzip: false,
  });
  const cpu = new Map<string, number[]>(Object.keys(MODES).map((m) => [m, []]));
  let rows = 0;
  const modes = Object.keys(MODES);
  for (let round = 0; round < Number(values.rounds); round++) {
    // Each round starts one mode later, so no mode always runs first (or right after another).
    for (const mode of [...modes.slice(round % modes.length), ...modes.slice(0, round % modes.length)]) {
      const out = join(values.out, `partition-${mode.replace(/\W+/g, '-')}`);
      await rm(out, { recursive: true, force: true });
      const job = { input, out, workers: Number(values.workers), mode };
      const done = spawnSync(
        process.execPath,
        [fileURLToPath(import.meta.url), '--child', JSON.stringify(job)],
        {
          encoding: 'utf8',
        },
      );
      if (done.status !== 0) throw new Error(`${mode}: ${done.stderr}`);
      const result = JSON.parse(done.stdout.trim().split('\n').pop()!) as ChildResult;
      if (rows && result.rows !== rows) throw new Error(`${mode} wrote ${result.rows} rows, not ${rows}`);
      rows = result.rows;
      cpu.get(mode)!.push(result.cpuS);
    }
  }
  const base = median(cpu.get('unpartitioned')!);
  console.log(
    `${values.objects} objects, ${(bytes / 1e6).toFixed(1)} MB gzip, ${rows.toLocaleString('en-US')} rows; ` +
      `--workers ${values.workers}, ${values.rounds} rounds, median CPU s (all threads)\n`,
  );
  console.log('| mode | CPU s | × unpartitioned | runs (CPU s) |');
  console.log('| --- | ---: | ---: | --- |');
  for (const [mode, runs] of cpu) {
    const m = median(runs);
    console.log(
      `| ${mode} | ${m.toFixed(2)} | ${(m / base).toFixed(3)} | ${runs.map((r) => r.toFixed(2)).join(' ')} |`,
    );
  }
}

if (process.argv[2] === '--child') await child(JSON.parse(process.argv[3]!));
else await parent();
