import { describe, expect, it } from 'vitest';
import { DEFAULT_FIELDS, KNOWN_FIELDS } from '../../src/core/fields.js';
import { createFlowFormat } from '../../src/core/log-format.js';
import { generatePayloads } from '../../src/gen/corpus.js';
import { convert } from '../helpers.js';

/**
 * The byte scanner against an obviously-correct oracle written the slow way: JSON.parse each
 * payload, split messages with a regex, build rows from strings. Any disagreement on a
 * generated corpus is a bug in one of them.
 */
function oracle(payloads: string[], fields: readonly string[]): string {
  const lines = [['timestamp', ...fields].join(',')];
  for (const text of payloads) {
    const payload = JSON.parse(text) as {
      messageType: string;
      logEvents: { timestamp: number; message: string }[];
    };
    if (payload.messageType === 'CONTROL_MESSAGE') continue;
    for (const event of payload.logEvents) {
      const values = event.message.trim().split(/\s+/);
      expect(values).toHaveLength(fields.length);
      const cells = values.map((v) => (v === '-' ? '' : /[",]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v));
      lines.push([new Date(event.timestamp).toISOString(), ...cells].join(','));
    }
  }
  return `${lines.join('\n')}\n`;
}

const V5 = [
  ...DEFAULT_FIELDS.slice(0, 3),
  'vpc-id',
  'subnet-id',
  'instance-id',
  'tcp-flags',
  'type',
  'pkt-srcaddr',
  'pkt-dstaddr',
  'region',
  'az-id',
  'flow-direction',
  'traffic-path',
  'pkt-src-aws-service',
  ...DEFAULT_FIELDS.slice(3),
];

describe('differential: scanner vs JSON.parse oracle', () => {
  it.each([
    ['default format', DEFAULT_FIELDS, 11],
    ['a v5 custom format', V5, 12],
    ['every known field', [...KNOWN_FIELDS.keys()], 13],
  ])('%s', (_name, fields, seed) => {
    const payloads = generatePayloads({
      seed,
      targetBytes: 1_500_000,
      fields,
      controlRate: 0.05,
      noDataRate: 0.05,
      ipv6Rate: 0.2,
    });
    const result = convert(payloads.join(''), createFlowFormat(fields));
    expect(result.error).toBeUndefined();
    expect(result.rejects).toEqual([]);
    expect(result.stats.control).toBeGreaterThan(0);
    expect(result.csv).toBe(oracle(payloads, fields));
  });
});
