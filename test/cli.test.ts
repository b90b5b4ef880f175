/**
 * End-to-end tests of the built command line (`npm test` builds dist/ first): real processes, real
 * files under a temporary directory, inputs made with the builders in helpers.ts.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CONTROL_PAYLOAD,
  dataPayload,
  type EventSpec,
  expectExit,
  firehoseObject,
  HEADER_V2,
  listFiles,
  runFlowhose,
} from './helpers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The built command line, run to its exit (helpers.ts). */
const flowhose = runFlowhose;

let tmp: string;
let counter = 0;

/** A fresh, empty directory below the suite's temporary directory. */
async function freshDir(name = 'case'): Promise<string> {
  const dir = join(tmp, `${name}-${++counter}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

async function put(path: string, bytes: Buffer | string): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, bytes);
  return path;
}

const gunzipText = async (path: string) => gunzipSync(await readFile(path)).toString('utf8');

/** A version-2 flow record, varied by n. */
function record(n: number, action = 'ACCEPT'): string {
  return `2 123456789010 eni-1235b8ca123456789 172.31.16.${n % 250} 172.31.16.21 ${20000 + n} 22 6 ${n + 1} ${4000 + n} 1418530010 1418530070 ${action} OK`;
}

/** The CSV row the converter must write for a record carried in a CloudWatch event. */
function row(timestampMs: number, message: string): string {
  const fields = message.split(' ').map((t) => (t === '-' ? '' : t));
  return `${new Date(timestampMs).toISOString()},${fields.join(',')}`;
}

function events(from: number, count: number, ts = 1418530010000): EventSpec[] {
  return Array.from({ length: count }, (_, i) => ({ message: record(from + i), timestamp: ts + i }));
}

/** Expected CSV text (header and one row per event, in order) for the given events. */
function csvOf(evs: EventSpec[], header = HEADER_V2): string {
  return `${header}\n${evs.map((e) => `${row(Number(e.timestamp), e.message)}\n`).join('')}`;
}

/** From the summary line: objects converted or skipped as up to date, and objects failed. */
function objectsSeen(stderr: string): { done: number; failed: number } {
  const match = /objects (\d+) ok, (\d+) failed(?:, (\d+) skipped)?/.exec(stderr);
  expect(match, `no summary line in: ${stderr}`).not.toBeNull();
  return { done: Number(match![1]) + Number(match![3] ?? 0), failed: Number(match![2]) };
}

interface ManifestLine {
  source: string;
  dest: string;
  status: string;
  rows: number;
  rejected: number;
  control: number;
  bytesIn: number;
  bytesOut: number;
  error?: { code: string; message: string };
}

async function readManifest(path: string): Promise<ManifestLine[]> {
  const text = await readFile(path, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as ManifestLine);
}

beforeAll(async () => {
  expect(existsSync(join(ROOT, 'dist', 'src', 'cli', 'main.js')), 'dist/ missing: run npm run build').toBe(
    true,
  );
  tmp = await mkdtemp(join(tmpdir(), 'flowhose-'));
});

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('flowhose convert: directories and files', () => {
  it('mirrors a directory tree with --workers 2, dropping a trailing .gz, and writes correct CSV', async () => {
    const dir = await freshDir('tree');
    const input = join(dir, 'in');
    const to = join(dir, 'out');
    const evA = events(1, 3);
    const evX1 = events(10, 2);
    const evX2 = events(20, 2);
    const evTop = events(30, 1);
    await put(join(input, 'a', 'b', 'obj'), firehoseObject([dataPayload(evA)]));
    // Firehose GZIP on top of CloudWatch's gzip; several payloads, a control message among them.
    await put(
      join(input, 'x.gz'),
      firehoseObject([dataPayload(evX1), CONTROL_PAYLOAD, dataPayload(evX2)], 2),
    );
    await put(join(input, 'top'), firehoseObject([CONTROL_PAYLOAD, dataPayload(evTop)]));

    const run = await flowhose(['convert', input, '--to', to, '--workers', '2']);

    expect(run.stderr).not.toMatch(/failed: /);
    expectExit(run, 0);
    expect(await listFiles(to)).toEqual(['a/b/obj.csv.gz', 'top.csv.gz', 'x.csv.gz']);
    expect(await gunzipText(join(to, 'a', 'b', 'obj.csv.gz'))).toBe(csvOf(evA));
    expect(await gunzipText(join(to, 'x.csv.gz'))).toBe(csvOf([...evX1, ...evX2]));
    expect(await gunzipText(join(to, 'top.csv.gz'))).toBe(csvOf(evTop));
    // The exact text of one row, independent of the helpers that build the expectation.
    expect((await gunzipText(join(to, 'top.csv.gz'))).split('\n')[1]).toBe(
      '2014-12-14T04:06:50.000Z,2,123456789010,eni-1235b8ca123456789,172.31.16.30,172.31.16.21,20030,22,6,31,4030,1418530010,1418530070,ACCEPT,OK',
    );
    expect(run.stderr).toMatch(/objects 3 ok, 0 failed/);
    expect(run.stderr).toMatch(/rows 8\b/);
    expect(run.stderr).toMatch(/control messages 2\b/);
    expect(run.stdout.length).toBe(0);
  });

  it('accepts zero padding after the last gzip member, at any chunk size', async () => {
    const dir = await freshDir('padding');
    const input = join(dir, 'in');
    const ev1 = events(1, 2);
    const ev2 = events(3, 2);
    const ev3 = events(5, 2);
    await put(
      join(input, 'one-layer'),
      Buffer.concat([firehoseObject([dataPayload(ev1)]), Buffer.alloc(512)]),
    );
    await put(
      join(input, 'two-layers'),
      Buffer.concat([firehoseObject([dataPayload(ev2)], 2), Buffer.alloc(4)]),
    );
    // Padding that straddles a read-chunk boundary (--chunk-size 1k).
    await put(
      join(input, 'straddle'),
      Buffer.concat([firehoseObject([dataPayload(ev3)]), Buffer.alloc(3000)]),
    );
    const to = join(dir, 'out');

    const run = await flowhose(['convert', input, '--to', to, '--chunk-size', '1k']);

    expect(run.stderr).not.toMatch(/failed: /);
    expectExit(run, 0);
    expect(await listFiles(to)).toEqual(['one-layer.csv.gz', 'straddle.csv.gz', 'two-layers.csv.gz']);
    expect(await gunzipText(join(to, 'one-layer.csv.gz'))).toBe(csvOf(ev1));
    expect(await gunzipText(join(to, 'two-layers.csv.gz'))).toBe(csvOf(ev2));
    expect(await gunzipText(join(to, 'straddle.csv.gz'))).toBe(csvOf(ev3));
  });

  it('converts explicit files, each under its own name', async () => {
    const dir = await freshDir('files');
    const ev1 = events(1, 2);
    const ev2 = events(5, 3);
    const f1 = await put(join(dir, 'src', 'dump-1'), firehoseObject([dataPayload(ev1)]));
    const f2 = await put(join(dir, 'other', 'dump-2'), firehoseObject([dataPayload(ev2)], 2));
    const to = join(dir, 'csv');

    const run = await flowhose(['convert', f1, f2, '--to', to]);

    expectExit(run, 0);
    expect(await listFiles(to)).toEqual(['dump-1.csv.gz', 'dump-2.csv.gz']);
    expect(await gunzipText(join(to, 'dump-1.csv.gz'))).toBe(csvOf(ev1));
    expect(await gunzipText(join(to, 'dump-2.csv.gz'))).toBe(csvOf(ev2));
    expect(run.stderr).toMatch(/rows 5\b/);
  });

  it('accepts relative paths from the working directory', async () => {
    const dir = await freshDir('relative');
    const ev = events(1, 2);
    await put(join(dir, 'in', 'sub', 'obj.gz'), firehoseObject([dataPayload(ev)]));

    const run = await flowhose(['convert', 'in', '--to', 'out'], { cwd: dir });

    expectExit(run, 0);
    expect(await listFiles(join(dir, 'out'))).toEqual(['sub/obj.csv.gz']);
    expect(await gunzipText(join(dir, 'out', 'sub', 'obj.csv.gz'))).toBe(csvOf(ev));
  });

  it('handles file names with spaces, quotes and other shell characters', async () => {
    const dir = await freshDir('names');
    const input = join(dir, 'in dir');
    const ev1 = events(1, 1);
    const ev2 = events(2, 1);
    const name1 = "my dump (1) #2 $HOME 'q' é.gz";
    const name2 = 'semi;colon & star*';
    await put(join(input, 'sub dir', name1), firehoseObject([dataPayload(ev1)]));
    await put(join(input, name2), firehoseObject([dataPayload(ev2)]));
    const to = join(dir, 'out dir');

    const run = await flowhose(['convert', input, '--to', to]);

    expectExit(run, 0);
    expect(await listFiles(to)).toEqual(
      [`sub dir/my dump (1) #2 $HOME 'q' é.csv.gz`, 'semi;colon & star*.csv.gz'].sort(),
    );
    expect(await gunzipText(join(to, 'sub dir', "my dump (1) #2 $HOME 'q' é.csv.gz"))).toBe(csvOf(ev1));
    expect(await gunzipText(join(to, `${name2}.csv.gz`))).toBe(csvOf(ev2));
  });

  it('does not re-read an output directory inside the input directory', async () => {
    const dir = await freshDir('nested');
    const input = join(dir, 'in');
    const to = join(input, 'out');
    const ev1 = events(1, 2);
    const ev2 = events(3, 2);
    await put(join(input, 'one.gz'), firehoseObject([dataPayload(ev1)]));
    await put(join(input, 'deep', 'two'), firehoseObject([dataPayload(ev2)]));

    const first = await flowhose(['convert', input, '--to', to]);
    expectExit(first, 0);
    const expected = ['deep/two.csv.gz', 'one.csv.gz'];
    expect(await listFiles(to)).toEqual(expected);
    const firstBytes = await Promise.all(expected.map((f) => readFile(join(to, f))));

    const second = await flowhose(['convert', input, '--to', to]);
    expectExit(second, 0);
    // Two objects seen (converted again, or skipped as up to date), none from the output directory.
    expect(objectsSeen(second.stderr)).toEqual({ done: 2, failed: 0 });
    expect(await listFiles(to)).toEqual(expected);
    expect(await listFiles(input)).toEqual(['deep/two', 'one.gz', 'out/deep/two.csv.gz', 'out/one.csv.gz']);
    const secondBytes = await Promise.all(expected.map((f) => readFile(join(to, f))));
    expect(secondBytes).toEqual(firstBytes);
    expect(await gunzipText(join(to, 'one.csv.gz'))).toBe(csvOf(ev1));
    expect(await gunzipText(join(to, 'deep', 'two.csv.gz'))).toBe(csvOf(ev2));
  });

  it('does not re-read an output directory inside the input directory, given relatively', async () => {
    const dir = await freshDir('nested-rel');
    const ev = events(1, 2);
    await put(join(dir, 'in', 'obj'), firehoseObject([dataPayload(ev)]));

    for (let i = 0; i < 2; i++) {
      const run = await flowhose(['convert', 'in', '--to', 'in/out'], { cwd: dir });
      expectExit(run, 0);
      expect(objectsSeen(run.stderr)).toEqual({ done: 1, failed: 0 });
    }
    expect(await listFiles(join(dir, 'in'))).toEqual(['obj', 'out/obj.csv.gz']);
  });
});

describe('flowhose convert: standard input and output', () => {
  const ev = [...events(1, 4), ...events(100, 3, 1418530099123)];
  const object = firehoseObject([dataPayload(ev.slice(0, 4)), CONTROL_PAYLOAD, dataPayload(ev.slice(4))]);

  it('stdin to stdout gives the same bytes as the worker pool writes to a file', async () => {
    const dir = await freshDir('stdio');
    const file = await put(join(dir, 'in', 'obj'), object);
    const to = join(dir, 'out');

    const pooled = await flowhose(['convert', join(dir, 'in'), '--to', to, '--workers', '2']);
    expectExit(pooled, 0);
    const fileBytes = await readFile(join(to, 'obj.csv.gz'));

    const piped = await flowhose(['convert', '-', '--to', '-'], { stdin: await readFile(file) });
    expectExit(piped, 0);
    expect(piped.stdout.length).toBeGreaterThan(0);
    expect(gunzipSync(piped.stdout).toString('utf8')).toBe(csvOf(ev));
    expect(piped.stdout.equals(fileBytes)).toBe(true);
    expect(piped.stderr).toMatch(/rows 7\b/);
    expect(await listFiles(dir)).toEqual(['in/obj', 'out/obj.csv.gz']);
  });

  it('converts a file to stdout', async () => {
    const dir = await freshDir('file-stdout');
    const file = await put(join(dir, 'obj.gz'), firehoseObject([dataPayload(ev)], 2));

    const run = await flowhose(['convert', file, '--to', '-']);

    expectExit(run, 0);
    expect(gunzipSync(run.stdout).toString('utf8')).toBe(csvOf(ev));
    expect(run.stderr).toMatch(/objects 1 ok, 0 failed/);
    expect(await listFiles(dir)).toEqual(['obj.gz']);
  });

  it('writes a file to stdout with the --to=- and -o - spellings, the same bytes as a pooled file', async () => {
    const dir = await freshDir('stdout-spellings');
    const file = await put(join(dir, 'in', 'obj'), object);
    const pooled = await flowhose(['convert', join(dir, 'in'), '--to', join(dir, 'out')]);
    expectExit(pooled, 0);
    const fileBytes = await readFile(join(dir, 'out', 'obj.csv.gz'));
    for (const spelling of [['--to=-'], ['-o', '-']]) {
      const run = await flowhose(['convert', file, ...spelling]);
      expectExit(run, 0);
      expect(gunzipSync(run.stdout).toString('utf8')).toBe(csvOf(ev));
      expect(run.stdout.equals(fileBytes)).toBe(true);
    }
  });

  it('writes plain CSV to stdout with --no-gzip', async () => {
    const run = await flowhose(['convert', '-', '--to', '-', '--no-gzip'], { stdin: object });
    expectExit(run, 0);
    expect(run.stdout.toString('utf8')).toBe(csvOf(ev));
  });

  it('fails a corrupt stdin with exit code 2', async () => {
    const good = firehoseObject([dataPayload(ev)]);
    const run = await flowhose(['convert', '-', '--to', '-'], { stdin: good.subarray(0, good.length - 12) });
    expectExit(run, 2);
    expect(run.stderr).toMatch(/failed: -: TRUNCATED/);
  });

  it('keeps rejects of stdin in the --rejects file', async () => {
    const dir = await freshDir('stdio-rejects');
    const rejectsFile = join(dir, 'rejects.jsonl');
    const bad = '2 123456789010 eni-1 1.2.3.4 5.6.7.8 http 22 6 1 2 1418530010 1418530070 ACCEPT OK';
    const run = await flowhose(['convert', '-', '--to', '-', '--rejects', rejectsFile], {
      stdin: firehoseObject([dataPayload([...ev.slice(0, 2), { message: bad }])]),
    });
    expectExit(run, 0);
    expect(gunzipSync(run.stdout).toString('utf8')).toBe(csvOf(ev.slice(0, 2)));
    const lines = (await readFile(rejectsFile, 'utf8')).trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ code: 'BAD_INTEGER', record: bad, source: '-' });
  });
});

describe('flowhose convert: output options', () => {
  const ev = events(1, 40);
  let input: string;

  beforeAll(async () => {
    input = await put(join(await freshDir('options'), 'in', 'obj.gz'), firehoseObject([dataPayload(ev)]));
  });

  it.each([
    ['--no-gzip', ['--no-gzip']],
    ['--gzip-level 0', ['--gzip-level', '0']],
  ])('%s writes plain .csv', async (_name, flags) => {
    const to = join(await freshDir('plain'), 'out');
    const run = await flowhose(['convert', input, '--to', to, ...flags]);
    expectExit(run, 0);
    expect(await listFiles(to)).toEqual(['obj.csv']);
    expect(await readFile(join(to, 'obj.csv'), 'utf8')).toBe(csvOf(ev));
  });

  it('--no-gzip mirrors a tree as .csv files', async () => {
    const dir = await freshDir('plain-tree');
    const ev2 = events(7, 2);
    await put(join(dir, 'in', 'a', 'b', 'obj'), firehoseObject([dataPayload(ev2)]));
    const run = await flowhose(['convert', join(dir, 'in'), '--to', join(dir, 'out'), '--no-gzip']);
    expectExit(run, 0);
    expect(await listFiles(join(dir, 'out'))).toEqual(['a/b/obj.csv']);
    expect(await readFile(join(dir, 'out', 'a', 'b', 'obj.csv'), 'utf8')).toBe(csvOf(ev2));
  });

  it('every --parser and --chunk-size writes the same bytes (the bundled sample)', async () => {
    const dir = await freshDir('parsers');
    const sample = join(ROOT, 'examples', 'firehose-sample');
    const outputs: Buffer[] = [];
    for (const flags of [
      ['--parser', 'wasm'],
      ['--parser', 'scanner'],
      ['--parser', 'json'],
      ['--parser', 'wasm', '--chunk-size', '4k'],
      ['--parser', 'scanner', '--chunk-size', '64k'],
    ]) {
      const to = join(dir, flags.join('_'));
      const run = await flowhose(['convert', sample, '--to', to, '--quiet', ...flags]);
      expectExit(run, 0);
      outputs.push(await readFile(join(to, 'firehose-sample.csv.gz')));
    }
    expect(gunzipSync(outputs[0]!).toString('utf8').split('\n').length).toBeGreaterThan(9000);
    for (const out of outputs.slice(1)) expect(out.equals(outputs[0]!)).toBe(true);
  });

  it('--gzip-level 1 and 9 both gunzip to the same CSV', async () => {
    const dir = await freshDir('levels');
    const fast = await flowhose(['convert', input, '--to', join(dir, 'l1'), '--gzip-level', '1']);
    const best = await flowhose(['convert', input, '--to', join(dir, 'l9'), '--gzip-level', '9']);
    expectExit(fast, 0);
    expectExit(best, 0);
    const one = await readFile(join(dir, 'l1', 'obj.csv.gz'));
    const nine = await readFile(join(dir, 'l9', 'obj.csv.gz'));
    expect(gunzipSync(one).toString('utf8')).toBe(csvOf(ev));
    expect(gunzipSync(nine).toString('utf8')).toBe(csvOf(ev));
    // The gzip header's XFL byte tells the levels apart: 4 = fastest, 2 = best compression.
    expect(one[8]).toBe(4);
    expect(nine[8]).toBe(2);
  });

  it('--log-format with a custom format names the header and reads the records', async () => {
    const dir = await freshDir('format');
    const messages = [
      '3 vpc-0abc123 10.0.0.1 10.0.0.2 443 ACCEPT',
      '3 vpc-0abc123 10.0.0.3 - - REJECT',
      '3 vpc-0def456 "quoted",x 10.0.0.4 53 ACCEPT',
    ];
    const evs = messages.map((message, i) => ({ message, timestamp: 1700000000000 + i }));
    await put(join(dir, 'in', 'obj'), firehoseObject([dataPayload(evs)]));
    const format = '${version} ${vpc-id} ${srcaddr} ${dstaddr} ${srcport} ${action}';

    const run = await flowhose([
      'convert',
      join(dir, 'in'),
      '--to',
      join(dir, 'out'),
      '--log-format',
      format,
    ]);

    expectExit(run, 0);
    expect(await gunzipText(join(dir, 'out', 'obj.csv.gz'))).toBe(
      'timestamp,version,vpc-id,srcaddr,dstaddr,srcport,action\n' +
        '2023-11-14T22:13:20.000Z,3,vpc-0abc123,10.0.0.1,10.0.0.2,443,ACCEPT\n' +
        '2023-11-14T22:13:20.001Z,3,vpc-0abc123,10.0.0.3,,,REJECT\n' +
        '2023-11-14T22:13:20.002Z,3,vpc-0def456,"""quoted"",x",10.0.0.4,53,ACCEPT\n',
    );
    expect(await listFiles(join(dir, 'out'))).toEqual(['obj.csv.gz']);
  });

  it('--log-format also takes bare names separated by commas or spaces', async () => {
    const dir = await freshDir('format-bare');
    const evs = [{ message: '5 eni-1 egress', timestamp: 1700000000000 }];
    await put(join(dir, 'obj'), firehoseObject([dataPayload(evs)]));
    const to = join(dir, 'out');
    const run = await flowhose([
      'convert',
      join(dir, 'obj'),
      '--to',
      to,
      '--log-format',
      'version,interface_id flow-direction',
    ]);
    expectExit(run, 0);
    expect(await gunzipText(join(to, 'obj.csv.gz'))).toBe(
      'timestamp,version,interface-id,flow-direction\n2023-11-14T22:13:20.000Z,5,eni-1,egress\n',
    );
  });
});

describe('flowhose convert: failures', () => {
  const good1 = events(1, 3);
  const good2 = events(50, 2);
  const object = firehoseObject([dataPayload(events(200, 5))]);

  /** Random bytes behind a first byte that is neither the gzip magic, `{`, nor text. */
  const randomish = Buffer.concat([Buffer.from([0x03, 0x9c]), randomBytes(2048)]);
  /** A valid gzip header, then a deflate block of the reserved type 3: corrupt from the first block. */
  const badDeflate = Buffer.concat([
    Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0x03]),
    Buffer.alloc(64, 0xff),
  ]);

  it.each([
    ['random bytes', randomish, 'NOT_FLOW_LOG'],
    ['a gzip header followed by corrupt deflate data', badDeflate, 'BAD_GZIP'],
    [
      'a gzip magic number with an unknown method',
      Buffer.concat([Buffer.from([0x1f, 0x8b, 0x07]), randomBytes(64)]),
      'BAD_GZIP',
    ],
    ['a gzip with its tail cut off', object.subarray(0, object.length - 10), 'TRUNCATED'],
    ['a gzip cut in the middle', object.subarray(0, Math.floor(object.length / 2)), 'TRUNCATED'],
    [
      'a gzip followed by trailing garbage',
      Buffer.concat([object, Buffer.from('trailing garbage\n')]),
      'BAD_GZIP',
    ],
    // zlib reads a lone stray byte as the start of another member's header, so this is TRUNCATED.
    ['a gzip followed by one trailing garbage byte', Buffer.concat([object, Buffer.from('x')]), 'TRUNCATED'],
    [
      'a gzip followed by a zero byte and then garbage',
      Buffer.concat([object, Buffer.from('\0garbage')]),
      'BAD_GZIP',
    ],
    ['a JSON object that is not a flow log', gzipSync('{"foo":1}'), 'NOT_FLOW_LOG'],
    [
      'a JSON payload of another messageType',
      gzipSync('{"messageType":"OTHER","logEvents":[]}'),
      'NOT_FLOW_LOG',
    ],
    ['a gzip of binary data', gzipSync(Buffer.from([0x00, 0x01, 0x02, 0x03])), 'NOT_FLOW_LOG'],
  ])('%s fails that object alone (exit 2) and leaves no output for it', async (_name, bad, code) => {
    const dir = await freshDir('corrupt');
    const input = join(dir, 'in');
    const to = join(dir, 'out');
    await put(join(input, 'a', 'good-1'), firehoseObject([dataPayload(good1)]));
    const badPath = await put(join(input, 'a', 'bad.gz'), bad);
    await put(join(input, 'z-good-2.gz'), firehoseObject([dataPayload(good2)], 2));
    const manifest = join(dir, 'manifest.jsonl');

    const run = await flowhose(['convert', input, '--to', to, '--workers', '2', '--manifest', manifest]);

    expectExit(run, 2);
    expect(run.stderr).toContain(`failed: ${badPath}: ${code}`);
    expect(run.stderr).toMatch(/objects 2 ok, 1 failed/);
    // Only the good objects' outputs: no bad.csv.gz, no rejects file, no hidden temporary file.
    expect(await listFiles(to)).toEqual(['a/good-1.csv.gz', 'z-good-2.csv.gz']);
    expect(await gunzipText(join(to, 'a', 'good-1.csv.gz'))).toBe(csvOf(good1));
    expect(await gunzipText(join(to, 'z-good-2.csv.gz'))).toBe(csvOf(good2));
    const lines = await readManifest(manifest);
    const failed = lines.filter((l) => l.status === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.source).toBe(badPath);
    expect(failed[0]!.error?.code).toBe(code);
    expect(failed[0]!.error?.message.length).toBeGreaterThan(0);
  });

  it('fails every corrupt object of a run and keeps the good ones', async () => {
    const dir = await freshDir('corrupt-many');
    const input = join(dir, 'in');
    const to = join(dir, 'out');
    await put(join(input, 'b1'), randomish);
    await put(join(input, 'b2'), object.subarray(0, object.length - 3));
    await put(join(input, 'b3'), Buffer.concat([object, Buffer.from('garbage')]));
    await put(join(input, 'b4'), gzipSync('{"foo":1}'));
    await put(join(input, 'g1'), firehoseObject([dataPayload(good1)]));
    await put(join(input, 'g2'), firehoseObject([dataPayload(good2)]));

    const run = await flowhose(['convert', input, '--to', to, '--workers', '2']);

    expectExit(run, 2);
    expect(run.stderr).toContain(`failed: ${join(input, 'b1')}: NOT_FLOW_LOG`);
    expect(run.stderr).toContain(`failed: ${join(input, 'b2')}: TRUNCATED`);
    expect(run.stderr).toContain(`failed: ${join(input, 'b3')}: BAD_GZIP`);
    expect(run.stderr).toContain(`failed: ${join(input, 'b4')}: NOT_FLOW_LOG`);
    expect(run.stderr).toMatch(/objects 2 ok, 4 failed/);
    expect(await listFiles(to)).toEqual(['g1.csv.gz', 'g2.csv.gz']);
    expect(await gunzipText(join(to, 'g1.csv.gz'))).toBe(csvOf(good1));
    expect(await gunzipText(join(to, 'g2.csv.gz'))).toBe(csvOf(good2));
  });

  it('a failed re-run leaves the earlier output of the same name untouched', async () => {
    // Outputs are written to a temporary file and renamed into place only on success.
    const dir = await freshDir('stale');
    const input = join(dir, 'obj');
    const to = join(dir, 'out');
    await put(input, firehoseObject([dataPayload(good1)]));
    expectExit(await flowhose(['convert', input, '--to', to]), 0);
    const before = await readFile(join(to, 'obj.csv.gz'));

    await put(input, object.subarray(0, object.length - 10));
    const run = await flowhose(['convert', input, '--to', to]);
    expectExit(run, 2);
    expect(await listFiles(to)).toEqual(['obj.csv.gz']);
    expect((await readFile(join(to, 'obj.csv.gz'))).equals(before)).toBe(true);
  });

  it('keeps rejected records beside the output and counts them (exit 0)', async () => {
    const dir = await freshDir('rejects');
    const input = join(dir, 'in');
    const to = join(dir, 'out');
    const manifest = join(dir, 'manifest.jsonl');
    const shortRecord = '2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6';
    const badPort =
      '2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 http 22 6 20 4249 1418530010 1418530070 ACCEPT OK';
    const longRecord = `${record(3)} extra`;
    const ok = events(1, 3);
    const evs: EventSpec[] = [
      ok[0]!,
      { message: shortRecord },
      ok[1]!,
      { message: badPort },
      { message: longRecord },
      ok[2]!,
    ];
    const objPath = await put(join(input, 'a', 'obj.gz'), firehoseObject([dataPayload(evs)]));
    await put(join(input, 'clean'), firehoseObject([dataPayload(events(9, 1))]));

    const run = await flowhose(['convert', input, '--to', to, '--manifest', manifest]);

    expectExit(run, 0);
    expect(run.stderr).toMatch(/rejected 3\b/);
    expect(run.stderr).toContain('_obj.rejects.jsonl');
    // No rejects file for the clean object.
    expect(await listFiles(to)).toEqual(['a/_obj.rejects.jsonl', 'a/obj.csv.gz', 'clean.csv.gz']);
    expect(await gunzipText(join(to, 'a', 'obj.csv.gz'))).toBe(csvOf(ok));

    const text = await readFile(join(to, 'a', '_obj.rejects.jsonl'), 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    const rejects = text
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(rejects).toHaveLength(3);
    expect(rejects.map((r) => r.code)).toEqual(['FIELD_COUNT', 'BAD_INTEGER', 'FIELD_COUNT']);
    expect(rejects.map((r) => r.record)).toEqual([shortRecord, badPort, longRecord]);
    for (const r of rejects) {
      expect(r.source).toBe(objPath);
      expect(typeof r.reason).toBe('string');
      expect((r.reason as string).length).toBeGreaterThan(0);
    }
    expect(rejects[1]!.reason).toContain('srcport');
    expect(rejects[1]!.reason).toContain('http');

    const lines = await readManifest(manifest);
    const line = lines.find((l) => l.source === objPath);
    expect(line).toMatchObject({ status: 'ok', rows: 3, rejected: 3, dest: join(to, 'a', 'obj.csv.gz') });
  });

  it('fails an object whose every record is rejected with FORMAT_MISMATCH (exit 2, no output)', async () => {
    const dir = await freshDir('mismatch');
    const input = join(dir, 'in');
    const to = join(dir, 'out');
    const manifest = join(dir, 'manifest.jsonl');
    const objPath = await put(join(input, 'obj'), firehoseObject([dataPayload(events(1, 4))]));

    const run = await flowhose([
      'convert',
      input,
      '--to',
      to,
      '--log-format',
      '${version} ${account-id} ${interface-id}',
      '--manifest',
      manifest,
    ]);

    expectExit(run, 2);
    expect(run.stderr).toContain(`failed: ${objPath}: FORMAT_MISMATCH`);
    expect(await listFiles(to)).toEqual([]);
    const [line] = await readManifest(manifest);
    expect(line).toMatchObject({
      source: objPath,
      status: 'failed',
      rows: 0,
      error: { code: 'FORMAT_MISMATCH' },
    });
  });

  it('fails with FORMAT_MISMATCH when every record has a non-integer in an integer field', async () => {
    const dir = await freshDir('mismatch-int');
    const input = join(dir, 'in');
    const to = join(dir, 'out');
    // The format puts srcport where the records hold an address: every record fails BAD_INTEGER.
    const objPath = await put(join(input, 'obj'), firehoseObject([dataPayload(events(1, 3))]));
    const run = await flowhose([
      'convert',
      input,
      '--to',
      to,
      '--log-format',
      'version account-id interface-id srcport dstaddr srcaddr dstport protocol packets bytes start end action log-status',
    ]);
    expectExit(run, 2);
    expect(run.stderr).toContain(`failed: ${objPath}: FORMAT_MISMATCH`);
    expect(await listFiles(to)).toEqual([]);
  });
});

describe('flowhose convert --manifest', () => {
  it('appends one JSON line per object across runs', async () => {
    const dir = await freshDir('manifest');
    const input = join(dir, 'in');
    const to = join(dir, 'out');
    const manifest = join(dir, 'runs', 'manifest.jsonl');
    await mkdir(dirname(manifest));
    const goodPath = await put(
      join(input, 'good.gz'),
      firehoseObject([CONTROL_PAYLOAD, dataPayload([...events(1, 3), { message: 'not a record' }])]),
    );
    const good2 = firehoseObject([dataPayload(events(5, 1))]);
    const bad = firehoseObject([dataPayload(events(5, 1))]).subarray(0, 20);
    const badPath = await put(join(input, 'sub', 'bad'), bad);

    const first = await flowhose(['convert', input, '--to', to, '--manifest', manifest]);
    expectExit(first, 2);
    const afterFirst = await readManifest(manifest);
    expect(afterFirst).toHaveLength(2);

    const byName = (lines: ManifestLine[], source: string) => lines.find((l) => l.source === source)!;
    const ok = byName(afterFirst, goodPath);
    expect(Object.keys(ok).sort()).toEqual(
      ['bytesIn', 'bytesOut', 'control', 'dest', 'rejected', 'rows', 'source', 'status'].sort(),
    );
    expect(ok).toEqual({
      source: goodPath,
      dest: join(to, 'good.csv.gz'),
      status: 'ok',
      rows: 3,
      rejected: 1,
      control: 1,
      bytesIn: (await stat(goodPath)).size,
      bytesOut: (await stat(join(to, 'good.csv.gz'))).size,
    });
    const failed = byName(afterFirst, badPath);
    expect(Object.keys(failed).sort()).toEqual(
      ['bytesIn', 'bytesOut', 'control', 'dest', 'error', 'rejected', 'rows', 'source', 'status'].sort(),
    );
    expect(failed).toMatchObject({
      source: badPath,
      dest: join(to, 'sub', 'bad.csv.gz'),
      status: 'failed',
      rows: 0,
    });
    expect(failed.error!.code).toBe('TRUNCATED');
    expect(typeof failed.error!.message).toBe('string');
    expect(Object.keys(failed.error!).sort()).toEqual(['code', 'message']);

    // A second run, the bad object repaired: the manifest grows by two lines, the first two stay.
    await put(badPath, good2);
    const second = await flowhose(['convert', input, '--to', to, '--manifest', manifest]);
    expectExit(second, 0);
    const afterSecond = await readManifest(manifest);
    expect(afterSecond).toHaveLength(4);
    expect(afterSecond.slice(0, 2)).toEqual(afterFirst);
    const repaired = byName(afterSecond.slice(2), badPath);
    expect(repaired).toMatchObject({ status: 'ok', rows: 1, rejected: 0, control: 0 });
    expect(repaired.error).toBeUndefined();
    expect(await listFiles(to)).toEqual(['_good.rejects.jsonl', 'good.csv.gz', 'sub/bad.csv.gz']);
  });

  it('records stdin to stdout as source and dest "-"', async () => {
    const dir = await freshDir('manifest-stdio');
    const manifest = join(dir, 'm.jsonl');
    const input = firehoseObject([dataPayload(events(1, 2))]);
    const run = await flowhose(['convert', '-', '--to', '-', '--manifest', manifest], { stdin: input });
    expectExit(run, 0);
    const [line, ...rest] = await readManifest(manifest);
    expect(rest).toEqual([]);
    expect(line).toEqual({
      source: '-',
      dest: '-',
      status: 'ok',
      rows: 2,
      rejected: 0,
      control: 0,
      bytesIn: input.length,
      bytesOut: run.stdout.length,
    });
  });
});

describe('flowhose convert: usage errors exit 1 and do nothing', () => {
  let input: string;
  let input2: string;

  beforeAll(async () => {
    const dir = await freshDir('usage-inputs');
    input = await put(join(dir, 'dump-1'), firehoseObject([dataPayload(events(1, 1))]));
    input2 = await put(join(dir, 'dump-2'), firehoseObject([dataPayload(events(2, 1))]));
  });

  // A few spawned cases for the exit code and "nothing done"; every message is tested in-process
  // (test/option-validation.test.ts).
  const cases: [string, (to: string) => string[], RegExp | ((stderr: string) => void)][] = [
    ['an unknown option', (to) => ['convert', input, '--to', to, '--bogus'], /bogus/],
    [
      'an unclosed ${ in --log-format',
      (to) => ['convert', input, '--to', to, '--log-format', '${version'],
      /\$\{version/,
    ],
    ['a missing --to', () => ['convert', input], /--to/],
    ['a missing input path', (to) => ['convert', `${input}-nope`, '--to', to], /dump-1-nope/],
    ['--workers 0', (to) => ['convert', input, '--to', to, '--workers', '0'], /--workers.*\b0\b/],
    [
      '--to - with two inputs',
      () => ['convert', input, input2, '--to', '-'],
      (stderr) => {
        expect(stderr).toMatch(/--to -/);
        expect(stderr).toContain(input);
        expect(stderr).toContain(input2);
      },
    ],
    [
      '- with --to DIR',
      (to) => ['convert', '-', '--to', to],
      (stderr) => {
        expect(stderr).toMatch(/stdin/);
        expect(stderr).toMatch(/--to -/);
      },
    ],
    [
      '- beside a file with --to DIR',
      (to) => ['convert', '-', input, '--to', to],
      (stderr) => {
        expect(stderr).toMatch(/stdin/);
        expect(stderr).toMatch(/--to -/);
      },
    ],
    ['no command', () => [], /command/],
    ['no input', (to) => ['convert', '--to', to], /input|argument/],
  ];

  it.each(cases)('%s', async (_name, argsFor, check) => {
    const dir = await freshDir('usage');
    const to = join(dir, 'out');
    const manifest = join(dir, 'manifest.jsonl');
    const run = await flowhose([...argsFor(to), '--manifest', manifest], {
      stdin: firehoseObject([dataPayload(events(1, 1))]),
    });
    expectExit(run, 1);
    if (typeof check === 'function') check(run.stderr);
    else expect(run.stderr).toMatch(check);
    expect(run.stdout.length).toBe(0);
    expect(run.stderr).not.toMatch(/objects \d+ ok/);
    expect(existsSync(to)).toBe(false);
    expect(existsSync(manifest)).toBe(false);
    expect(await listFiles(dir)).toEqual([]);
  });

  it('leaves an existing, empty --to directory empty', async () => {
    const to = await freshDir('usage-existing');
    const run = await flowhose(['convert', input, `${input}-missing`, '--to', to]);
    expectExit(run, 1);
    expect(run.stderr).toContain(`${input}-missing`);
    expect(await readdir(to)).toEqual([]);
  });

  it('refuses a --to that is a file', async () => {
    const dir = await freshDir('usage-to-file');
    const to = await put(join(dir, 'not-a-dir'), 'x');
    const run = await flowhose(['convert', input, '--to', to]);
    expectExit(run, 1);
    expect(run.stderr).toContain(to);
    expect(await readFile(to, 'utf8')).toBe('x');
    expect(await listFiles(dir)).toEqual(['not-a-dir']);
  });
});
