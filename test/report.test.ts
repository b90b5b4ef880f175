// What the CLI prints about a run, in-process: escaped input, error hints, a failing manifest, dry-run sizes.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConfig } from '../src/cli/config.js';
import { formatSummary, groupDigits, Reporter } from '../src/cli/report.js';
import type { GoverningOption } from '../src/core/errors.js';
import { escapeControl } from '../src/core/safe-text.js';
import { noCounts, type TaskResult } from '../src/object/task.js';
import { exitCodeOf, run } from '../src/run/run.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flowhose-report-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function collector() {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

const result = (over: Partial<TaskResult>): TaskResult => ({
  source: 'in/obj',
  dest: 'out/obj.csv.gz',
  status: 'ok',
  ...noCounts(),
  ...over,
});

// A record that retitles the terminal (OSC … BEL), clears it (CSI 2J) and uses 8-bit CSI (0x9b).
const HOSTILE = 'x \x1b]0;pwned\x07 \x1b[2J \x9b31m \x7f tab\there\nnext line \x00';
/** Control characters other than the newline that ends each line. */
const RAW_CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/;

describe('escapeControl', () => {
  it('shows C0, DEL and C1 as \\xHH and leaves the rest alone', () => {
    expect(escapeControl(HOSTILE)).toBe(
      'x \\x1b]0;pwned\\x07 \\x1b[2J \\x9b31m \\x7f tab\\x09here\\x0anext line \\x00',
    );
    expect(escapeControl('plain ünïcødé "quotes" \\ back')).toBe('plain ünïcødé "quotes" \\ back');
  });
});

describe('Reporter: lines that quote input are escaped', () => {
  it('a failed object (FORMAT_MISMATCH quoting a record), a reject note and the fatal line', async () => {
    const stderr = collector();
    const reporter = new Reporter(stderr.stream, undefined, false);
    reporter.add(
      result({
        source: 'in/\x1b[31mred',
        status: 'failed',
        error: { code: 'FORMAT_MISMATCH', message: `all 1 records were rejected (record "${HOSTILE}")` },
      }),
    );
    reporter.add(result({ source: 'in/\x07bell', rejected: 2, rows: 1 }));
    await reporter.finish('stopped early: cannot list s3://b/\x1b]8;;evil\x07');
    const text = stderr.text();
    expect(text).not.toMatch(RAW_CONTROL);
    expect(text).toContain('flowhose: failed: in/\\x1b[31mred: FORMAT_MISMATCH: all 1 records were rejected');
    expect(text).toContain('\\x1b]0;pwned\\x07 \\x1b[2J \\x9b31m');
    expect(text).toContain('flowhose: in/\\x07bell: 2 records rejected');
    expect(text).toContain('flowhose: stopped early: cannot list s3://b/\\x1b]8;;evil\\x07\n');
    // One line per message: a newline inside a record does not start a line of its own.
    expect(text.split('\n').filter((line) => line.startsWith('next line'))).toEqual([]);
  });

  it('the manifest keeps the message as it was (JSON escapes it)', async () => {
    const manifest = join(dir, 'hostile.jsonl');
    const reporter = new Reporter(collector().stream, manifest, true);
    reporter.add(result({ status: 'failed', error: { code: 'BAD_JSON', message: HOSTILE } }));
    await reporter.finish();
    const line = (await readFile(manifest, 'utf8')).trimEnd();
    expect(line).not.toMatch(/[\x00-\x1f]/); // JSON escapes C0; DEL and C1 are valid JSON as they are
    expect(JSON.parse(line).error.message).toBe(HOSTILE);
  });
});

describe('Reporter: error hints', () => {
  it('an error naming a library option points at its flag', async () => {
    const stderr = collector();
    const reporter = new Reporter(stderr.stream, undefined, true);
    reporter.add(
      result({
        status: 'failed',
        error: {
          code: 'RECORD_TOO_LARGE',
          message: 'a payload exceeds 1024 bytes',
          option: 'maxRecordBytes',
        },
      }),
    );
    reporter.add(
      // A result crossed a thread (or was read from a manifest): its option may be one the CLI does not know.
      result({
        status: 'failed',
        error: { code: 'BAD_JSON', message: 'no hint', option: 'notAnOption' as GoverningOption },
      }),
    );
    await reporter.finish();
    expect(stderr.text()).toContain(
      'flowhose: failed: in/obj: RECORD_TOO_LARGE: a payload exceeds 1024 bytes; see --max-record-size\n',
    );
    expect(stderr.text()).toContain('flowhose: failed: in/obj: BAD_JSON: no hint\n');
  });
});

describe('a manifest that cannot be written fails the run', () => {
  it.skipIf(!existsSync('/dev/full'))('ENOSPC: exit code 2, and the summary says so', async () => {
    const stderr = collector();
    const reporter = new Reporter(stderr.stream, '/dev/full', true);
    reporter.add(result({ rows: 3 }));
    const summary = await reporter.finish();
    expect(summary.manifestError).toMatch(/ENOSPC/);
    expect(exitCodeOf({ ...summary, interrupted: false })).toBe(2);
    expect(stderr.text()).toMatch(/^flowhose: cannot write the manifest: ENOSPC/m);
    expect(stderr.text()).toMatch(/^flowhose: objects 1 ok, 0 failed · .* · manifest FAILED: ENOSPC/m);
  });

  it('a manifest written whole leaves the exit code and the summary as they were', async () => {
    const reporter = new Reporter(collector().stream, join(dir, 'fine.jsonl'), true);
    reporter.add(result({ rows: 3 }));
    const summary = await reporter.finish();
    expect(summary.manifestError).toBeUndefined();
    expect(exitCodeOf({ ...summary, interrupted: false })).toBe(0);
    expect(formatSummary(summary)).not.toMatch(/manifest/);
  });
});

describe('--dry-run sizes', () => {
  async function dryRun(inputs: string[], to: string) {
    const stdout = collector();
    const stderr = collector();
    const config = createConfig({ inputs, to, dryRun: true, quiet: true }, {});
    await run(config, { stdout: stdout.stream, stderr: stderr.stream });
    return { stdout: stdout.text(), stderr: stderr.text() };
  }

  it('local files are stat’ed: the real size, per object and in total', async () => {
    const input = join(dir, 'dry-in');
    await rm(input, { recursive: true, force: true });
    await mkdir(input);
    await writeFile(join(input, 'a'), Buffer.alloc(250_000, 1));
    await writeFile(join(input, 'b'), Buffer.alloc(150_000, 1));
    const { stdout, stderr } = await dryRun([input], join(dir, 'dry-out'));
    expect(stdout).toMatch(/^convert .*a -> .*a\.csv\.gz \(250000 bytes\)$/m);
    expect(stdout).toMatch(/^convert .*b -> .*b\.csv\.gz \(150000 bytes\)$/m);
    expect(stderr).toContain(
      'flowhose: dry run: 2 objects (0.4 MB listed) would be converted, 0 are up to date',
    );
    expect(existsSync(join(dir, 'dry-out'))).toBe(false);
  });

  it('stdin has no size: the total is left out rather than shown as 0.0 MB', async () => {
    const { stderr } = await dryRun(['-'], '-');
    expect(stderr).toContain('flowhose: dry run: 1 objects would be converted, 0 are up to date');
    expect(stderr).not.toMatch(/MB listed/);
  });
});

describe('groupDigits', () => {
  it('groups by thousands as en-US does', () => {
    for (const n of [0, 7, 999, 1000, 12345, 999999, 1000000, 1234567890, 2 ** 53 - 1, -1234])
      expect(groupDigits(n)).toBe(n.toLocaleString('en-US'));
  });
});
