/**
 * --shard i/n: every key in exactly one shard, and the shards about equally full, also for the
 * structured names real buckets hold and for power-of-two n (FNV-1a alone put 42 such names 42/0/0/0
 * over four shards).
 */
import { describe, expect, it } from 'vitest';
import { createRandom } from '../../src/gen/corpus.js';
import { parseShard, type Selection, select, shardOf } from '../../src/run/select.js';

/**
 * `obj-a0`, `obj-a4`, `obj-e8`, `obj-y480`, …: letters and digits that differ only above their two
 * lowest bits, the worst case for a hash whose low bits are not mixed.
 */
function structuredNames(): string[] {
  const names: string[] = [];
  const grow = (name: string, depth: number) => {
    for (const digit of '048') {
      names.push(`${name}${digit}`);
      if (depth > 1) grow(`${name}${digit}`, depth - 1);
    }
  };
  for (const letter of 'aeimquy') grow(`obj-${letter}`, 3);
  return names;
}

/** Firehose's default S3 layout: `YYYY/MM/DD/HH/<stream>-<version>-YYYY-MM-DD-HH-MM-SS-<uuid>`. */
function firehoseNames(count: number): string[] {
  const random = createRandom(7);
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join('');
  const two = (n: number) => String(n).padStart(2, '0');
  return Array.from({ length: count }, (_, i) => {
    const hour = two(Math.floor(i / 60) % 24);
    const minute = two(i % 60);
    const uuid = `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`;
    return `2020/02/01/${hour}/delivery-1-2020-02-01-${hour}-${minute}-00-${uuid}`;
  });
}

const COUNTS = [2, 3, 4, 8, 16];
/** shardOf(key, 2 ** 32) for '', 'obj-a0' and 'obj-a4'. */
const PINNED = [2872998923, 1237927327, 3935123726];
const FAMILIES: Array<[string, string[]]> = [
  ['structured names (obj-a0, obj-a4, …)', structuredNames()],
  ['Firehose names', firehoseNames(600)],
];

const selection = (index: number, count: number): Selection => ({
  include: [],
  exclude: [],
  shard: { index, count },
  skipErrorPrefixes: true,
});

describe('--shard', () => {
  for (const [family, names] of FAMILIES) {
    for (const count of COUNTS) {
      it(`${family}: n = ${count} takes every key exactly once, no shard far from ${names.length}/${count}`, () => {
        const sizes = new Array<number>(count).fill(0);
        for (const name of names) {
          const takers = Array.from({ length: count }, (_, i) => i).filter(
            (i) => select(name, selection(i, count)) === 'take',
          );
          expect(takers, name).toHaveLength(1);
          sizes[takers[0]!]!++;
        }
        // A fair hash puts Binomial(len, 1/n) keys in each shard: allow four standard deviations.
        const mean = names.length / count;
        const allowed = 4 * Math.sqrt(mean * (1 - 1 / count));
        for (const size of sizes)
          expect(Math.abs(size - mean), `shard sizes ${sizes.join('/')}`).toBeLessThanOrEqual(allowed);
      });
    }
  }

  it('is FNV-1a then fmix32, pinned (changing it moves keys between shards for every user)', () => {
    // An independent statement of the hash, in BigInt arithmetic.
    const M = 2n ** 32n;
    const reference = (key: string): number => {
      let h = 0x811c9dc5n;
      for (const byte of Buffer.from(key, 'utf8')) h = ((h ^ BigInt(byte)) * 0x01000193n) % M;
      h ^= h >> 16n;
      h = (h * 0x85ebca6bn) % M;
      h ^= h >> 13n;
      h = (h * 0xc2b2ae35n) % M;
      h ^= h >> 16n;
      return Number(h);
    };
    const keys = ['', 'x', 'obj-a0', 'obj-a4', 'ünïcödé', ...firehoseNames(50)];
    for (const key of keys) expect(shardOf(key, 2 ** 32), key).toBe(reference(key));
    expect(['', 'obj-a0', 'obj-a4'].map((key) => shardOf(key, 2 ** 32))).toEqual(PINNED);
  });

  it('parses i/n', () => {
    expect(parseShard('1/4')).toEqual({ index: 1, count: 4 });
    expect(parseShard('4/4')).toBeUndefined();
    expect(parseShard('0/0')).toBeUndefined();
  });
});
