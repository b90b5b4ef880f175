import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { joinKey, safeJoin } from '../src/io/paths.js';
import { outputName, rejectsName } from '../src/object/layout.js';

describe('output names', () => {
  it('mirror the source path, dropping a trailing .gz first', () => {
    expect(outputName('a/b/obj', true)).toBe('a/b/obj.csv.gz');
    expect(outputName('a/b/obj.gz', true)).toBe('a/b/obj.csv.gz');
    expect(outputName('a/b/obj.GZ', false)).toBe('a/b/obj.csv');
    expect(outputName('flow.log.gz', true)).toBe('flow.log.csv.gz');
  });

  it('put rejects beside the output under a name Athena skips', () => {
    expect(rejectsName('out/a/obj.csv.gz')).toBe('out/a/_obj.rejects.jsonl');
    expect(rejectsName('obj.csv')).toBe('_obj.rejects.jsonl');
  });

  it('join S3 key prefixes with exactly one slash', () => {
    expect(joinKey('', 'a')).toBe('a');
    expect(joinKey('p', 'a')).toBe('p/a');
    expect(joinKey('p/', 'a')).toBe('p/a');
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
