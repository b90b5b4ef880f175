// DuckDB (@duckdb/node-api), a reader independent of the writer, reads the NDJSON output with the column
// types of the Athena tables (ATHENA_TYPES, translated mechanically to DuckDB's names) and the CSV output of
// the same input with the same types: every value must be equal, row for row, across the golden fixtures and
// generated corpora with every field type, nulls, IPv6 and 40-field records (every VPC field up to v8).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ATHENA_TYPES, columnsOf } from '../src/core/columns.js';
import { convertBytes } from '../src/core/convert-bytes.js';
import { KNOWN_FIELDS } from '../src/core/fields.js';
import { createFlowFormat, DEFAULT_FORMAT, type FlowFormat, parseLogFormat } from '../src/core/log-format.js';
import { createNdjsonEncoder } from '../src/core/ndjson-encoder.js';
import { createRandom, generatePayloads } from '../src/gen/corpus.js';
import { DUCKDB_TYPES } from './duckdb-types.js';
import { dataPayload, WASM_MODULE } from './helpers.js';

/** A DuckDB `columns={…}` struct literal. */
const struct = (entries: [string, string][]) =>
  `{${entries.map(([name, type]) => `'${name}': '${type}'`).join(', ')}}`;

const duckTypes = (format: FlowFormat) => columnsOf(format).map((c) => DUCKDB_TYPES[ATHENA_TYPES[c.type]]!);

/** Every VPC flow-log field from version 2 to 8, in the field table's order. */
const V8_FIELDS = [...KNOWN_FIELDS]
  .filter(([, info]) => info.since <= 8 && info.since !== 6)
  .map(([name]) => name);

let dir: string;
let instance: DuckDBInstance;
let db: DuckDBConnection;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flowhose-duckdb-'));
  instance = await DuckDBInstance.create(':memory:');
  db = await instance.connect();
});

afterAll(() => {
  db?.closeSync();
  instance?.closeSync();
  rmSync(dir, { recursive: true, force: true });
});

let files = 0;

/** Converts `input` both ways, and reads both back with DuckDB. */
async function readBoth(input: Buffer, format: FlowFormat) {
  const options = { format, wasmModule: WASM_MODULE };
  const csv = convertBytes(input, options);
  const json = convertBytes(input, { ...options, createEncoder: createNdjsonEncoder });
  expect(csv.error).toBeUndefined();
  expect(json.error).toBeUndefined();
  expect(json.rejects).toEqual(csv.rejects);
  const n = files++;
  const csvPath = join(dir, `${n}.csv`);
  const jsonPath = join(dir, `${n}.json`);
  writeFileSync(csvPath, csv.output);
  writeFileSync(jsonPath, json.output);
  const types = duckTypes(format);
  const jsonColumns = struct(columnsOf(format).map((c, i) => [c.name, types[i]!]));
  const csvColumns = struct([
    ['timestamp', types[0]!],
    ...format.fields.map((field, i): [string, string] => [field.name, types[i + 1]!]),
  ]);
  const fromJson = `read_json('${jsonPath}', format = 'newline_delimited', columns = ${jsonColumns})`;
  const fromCsv = `read_csv('${csvPath}', header = true, delim = ',', quote = '"', escape = '"', columns = ${csvColumns})`;
  const described = (await db.runAndReadAll(`DESCRIBE SELECT * FROM ${fromJson}`)).getRowsJS();
  expect(described.map((row) => [row[0], row[1]])).toEqual(
    columnsOf(format).map((c, i) => [c.name, types[i]]),
  );
  const jsonRows = (await db.runAndReadAll(`SELECT * FROM ${fromJson}`)).getRowsJS();
  const csvRows = (await db.runAndReadAll(`SELECT * FROM ${fromCsv}`)).getRowsJS();
  return { jsonRows, csvRows, rows: csv.stats.rows };
}

async function expectSameValues(input: Buffer, format: FlowFormat): Promise<unknown[][]> {
  const { jsonRows, csvRows, rows } = await readBoth(input, format);
  expect(jsonRows.length).toBe(rows);
  expect(jsonRows).toEqual(csvRows);
  return jsonRows;
}

interface Sample {
  name: string;
  log_format: string;
  records: string[];
}
const samples = JSON.parse(
  readFileSync(new URL('./fixtures/aws-doc-flow-records.json', import.meta.url), 'utf8'),
).sets as Sample[];

describe('DuckDB reads NDJSON with the Athena column types, every value as in the CSV', () => {
  for (const sample of samples) {
    it(`golden fixture ${sample.name}`, async () => {
      const events = sample.records.map((message, i) => ({ message, timestamp: 1418530010000 + i * 1001 }));
      const rows = await expectSameValues(
        Buffer.from(dataPayload(events)),
        parseLogFormat(sample.log_format),
      );
      expect(rows.length).toBe(sample.records.length);
    });
  }

  it('a generated corpus in the default format (IPv6, NODATA nulls, control messages)', async () => {
    const input = Buffer.from(
      generatePayloads({
        seed: 3,
        targetBytes: 400_000,
        ipv6Rate: 0.2,
        noDataRate: 0.1,
        controlRate: 0.05,
      }).join(''),
    );
    const rows = await expectSameValues(input, DEFAULT_FORMAT);
    expect(rows.length).toBeGreaterThan(2000);
    expect(rows.some((row) => String(row[4]).includes(':'))).toBe(true); // IPv6
    expect(rows.some((row) => row[6] === null)).toBe(true); // an int32 null
  });

  it(`a generated corpus of ${V8_FIELDS.length}-field records (every VPC field up to v8), values in every field`, async () => {
    expect(V8_FIELDS).toHaveLength(40);
    expect(V8_FIELDS.at(-1)).toBe('reject-reason');
    const format = createFlowFormat(V8_FIELDS);
    const generated = generatePayloads({ seed: 5, targetBytes: 200_000, fields: V8_FIELDS, ipv6Rate: 0.3 });
    // The generator leaves sublocations, ECS fields and reject-reason `-`: fill some in, with text CSV quotes.
    const random = createRandom(8);
    const filled = generated.map((payload) =>
      payload.replace(/"message":"([^"]*)"/g, (_, message: string) => {
        const tokens = message.split(' ');
        for (let i = 23; i < tokens.length; i++) {
          if (format.fields[i]!.type === 'string' && tokens[i] === '-' && random() < 0.5)
            tokens[i] = random() < 0.2 ? `arn:aws:ecs:eu-west-1:1:task/c,"${i}"\\x` : `v${i}-é東😀`;
        }
        return `"message":${JSON.stringify(tokens.join(' '))}`;
      }),
    );
    const rows = await expectSameValues(Buffer.from(filled.join('\n')), format);
    expect(rows.length).toBeGreaterThan(500);
    const columns = columnsOf(format);
    for (let i = 0; i < columns.length; i++) {
      expect(
        rows.some((row) => row[i] !== null),
        columns[i]!.name,
      ).toBe(true);
    }
  });

  it('edge values: leading zeros, the INT32 and INT64 maxima, quotes, commas, backslashes, no time', async () => {
    const format = parseLogFormat('version srcport bytes note start');
    const random = createRandom(1);
    const lines = [
      '0002 0022 0009223372036854775807 a,"b"\\c 1418530010',
      '2 2147483647 0 - -',
      '- - - "" 0',
      ...Array.from({ length: 50 }, () => {
        const n = Math.floor(random() * 2 ** 31);
        return `${n % 10} ${n % 65536} ${BigInt(n) * 4294967296n} x${n} ${1_400_000_000 + (n % 100_000_000)}`;
      }),
    ];
    const rows = await expectSameValues(Buffer.from(`${lines.join('\n')}\n`), format);
    expect(rows[0]).toEqual([new Date(1418530010000), 2, 22, 9223372036854775807n, 'a,"b"\\c', 1418530010n]);
    expect(rows[1]).toEqual([null, 2, 2147483647, 0n, null, null]);
    expect(rows[2]![0]).toEqual(new Date(0));
  });
});
