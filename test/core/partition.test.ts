/**
 * Which partition a record goes to, and the router: every row lands in its own partition's output, in
 * input order, with one header per output; the union is the unpartitioned output's rows.
 */
import { describe, expect, it } from 'vitest';
import { FlowLogConverter } from '../../src/core/converter.js';
import { createCsvEncoder } from '../../src/core/csv-encoder.js';
import { FlowhoseError } from '../../src/core/errors.js';
import { DEFAULT_FORMAT, type FlowFormat, parseLogFormat } from '../../src/core/log-format.js';
import {
  CsvPartitionRouter,
  PartitionRouter,
  type PartitionScheme,
  partitionTimeMs,
  partitionValue,
  timePartition,
} from '../../src/core/partition.js';
import { RecordView } from '../../src/core/record-view.js';
import { generatePayloads } from '../../src/gen/corpus.js';
import { convert, dataPayload, WASM_MODULE } from '../helpers.js';

const T0 = Date.UTC(2020, 1, 1, 0, 59, 59) / 1000; // 2020-02-01T00:59:59Z, in Unix seconds
const record = (start: number | string, n = 1, account = '123456789010') =>
  `2 ${account} eni-1235b8ca123456789 172.31.16.${n} 172.31.16.21 20641 22 6 20 4249 ${start} ${start} ACCEPT OK`;

function view(line: string, eventMs?: number, format: FlowFormat = DEFAULT_FORMAT): RecordView {
  const v = new RecordView();
  const bytes = Buffer.from(line);
  expect(v.read(format, bytes, 0, bytes.length, eventMs)).toBeUndefined();
  return v;
}

/** Runs the converter with a router; returns each partition's output text, by key, in the order opened. */
function partitioned(
  input: string,
  scheme: PartitionScheme,
  options: {
    sourceTimeMs?: number;
    maxPartitions?: number;
    format?: FlowFormat;
    chunkBytes?: number;
    wasm?: boolean;
  } = {},
) {
  const outputs = new Map<string, Buffer[]>();
  const Router = options.wasm ? CsvPartitionRouter : PartitionRouter;
  const converter = new FlowLogConverter({
    format: options.format,
    payloadParser: options.wasm ? 'wasm' : 'scanner',
    wasmModule: options.wasm ? WASM_MODULE : undefined,
    outputChunkBytes: options.chunkBytes,
    onData: () => {
      throw new Error('a router hands nothing to the converter');
    },
    createEncoder: (_, chunkBytes) =>
      new Router({
        scheme,
        createEncoder: createCsvEncoder,
        chunkBytes,
        sourceTimeMs: options.sourceTimeMs,
        maxPartitions: options.maxPartitions ?? 24,
        onPartition: (key) => {
          expect(outputs.has(key)).toBe(false);
          const chunks: Buffer[] = [];
          outputs.set(key, chunks);
          return (chunk) => chunks.push(Buffer.from(chunk));
        },
      }),
  });
  const error = converter.write(Buffer.from(input)) ?? converter.end();
  return {
    error,
    stats: converter.stats,
    texts: new Map([...outputs].map(([key, chunks]) => [key, Buffer.concat(chunks).toString('utf8')])),
  };
}

describe('timePartition', () => {
  it('is UTC, zero-padded, by hour or day', () => {
    const ms = Date.UTC(2020, 1, 1, 0, 39, 38);
    expect(timePartition(ms, 'hour')).toBe('year=2020/month=02/day=01/hour=00');
    expect(timePartition(ms, 'day')).toBe('year=2020/month=02/day=01');
    expect(timePartition(Date.UTC(1999, 11, 31, 23, 59, 59, 999), 'hour')).toBe(
      'year=1999/month=12/day=31/hour=23',
    );
    expect(timePartition(0, 'hour')).toBe('year=1970/month=01/day=01/hour=00');
  });
});

describe('partitionTimeMs: start, then the event time, then the source, then the epoch', () => {
  it('takes start in Unix seconds before the event time', () => {
    expect(partitionTimeMs(view(record(T0), 1_700_000_000_000), 5)).toBe(T0 * 1000);
  });
  it('reads a start in milliseconds by the timestamp rule', () => {
    expect(partitionTimeMs(view(record(T0 * 1000 + 123), 1_700_000_000_000), 5)).toBe(T0 * 1000 + 123);
  });
  it('takes the event time when start is `-`', () => {
    expect(partitionTimeMs(view(record('-'), 1_700_000_000_000), 5)).toBe(1_700_000_000_000);
  });
  it('takes the event time when the format has no start', () => {
    const format = parseLogFormat('version account-id');
    expect(partitionTimeMs(view('2 123', 1_600_000_000_000, format), 5)).toBe(1_600_000_000_000);
  });
  it("takes the source's time when the record has neither (a raw line, start `-`)", () => {
    expect(partitionTimeMs(view(record('-')), 1_500_000_000_000)).toBe(1_500_000_000_000);
  });
  it('falls back to the epoch without any time', () => {
    expect(partitionTimeMs(view(record('-')), undefined)).toBe(0);
  });
  it('skips a start past what a Date holds (an envelope did not check it)', () => {
    expect(partitionTimeMs(view(record('99999999999999999999'), 1_700_000_000_000), 5)).toBe(
      1_700_000_000_000,
    );
  });
});

describe('PartitionRouter', () => {
  const hours = [T0, T0 + 1, T0 - 7200, T0 + 2, T0 + 3601, T0 - 7199];
  const events = hours.map((start, n) => ({ message: record(start, n), timestamp: 1_000 }));
  const input = dataPayload(events);

  it('writes each row into its hour in input order, one header per output; together the unpartitioned rows', () => {
    const { error, texts, stats } = partitioned(input, { by: 'hour' }, { chunkBytes: 64 });
    expect(error).toBeUndefined();
    expect(stats.rows).toBe(6);
    const whole = convert(input).csv.split('\n');
    const [header, ...rows] = whole.slice(0, -1);
    const rowsOf = (indexes: number[]) => `${[header, ...indexes.map((i) => rows[i])].join('\n')}\n`;
    // 00:59:59, 01:00:00, 22:59:59 the day before, 01:00:01, 02:00:00, 23:00:00 the day before
    expect(Object.fromEntries(texts)).toEqual({
      'year=2020/month=02/day=01/hour=00': rowsOf([0]),
      'year=2020/month=02/day=01/hour=01': rowsOf([1, 3]),
      'year=2020/month=01/day=31/hour=22': rowsOf([2]),
      'year=2020/month=02/day=01/hour=02': rowsOf([4]),
      'year=2020/month=01/day=31/hour=23': rowsOf([5]),
    });
    expect([...texts.keys()][2]).toBe('year=2020/month=01/day=31/hour=22'); // opened in input order
  });

  it('by day, the same rows in two outputs', () => {
    const { texts } = partitioned(input, { by: 'day' });
    expect([...texts.keys()]).toEqual(['year=2020/month=02/day=01', 'year=2020/month=01/day=31']);
    expect(texts.get('year=2020/month=02/day=01')!.split('\n')).toHaveLength(1 + 4 + 1);
    expect(texts.get('year=2020/month=01/day=31')!.split('\n')).toHaveLength(1 + 2 + 1);
  });

  it('a rejected record opens no partition', () => {
    const { texts, stats } = partitioned(dataPayload([{ message: 'x y' }, { message: record(T0) }]), {
      by: 'hour',
    });
    expect(stats.rejected).toBe(1);
    expect([...texts.keys()]).toEqual(['year=2020/month=02/day=01/hour=00']);
  });

  it('no rows, no outputs', () => {
    const { texts, error } = partitioned(dataPayload([{ message: 'x y' }]).concat(dataPayload([])), {
      by: 'hour',
    });
    expect(error?.code).toBe('FORMAT_MISMATCH');
    expect(texts.size).toBe(0);
  });

  it('a raw line without a start goes to the source time, else to the epoch', () => {
    const line = `${record('-')}\n`;
    expect([...partitioned(line, { by: 'hour' }, { sourceTimeMs: T0 * 1000 }).texts.keys()]).toEqual([
      'year=2020/month=02/day=01/hour=00',
    ]);
    expect([...partitioned(line, { by: 'hour' }).texts.keys()]).toEqual([
      'year=1970/month=01/day=01/hour=00',
    ]);
  });

  it('past maxPartitions, fails with TOO_MANY_PARTITIONS naming the bound and the option', () => {
    let thrown: unknown;
    try {
      partitioned(input, { by: 'hour' }, { maxPartitions: 4 });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(FlowhoseError);
    expect(thrown).toMatchObject({ code: 'TOO_MANY_PARTITIONS', option: 'maxPartitions' });
    expect((thrown as Error).message).toContain('more than 4 partitions');
  });

  it("AWS's tree: account from each record, region from the region field or the label", () => {
    const lines = [
      record(T0, 1, '111111111111'),
      record(T0, 2, '222222222222'),
      record(T0, 3, '111111111111'),
    ];
    const { texts } = partitioned(`${lines.join('\n')}\n`, { by: 'hour', aws: { regionLabel: 'eu-west-1' } });
    expect([...texts.keys()]).toEqual([
      'aws-account-id=111111111111/aws-service=vpcflowlogs/aws-region=eu-west-1/year=2020/month=02/day=01/hour=00',
      'aws-account-id=222222222222/aws-service=vpcflowlogs/aws-region=eu-west-1/year=2020/month=02/day=01/hour=00',
    ]);
    expect(texts.get([...texts.keys()][0]!)!.split('\n')).toHaveLength(1 + 2 + 1);

    const format = parseLogFormat('account-id region start');
    const regional = partitioned(
      `1 us-east-1 ${T0}\n1 - ${T0}\n1 ap-south-2 ${T0}\n`,
      { by: 'hour', aws: {} },
      { format },
    );
    expect([...regional.texts.keys()].map((k) => k.split('/')[2])).toEqual([
      'aws-region=us-east-1',
      'aws-region=unknown',
      'aws-region=ap-south-2',
    ]);
  });

  it('escapes partition values as Hive does, so no value forms a path', () => {
    expect(partitionValue('123456789010')).toBe('123456789010');
    expect(partitionValue('us-east-1')).toBe('us-east-1');
    expect(partitionValue('..')).toBe('%2E%2E');
    expect(partitionValue('a/b')).toBe('a%2Fb');
    expect(partitionValue('')).toBe('unknown');
    expect(partitionValue('é')).toBe('%C3%A9');
  });
});

describe('CsvPartitionRouter: rows the WebAssembly path wrote, routed by their columns', () => {
  it.skipIf(!WASM_MODULE)(
    'a generated corpus across hours: the same outputs as the scanner through the router',
    () => {
      const input = [
        ...generatePayloads({ seed: 3, targetBytes: 400_000, startMs: Date.UTC(2020, 1, 1, 0, 59, 57) }),
        ...generatePayloads({ seed: 4, targetBytes: 200_000, startMs: Date.UTC(2020, 0, 31, 23, 59, 59) }),
        ...generatePayloads({ seed: 5, targetBytes: 200_000, startMs: Date.UTC(2020, 1, 1, 0, 30) }),
      ].join('');
      for (const scheme of [
        { by: 'hour' },
        { by: 'day' },
        { by: 'hour', aws: { regionLabel: 'x' } },
      ] as const) {
        const wasm = partitioned(input, scheme, { wasm: true });
        const scanner = partitioned(input, scheme);
        expect(wasm.error).toBeUndefined();
        expect(wasm.texts.size).toBeGreaterThan(1);
        expect(Object.fromEntries(wasm.texts)).toEqual(Object.fromEntries(scanner.texts));
      }
    },
  );

  it.skipIf(!WASM_MODULE)(
    'quoted fields, a start of `-` (the event time then), milliseconds, accounts and regions',
    () => {
      const format = parseLogFormat('version account-id note start region');
      const events = [
        { message: `2 111 a,b ${T0} us-east-1`, timestamp: 1 },
        { message: `2 "222" "q" - eu-west-1`, timestamp: Date.UTC(2020, 1, 1, 3, 0) },
        { message: `2 111 x ${T0 * 1000 + 5} -`, timestamp: 1 },
        { message: `2 a,b y ${T0 + 3600} us-east-1`, timestamp: 1 },
        { message: `2 111 - ${T0} us-east-1`, timestamp: 1 },
      ];
      const input = dataPayload(events);
      for (const scheme of [{ by: 'hour' }, { by: 'hour', aws: { regionLabel: 'lab' } }] as const) {
        const wasm = partitioned(input, scheme, { wasm: true, format });
        const scanner = partitioned(input, scheme, { format });
        expect(Object.fromEntries(wasm.texts)).toEqual(Object.fromEntries(scanner.texts));
      }
      const keys = [
        ...partitioned(
          input,
          { by: 'hour', aws: { regionLabel: 'lab' } },
          { wasm: true, format },
        ).texts.keys(),
      ];
      expect(keys).toEqual([
        'aws-account-id=111/aws-service=vpcflowlogs/aws-region=us-east-1/year=2020/month=02/day=01/hour=00',
        'aws-account-id=%22222%22/aws-service=vpcflowlogs/aws-region=eu-west-1/year=2020/month=02/day=01/hour=03',
        'aws-account-id=111/aws-service=vpcflowlogs/aws-region=lab/year=2020/month=02/day=01/hour=00',
        'aws-account-id=a%2Cb/aws-service=vpcflowlogs/aws-region=us-east-1/year=2020/month=02/day=01/hour=01',
      ]);
    },
  );
});

describe('CsvPartitionRouter.writeBytes on rows with quotes (written by another CSV writer)', () => {
  it('reads quoted columns by RFC 4180 and routes by their values', () => {
    const keys: string[] = [];
    const texts: string[] = [];
    const router = new CsvPartitionRouter({
      scheme: { by: 'hour', aws: {} },
      createEncoder: createCsvEncoder,
      chunkBytes: 1024,
      maxPartitions: 9,
      onPartition: (key) => {
        keys.push(key);
        return (chunk) => texts.push(chunk.toString());
      },
    });
    router.header(parseLogFormat('account-id note start region'));
    const rows = [
      `2020-02-01T00:00:00.000Z,"a,""b",x,${T0},r1\n`,
      `2020-02-01T00:00:00.000Z,c,"y,z",${T0 + 3600},"r,2"\n`,
      '2020-02-01T05:00:00.000Z,c,"""",,r3\n',
    ];
    router.writeBytes(Buffer.from(rows.join('')));
    router.flush();
    expect(keys).toEqual([
      'aws-account-id=a%2C%22b/aws-service=vpcflowlogs/aws-region=r1/year=2020/month=02/day=01/hour=00',
      'aws-account-id=c/aws-service=vpcflowlogs/aws-region=r%2C2/year=2020/month=02/day=01/hour=01',
      'aws-account-id=c/aws-service=vpcflowlogs/aws-region=r3/year=2020/month=02/day=01/hour=05',
    ]);
    expect(texts.map((t) => t.split('\n')[1])).toEqual(rows.map((r) => r.slice(0, -1)));
  });
});

describe("AWS's tree without account-id in the format", () => {
  it("takes each payload's owner, the account of the log group (unknown without one)", () => {
    const format = parseLogFormat('version start');
    const input =
      dataPayload([{ message: `2 ${T0}` }], { owner: '111122223333' }) +
      dataPayload([{ message: `2 ${T0}` }], { owner: '444455556666' }) +
      dataPayload([{ message: `2 ${T0}` }], { owner: '111122223333' });
    for (const parser of ['scanner', 'json'] as const) {
      const outputs: string[] = [];
      const converter = new FlowLogConverter({
        format,
        payloadParser: parser,
        onData: () => {},
        createEncoder: (_, chunkBytes) =>
          new PartitionRouter({
            scheme: { by: 'hour', aws: { regionLabel: 'r' } },
            createEncoder: createCsvEncoder,
            chunkBytes,
            maxPartitions: 9,
            onPartition: (key) => {
              outputs.push(key.split('/')[0]!);
              return () => {};
            },
          }),
      });
      expect(converter.write(Buffer.from(input)) ?? converter.end()).toBeUndefined();
      expect(outputs).toEqual(['aws-account-id=111122223333', 'aws-account-id=444455556666']);
    }
    const raw = partitioned(`2 ${T0}\n`, { by: 'hour', aws: {} }, { format });
    expect([...raw.texts.keys()][0]).toMatch(/^aws-account-id=unknown\//);
  });
});
