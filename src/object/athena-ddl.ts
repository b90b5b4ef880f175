/**
 * The Athena `CREATE EXTERNAL TABLE` that reads exactly what convert writes with the same options: the
 * typed columns of columns.ts as the files hold them (INT32 → int, INT64 → bigint: AWS's own DDL declares
 * `protocol bigint` over INT32 data, which Spark refuses), the SerDe of the row format, LOCATION at the
 * destination, and for a partitioned layout its partition columns with partition projection, so that
 * neither MSCK REPAIR nor a crawler is needed. Pure: a layout and a log format in, SQL text out.
 */
import { ATHENA_TYPES, type Column, columnsOf } from '../core/columns.js';
import type { FlowFormat } from '../core/log-format.js';
import { joinKey } from '../io/paths.js';
import { codecNamed } from '../streams/codecs.js';
import { type Layout, type RowFormatName, schemeOf } from './layout.js';

export interface DdlOptions {
  layout: Omit<Layout, 'relative' | 'rejects'>;
  format: FlowFormat;
  table: string;
  /** The years partition projection covers, first and last. */
  years: readonly [number, number];
}

interface Serde {
  /** ROW FORMAT … STORED AS … */
  storage: string;
  /** Table properties of the format (before projection's). */
  properties: [string, string][];
  /** The type of a column in this format's files, when not ATHENA_TYPES'. */
  typeOf?(column: Column): string | undefined;
}

const SERDES: Readonly<Record<string, Serde>> = {
  csv: {
    storage: "ROW FORMAT DELIMITED\n  FIELDS TERMINATED BY ','\nSTORED AS TEXTFILE",
    properties: [['skip.header.line.count', '1']],
    // ISO-8601 text (`2020-02-01T00:39:38.000Z`), which the text SerDe does not read as a timestamp:
    // declared as what the file holds; from_iso8601_timestamp("timestamp") makes it one.
    typeOf: (column) => (column.type === 'timestamp' ? 'string' : undefined),
  },
  ndjson: {
    storage: "ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'\nSTORED AS TEXTFILE",
    properties: [],
  },
  parquet: {
    storage:
      "ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe'\n" +
      "STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat'\n" +
      "  OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat'",
    properties: [],
  },
};

/** A partition column and how projection enumerates it. */
interface PartitionColumn {
  name: string;
  projection: [string, string][];
}

const quoteName = (name: string): string => `\`${name.replaceAll('`', '``')}\``;
const quoteText = (text: string): string => `'${text.replaceAll("'", "''")}'`;

/** `<to>/` as Athena wants a LOCATION: a prefix that ends in `/`. */
const asPrefix = (to: string): string => (to.endsWith('/') ? to : `${to}/`);

function partitionColumns(layout: DdlOptions['layout'], years: readonly [number, number]): PartitionColumn[] {
  const scheme = schemeOf({ ...layout, relative: '' });
  if (!scheme) return [];
  const integer = (name: string, from: number, to: number, digits?: number): PartitionColumn => ({
    name,
    projection: [
      ['type', 'integer'],
      ['range', `${from},${to}`],
      ...(digits ? ([['digits', String(digits)]] as [string, string][]) : []),
    ],
  });
  const time = [integer('year', years[0], years[1], 4), integer('month', 1, 12, 2), integer('day', 1, 31, 2)];
  if (scheme.by === 'hour') time.push(integer('hour', 0, 23, 2));
  if (!scheme.aws) return time;
  const region = scheme.aws.regionLabel;
  return [
    // Every query names its account(s): a projection cannot list the accounts that exist.
    { name: 'aws-account-id', projection: [['type', 'injected']] },
    {
      name: 'aws-service',
      projection: [
        ['type', 'enum'],
        ['values', 'vpcflowlogs'],
      ],
    },
    {
      name: 'aws-region',
      projection: region
        ? [
            ['type', 'enum'],
            ['values', region],
          ]
        : [['type', 'injected']],
    },
    ...time,
  ];
}

/** Where the table's files are: the destination, or its `AWSLogs/` for AWS's tree. */
export function ddlLocation(layout: DdlOptions['layout']): string {
  const root = asPrefix(layout.to);
  return layout.aws ? asPrefix(joinKey(root, 'AWSLogs')) : root;
}

export function athenaDdl(options: DdlOptions): string {
  const { layout, format, table } = options;
  const serde = SERDES[layout.format as RowFormatName | string];
  if (!serde) throw new Error(`no Athena DDL for row format ${layout.format}`);
  const columns = columnsOf(format).map(
    (column) => `  ${quoteName(column.name)} ${serde.typeOf?.(column) ?? ATHENA_TYPES[column.type]}`,
  );
  const partitions = partitionColumns(layout, options.years);
  const location = ddlLocation(layout);
  const properties: [string, string][] = [...serde.properties];
  if (partitions.length > 0) {
    properties.push(['projection.enabled', 'true']);
    for (const partition of partitions) {
      for (const [key, value] of partition.projection)
        properties.push([`projection.${partition.name}.${key}`, value]);
    }
    const template = partitions.map((p) => `${p.name}=\${${p.name}}`).join('/');
    properties.push(['storage.location.template', `${location}${template}/`]);
  }
  const codec = codecNamed(layout.codec);
  const lines = [
    `-- flowhose: ${layout.format}${codec.extension ? ` (${codec.name})` : ''} files under ${location}` +
      (partitions.length > 0 ? `, partitions projected for ${options.years[0]}-${options.years[1]}` : ''),
    `CREATE EXTERNAL TABLE IF NOT EXISTS ${quoteName(table)} (`,
    columns.join(',\n'),
    ')',
    ...(partitions.length > 0
      ? [`PARTITIONED BY (\n${partitions.map((p) => `  ${quoteName(p.name)} string`).join(',\n')}\n)`]
      : []),
    serde.storage,
    `LOCATION ${quoteText(location)}`,
  ];
  if (properties.length > 0) {
    lines.push(
      `TBLPROPERTIES (\n${properties.map(([k, v]) => `  ${quoteText(k)}=${quoteText(v)}`).join(',\n')}\n)`,
    );
  }
  return `${lines.join('\n')};\n`;
}

/** For Glue (Spark, EMR, crawlers), which do not project partitions: what to run instead. */
export function glueNote(options: DdlOptions): string {
  const partitioned = partitionColumns(options.layout, options.years).length > 0;
  return partitioned
    ? '-- Glue, Spark and EMR ignore partition projection: register the partitions with\n' +
        `-- MSCK REPAIR TABLE ${quoteName(options.table)}; (Hive-style keys) or a Glue crawler over the LOCATION.\n`
    : '';
}
