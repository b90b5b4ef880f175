import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { convertBytes } from '../../src/core/convert-bytes.js';
import { DEFAULT_FORMAT, type FlowFormat, parseLogFormat } from '../../src/core/log-format.js';
import { createNdjsonEncoder } from '../../src/core/ndjson-encoder.js';
import { dataPayload, WASM_MODULE } from '../helpers.js';
import { typedCsvRows, typedNdjsonRows } from '../ndjson-reference.js';

/**
 * Golden NDJSON beside the golden CSV (test/golden/*.csv, golden.test.ts), from the same inputs: the
 * AWS documentation examples. Each is also read back and compared value for value with its CSV golden
 * file, so the two can only change together. Regenerate with UPDATE_GOLDEN=1, then read the diff.
 */
interface Sample {
  name: string;
  log_format: string;
  records: string[];
}
const samples = JSON.parse(
  readFileSync(new URL('../fixtures/aws-doc-flow-records.json', import.meta.url), 'utf8'),
).sets as Sample[];

function ndjsonOf(input: string, format?: FlowFormat) {
  const result = convertBytes(Buffer.from(input), {
    format,
    wasmModule: WASM_MODULE,
    createEncoder: createNdjsonEncoder,
  });
  expect(result.error).toBeUndefined();
  expect(result.rejects).toEqual([]);
  return result.output.toString('utf8');
}

function golden(name: string, actual: string, format: FlowFormat) {
  const url = new URL(`../golden/${name}.ndjson`, import.meta.url);
  if (process.env.UPDATE_GOLDEN) writeFileSync(url, actual);
  expect(actual).toBe(readFileSync(url, 'utf8'));
  const csv = readFileSync(new URL(`../golden/${name}.csv`, import.meta.url), 'utf8');
  expect(typedNdjsonRows(actual, format)).toEqual(typedCsvRows(csv, format));
}

describe('AWS documentation examples as NDJSON', () => {
  for (const sample of samples) {
    it(`${sample.name}: CloudWatch payload → NDJSON`, () => {
      const events = sample.records.map((message, i) => ({ message, timestamp: 1418530010000 + i * 1001 }));
      const format = parseLogFormat(sample.log_format);
      const actual = ndjsonOf(dataPayload(events), format);
      expect(actual.split('\n')).toHaveLength(sample.records.length + 1);
      golden(sample.name, actual, format);
    });
  }

  it('default-v2 as a text file with a header line', () => {
    const sample = samples.find((s) => s.name === 'default-v2')!;
    const header =
      'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
    golden('default-v2-text', ndjsonOf(`${header}\n${sample.records.join('\n')}\n`), DEFAULT_FORMAT);
  });

  it('tcp-flags-v3 as raw lines with --log-format', () => {
    const sample = samples.find((s) => s.name === 'tcp-flags-v3')!;
    const format = parseLogFormat(sample.log_format);
    golden('tcp-flags-v3-raw', ndjsonOf(sample.records.join('\r\n'), format), format);
  });
});
