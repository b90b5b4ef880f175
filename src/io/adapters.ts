import { readFile, rm, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { openLocalSink, openLocalSource, removeOwnTemps } from './local.js';
import type { SourceRef } from './refs.js';
import type { S3Settings } from './s3-url.js';
import type { ObjectSink, SinkTarget, StoredObject } from './sink.js';
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

/**
 * How sources are read and targets written, stored, probed and removed: mechanics only (what a
 * destination holds and when it is up to date is decided in object/). Tests and the Lambda path can
 * swap it.
 */
export interface IoAdapters {
  sourceVersion(ref: SourceRef, signal?: AbortSignal): Promise<SourceVersion | undefined>;
  openSource(ref: SourceRef, chunkSize: number, signal?: AbortSignal): Promise<OpenedSource>;
  openSink(target: SinkTarget): Promise<ObjectSink>;
  /** What is stored at a target now; undefined when nothing is. */
  probe(target: SinkTarget, signal?: AbortSignal): Promise<StoredObject | undefined>;
  /** A small text stored at a target (a commit record); undefined when there is none. */
  readText(target: SinkTarget, signal?: AbortSignal): Promise<string | undefined>;
  remove(target: SinkTarget): Promise<void>;
  /** After a worker died mid-object: remove this process's temporary files, or abort open uploads. */
  cleanUpAfterCrash(target: SinkTarget): Promise<void>;
}

const fileVersion = (size: number, mtimeMs: number): SourceVersion => ({
  etag: `${size}-${Math.floor(mtimeMs)}`,
  time: Math.floor(mtimeMs),
});

const absent = (error: NodeJS.ErrnoException) => {
  if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
  throw error;
};

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

    async openSink(target) {
      if (target.kind === 'file') return openLocalSink(target.path, target.mtimeMs);
      if (target.kind === 'stdout') return openStdoutSink();
      const { openS3Sink, client } = await connect();
      return openS3Sink(client, s3!, target.bucket, target.key, target.contentType, target.metadata);
    },

    async probe(target, signal) {
      if (target.kind === 'file') {
        const info = await stat(target.path).catch(absent);
        return info?.isFile() ? { bytes: info.size, mtimeMs: info.mtimeMs } : undefined;
      }
      if (target.kind === 'stdout') return undefined;
      const { headObject, client } = await connect();
      const head = await headObject(client, target.bucket, target.key, signal);
      return head ? { bytes: head.ContentLength ?? 0, metadata: head.Metadata ?? {} } : undefined;
    },

    async readText(target, signal) {
      if (target.kind === 'file') return readFile(target.path, 'utf8').catch(absent);
      if (target.kind === 'stdout') return undefined;
      const { getText, client } = await connect();
      return getText(client, target.bucket, target.key, signal);
    },

    async remove(target) {
      if (target.kind === 'file') await rm(target.path, { force: true });
      else if (target.kind === 's3') {
        const { deleteObject, client } = await connect();
        await deleteObject(client, target.bucket, target.key);
      }
    },

    async cleanUpAfterCrash(target) {
      if (target.kind === 'file') await removeOwnTemps(target.path);
      else if (target.kind === 's3') {
        const { abortOpenUploads, client } = await connect();
        await abortOpenUploads(client, target.bucket, target.key);
      }
    },
  };
}
