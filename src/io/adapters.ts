import { rm, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { openLocalSink, openLocalSource, tempPathFor } from './local.js';
import type { DestRef, SourceRef } from './refs.js';
import type { S3Settings } from './s3-url.js';
import type { ObjectSink } from './sink.js';
import { openStdoutSink } from './stdio.js';

/** Which version of a source was read: S3's ETag, or size and mtime for a file. */
export interface SourceVersion {
  etag: string;
  /** Last modified, epoch ms. */
  time: number;
}

export interface OpenedSource {
  stream: Readable;
  version: SourceVersion | undefined;
}

/** Metadata names on S3 outputs; a rerun compares the recorded ETag with the source's. */
export const META_SOURCE = 'flowhose-source';
export const META_SOURCE_ETAG = 'flowhose-source-etag';

/** S3 user metadata must be ASCII; keys may not be. */
export const metadataValue = (value: string): string => encodeURIComponent(value);

/** How sources and sinks of every kind are opened. Tests and the Lambda path can swap it. */
export interface IoAdapters {
  sourceVersion(ref: SourceRef, signal?: AbortSignal): Promise<SourceVersion | undefined>;
  /** Whether the destination already holds the output of exactly this source version. */
  isUpToDate(
    ref: DestRef,
    version: SourceVersion,
    signal?: AbortSignal,
  ): Promise<{ exists: boolean; upToDate: boolean }>;
  openSource(ref: SourceRef, chunkSize: number, signal?: AbortSignal): Promise<OpenedSource>;
  openSink(ref: DestRef, source: string, version: SourceVersion | undefined): Promise<ObjectSink>;
  openRejectsSink(ref: DestRef, source: string): (() => Promise<ObjectSink>) | undefined;
  removeRejects(ref: DestRef): Promise<void>;
  /** After a worker died mid-object: remove its temporary files or abort its uploads. */
  cleanUpAfterCrash(ref: DestRef): Promise<void>;
}

const fileVersion = (size: number, mtimeMs: number): SourceVersion => ({
  etag: `${size}-${Math.floor(mtimeMs)}`,
  time: Math.floor(mtimeMs),
});

/** The AWS SDK is loaded on first use: a local-only run, and each local-only worker, never pays for it. */
let sdk: Promise<typeof import('./s3.js')> | undefined;
const loadS3 = () => {
  sdk ??= import('./s3.js');
  return sdk;
};

export function createAdapters(s3?: S3Settings): IoAdapters {
  const connect = async () => {
    if (!s3) throw new Error('S3 settings are missing for an s3:// location');
    const mod = await loadS3();
    return { ...mod, client: mod.s3Client(s3) };
  };
  return {
    async sourceVersion(ref, signal) {
      if (ref.kind === 'file') {
        const info = await stat(ref.path);
        return fileVersion(info.size, info.mtimeMs);
      }
      if (ref.kind === 's3') {
        if (ref.etag && ref.lastModified !== undefined) return { etag: ref.etag, time: ref.lastModified };
        const { headObject, client } = await connect();
        const head = await headObject(client, ref.bucket, ref.key, signal);
        return head ? { etag: head.ETag ?? '', time: head.LastModified?.getTime() ?? 0 } : undefined;
      }
      return undefined;
    },

    async isUpToDate(ref, version, signal) {
      if (ref.kind === 'file') {
        const info = await stat(ref.path).catch(() => undefined);
        // mtimes pass through float seconds on the way to the file system: allow that rounding.
        return {
          exists: info !== undefined,
          upToDate: info !== undefined && Math.abs(info.mtimeMs - version.time) < 1,
        };
      }
      if (ref.kind === 's3') {
        const { headObject, client } = await connect();
        const head = await headObject(client, ref.bucket, ref.key, signal);
        return {
          exists: head !== undefined,
          upToDate: head?.Metadata?.[META_SOURCE_ETAG] === metadataValue(version.etag),
        };
      }
      return { exists: false, upToDate: false };
    },

    async openSource(ref, chunkSize, signal) {
      if (ref.kind === 'file') {
        const info = await stat(ref.path);
        return {
          stream: openLocalSource(ref.path, chunkSize),
          version: fileVersion(info.size, info.mtimeMs),
        };
      }
      if (ref.kind === 'stdin') return { stream: process.stdin, version: undefined };
      const { openS3Source, client } = await connect();
      const opened = await openS3Source(client, ref.bucket, ref.key, ref.etag, signal);
      return {
        stream: opened.stream,
        version: { etag: opened.etag, time: opened.lastModified || (ref.lastModified ?? 0) },
      };
    },

    async openSink(ref, source, version) {
      if (ref.kind === 'file') return openLocalSink(ref.path, version?.time);
      if (ref.kind === 'stdout') return openStdoutSink();
      const metadata: Record<string, string> = { [META_SOURCE]: metadataValue(source) };
      if (version) metadata[META_SOURCE_ETAG] = metadataValue(version.etag);
      const gzip = ref.key.endsWith('.gz');
      const { openS3Sink, client } = await connect();
      return openS3Sink(
        client,
        s3!,
        ref.bucket,
        ref.key,
        gzip ? 'application/gzip' : 'text/csv; charset=utf-8',
        metadata,
      );
    },

    openRejectsSink(ref, source) {
      if (ref.kind === 'file') return () => openLocalSink(ref.rejectsPath);
      if (ref.kind === 'stdout') {
        const path = ref.rejectsPath;
        return path ? () => openLocalSink(path) : undefined;
      }
      const metadata = { [META_SOURCE]: metadataValue(source) };
      return async () => {
        const { openS3Sink, client } = await connect();
        return openS3Sink(client, s3!, ref.bucket, ref.rejectsKey, 'application/x-ndjson', metadata);
      };
    },

    async cleanUpAfterCrash(ref) {
      if (ref.kind === 'file') {
        await Promise.all([
          rm(tempPathFor(ref.path), { force: true }),
          rm(tempPathFor(ref.rejectsPath), { force: true }),
        ]);
      } else if (ref.kind === 's3') {
        const { abortOpenUploads, client } = await connect();
        await Promise.allSettled([
          abortOpenUploads(client, ref.bucket, ref.key),
          abortOpenUploads(client, ref.bucket, ref.rejectsKey),
        ]);
      }
    },

    async removeRejects(ref) {
      if (ref.kind === 'file') await rm(ref.rejectsPath, { force: true });
      else if (ref.kind === 's3') {
        const { deleteObject, client } = await connect();
        await deleteObject(client, ref.bucket, ref.rejectsKey);
      }
    },
  };
}
