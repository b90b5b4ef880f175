import { type ConverterOptions, type ConverterStats, FlowLogConverter } from './converter.js';
import type { FlowhoseError, Reject } from './errors.js';

export type ConvertBytesOptions = Omit<ConverterOptions, 'onData' | 'onReject'>;

export interface ConvertBytesResult {
  /** What the converter handed on: the whole output, or, after an error, the whole rows before it. */
  output: Buffer;
  rejects: Reject[];
  stats: ConverterStats;
  /** Why the input could not be converted; it stopped there. */
  error?: FlowhoseError;
}

/**
 * The core in one call (as csv-parse's sync API): decompressed bytes in, the output, rejects and
 * counts out. `input` may be given as chunks, which the converter sees as they are, to test
 * chunk edges. For whole objects, with gunzip, commit and a rejects file, use convertObject.
 *
 *   const { output, rejects, error } = convertBytes(gunzipSync(body), { wasmModule: loadPayloadToCsv() });
 */
export function convertBytes(
  input: Uint8Array | readonly Uint8Array[],
  options: ConvertBytesOptions = {},
): ConvertBytesResult {
  const output: Buffer[] = [];
  const rejects: Reject[] = [];
  const converter = new FlowLogConverter({
    ...options,
    onData: (chunk) => output.push(chunk),
    onReject: (reject) => rejects.push(reject),
  });
  let error: FlowhoseError | undefined;
  for (const chunk of input instanceof Uint8Array ? [input] : input) {
    error = converter.write(asBuffer(chunk));
    if (error) break;
  }
  error ??= converter.end();
  const result: ConvertBytesResult = {
    output: Buffer.concat(output),
    rejects,
    stats: { ...converter.stats },
  };
  if (error) result.error = error;
  return result;
}

const asBuffer = (bytes: Uint8Array): Buffer =>
  Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
