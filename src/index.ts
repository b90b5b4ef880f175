/**
 * flowhose as a library. The pure core (bytes in, CSV bytes out) and its stream wrapper are what
 * most embedders want, e.g. in a Lambda handler for S3 events:
 *
 *   await pipeline(body, gunzipLayers(), new ConvertStream({ format: parseLogFormat(spec) }), createGzip(), sink);
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
export {
  type ConverterOptions,
  type ConverterStats,
  FlowLogConverter,
  type PayloadParser,
} from './core/converter.js';
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
export { generateObject, generatePayloads } from './gen/corpus.js';
export { convertObject } from './object/convert-object.js';
export type { ConvertOptions, ConvertTask, DestRef, SourceRef, TaskResult } from './object/task.js';
export { exitCodeOf, type RunEnv, type RunOutcome, run } from './run/run.js';
export { SetupError } from './run/setup-error.js';
export { ConvertStream, type ConvertStreamOptions, type RejectSink } from './streams/convert-stream.js';
export { gunzipLayers } from './streams/gunzip-layers.js';
