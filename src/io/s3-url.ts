/** S3 locations and settings as plain data: no SDK here, so importing this costs nothing. */
/** Plain settings, so they can cross into worker threads; each thread builds its own client. */
export interface S3Settings {
  region: string;
  endpoint?: string;
  forcePathStyle: boolean;
  /** Attempts per S3 request (the SDK's retry strategy: backoff with jitter, adaptive rate). */
  maxAttempts: number;
  partSize: number;
  queueSize: number;
  /**
   * How long any S3 request may make no progress before it fails as a retryable TimeoutError:
   * connecting, waiting for an answer, a connection that carries no bytes either way, and a
   * GetObject body that sends nothing while it is being read. Default DEFAULT_S3_TIMEOUT_SECONDS.
   */
  timeoutSeconds?: number;
}

/** 30 s: far above a healthy S3 round trip, short enough that a dead endpoint is noticed. */
export const DEFAULT_S3_TIMEOUT_SECONDS = 30;

export interface S3Location {
  bucket: string;
  /** Key prefix, '' for the whole bucket. */
  prefix: string;
}

export function parseS3Url(url: string): S3Location | undefined {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!match) return undefined;
  return { bucket: match[1]!, prefix: match[2]! };
}

export const isS3Url = (value: string): boolean => value.startsWith('s3://');
