/**
 * The output set's commit/abort order, with members that log what is done to them; then the real thing
 * through convertObject: the commit record, and a failed output taking its committed rejects back.
 */

import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConvertOptions } from '../src/cli/options.js';
import { createAdapters, type IoAdapters } from '../src/io/adapters.js';
import { removeOwnTemps, tempPathFor } from '../src/io/local.js';
import { convertObject } from '../src/object/convert-object.js';
import { type Member, OutputSet } from '../src/object/output-set.js';
import { parseCommitRecord } from '../src/object/resume.js';
import type { ConvertOptions, ConvertTask } from '../src/object/task.js';
import { AWS_DOC_RECORD, dataPayload, firehoseObject, listFiles } from './helpers.js';

function member(name: string, log: string[], options: { bytes?: number; fail?: 'commit' } = {}): Member {
  return {
    name,
    commit: async () => {
      log.push(`commit ${name}`);
      if (options.fail === 'commit') throw new Error(`${name} failed`);
      return options.bytes;
    },
    abort: async () => {
      log.push(`abort ${name}`);
    },
    remove: async () => {
      log.push(`remove ${name}`);
    },
  };
}

describe('OutputSet', () => {
  it('commits rejects, then outputs, then the record of what is in place', async () => {
    const log: string[] = [];
    const set = new OutputSet({
      rejects: member('r', log, { bytes: 5 }),
      replacing: false,
      record: async (members) => {
        log.push(`record ${JSON.stringify(members)}`);
      },
    });
    set.add(member('o', log, { bytes: 10 }));
    expect(await set.commit()).toEqual([
      { name: 'r', bytes: 5 },
      { name: 'o', bytes: 10 },
    ]);
    expect(log).toEqual(['commit r', 'commit o', 'record [{"name":"r","bytes":5},{"name":"o","bytes":10}]']);
  });

  it('an output that fails after its rejects were committed takes the rejects back', async () => {
    const log: string[] = [];
    const set = new OutputSet({
      rejects: member('r', log, { bytes: 5 }),
      replacing: true,
      record: async () => {},
    });
    set.add(member('o', log, { fail: 'commit' }));
    await expect(set.commit()).rejects.toThrow('o failed');
    expect(log).toEqual(['commit r', 'commit o', 'remove r', 'abort r', 'abort o']);
  });

  it('a record that cannot be written takes every member back', async () => {
    const log: string[] = [];
    const set = new OutputSet({
      rejects: member('r', log, { bytes: 5 }),
      replacing: false,
      record: async () => {
        throw new Error('disk full');
      },
    });
    set.add(member('o', log, { bytes: 1 }));
    await expect(set.commit()).rejects.toThrow('disk full');
    expect(log.slice(2, 4).sort()).toEqual(['remove o', 'remove r']);
  });

  it('replacing an earlier conversion, a member with nothing this time clears its stale file, after the outputs', async () => {
    const log: string[] = [];
    const set = new OutputSet({ rejects: member('r', log), replacing: true });
    set.add(member('o', log, { bytes: 1 }));
    expect(await set.commit()).toEqual([{ name: 'o', bytes: 1 }]);
    expect(log).toEqual(['commit r', 'commit o', 'remove r']);
  });

  it('not replacing, it leaves other names alone', async () => {
    const log: string[] = [];
    const set = new OutputSet({ rejects: member('r', log), replacing: false });
    set.add(member('o', log, { bytes: 1 }));
    await set.commit();
    expect(log).toEqual(['commit r', 'commit o']);
  });
});

// The CLI's defaults but for what these tests need: no retries, small chunks and payloads, the scanner.
const OPTIONS: ConvertOptions = createConvertOptions({
  retries: 0,
  chunkSize: 64 * 1024,
  maxRecordBytes: 1 << 20,
  payloadParser: 'scanner',
});
const RECORD = AWS_DOC_RECORD;

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'flowhose-set-'));
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('a local output set, end to end', () => {
  const task = (path: string, to: string): ConvertTask => ({
    source: { kind: 'file', path },
    layout: { to, relative: 'a/obj.gz', format: 'csv', codec: 'gzip' },
    options: OPTIONS,
  });

  it('writes a commit record last: the source, its whole version, and every member with its size', async () => {
    const source = join(tmp, 'src-1');
    await writeFile(source, firehoseObject([dataPayload([{ message: RECORD }, { message: 'x y' }])]));
    const to = join(tmp, 'out-1');
    const result = await convertObject(task(source, to));
    expect(result.status).toBe('ok');
    expect(await listFiles(to, { records: true })).toEqual([
      'a/.obj.flowhose.json',
      'a/_obj.rejects.jsonl',
      'a/obj.csv.gz',
    ]);
    const record = parseCommitRecord(await readFile(join(to, 'a/.obj.flowhose.json'), 'utf8'));
    const output = await readFile(join(to, 'a/obj.csv.gz'));
    const rejects = await readFile(join(to, 'a/_obj.rejects.jsonl'));
    expect(record).toEqual({
      flowhose: 1,
      source,
      etag: expect.stringMatching(/^\d+-\d+$/),
      members: [
        { name: 'a/_obj.rejects.jsonl', bytes: rejects.length },
        { name: 'a/obj.csv.gz', bytes: output.length },
      ],
    });
    expect((await convertObject(task(source, to))).status).toBe('skipped');
  });

  it('an output whose commit fails removes the rejects committed before it, and leaves no record', async () => {
    const source = join(tmp, 'src-2');
    await writeFile(source, firehoseObject([dataPayload([{ message: RECORD }, { message: 'x y' }])]));
    const to = join(tmp, 'out-2');
    const real = createAdapters();
    const failingOutput: IoAdapters = {
      ...real,
      openSink: async (target) => {
        const sink = await real.openSink(target);
        if (target.kind !== 'file' || !target.path.endsWith('.csv.gz')) return sink;
        return {
          ...sink,
          commit: async () => {
            throw Object.assign(new Error('EIO: i/o error, rename'), { code: 'EIO', syscall: 'rename' });
          },
        };
      },
    };
    const result = await convertObject(task(source, to), failingOutput);
    expect(result.error).toMatchObject({ code: 'WRITE_FAILED' });
    expect(await listFiles(to, { records: true })).toEqual([]);
  });
});

describe('temporary names', () => {
  it('are unique per writer and carry the pid; crash cleanup removes this process’s for that output only', async () => {
    const dir = join(tmp, 'temps');
    const output = join(dir, 'x.csv.gz');
    const a = tempPathFor(output);
    const b = tempPathFor(output);
    expect(a).not.toBe(b);
    expect(a.slice(dir.length + 1)).toMatch(
      new RegExp(`^\\.x\\.csv\\.gz\\.${process.pid}-\\d+-[0-9a-f]{8}\\.flowhose-tmp$`),
    );
    await rm(dir, { recursive: true, force: true });
    const { mkdir } = await import('node:fs/promises');
    await mkdir(dir);
    const others = [
      `.x.csv.gz.${process.pid + 1}-0-0123abcd.flowhose-tmp`, // another process's
      `.x.csv.gz.${process.pid}-1-0123abcd.csv.gz.${process.pid}-1-0123abcd.flowhose-tmp`, // another output's
      'x.csv.gz',
    ];
    for (const name of [...others, a.slice(dir.length + 1), b.slice(dir.length + 1)])
      await writeFile(join(dir, name), '');
    expect(await removeOwnTemps(output)).toBe(2);
    expect((await readdir(dir)).sort()).toEqual([...others].sort());
  });
});
