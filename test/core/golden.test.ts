import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseLogFormat } from '../../src/core/log-format.js';
import { convert, dataPayload } from '../helpers.js';

/**
 * Golden files: the flow-record examples of the AWS VPC documentation (test/fixtures, copied from
 * the team's samples), wrapped in CloudWatch Logs payloads and converted with each set's format.
 * Regenerate after a deliberate format change with UPDATE_GOLDEN=1, then read the diff.
 */
interface Sample {
  name: string;
  log_format: string;
  records: string[];
}
const samples = JSON.parse(
  readFileSync(new URL('../fixtures/aws-doc-flow-records.json', import.meta.url), 'utf8'),
).sets as Sample[];

function golden(name: string, actual: string) {
  const url = new URL(`../golden/${name}.csv`, import.meta.url);
  if (process.env.UPDATE_GOLDEN) writeFileSync(url, actual);
  expect(actual).toBe(readFileSync(url, 'utf8'));
}

describe('AWS documentation examples', () => {
  for (const sample of samples) {
    it(`${sample.name}: CloudWatch payload → CSV`, () => {
      const events = sample.records.map((message, i) => ({ message, timestamp: 1418530010000 + i * 1001 }));
      const result = convert(dataPayload(events), parseLogFormat(sample.log_format));
      expect(result.error).toBeUndefined();
      expect(result.rejects).toEqual([]);
      expect(result.stats.rows).toBe(sample.records.length);
      golden(sample.name, result.csv);
    });
  }

  it('default-v2 as a text file with a header line (flow logs delivered straight to S3)', () => {
    const sample = samples.find((s) => s.name === 'default-v2')!;
    const header =
      'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
    const result = convert(`${header}\n${sample.records.join('\n')}\n`);
    expect(result.error).toBeUndefined();
    golden('default-v2-text', result.csv);
  });

  it('tcp-flags-v3 as raw lines with --log-format (Firehose message extraction)', () => {
    const sample = samples.find((s) => s.name === 'tcp-flags-v3')!;
    const result = convert(`${sample.records.join('\r\n')}`, parseLogFormat(sample.log_format));
    expect(result.error).toBeUndefined();
    golden('tcp-flags-v3-raw', result.csv);
  });

  it('a header line decides the format of its file, whatever --log-format says', () => {
    const sample = samples.find((s) => s.name === 'nat-gateway')!;
    const header = sample.log_format.replace(/\$\{([^}]+)\}/g, '$1');
    const result = convert(`${header}\n${sample.records.join('\n')}\n`);
    expect(result.csv.split('\n')[0]).toBe(
      'timestamp,instance-id,interface-id,srcaddr,dstaddr,pkt-srcaddr,pkt-dstaddr',
    );
    expect(result.stats.rows).toBe(sample.records.length);
  });
});
