import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { type ColumnSource, ParquetWriter } from 'hyparquet-writer';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { columnsOf } from '../../src/core/columns.js';
import { convertBytes } from '../../src/core/convert-bytes.js';
import { KNOWN_FIELDS } from '../../src/core/fields.js';
import { DEFAULT_FORMAT, type FlowFormat, parseLogFormat } from '../../src/core/log-format.js';
import { generateObject } from '../../src/gen/corpus.js';
import { zstdAvailable } from '../../src/streams/codecs.js';
import {
  createParquetEncoder,
  defaultParquetCompression,
  type ParquetCompression,
  type ParquetSettings,
  parquetCompressionUnavailable,
} from '../../src/streams/parquet-encoder.js';
import { CONTROL_PAYLOAD, dataPayload, randomCuts, WASM_MODULE } from '../helpers.js';
import { expectParquetEqualsCsv, queryRows } from '../parquet-reader.js';

/**
 * The Parquet files hyparquet-writer makes, read back by another implementation (DuckDB): schema,
 * physical and logical types, compression, statistics, and every value against the CSV the same
 * input gives, row for row.
 */
let db: DuckDBInstance;
let sql: DuckDBConnection;
let dir: string;
let fileNo = 0;

beforeAll(async () => {
  db = await DuckDBInstance.create(':memory:', { threads: '1' });
  sql = await db.connect();
  dir = mkdtempSync(join(tmpdir(), 'flowhose-parquet-'));
});
afterAll(() => {
  sql?.closeSync();
  rmSync(dir, { recursive: true, force: true });
});

const SETTINGS: ParquetSettings = { compression: 'snappy' };

function toParquet(input: Buffer | Buffer[], format: FlowFormat, settings: ParquetSettings = SETTINGS) {
  return convertBytes(input, { format, createEncoder: createParquetEncoder(settings) });
}

function toCsv(input: Buffer, format: FlowFormat) {
  return convertBytes(input, { format, wasmModule: WASM_MODULE });
}

function save(bytes: Buffer): string {
  const path = join(dir, `f${fileNo++}.parquet`);
  writeFileSync(path, bytes);
  return path;
}

const rows = (query: string) => queryRows(sql, query);
const expectSameValues = (path: string, csv: string, format: FlowFormat) =>
  expectParquetEqualsCsv(sql, path, csv, format);

interface Sample {
  name: string;
  log_format: string;
  records: string[];
}
const samples = JSON.parse(
  readFileSync(new URL('../fixtures/aws-doc-flow-records.json', import.meta.url), 'utf8'),
).sets as Sample[];

/** Every documented field through flow-log version 8, in the field table's order. */
const V8_FORMAT = parseLogFormat(
  [...KNOWN_FIELDS]
    .filter(([, info]) => info.since <= 8)
    .map(([name]) => name)
    .join(' '),
);

describe('Parquet schema', () => {
  it('names and types every column as AWS native Parquet delivery does, all OPTIONAL', async () => {
    const path = save(toParquet(Buffer.from(dataPayload([{ message: AWS_LINE }])), DEFAULT_FORMAT).output);
    const schema = await rows(
      `SELECT name, type, converted_type, logical_type, repetition_type FROM parquet_schema('${path}')`,
    );
    expect(schema.slice(1).map((s) => [s.name, s.type, s.converted_type, s.repetition_type])).toEqual([
      ['timestamp', 'INT64', 'TIMESTAMP_MILLIS', 'OPTIONAL'],
      ['version', 'INT32', null, 'OPTIONAL'],
      ['account_id', 'BYTE_ARRAY', 'UTF8', 'OPTIONAL'],
      ['interface_id', 'BYTE_ARRAY', 'UTF8', 'OPTIONAL'],
      ['srcaddr', 'BYTE_ARRAY', 'UTF8', 'OPTIONAL'],
      ['dstaddr', 'BYTE_ARRAY', 'UTF8', 'OPTIONAL'],
      ['srcport', 'INT32', null, 'OPTIONAL'],
      ['dstport', 'INT32', null, 'OPTIONAL'],
      ['protocol', 'INT32', null, 'OPTIONAL'],
      ['packets', 'INT64', null, 'OPTIONAL'],
      ['bytes', 'INT64', null, 'OPTIONAL'],
      ['start', 'INT64', null, 'OPTIONAL'],
      ['end', 'INT64', null, 'OPTIONAL'],
      ['action', 'BYTE_ARRAY', 'UTF8', 'OPTIONAL'],
      ['log_status', 'BYTE_ARRAY', 'UTF8', 'OPTIONAL'],
    ]);
    expect(String(schema[1]!.logical_type)).toMatch(
      /TimestampType\(isAdjustedToUTC=1, unit=TimeUnit\(MILLIS/,
    );
    expect(String(schema[3]!.logical_type)).toBe('StringType()');
    const types = await rows(`DESCRIBE SELECT * FROM '${path}'`);
    expect(types.map((t) => t.column_type)).toEqual([
      'TIMESTAMP WITH TIME ZONE',
      'INTEGER',
      ...Array(4).fill('VARCHAR'),
      ...Array(3).fill('INTEGER'),
      ...Array(4).fill('BIGINT'),
      'VARCHAR',
      'VARCHAR',
    ]);
  });

  it('an empty input is a valid file with the schema and no rows', async () => {
    for (const input of ['', CONTROL_PAYLOAD]) {
      const result = toParquet(Buffer.from(input), DEFAULT_FORMAT);
      expect(result.error).toBeUndefined();
      const path = save(result.output);
      expect((await rows(`SELECT count(*) AS n FROM '${path}'`))[0]!.n).toBe(0n);
      const names = await rows(`SELECT name FROM parquet_schema('${path}')`);
      expect(names.slice(1).map((n) => n.name)).toEqual(columnsOf(DEFAULT_FORMAT).map((c) => c.name));
    }
  });
});

const AWS_LINE =
  '2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK';

describe('every value equals the CSV output of the same input', () => {
  for (const sample of samples) {
    it(`AWS documentation examples: ${sample.name}`, async () => {
      const format = parseLogFormat(sample.log_format);
      const events = sample.records.map((message, i) => ({ message, timestamp: 1418530010000 + i * 1001 }));
      const input = Buffer.from(dataPayload(events));
      const parquet = toParquet(input, format);
      expect(parquet.rejects).toEqual([]);
      await expectSameValues(save(parquet.output), toCsv(input, format).output.toString('utf8'), format);
    });
  }

  it('a text file with a header line and no envelope: the time is the flow start', async () => {
    const sample = samples.find((s) => s.name === 'default-v2')!;
    const header = DEFAULT_FORMAT.fields.map((f) => f.name).join(' ');
    const input = Buffer.from(`${header}\n${sample.records.join('\n')}\n2 - - - - - - - - - - - - NODATA\n`);
    const parquet = toParquet(input, DEFAULT_FORMAT);
    await expectSameValues(
      save(parquet.output),
      toCsv(input, DEFAULT_FORMAT).output.toString('utf8'),
      DEFAULT_FORMAT,
    );
  });

  it.each([
    ['the default format', DEFAULT_FORMAT],
    ['the v8 fields (ECS, reject-reason, packet addresses, traffic path)', V8_FORMAT],
  ])('a generated corpus in %s: nulls, IPv6, NODATA, several row groups', async (_, format) => {
    const fields = format.fields.map((f) => f.name);
    const input = gunzipSync(
      generateObject({ seed: 3, targetBytes: 600_000, fields, ipv6Rate: 0.2, noDataRate: 0.1 }),
    );
    const parquet = toParquet(input, format, { compression: 'snappy', rowGroupRows: 500 });
    expect(parquet.stats.rows).toBeGreaterThan(1800);
    const path = save(parquet.output);
    const groups = await rows(`SELECT DISTINCT row_group_id FROM parquet_metadata('${path}')`);
    expect(groups.length).toBe(Math.ceil(parquet.stats.rows / 500));
    await expectSameValues(path, toCsv(input, format).output.toString('utf8'), format);
  });

  it('edge values: INT32/INT64 maxima, leading zeros, quotes and commas, UTF-8, long strings', async () => {
    const format = parseLogFormat('version srcport packets bytes note action log-status');
    const long = `arn:aws:ecs:eu-west-1:123456789012:task/${'x'.repeat(300)}`;
    const input = Buffer.from(
      dataPayload([
        { message: `2 2147483647 9223372036854775807 0 "quoted",comma ACCEPT OK` },
        { message: `2 0002147483647 00009223372036854775807 000 café,東京😀 REJECT OK` },
        { message: `2 0 1 2 ${long} ACCEPT OK`, timestamp: 0 },
        { message: '2 - - - - - NODATA' },
      ]),
    );
    const parquet = toParquet(input, format);
    expect(parquet.rejects).toEqual([]);
    await expectSameValues(save(parquet.output), toCsv(input, format).output.toString('utf8'), format);
  });

  it('bytes that are not UTF-8 become U+FFFD, so the STRING column stays valid UTF-8', async () => {
    const format = parseLogFormat('version note log-status');
    const input = Buffer.concat([Buffer.from('2 a'), Buffer.from([0xff, 0xc3]), Buffer.from('b OK\n')]);
    const parquet = toParquet(input, format);
    const [row] = await rows(`SELECT note FROM '${save(parquet.output)}'`);
    expect(row!.note).toBe('a\ufffd\ufffdb');
  });
});

describe('rejects', () => {
  it('go to the rejects list exactly as for CSV, plus the values the typed columns cannot hold', async () => {
    const good = AWS_LINE;
    const input = Buffer.from(
      dataPayload([
        { message: good },
        { message: '2 123 eni-1 1.1.1.1 2.2.2.2 x 22 6 20 4249 1418530010 1418530070 ACCEPT OK' },
        { message: '2 too few fields' },
        { message: good.replace(' 20641 ', ' 2147483648 ') },
        { message: good.replace(' 4249 ', ' 9223372036854775808 ') },
        { message: good },
      ]),
    );
    const csv = toCsv(input, DEFAULT_FORMAT);
    const parquet = toParquet(input, DEFAULT_FORMAT);
    expect(csv.rejects.map((r) => r.code)).toEqual(['BAD_INTEGER', 'FIELD_COUNT']);
    const range = parquet.rejects.filter((r) => !csv.rejects.some((c) => c.record === r.record));
    expect(parquet.rejects.filter((r) => csv.rejects.some((c) => c.record === r.record))).toEqual(
      csv.rejects,
    );
    expect(range.map((r) => [r.code, r.reason])).toEqual([
      ['BAD_INTEGER', 'srcport 2147483648 does not fit an INT32 column'],
      ['BAD_INTEGER', 'bytes 9223372036854775808 does not fit an INT64 column'],
    ]);
    const path = save(parquet.output);
    expect((await rows(`SELECT count(*) AS n FROM '${path}'`))[0]!.n).toBe(2n);
    expect(parquet.stats.rows).toBe(2);
  });
});

describe('streaming', () => {
  const input = gunzipSync(
    generateObject({ seed: 5, targetBytes: 300_000, ipv6Rate: 0.1, noDataRate: 0.05 }),
  );

  it('the same bytes however the input is cut', () => {
    const settings: ParquetSettings = { compression: 'snappy', rowGroupRows: 300 };
    const whole = toParquet(input, DEFAULT_FORMAT, settings).output;
    for (const seed of [1, 2, 3]) {
      const cuts = randomCuts(input.length, 40, seed);
      const pieces: Buffer[] = [];
      let from = 0;
      for (const cut of [...cuts, input.length]) {
        pieces.push(input.subarray(from, cut));
        from = cut;
      }
      expect(toParquet(pieces, DEFAULT_FORMAT, settings).output.equals(whole)).toBe(true);
    }
  });

  it('hands each row group on as it is written, not all at the end', () => {
    const handed: number[] = [];
    let rowsSeen = 0;
    const create = createParquetEncoder({ compression: 'snappy', rowGroupRows: 200 });
    const result = convertBytes(input, {
      createEncoder: (onData, chunkBytes) => {
        const encoder = create((chunk) => {
          handed.push(rowsSeen);
          onData(chunk);
        }, chunkBytes);
        const row = encoder.row.bind(encoder);
        encoder.row = (record) => {
          rowsSeen++;
          row(record);
        };
        return encoder;
      },
    });
    expect(result.stats.rows).toBeGreaterThan(1000);
    // Bytes left the encoder at least once per row group, while rows were still coming.
    expect(handed.filter((n) => n < result.stats.rows).length).toBeGreaterThanOrEqual(
      Math.floor(result.stats.rows / 200),
    );
    expect(result.output.subarray(0, 4).toString()).toBe('PAR1');
    expect(result.output.subarray(-4).toString()).toBe('PAR1');
  });
});

describe('compression and statistics', () => {
  const input = gunzipSync(generateObject({ seed: 8, targetBytes: 100_000, ipv6Rate: 0.3, noDataRate: 0.1 }));
  const codecs: [ParquetCompression, string][] = [
    ['snappy', 'SNAPPY'],
    ['gzip', 'GZIP'],
    ['none', 'UNCOMPRESSED'],
    ['zstd', 'ZSTD'],
  ];

  for (const [compression, name] of codecs) {
    it.skipIf(compression === 'zstd' && !zstdAvailable())(
      `${compression}: every column chunk says ${name}, and the values read back (zstd needs Node ≥ 22.15)`,
      async () => {
        const parquet = toParquet(input, DEFAULT_FORMAT, { compression });
        const path = save(parquet.output);
        const meta = await rows(`SELECT DISTINCT compression FROM parquet_metadata('${path}')`);
        expect(meta.map((m) => m.compression)).toEqual([name]);
        await expectSameValues(path, toCsv(input, DEFAULT_FORMAT).output.toString('utf8'), DEFAULT_FORMAT);
      },
    );
  }

  it.skipIf(zstdAvailable())('zstd on a Node without it: an error naming both versions', () => {
    expect(parquetCompressionUnavailable('zstd')).toMatch(
      new RegExp(`needs Node 22\\.15.*this is Node ${process.version.replaceAll('.', '\\.')}`),
    );
    expect(() => createParquetEncoder({ compression: 'zstd' })(() => {}, 1024)).toThrow(/needs Node 22\.15/);
    expect(defaultParquetCompression()).toBe('gzip');
  });

  it.skipIf(!zstdAvailable())('zstd is the default where node:zlib has it', () => {
    expect(parquetCompressionUnavailable('zstd')).toBeUndefined();
    expect(defaultParquetCompression()).toBe('zstd');
  });

  it('min, max and null count of every column chunk are those of its values (long strings whole)', async () => {
    const format = parseLogFormat('version srcaddr packets note log-status');
    const long = (c: string) => `${c.repeat(40)}`;
    const messages = [
      `2 2001:db8:ffff:ffff:ffff:ffff:ffff:fffe 5 ${long('a')}z OK`,
      `2 10.0.0.1 - ${long('a')}y OK`,
      `2 - 9223372036854775807 - NODATA`,
      `2 2001:db8:0:0:0:0:0:1 0 ${long('b')} OK`,
    ];
    const parquet = toParquet(
      Buffer.from(dataPayload(messages.map((message, i) => ({ message, timestamp: 1000 + i })))),
      format,
      {
        compression: 'snappy',
        rowGroupRows: 3,
      },
    );
    const path = save(parquet.output);
    const meta = await rows(
      `SELECT row_group_id AS g, path_in_schema AS col, stats_min_value AS lo, stats_max_value AS hi, stats_null_count AS nulls
       FROM parquet_metadata('${path}') ORDER BY g, column_id`,
    );
    for (const { g, col, lo, hi, nulls } of meta) {
      const name = String(col);
      const expr = `"${name}"`;
      const [want] = await rows(
        `SELECT CAST(min(${expr}) AS VARCHAR) AS lo, CAST(max(${expr}) AS VARCHAR) AS hi, count(*) - count(${expr}) AS nulls
         FROM (SELECT * FROM read_parquet('${path}', file_row_number = true) WHERE file_row_number ${g === 0n ? '< 3' : '>= 3'})`,
      );
      const asText = (v: unknown) => (v === null ? null : String(v));
      expect({ g, name, lo: asText(lo), hi: asText(hi), nulls: BigInt(nulls as bigint) }).toEqual({
        g,
        name,
        lo: want!.lo,
        hi: want!.hi,
        nulls: BigInt(want!.nulls as bigint),
      });
    }
  });

  it("the encoder's own statistics and encoding stats are the writer's own, chunk for chunk", () => {
    // The writer is asked for its statistics too: what it computes is kept aside, then the encoder's
    // replace it, and the two must agree (min, max, null count; the encoding stats' page counts).
    const writers: unknown[] = [];
    const original = ParquetWriter.prototype.write;
    const spy = vi.spyOn(ParquetWriter.prototype, 'write').mockImplementation(function (
      this: ParquetWriter,
      options: Parameters<ParquetWriter['write']>[0],
    ) {
      const columnData = options.columnData.map((c: ColumnSource) => ({ ...c, statistics: true }));
      const result = original.call(this, { ...options, columnData });
      writers.push(
        this.row_groups.at(-1)!.columns.map((chunk) => ({
          statistics: structuredClone(chunk.meta_data!.statistics),
          encoding_stats: structuredClone(chunk.meta_data!.encoding_stats),
        })),
      );
      return result;
    });
    const note = (i: number) => `n${String((i * 7919) % 100_003).padStart(6, '0')}${'x'.repeat(90)}`;
    const big = Buffer.from(
      dataPayload(
        Array.from({ length: 20_000 }, (_, i) => ({
          message: `2 ${i % 5 ? `10.0.${i % 256}.${i % 7}` : '-'} ${i % 3 ? 10n ** 18n + BigInt(i * 3) : '-'} ${i % 4 ? i % 70_000 : 0} ${note(i)} OK`,
          timestamp: 1_600_000_000_000 + ((i * 37) % 5000),
        })),
      ),
    );
    try {
      const inputs: [Buffer, FlowFormat, ParquetSettings][] = [
        [input, DEFAULT_FORMAT, { compression: 'snappy', rowGroupRows: 100 }],
        [big, parseLogFormat('version srcaddr bytes srcport note log-status'), { compression: 'none' }],
      ];
      for (const [bytes, format, settings] of inputs) {
        writers.length = 0;
        let encoder: { parquet: ParquetWriter } | undefined;
        const create = createParquetEncoder(settings);
        convertBytes(bytes, {
          format,
          createEncoder: (onData, chunkBytes) => {
            const made = create(onData, chunkBytes);
            encoder = made as unknown as { parquet: ParquetWriter };
            return made;
          },
        });
        const ours = encoder!.parquet.row_groups.map((group) =>
          group.columns.map((chunk) => ({
            statistics: chunk.meta_data!.statistics,
            encoding_stats: chunk.meta_data!.encoding_stats,
          })),
        );
        expect(ours.length).toBeGreaterThan(1);
        expect(ours).toEqual(writers);
      }
      // The long notes take two data pages per chunk: the encoding stats count pages, not chunks.
      const pageCounts = (writers as { encoding_stats: { count: number }[] }[][]).flatMap((g) =>
        g.map((c) => c.encoding_stats.at(-1)!.count),
      );
      expect(Math.max(...pageCounts)).toBe(2);
    } finally {
      spy.mockRestore();
    }
  });

  it("keeps no group's string arena alive: the footer's string bounds are copies of their own size", () => {
    let encoder: { parquet: ParquetWriter } | undefined;
    const create = createParquetEncoder({ compression: 'snappy', rowGroupRows: 100 });
    convertBytes(input, {
      createEncoder: (onData, chunkBytes) => {
        const made = create(onData, chunkBytes);
        encoder = made as unknown as { parquet: ParquetWriter };
        return made;
      },
    });
    const bounds = encoder!.parquet.row_groups.flatMap((group) =>
      group.columns.flatMap((chunk) => [
        chunk.meta_data?.statistics?.min_value,
        chunk.meta_data?.statistics?.max_value,
      ]),
    );
    const strings = bounds.filter((b): b is Uint8Array => b instanceof Uint8Array);
    expect(strings.length).toBeGreaterThanOrEqual(50);
    for (const bound of strings) expect(bound.buffer.byteLength).toBe(bound.length);
  });

  it('dictionary-encodes interface ids, action and log status', async () => {
    const parquet = toParquet(input, DEFAULT_FORMAT);
    const path = save(parquet.output);
    const meta = await rows(
      `SELECT path_in_schema AS col, encodings FROM parquet_metadata('${path}') WHERE row_group_id = 0`,
    );
    const dictionary = meta.filter((m) => String(m.encodings).includes('RLE_DICTIONARY')).map((m) => m.col);
    expect(dictionary).toEqual(
      expect.arrayContaining(['interface_id', 'account_id', 'action', 'log_status']),
    );
  });
});
