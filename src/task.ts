/**
 * What crosses the worker-thread boundary: small, plain, structured-cloneable data. A task names
 * its source and destination; the worker opens them itself.
 */
export type SourceRef =
  | { kind: 'file'; path: string }
  | { kind: 'stdin' }
  | { kind: 's3'; bucket: string; key: string; etag?: string; size?: number };

export type DestRef =
  | { kind: 'file'; path: string; rejectsPath: string }
  | { kind: 'stdout'; rejectsPath?: string }
  | { kind: 's3'; bucket: string; key: string; rejectsKey: string };

export interface ConvertOptions {
  /** A --log-format spec, parsed again in the worker (a FlowFormat is cheap to rebuild). */
  logFormat?: string;
  /** 0 writes plain CSV. */
  gzipLevel: number;
  /** Read and zlib chunk size in bytes. */
  chunkSize: number;
  maxRecordBytes: number;
}

export interface ConvertTask {
  source: SourceRef;
  dest: DestRef;
  options: ConvertOptions;
}

export type TaskStatus = 'ok' | 'failed' | 'skipped';

export interface TaskResult {
  source: string;
  dest: string;
  status: TaskStatus;
  rows: number;
  rejected: number;
  control: number;
  /** Bytes read from the source, as stored (compressed). */
  bytesIn: number;
  /** Bytes after every gzip layer was removed. */
  bytesDecoded: number;
  bytesOut: number;
  /** Where rejected records were kept, when there were any and they were kept. */
  rejectsDest?: string;
  error?: { code: string; message: string };
}

export function describeSource(ref: SourceRef): string {
  if (ref.kind === 'file') return ref.path;
  if (ref.kind === 'stdin') return '-';
  return `s3://${ref.bucket}/${ref.key}`;
}

export function describeDest(ref: DestRef): string {
  if (ref.kind === 'file') return ref.path;
  if (ref.kind === 'stdout') return '-';
  return `s3://${ref.bucket}/${ref.key}`;
}
