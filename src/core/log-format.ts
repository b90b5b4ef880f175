import { FlowhoseError, LogFormatError } from './errors.js';
import { DEFAULT_FIELDS, type FieldType, KNOWN_FIELDS } from './fields.js';

export interface FlowField {
  /** AWS's spelling: hyphens, lower case. */
  readonly name: string;
  readonly type: FieldType;
  readonly known: boolean;
}

export interface FlowFormat {
  readonly fields: readonly FlowField[];
  /** Index of `start` in fields, or -1: where a record without an envelope takes its timestamp. */
  readonly startIndex: number;
  /** intMask[i] is 1 when field i must hold digits or `-`. */
  readonly intMask: Uint8Array;
}

const NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;

/**
 * The output's first column holds each record's event time under this name, so no field may take
 * it (a header `timestamp,timestamp,…` would make the second column unreachable by name). AWS
 * has no flow-log field of that name.
 */
export const EVENT_TIME_COLUMN = 'timestamp';

/** A text input whose header line names EVENT_TIME_COLUMN: `offset` is where the line starts. */
export const eventTimeHeaderError = (offset: number) =>
  new FlowhoseError(
    'NOT_FLOW_LOG',
    `the header line names a field "${EVENT_TIME_COLUMN}", but the output's first column is the event time, ` +
      `named ${EVENT_TIME_COLUMN} (AWS flow logs have no such field)`,
    offset,
  );

/** `src_addr`, `Log-Status` and `log-status` all name the same field; AWS spells it with hyphens. */
export function normalizeFieldName(raw: string): string {
  return raw.toLowerCase().replaceAll('_', '-');
}

export function createFlowFormat(names: readonly string[]): FlowFormat {
  const fields = names.map((name): FlowField => {
    const info = KNOWN_FIELDS.get(name);
    return { name, type: info?.type ?? 'string', known: info !== undefined };
  });
  const intMask = new Uint8Array(fields.length);
  fields.forEach((field, i) => {
    intMask[i] = field.type === 'string' ? 0 : 1;
  });
  return { fields, startIndex: names.indexOf('start'), intMask };
}

export const DEFAULT_FORMAT: FlowFormat = createFlowFormat(DEFAULT_FIELDS);

/**
 * Parses a log format in AWS's own syntax (`${version} ${account-id} …`, as shown by
 * `aws ec2 describe-flow-logs`) or as bare names separated by spaces or commas
 * (`version account_id …`). Throws LogFormatError naming the offending part.
 */
export function parseLogFormat(spec: string): FlowFormat {
  const trimmed = spec.trim();
  if (trimmed === '')
    throw new LogFormatError('log format is empty: give field names such as "${version} ${account-id} …"');
  const tokens = trimmed.split(/[\s,]+/);
  const names: string[] = [];
  for (const token of tokens) {
    let bare = token;
    if (token.startsWith('${')) {
      if (!token.endsWith('}')) throw new LogFormatError(`log format: "${token}" is missing its closing "}"`);
      bare = token.slice(2, -1);
    } else if (token.includes('$') || token.includes('{') || token.includes('}')) {
      throw new LogFormatError(`log format: "${token}" is not a field; write \${name} or a bare name`);
    }
    if (!NAME.test(bare)) throw new LogFormatError(`log format: "${bare}" is not a valid field name`);
    const name = normalizeFieldName(bare);
    if (name === EVENT_TIME_COLUMN) {
      throw new LogFormatError(
        `log format: "${bare}" cannot be a field name: the output's first column is the event time, named ${EVENT_TIME_COLUMN}`,
      );
    }
    if (names.includes(name)) throw new LogFormatError(`log format: field "${name}" appears twice`);
    names.push(name);
  }
  return createFlowFormat(names);
}

/**
 * A first line is a header (flow logs delivered straight to S3) when every token is a field-name
 * shape and at least half of them are documented names. Record values such as `vpc-0abc` have the
 * shape of a name, but are never documented field names, so they cannot pass for a header.
 */
export function headerFormat(line: string): FlowFormat | undefined {
  const tokens = line.trim().split(/\s+/);
  if (tokens.length === 0 || tokens[0] === '') return undefined;
  let known = 0;
  const names: string[] = [];
  for (const token of tokens) {
    if (!NAME.test(token)) return undefined;
    const name = normalizeFieldName(token);
    if (KNOWN_FIELDS.has(name)) known++;
    if (names.includes(name)) return undefined;
    names.push(name);
  }
  return known * 2 >= names.length ? createFlowFormat(names) : undefined;
}

export function formatSpec(format: FlowFormat): string {
  return format.fields.map((field) => `\${${field.name}}`).join(' ');
}
