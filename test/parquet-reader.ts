/**
 * Reading Parquet back with an implementation other than the writer (DuckDB), for the encoder, CLI and S3
 * tests: every value must equal the CSV flowhose writes for the same input, row for row.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { expect } from 'vitest';
import { columnsOf } from '../src/core/columns.js';
import type { FlowFormat } from '../src/core/log-format.js';
import { parseCsv } from './ndjson-reference.js';

export async function queryRows(sql: DuckDBConnection, query: string): Promise<Record<string, unknown>[]> {
  const reader = await sql.runAndReadAll(query);
  return reader.getRowObjectsJS() as Record<string, unknown>[];
}

/**
 * Every value of the Parquet file equals the CSV's: the time as the same instant, integers as the
 * same number (the CSV keeps leading zeros), strings byte for byte, and an empty CSV field as null.
 */
export async function expectParquetEqualsCsv(
  sql: DuckDBConnection,
  path: string,
  csv: string,
  format: FlowFormat,
): Promise<void> {
  const columns = columnsOf(format);
  const select = columns
    .map((c) =>
      c.type === 'timestamp' ? `CAST(epoch_ms("${c.name}") AS VARCHAR)` : `CAST("${c.name}" AS VARCHAR)`,
    )
    .map((e, i) => `${e} AS c${i}`)
    .join(', ');
  const actual = await queryRows(
    sql,
    `SELECT ${select} FROM read_parquet('${path}', file_row_number = true) ORDER BY file_row_number`,
  );
  const [header, ...expected] = parseCsv(csv);
  expect(header).toEqual(['timestamp', ...format.fields.map((f) => f.name)]);
  expect(actual.length).toBe(expected.length);
  expected.forEach((csvRow, r) => {
    const row = actual[r]!;
    columns.forEach((column, i) => {
      const text = csvRow[i]!;
      const value = row[`c${i}`] ?? null;
      const want =
        text === ''
          ? null
          : column.type === 'timestamp'
            ? String(Date.parse(text))
            : column.type === 'string'
              ? text
              : String(BigInt(text));
      if (value !== want)
        expect({ row: r, column: column.name, value }).toEqual({ row: r, column: column.name, value: want });
    });
  });
}
