import { generateObject, generatePayloads, type ObjectOptions } from './corpus.js';

/**
 * The bundled sample, examples/firehose-sample: a Firehose object of ~2 MB of payloads (a few
 * hundred KB gzipped) with a CONTROL_MESSAGE first, NODATA/SKIPDATA records and IPv6 flows.
 * Regenerate with `node dist/src/gen/example.js examples/firehose-sample`.
 */
export const EXAMPLE_OPTIONS: ObjectOptions = {
  seed: 20200201,
  targetBytes: 2_000_000,
  eventsMin: 100,
  eventsMax: 600,
  noDataRate: 0.03,
  ipv6Rate: 0.08,
  controlRate: 0.03,
};

export const examplePayloads = () => generatePayloads(EXAMPLE_OPTIONS);
export const exampleObject = () => generateObject(EXAMPLE_OPTIONS);

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!) && process.argv[2]) {
  const { writeFile } = await import('node:fs/promises');
  await writeFile(process.argv[2], exampleObject());
}
