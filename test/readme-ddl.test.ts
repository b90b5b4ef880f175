// README's Athena tables are the contract users copy: their column lists are parsed out of README.md here and
// DuckDB must read flowhose's output with exactly those columns and types, each value what the CSV holds.
// README's format table and its NDJSON example line are pinned to the registry and the encoder too.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { ATHENA_TYPES, columnsOf } from '../src/core/columns.js';
import { convertBytes } from '../src/core/convert-bytes.js';
import { DEFAULT_FORMAT } from '../src/core/log-format.js';
import { createNdjsonEncoder } from '../src/core/ndjson-encoder.js';
import { generatePayloads } from '../src/gen/corpus.js';
import { outputName } from '../src/object/layout.js';
import { fileCodecOf, ROW_FORMAT_NAMES, ROW_FORMATS } from '../src/streams/row-formats.js';
import { DUCKDB_TYPES } from './duckdb-types.js';
import { AWS_DOC_RECORD, dataPayload, WASM_MODULE } from './helpers.js';

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** The `name type` pairs of README's `CREATE EXTERNAL TABLE <table> (…)`, backquotes dropped. */
function ddlColumns(table: string): { columns: [string, string][]; statement: string } {
  const at = README.indexOf(`CREATE EXTERNAL TABLE ${table} (`);
  if (at < 0) throw new Error(`README has no CREATE EXTERNAL TABLE ${table}`);
  const statement = README.slice(at, README.indexOf(';', at) + 1);
  const list = statement.slice(statement.indexOf('(') + 1, statement.indexOf(')\n'));
  const columns = list.split(',').map((entry): [string, string] => {
    const [name, type, ...rest] = entry.trim().split(/\s+/);
    if (!name || !type || rest.length > 0) throw new Error(`cannot read column "${entry}" of ${table}`);
    return [name.replaceAll('`', ''), type];
  });
  return { columns, statement };
}

const expected = columnsOf(DEFAULT_FORMAT).map((c): [string, string] => [c.name, ATHENA_TYPES[c.type]]);

const dir = mkdtempSync(join(tmpdir(), 'flowhose-readme-ddl-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("README's Athena tables", () => {
  it('NDJSON: the typed columns of columns.ts, through the OpenX JSON SerDe', () => {
    const { columns, statement } = ddlColumns('vpc_flow_ndjson');
    expect(columns).toEqual(expected);
    expect(statement).toContain("ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'");
  });

  it('CSV: the same names and types but the time, a string (Athena’s CSV reader takes no ISO-8601)', () => {
    const { columns, statement } = ddlColumns('vpc_flow_csv');
    expect(columns).toEqual([['timestamp', 'string'], ...expected.slice(1)]);
    expect(statement).toContain("TBLPROPERTIES ('skip.header.line.count'='1')");
  });

  it('DuckDB reads the outputs with exactly those columns; every value equals the CSV’s', async () => {
    const input = Buffer.from(generatePayloads({ seed: 21, targetBytes: 200_000, ipv6Rate: 0.2 }).join(''));
    const csv = convertBytes(input, { wasmModule: WASM_MODULE });
    const ndjson = convertBytes(input, { createEncoder: createNdjsonEncoder });
    writeFileSync(join(dir, 'out.csv'), csv.output);
    writeFileSync(join(dir, 'out.json'), ndjson.output);
    const struct = (columns: [string, string][]) =>
      `{${columns.map(([name, type]) => `'${name}': '${DUCKDB_TYPES[type]}'`).join(', ')}}`;
    const csvDdl = ddlColumns('vpc_flow_csv').columns;
    const jsonDdl = ddlColumns('vpc_flow_ndjson').columns;
    const instance = await DuckDBInstance.create(':memory:');
    const db = await instance.connect();
    try {
      const fromCsv = `read_csv('${join(dir, 'out.csv')}', header = true, delim = ',', quote = '"', columns = ${struct(csvDdl)})`;
      const fromJson = `read_json('${join(dir, 'out.json')}', format = 'newline_delimited', columns = ${struct(jsonDdl)})`;
      for (const [from, ddl] of [
        [fromCsv, csvDdl],
        [fromJson, jsonDdl],
      ] as const) {
        const described = (await db.runAndReadAll(`DESCRIBE SELECT * FROM ${from}`)).getRowsJS();
        expect(described.map((row) => [row[0], row[1]])).toEqual(ddl.map(([n, t]) => [n, DUCKDB_TYPES[t]]));
      }
      const csvRows = (await db.runAndReadAll(`SELECT * FROM ${fromCsv}`)).getRowsJS();
      const jsonRows = (await db.runAndReadAll(`SELECT * FROM ${fromJson}`)).getRowsJS();
      expect(jsonRows.length).toBe(csv.stats.rows);
      expect(jsonRows.length).toBeGreaterThan(500);
      // The CSV's time is the string the NDJSON's timestamp was parsed from.
      expect(jsonRows.map(([time, ...rest]) => [(time as Date).toISOString(), ...rest])).toEqual(csvRows);
    } finally {
      db.closeSync();
      instance.closeSync();
    }
  });
});

describe("README's Athena table for Parquet", () => {
  it('the typed columns of columns.ts, STORED AS PARQUET; DuckDB reads the file into exactly that table', async () => {
    const { columns, statement } = ddlColumns('vpc_flow_parquet');
    expect(columns).toEqual(expected);
    expect(statement).toContain('STORED AS PARQUET');
    const input = Buffer.from(
      generatePayloads({ seed: 22, targetBytes: 200_000, ipv6Rate: 0.2, noDataRate: 0.1 }).join(''),
    );
    const createEncoder = await ROW_FORMATS.parquet.encoder({
      compression: 'snappy',
      gzipLevel: 6,
      zstdLevel: 1,
    });
    const parquet = convertBytes(input, { createEncoder });
    const ndjson = convertBytes(input, { createEncoder: createNdjsonEncoder });
    writeFileSync(join(dir, 'out.parquet'), parquet.output);
    writeFileSync(join(dir, 'typed.json'), ndjson.output);
    const instance = await DuckDBInstance.create(':memory:');
    const db = await instance.connect();
    try {
      const file = `read_parquet('${join(dir, 'out.parquet')}')`;
      const described = (await db.runAndReadAll(`DESCRIBE SELECT * FROM ${file}`)).getRowsJS();
      // The file's own types: the time is a UTC instant (isAdjustedToUTC), which Athena's `timestamp` reads.
      expect(described.map((row) => [row[0], row[1]])).toEqual(
        columns.map(([n, t]) => [n, t === 'timestamp' ? 'TIMESTAMP WITH TIME ZONE' : DUCKDB_TYPES[t]]),
      );
      // The DDL as a table, filled from the file: every column lands in its declared type, no cast fails.
      await db.run("SET TimeZone = 'UTC'");
      await db.run(
        `CREATE TABLE vpc_flow_parquet (${columns.map(([n, t]) => `"${n}" ${DUCKDB_TYPES[t]}`).join(', ')})`,
      );
      await db.run(`INSERT INTO vpc_flow_parquet SELECT * FROM ${file}`);
      const table = (await db.runAndReadAll('SELECT * FROM vpc_flow_parquet')).getRowsJS();
      const struct = `{${columns.map(([name, type]) => `'${name}': '${DUCKDB_TYPES[type]}'`).join(', ')}}`;
      const typed = (
        await db.runAndReadAll(
          `SELECT * FROM read_json('${join(dir, 'typed.json')}', format = 'newline_delimited', columns = ${struct})`,
        )
      ).getRowsJS();
      expect(table.length).toBe(parquet.stats.rows);
      expect(table.length).toBeGreaterThan(500);
      // The same values as the NDJSON of the same input (itself checked against the CSV above).
      expect(table).toEqual(typed);
    } finally {
      db.closeSync();
      instance.closeSync();
    }
  });
});

describe("README's format table and NDJSON example", () => {
  it('has a row per registered format with its names and Content-Types', () => {
    for (const name of ROW_FORMAT_NAMES) {
      const format = ROW_FORMATS[name];
      const row = README.split('\n').find((line) => line.startsWith(`| \`${name}\` |`));
      expect(row, name).toBeDefined();
      expect(row!.split('|')[2]!.trim()).toBe(format.compressions.join(', '));
      expect(row).toContain(format.contentType);
      for (const codec of ['gzip', 'zstd', 'none'] as const)
        if (format.compressions.includes(codec))
          expect(row).toContain(
            `\`${outputName('obj', fileCodecOf(format, { compression: codec, gzipLevel: 6, parallelGzip: 0 }), name)}\``,
          );
    }
  });

  it('shows the line the first AWS documentation record gives', () => {
    const { output } = convertBytes(
      Buffer.from(dataPayload([{ message: AWS_DOC_RECORD, timestamp: 1418530010000 }])),
      {
        createEncoder: createNdjsonEncoder,
      },
    );
    expect(README).toContain(`\`\`\`json\n${output.toString('utf8')}\`\`\``);
  });
});
