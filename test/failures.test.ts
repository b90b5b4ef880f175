/**
 * Read and write failures are classified by the stage they happened in (the source, or a destination
 * member), not by message text or file names. Run in-process through convertObject with the real adapters,
 * wrapped only where a failure has to be arranged. Tests run as root here, and root ignores file modes, so
 * an unreadable source is a UNIX socket (stat works, open(2) fails with ENXIO) or a directory (EISDIR).
 */

import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConvertOptions } from '../src/cli/options.js';
import { createAdapters, type IoAdapters } from '../src/io/adapters.js';
import type { ObjectSink } from '../src/io/sink.js';
import { convertObject } from '../src/object/convert-object.js';
import type { ConvertOptions, ConvertTask } from '../src/object/task.js';
import { AWS_DOC_RECORD, dataPayload, firehoseObject, listFiles } from './helpers.js';

// The CLI's defaults but for what these tests need: no retries, small chunks and payloads, the scanner.
const OPTIONS: ConvertOptions = createConvertOptions({
  retries: 0,
  chunkSize: 64 * 1024,
  maxRecordBytes: 1 << 20,
  payloadParser: 'scanner',
});

const RECORD = AWS_DOC_RECORD;

let tmp: string;
let socket: Server;
let socketPath: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'flowhose-failures-'));
  socketPath = join(tmp, 'a-socket');
  socket = createServer();
  await new Promise<void>((resolve) => socket.listen(socketPath, resolve));
});
afterAll(async () => {
  await new Promise((resolve) => socket?.close(resolve));
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const task = (path: string, to: string, relative = 'obj'): ConvertTask => ({
  source: { kind: 'file', path },
  layout: { to, relative, format: 'csv', codec: 'gzip' },
  options: OPTIONS,
});

/** The real adapters, with the output opening slowly: a source that fails early fails before the pipeline takes it. */
function slowOutput(): IoAdapters {
  const real = createAdapters();
  return {
    ...real,
    openSink: async (target) => {
      await sleep(100);
      return real.openSink(target);
    },
  };
}

describe('a source that cannot be read fails as READ_FAILED, naming it', () => {
  it('a socket where a file was listed (open fails while the output opens): not a crash', async () => {
    const to = join(tmp, 'out-socket');
    const result = await convertObject(task(socketPath, to), slowOutput());
    expect(result.status).toBe('failed');
    expect(result.error).toMatchObject({ code: 'READ_FAILED' });
    expect(result.error?.message).toContain(`cannot read ${socketPath}: `);
    expect(result.error?.message).toContain('ENXIO');
    expect(await listFiles(to)).toEqual([]);
  });

  it('a directory where a file was listed (the read fails mid-pipeline)', async () => {
    const dir = join(tmp, 'a-directory');
    await mkdir(dir, { recursive: true });
    const to = join(tmp, 'out-dir');
    const result = await convertObject(task(dir, to));
    expect(result.error).toMatchObject({ code: 'READ_FAILED' });
    expect(result.error?.message).toMatch(/EISDIR/);
    expect(await listFiles(to)).toEqual([]);
  });
});

describe('a destination that cannot be written fails as WRITE_FAILED, naming it', () => {
  /** The real adapters, with the bytes of one member (chosen by its name) going to /dev/full. */
  function fullFor(suffix: string): IoAdapters {
    const real = createAdapters();
    return {
      ...real,
      openSink: async (target) => {
        if (target.kind !== 'file' || !target.path.endsWith(suffix)) return real.openSink(target);
        const stream = createWriteStream('/dev/full');
        const sink: ObjectSink = {
          stream,
          commit: async () => {},
          abort: async () => {
            stream.destroy();
          },
        };
        return sink;
      },
    };
  }

  it('ENOSPC on the output', async () => {
    const source = join(tmp, 'good');
    await writeFile(source, firehoseObject([dataPayload([{ message: RECORD }])]));
    const to = join(tmp, 'out-full');
    const result = await convertObject(task(source, to), fullFor('.csv.gz'));
    expect(result.error).toMatchObject({ code: 'WRITE_FAILED' });
    expect(result.error?.message).toContain(`cannot write ${join(to, 'obj.csv.gz')}: `);
    expect(result.error?.message).toContain('ENOSPC');
    expect(await listFiles(to)).toEqual([]);
  });

  it('ENOSPC on the rejects file', async () => {
    const source = join(tmp, 'with-reject');
    await writeFile(source, firehoseObject([dataPayload([{ message: RECORD }, { message: 'x y' }])]));
    const to = join(tmp, 'out-rejects-full');
    const result = await convertObject(task(source, to), fullFor('.rejects.jsonl'));
    expect(result.error).toMatchObject({ code: 'WRITE_FAILED' });
    expect(result.error?.message).toContain(`cannot write ${join(to, '_obj.rejects.jsonl')}: `);
    expect(result.error?.message).toContain('ENOSPC');
    expect(await listFiles(to)).toEqual([]);
  });

  it('an output directory that cannot be made (a file is in its place)', async () => {
    const source = join(tmp, 'good-2');
    await writeFile(source, firehoseObject([dataPayload([{ message: RECORD }])]));
    const to = join(tmp, 'out-blocked');
    await mkdir(to, { recursive: true });
    await writeFile(join(to, 'sub'), 'in the way');
    const result = await convertObject(task(source, to, 'sub/obj'));
    expect(result.error).toMatchObject({ code: 'WRITE_FAILED' });
    expect(result.error?.message).toContain(`cannot write ${join(to, 'sub', 'obj.csv.gz')}: `);
    expect((await readdir(to)).sort()).toEqual(['sub']);
  });
});
