import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { joinKey, safeJoin } from '../src/io/paths.js';
import {
  commitRecordName,
  contentTypeOf,
  describeDest,
  destinationFor,
  isLayoutName,
  isSafeName,
  type Layout,
  outputName,
  rejectsName,
} from '../src/object/layout.js';
import { CODECS, chooseCodec } from '../src/streams/codecs.js';

describe('output names', () => {
  it('mirror the source path, dropping a trailing .gz first: stem + row format + codec extension', () => {
    expect(outputName('a/b/obj', 'gzip')).toBe('a/b/obj.csv.gz');
    expect(outputName('a/b/obj.gz', 'gzip')).toBe('a/b/obj.csv.gz');
    expect(outputName('a/b/obj.gz', 'parallel-gzip', 'csv')).toBe('a/b/obj.csv.gz');
    expect(outputName('a/b/obj.GZ', 'none')).toBe('a/b/obj.csv');
    expect(outputName('flow.log.gz', 'gzip')).toBe('flow.log.csv.gz');
    expect(outputName('a/b/obj.gz', 'zstd')).toBe('a/b/obj.csv.zst');
    expect(outputName('a/b/obj', 'zstd')).toBe('a/b/obj.csv.zst');
    expect(outputName('a/b/obj.gz', 'gzip', 'ndjson')).toBe('a/b/obj.json.gz');
    expect(outputName('a/b/obj.gz', 'parallel-gzip', 'ndjson')).toBe('a/b/obj.json.gz');
    expect(outputName('a/b/obj', 'zstd', 'ndjson')).toBe('a/b/obj.json.zst');
    expect(outputName('a/b/obj.gz', 'none', 'ndjson')).toBe('a/b/obj.json');
  });

  it('put rejects and the commit record beside the output, under names Athena skips', () => {
    expect(rejectsName('a/obj.gz')).toBe('a/_obj.rejects.jsonl');
    expect(rejectsName('obj')).toBe('_obj.rejects.jsonl');
    expect(commitRecordName('a/b/obj.gz')).toBe('a/b/.obj.flowhose.json');
    expect(commitRecordName('obj.csv')).toBe('.obj.csv.flowhose.json');
  });

  it('join S3 key prefixes with exactly one slash', () => {
    expect(joinKey('', 'a')).toBe('a');
    expect(joinKey('p', 'a')).toBe('p/a');
    expect(joinKey('p/', 'a')).toBe('p/a');
  });

  it('know the names they write, so a walk of a destination inside an input leaves them out', () => {
    for (const name of [
      'a/x.csv.gz',
      'x.csv',
      '_x.rejects.jsonl',
      'a/.x.flowhose.json',
      '.x.csv.gz.1-2-0a0b0c0d.flowhose-tmp',
      'a/x.csv.zst',
      'a/x.json.gz',
      'x.json.zst',
      'x.json',
    ])
      expect(isLayoutName(name), name).toBe(true);
    for (const name of [
      'a/x',
      'x.gz',
      'x.zst',
      'x.jsonl',
      'x.ndjson',
      'rejects.jsonl',
      'csv.gz/x',
      'x.json.zstd',
    ])
      expect(isLayoutName(name), name).toBe(false);
  });
});

describe('codecs', () => {
  it('the gzip options choose one: level 0 is none, parallel above 1', () => {
    const gzip = { compression: 'gzip' } as const;
    expect(chooseCodec({ ...gzip, gzipLevel: 0, parallelGzip: 4 }).name).toBe('none');
    expect(chooseCodec({ ...gzip, gzipLevel: 6, parallelGzip: 0 }).name).toBe('gzip');
    expect(chooseCodec({ ...gzip, gzipLevel: 6, parallelGzip: 1 }).name).toBe('gzip');
    expect(chooseCodec({ ...gzip, gzipLevel: 9, parallelGzip: 2 }).name).toBe('parallel-gzip');
  });

  it('--compression zstd and none choose theirs, whatever the gzip options say', () => {
    expect(chooseCodec({ compression: 'zstd', gzipLevel: 6, parallelGzip: 0 }).name).toBe('zstd');
    expect(chooseCodec({ compression: 'zstd', gzipLevel: 0, parallelGzip: 4 }).name).toBe('zstd');
    expect(chooseCodec({ compression: 'none', gzipLevel: 6, parallelGzip: 4 }).name).toBe('none');
  });

  it('drive the Content-Type: the codec, else the row format', () => {
    expect(contentTypeOf('csv', 'gzip')).toBe('application/gzip');
    expect(contentTypeOf('csv', 'parallel-gzip')).toBe('application/gzip');
    expect(contentTypeOf('csv', 'none')).toBe('text/csv; charset=utf-8');
    expect(contentTypeOf('csv', 'zstd')).toBe('application/zstd');
    expect(contentTypeOf('ndjson', 'none')).toBe('application/x-ndjson');
    expect(contentTypeOf('ndjson', 'gzip')).toBe('application/gzip');
    expect(contentTypeOf('ndjson', 'zstd')).toBe('application/zstd');
    expect(
      CODECS.none.createStream({
        level: 6,
        strategy: 'filtered',
        concurrency: 1,
        zstdLevel: 1,
        chunkSize: 1024,
      }),
    ).toBe(undefined);
  });
});

describe('destinationFor: plain arguments in, every member name out', () => {
  const layout = (to: string, relative: string, more: Partial<Layout> = {}): Layout => ({
    to,
    relative,
    format: 'csv',
    codec: 'gzip',
    ...more,
  });

  it('mirrors below a directory', () => {
    const dest = destinationFor(layout('out', 'a/obj.gz'));
    expect(dest).toEqual({
      kind: 'file',
      root: 'out',
      output: 'a/obj.csv.gz',
      rejects: 'a/_obj.rejects.jsonl',
      record: 'a/.obj.flowhose.json',
    });
    expect(describeDest(dest as never)).toBe(join('out', 'a/obj.csv.gz'));
    expect(describeDest(dest as never, 'rejects')).toBe(join('out', 'a/_obj.rejects.jsonl'));
  });

  it('mirrors below an S3 prefix, with the Content-Type of the codec', () => {
    const dest = destinationFor(layout('s3://b/p', 'a/obj', { codec: 'none' }));
    expect(dest).toEqual({
      kind: 's3',
      bucket: 'b',
      prefix: 'p',
      output: 'a/obj.csv',
      rejects: 'a/_obj.rejects.jsonl',
      contentType: 'text/csv; charset=utf-8',
    });
    expect(describeDest(dest as never)).toBe('s3://b/p/a/obj.csv');
    expect(describeDest(destinationFor(layout('s3://b', 'obj')) as never)).toBe('s3://b/obj.csv.gz');
  });

  it('names a zstd output .csv.zst, typed application/zstd on S3; rejects and record as for gzip', () => {
    expect(destinationFor(layout('s3://b/p', 'a/obj.gz', { codec: 'zstd' }))).toEqual({
      kind: 's3',
      bucket: 'b',
      prefix: 'p',
      output: 'a/obj.csv.zst',
      rejects: 'a/_obj.rejects.jsonl',
      contentType: 'application/zstd',
    });
    expect(destinationFor(layout('out', 'a/obj', { codec: 'zstd' }))).toMatchObject({
      output: 'a/obj.csv.zst',
      record: 'a/.obj.flowhose.json',
    });
  });

  it('names an NDJSON output .json.gz / .json.zst / .json, typed as its codec or application/x-ndjson', () => {
    expect(destinationFor(layout('s3://b/p', 'a/obj.gz', { format: 'ndjson', codec: 'none' }))).toEqual({
      kind: 's3',
      bucket: 'b',
      prefix: 'p',
      output: 'a/obj.json',
      rejects: 'a/_obj.rejects.jsonl',
      contentType: 'application/x-ndjson',
    });
    expect(destinationFor(layout('out', 'a/obj', { format: 'ndjson', codec: 'zstd' }))).toEqual({
      kind: 'file',
      root: 'out',
      output: 'a/obj.json.zst',
      rejects: 'a/_obj.rejects.jsonl',
      record: 'a/.obj.flowhose.json',
    });
  });

  it('standard output keeps only the rejects file', () => {
    expect(destinationFor(layout('-', 'stdin', { rejects: 'r.jsonl' }))).toEqual({
      kind: 'stdout',
      rejects: 'r.jsonl',
    });
  });

  it.each(['../x', 'a/../../x', 'a/./b', '/etc/passwd', 'a//b', 'a\\..\\..\\x', 'nul\0byte'])(
    'refuses %j for a directory and a prefix alike',
    (relative) => {
      for (const to of ['out', 's3://b/p/', 's3://b']) {
        const dest = destinationFor(layout(to, relative));
        expect(dest, to).toHaveProperty('error');
        expect((dest as { error: string }).error).toContain('would fall outside');
      }
    },
  );

  it('isSafeName is the one rule', () => {
    expect(isSafeName('a/b..c/x.csv.gz')).toBe(true);
    expect(isSafeName('...csv.gz')).toBe(true);
    expect(isSafeName('a/./b')).toBe(false);
  });
});

describe('safeJoin keeps every output under --to', () => {
  it('accepts ordinary relative paths', () => {
    expect(safeJoin('out', 'a/b/c.csv.gz')).toBe(join('out', 'a/b/c.csv.gz'));
    expect(safeJoin('out', 'with space/x..y')).toBe(join('out', 'with space/x..y'));
  });

  it.each(['../x', 'a/../../x', 'a/./b', '/etc/passwd', 'a//b', '', 'a/', 'nul\0byte', '..', 'a\\..\\..\\x'])(
    'refuses %j',
    (rel) => {
      expect(safeJoin('out', rel)).toBeUndefined();
    },
  );
});
