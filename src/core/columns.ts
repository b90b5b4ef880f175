import { EVENT_TIME_COLUMN, type FlowFormat } from './log-format.js';

/**
 * The typed columns of the NDJSON and Parquet outputs (and of the Athena tables over them), named and
 * typed as AWS's own Parquet delivery of flow logs names and types them, so that one table covers
 * converted history and native deliveries: underscores for hyphens (`log-status` → `log_status`),
 * INT32 for the `int` fields of the field table, INT64 for the `long` ones, UTF-8 strings for the rest,
 * and AWS's `-` as null. The first column is the CSV's `timestamp`, the event time, as a UTC
 * millisecond TIMESTAMP. CSV keeps AWS's hyphenated names (its header is pinned).
 */
export type ColumnType = 'timestamp' | 'int32' | 'int64' | 'string';

export interface Column {
  /** AWS's Parquet spelling: lower case, underscores. */
  readonly name: string;
  readonly type: ColumnType;
  /** Index of the flow field in the format, or -1 for the event-time column. */
  readonly field: number;
}

/** Largest value of an INT32 column; `int` fields hold digits only, but not always this few. */
export const INT32_MAX = 2_147_483_647;
/** Largest value of an INT64 column. */
export const INT64_MAX = 9_223_372_036_854_775_807n;

/** `log-status` → `log_status`: the name AWS's native Parquet files and Athena DDL use. */
export const columnName = (field: string): string => field.replaceAll('-', '_');

/** The event time first, then one column per field of the format, in the format's order. */
export function columnsOf(format: FlowFormat): readonly Column[] {
  return [
    { name: EVENT_TIME_COLUMN, type: 'timestamp', field: -1 },
    ...format.fields.map(
      (field, i): Column => ({
        name: columnName(field.name),
        type: field.type === 'int' ? 'int32' : field.type === 'long' ? 'int64' : 'string',
        field: i,
      }),
    ),
  ];
}

/** The Athena (Hive DDL) type that reads a column as the files hold it. */
export const ATHENA_TYPES: Readonly<Record<ColumnType, string>> = {
  timestamp: 'timestamp',
  int32: 'int',
  int64: 'bigint',
  string: 'string',
};
