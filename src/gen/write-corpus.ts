import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import { generateObject, type ObjectOptions, type PayloadOptions, payloads } from './corpus.js';

export interface CorpusSpec extends PayloadOptions {
  out: string;
  objects: number;
  /** Total decompressed size, in MB (10^6 bytes), spread evenly over the objects. */
  mb: number;
  seed: number;
  doubleGzip?: boolean;
}

/**
 * Writes a corpus laid out as Firehose lays out S3 (`YYYY/MM/DD/HH/<stream>-<n>-<date>-<uuid>`, no
 * suffix). Each object's seed derives from the corpus seed, so any object can be made alone again.
 */
export async function writeCorpus(spec: CorpusSpec): Promise<{ files: string[]; bytes: number }> {
  const files: string[] = [];
  let bytes = 0;
  const perObject = Math.max(1, Math.round((spec.mb * 1e6) / spec.objects));
  for (let i = 0; i < spec.objects; i++) {
    const hour = String(i % 24).padStart(2, '0');
    const dir = join(spec.out, '2020', '02', '01', hour);
    await mkdir(dir, { recursive: true });
    const name = `flowlogs-stream-1-2020-02-01-${hour}-00-00-${String(i).padStart(8, '0')}`;
    const data = generateObject({ ...spec, seed: spec.seed * 1_000_003 + i, targetBytes: perObject });
    const path = join(dir, name);
    await writeFile(path, data);
    files.push(path);
    bytes += data.length;
  }
  return { files, bytes };
}

/**
 * Writes one object of any size payload by payload (one gzip member each), so a 1 GB object
 * takes as little memory to make as a 1 MB one. Returns the compressed size.
 */
export async function writeLargeObject(path: string, options: ObjectOptions, level = 6): Promise<number> {
  const out = createWriteStream(path);
  let bytes = 0;
  for (const payload of payloads(options)) {
    const member = gzipSync(payload, { level });
    bytes += member.length;
    if (!out.write(member)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  out.end();
  await finished(out);
  return bytes;
}
