/**
 * Partitioned output sets through convertObject, locally: one output per partition named from the source,
 * all or nothing, and exact resume. Each commit step is a kill point: a failure there (Ctrl-C, an error)
 * leaves nothing visible; a `kill -9` there (simulated: the step fails and nothing after it runs, no abort,
 * no removal) leaves a partial set that the next run redoes, ending with exactly the set a clean run writes.
 */
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConvertOptions } from '../src/cli/options.js';
import { createAdapters, type IoAdapters } from '../src/io/adapters.js';
import type { ObjectSink } from '../src/io/sink.js';
import { convertObject } from '../src/object/convert-object.js';
import { destinationFor, type Layout } from '../src/object/layout.js';
import { parseCommitRecord } from '../src/object/resume.js';
import type { ConvertOptions, ConvertTask } from '../src/object/task.js';
import { dataPayload, firehoseObject, HEADER_V2, listFiles, runFlowhose } from './helpers.js';

const OPTIONS: ConvertOptions = createConvertOptions({
  retries: 0,
  chunkSize: 64 * 1024,
  maxRecordBytes: 1 << 20,
});
const H0 = Date.UTC(2020, 1, 1, 0, 10) / 1000;
const H1 = H0 + 3600;
const H2 = H0 + 7200;
const record = (start: number, n: number) =>
  `2 123456789010 eni-1235b8ca123456789 172.31.16.${n} 172.31.16.21 20641 22 6 20 4249 ${start} ${start + 60} ACCEPT OK`;
const rowOf = (start: number, n: number) =>
  `${new Date(start * 1000).toISOString()},${record(start, n).split(' ').join(',')}`;
/** Records at the given starts (in that order), and one record that is rejected. */
const objectAt = (starts: number[]) =>
  firehoseObject([
    dataPayload(starts.slice(0, 2).map((s, n) => ({ message: record(s, n), timestamp: s * 1000 }))),
    dataPayload([{ message: 'not a record' }]),
    dataPayload(starts.slice(2).map((s, n) => ({ message: record(s, n + 2), timestamp: s * 1000 }))),
  ]);

const P0 = 'year=2020/month=02/day=01/hour=00';
const P1 = 'year=2020/month=02/day=01/hour=01';
const P2 = 'year=2020/month=02/day=01/hour=02';

let tmp: string;
let cases = 0;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'flowhose-partition-'));
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function setUp(starts: number[]) {
  const dir = join(tmp, `case-${++cases}`);
  await mkdir(join(dir, 'in', 'a'), { recursive: true });
  const source = join(dir, 'in', 'a', 'obj.gz');
  await writeFile(source, objectAt(starts));
  const to = join(dir, 'out');
  const layout: Layout = { to, relative: 'a/obj.gz', format: 'csv', codec: 'gzip', partition: 'hour' };
  const task: ConvertTask = { source: { kind: 'file', path: source }, layout, options: OPTIONS };
  return { dir, source, to, task };
}

const text = async (path: string) => gunzipSync(await readFile(path)).toString('utf8');
const csv = (...rows: string[]) => `${HEADER_V2}\n${rows.map((r) => `${r}\n`).join('')}`;

/** What a clean conversion of objectAt([H0, H1, H0, H1]) holds, below the destination. */
const CLEAN = ['a/.obj.flowhose.json', 'a/_obj.rejects.jsonl', `${P0}/obj.csv.gz`, `${P1}/obj.csv.gz`];

/** Members and records, without the hidden temporary files a killed writer leaves (as a real kill -9 would). */
const members = async (to: string) =>
  (await listFiles(to, { records: true })).filter((name) => !name.endsWith('.flowhose-tmp'));

async function expectCleanSet(to: string) {
  expect(await members(to)).toEqual(CLEAN);
  expect(await text(join(to, P0, 'obj.csv.gz'))).toBe(csv(rowOf(H0, 0), rowOf(H0, 2)));
  expect(await text(join(to, P1, 'obj.csv.gz'))).toBe(csv(rowOf(H1, 1), rowOf(H1, 3)));
  const recorded = parseCommitRecord(await readFile(join(to, 'a/.obj.flowhose.json'), 'utf8'));
  expect(recorded?.layout).toBe('hour .csv.gz');
  expect(recorded?.members.map((m) => m.name)).toEqual(CLEAN.slice(1));
}

/**
 * Adapters whose `at`-th commit (0: the first member, … the last: the commit record) fails. `kill9`: as if
 * the process died there: nothing after it happens, neither the abort of open sinks nor the removal of
 * members already committed.
 */
function failingAt(at: number, kill9: boolean): IoAdapters & { commits: string[] } {
  const real = createAdapters();
  let dead = false;
  const commits: string[] = [];
  const wrap = (sink: ObjectSink, name: string): ObjectSink => ({
    ...sink,
    stream: sink.stream,
    commit: async () => {
      if (dead) throw new Error('dead');
      if (commits.length === at) {
        dead = kill9;
        commits.push(`FAILED ${name}`);
        throw Object.assign(new Error('EIO: i/o error, rename'), { code: 'EIO' });
      }
      commits.push(name);
      return sink.commit();
    },
    abort: async () => {
      if (!dead) await sink.abort();
    },
  });
  return {
    ...real,
    commits,
    openSink: async (target) => {
      const sink = await real.openSink(target);
      return wrap(sink, target.kind === 'file' ? target.path.slice(target.path.indexOf('/out/') + 5) : '?');
    },
    remove: async (target) => {
      if (!dead) await real.remove(target);
    },
  };
}

describe('a partitioned output set', () => {
  it('one output per hour touched, named from the source; the result lists them; a rerun skips it', async () => {
    const { to, task } = await setUp([H0, H1, H0, H1]);
    const result = await convertObject(task);
    expect(result).toMatchObject({ status: 'ok', rows: 4, rejected: 1 });
    expect(result.dest).toBe(join(to, 'year=*/month=*/day=*/hour=*/obj.csv.gz'));
    expect(result.outputs).toEqual([join(to, P0, 'obj.csv.gz'), join(to, P1, 'obj.csv.gz')]);
    await expectCleanSet(to);
    expect((await convertObject(task)).status).toBe('skipped');
  });

  it('a member removed by hand, or changed in size, makes the source convert again', async () => {
    const { to, task } = await setUp([H0, H1, H0, H1]);
    await convertObject(task);
    await rm(join(to, P1, 'obj.csv.gz'));
    expect((await convertObject(task)).status).toBe('ok');
    await expectCleanSet(to);
    await writeFile(join(to, P0, 'obj.csv.gz'), 'x');
    expect((await convertObject(task)).status).toBe('ok');
    await expectCleanSet(to);
  });

  it('other options (a codec, by day) are not taken as done, and the old names are removed', async () => {
    const { to, task } = await setUp([H0, H1, H0, H1]);
    await convertObject(task);
    const plain = { ...task, layout: { ...task.layout, codec: 'none' as const } };
    expect((await convertObject(plain)).status).toBe('ok');
    expect(await listFiles(to)).toEqual(['a/_obj.rejects.jsonl', `${P0}/obj.csv`, `${P1}/obj.csv`]);
    const daily = { ...plain, layout: { ...plain.layout, partition: 'day' as const } };
    expect((await convertObject(daily)).status).toBe('ok');
    expect(await listFiles(to)).toEqual(['a/_obj.rejects.jsonl', 'year=2020/month=02/day=01/obj.csv']);
  });

  it('a changed source whose rows now fall elsewhere: the partitions it left are removed', async () => {
    const { to, task, source } = await setUp([H0, H1, H0, H1]);
    await convertObject(task);
    await writeFile(source, objectAt([H1, H2]));
    await utimes(source, new Date(), new Date(Date.now() + 5000));
    expect((await convertObject(task)).status).toBe('ok');
    expect(await listFiles(to)).toEqual(['a/_obj.rejects.jsonl', `${P1}/obj.csv.gz`, `${P2}/obj.csv.gz`]);
    expect(await text(join(to, P1, 'obj.csv.gz'))).toBe(csv(rowOf(H0 + 3600, 0)));
  });

  it('past --max-partitions the object fails as TOO_MANY_PARTITIONS and leaves nothing', async () => {
    const { to, task } = await setUp([H0, H1, H2]);
    const result = await convertObject({ ...task, options: { ...OPTIONS, maxPartitions: 2 } });
    expect(result.status).toBe('failed');
    expect(result.error).toMatchObject({ code: 'TOO_MANY_PARTITIONS', option: 'maxPartitions' });
    expect(result.outputs).toBeUndefined();
    expect(await readdirAll(to)).toEqual([]);
  });

  it('Ctrl-C (the signal) in the middle leaves nothing, temporary files included', async () => {
    const { to, task } = await setUp([H0, H1, H0, H1]);
    const controller = new AbortController();
    const real = createAdapters();
    const io: IoAdapters = {
      ...real,
      openSink: async (target) => {
        const sink = await real.openSink(target);
        // The second partition opening: the first is writing.
        if (target.kind === 'file' && target.path.includes('hour=01')) controller.abort();
        return sink;
      },
    };
    const result = await convertObject(task, io, controller.signal);
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('INTERRUPTED');
    expect(await readdirAll(to)).toEqual([]);
    expect((await convertObject(task)).status).toBe('ok');
    await expectCleanSet(to);
  });

  // rejects, hour=00, hour=01, the commit record: 4 commit steps.
  for (const at of [0, 1, 2, 3]) {
    it(`a failure at commit step ${at} leaves nothing visible; the rerun writes the whole set`, async () => {
      const { to, task } = await setUp([H0, H1, H0, H1]);
      const io = failingAt(at, false);
      const result = await convertObject(task, io);
      expect(result.status).toBe('failed');
      expect(io.commits[at]).toMatch(/^FAILED /);
      expect(await readdirAll(to)).toEqual([]);
      expect((await convertObject(task)).status).toBe('ok');
      await expectCleanSet(to);
    });

    it(`kill -9 at commit step ${at}: the partial set is not taken as done; the rerun ends exact`, async () => {
      const { to, task } = await setUp([H0, H1, H0, H1]);
      const io = failingAt(at, true);
      expect((await convertObject(task, io)).status).toBe('failed');
      const left = await members(to);
      expect(left).toEqual(CLEAN.slice(1, at + 1)); // what was renamed before the kill; no record
      const rerun = await convertObject(task);
      expect(rerun.status).toBe('ok');
      await expectCleanSet(to);
      expect((await convertObject(task)).status).toBe('skipped');
    });

    it(`kill -9 at commit step ${at} while replacing a changed source: the rerun ends with the new set only`, async () => {
      const { to, task, source } = await setUp([H2]);
      expect((await convertObject(task)).status).toBe('ok');
      await writeFile(source, objectAt([H0, H1, H0, H1]));
      await utimes(source, new Date(), new Date(Date.now() + 5000));
      expect((await convertObject(task, failingAt(at, true))).status).toBe('failed');
      expect((await convertObject(task)).status).toBe('ok');
      await expectCleanSet(to);
    });
  }

  it('the layout names each partition below AWSLogs/ for --layout aws', () => {
    const dest = destinationFor({
      to: 's3://b/p',
      relative: 'x/2020/02/01/00/stream-1-2020-02-01-00-00-00-abc.gz',
      format: 'csv',
      codec: 'gzip',
      aws: { regionLabel: 'us-east-1' },
    });
    expect(dest).toMatchObject({
      kind: 's3',
      output:
        'AWSLogs/aws-account-id=*/aws-service=vpcflowlogs/aws-region=*/year=*/month=*/day=*/hour=*/stream-1-2020-02-01-00-00-00-abc.csv.gz',
      record: 'x/2020/02/01/00/.stream-1-2020-02-01-00-00-00-abc.flowhose.json',
      partitioned: { root: 'AWSLogs/', base: 'stream-1-2020-02-01-00-00-00-abc.csv.gz' },
    });
  });
});

/** Every file below dir, hidden temporary files too. */
async function readdirAll(dir: string): Promise<string[]> {
  const { readdir } = await import('node:fs/promises');
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
}

describe("AWS's tree through convertObject", () => {
  it("a format without account-id: each payload's owner names the account", async () => {
    const dir = join(tmp, 'owner');
    await mkdir(dir, { recursive: true });
    const source = join(dir, 'obj');
    await writeFile(
      source,
      firehoseObject([
        dataPayload([{ message: `2 ${H0}` }], { owner: '111122223333' }),
        dataPayload([{ message: `2 ${H0}` }], { owner: '444455556666' }),
      ]),
    );
    const to = join(dir, 'out');
    const result = await convertObject({
      source: { kind: 'file', path: source },
      layout: { to, relative: 'obj', format: 'csv', codec: 'none', aws: { regionLabel: 'eu-west-1' } },
      options: { ...OPTIONS, logFormat: 'version start' },
    });
    expect(result.status).toBe('ok');
    expect(await listFiles(to)).toEqual([
      `AWSLogs/aws-account-id=111122223333/aws-service=vpcflowlogs/aws-region=eu-west-1/${P0}/obj.csv`,
      `AWSLogs/aws-account-id=444455556666/aws-service=vpcflowlogs/aws-region=eu-west-1/${P0}/obj.csv`,
    ]);
  });
});

describe('two sources of one name, partitioned', () => {
  it('the second fails as DEST_COLLISION instead of overwriting the first', async () => {
    const dir = join(tmp, 'collide');
    for (const sub of ['a', 'b']) {
      await mkdir(join(dir, 'in', sub), { recursive: true });
      await writeFile(join(dir, 'in', sub, 'obj.gz'), objectAt([H0]));
    }
    const run = await runFlowhose([
      'convert',
      join(dir, 'in'),
      '--to',
      join(dir, 'out'),
      '--partition',
      'hour',
      '--workers',
      '1',
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('DEST_COLLISION');
    expect(run.stderr).toContain('1 ok, 1 failed');
  });
});

describe('a source without rows, partitioned', () => {
  it('writes no output, only its commit record, and a rerun skips it', async () => {
    const dir = join(tmp, 'empty');
    await mkdir(join(dir, 'in'), { recursive: true });
    const source = join(dir, 'in', 'obj');
    await writeFile(source, firehoseObject([dataPayload([])]));
    const to = join(dir, 'out');
    const task: ConvertTask = {
      source: { kind: 'file', path: source },
      layout: { to, relative: 'obj', format: 'csv', codec: 'gzip', partition: 'hour' },
      options: OPTIONS,
    };
    const result = await convertObject(task);
    expect(result).toMatchObject({ status: 'ok', rows: 0, outputs: [] });
    expect(await listFiles(to, { records: true })).toEqual(['.obj.flowhose.json']);
    expect((await convertObject(task)).status).toBe('skipped');
  });
});
