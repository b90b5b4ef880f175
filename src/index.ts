/**
 * flowhose as a library.
 *
 * - A whole object (a Lambda handler for S3 events, say): `convertObject(task)` reads it, peels the
 *   gzip layers, converts, compresses, and commits the output and its rejects together, or
 *   neither; it returns the counts and any error as a TaskResult.
 * - Bytes already in memory (tests, benchmarks, small inputs): `convertBytes(decompressed,
 *   { format: parseLogFormat(spec), wasmModule: loadPayloadToCsv() })` returns the CSV (or NDJSON with
 *   `createEncoder: createNdjsonEncoder`), the rejects, the counts and any error in one call.
 * - Your own pipeline: `ConvertStream` is the core as a Transform (it loads the WebAssembly fast
 *   path itself); committing the output and keeping the rejects (its `rejects` sink) are then yours.
 */
export { type Config, createConfig } from './cli/config.js';
export {
  type ConvertOptionsInput,
  createConvertOptions,
  DEFAULT_CHUNK_SIZE,
  OPTIONS,
  type RawConvertOptions,
} from './cli/options.js';
export { UsageError } from './cli/usage-error.js';
export { type ConvertBytesOptions, type ConvertBytesResult, convertBytes } from './core/convert-bytes.js';
export {
  type ConverterOptions,
  type ConverterStats,
  FlowLogConverter,
  type PayloadParser,
} from './core/converter.js';
export { CsvEncoder, createCsvEncoder } from './core/csv-encoder.js';
export {
  FlowhoseError,
  type GoverningOption,
  LogFormatError,
  type ObjectErrorCode,
  type Reject,
  type RejectCode,
} from './core/errors.js';
export { DEFAULT_FIELDS, type FieldInfo, KNOWN_FIELDS } from './core/fields.js';
export { DEFAULT_FORMAT, type FlowFormat, headerFormat, parseLogFormat } from './core/log-format.js';
export { createNdjsonEncoder, NdjsonEncoder } from './core/ndjson-encoder.js';
export { type RecordProblem, RecordView } from './core/record-view.js';
export type { CreateRowEncoder, RowEncoder } from './core/row-encoder.js';
export { generateObject, generatePayloads } from './gen/corpus.js';
export { convertObject } from './object/convert-object.js';
export type { ConvertOptions, ConvertTask, DestRef, SourceRef, TaskResult } from './object/task.js';
export { exitCodeOf, type RunEnv, type RunOutcome, run } from './run/run.js';
export { SetupError } from './run/setup-error.js';
export { ConvertStream, type ConvertStreamOptions, type RejectSink } from './streams/convert-stream.js';
export { gunzipLayers } from './streams/gunzip-layers.js';
export {
  type EncoderSettings,
  ROW_FORMATS,
  type RowFormat,
  type RowFormatName,
  rowFormatNamed,
} from './streams/row-formats.js';
export type { PayloadToCsvModule } from './wasm/interface.js';
export { loadPayloadToCsv } from './wasm/load.js';
