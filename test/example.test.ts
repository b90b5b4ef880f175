import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { expect, it } from 'vitest';
import { examplePayloads } from '../src/gen/example.js';
import { convert } from './helpers.js';

const sample = readFileSync(new URL('../examples/firehose-sample', import.meta.url));

it('the bundled sample is what the seeded generator makes', () => {
  // Compare decompressed bytes: gzip output may differ between zlib builds.
  expect(gunzipSync(sample).toString('utf8')).toBe(examplePayloads().join(''));
});

it('the bundled sample has every feature it promises', () => {
  const result = convert(gunzipSync(sample));
  expect(sample.length).toBeGreaterThan(100_000);
  expect(result.error).toBeUndefined();
  expect(result.stats.control).toBeGreaterThan(0);
  expect(result.stats.rows).toBeGreaterThan(5000);
  expect(result.csv).toMatch(/,NODATA\n/);
  expect(result.csv).toMatch(/,SKIPDATA\n/);
  expect(result.csv).toMatch(/,2001:db8:/);
});
