/** Athena's (Hive DDL) type names → DuckDB's, for the tests that read outputs back with DuckDB. */
export const DUCKDB_TYPES: Readonly<Record<string, string>> = {
  timestamp: 'TIMESTAMP',
  int: 'INTEGER',
  bigint: 'BIGINT',
  string: 'VARCHAR',
};
