/**
 * What crosses the worker-thread boundary: small, plain, structured-cloneable data. A task names
 * its source and destination; the worker opens them itself.
 */
export type SourceRef =
  | { kind: 'file'; path: string }
  | { kind: 'stdin' }
  | { kind: 's3'; bucket: string; key: string; etag?: string; size?: number; lastModified?: number };

export type DestRef =
  | { kind: 'file'; path: string; rejectsPath: string }
  | { kind: 'stdout'; rejectsPath?: string }
  | { kind: 's3'; bucket: string; key: string; rejectsKey: string };
