/**
 * What crosses the worker-thread boundary: small, plain, structured-cloneable data. A task names
 * its source; the worker opens it itself. (Destinations are derived from a task's layout, in object/.)
 */
export type SourceRef =
  | { kind: 'file'; path: string }
  | { kind: 'stdin' }
  | { kind: 's3'; bucket: string; key: string; etag?: string; size?: number; lastModified?: number };
