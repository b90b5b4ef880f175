/**
 * The Piscina worker: one object per call. S3 clients are cached per thread at module scope (see
 * src/io/s3.ts), not built per task; only the plain task and its plain result cross threads.
 * Cancellation is cooperative: the worker watches the shared control word and aborts its own
 * pipeline, so uploads are aborted properly instead of the thread being killed mid-upload.
 */
import { convertObject } from '../src/object/convert-object.js';
import { describeLayout } from '../src/object/layout.js';
import {
  CANCELLED,
  type ConvertTask,
  describeSource,
  noCounts,
  STOPPING,
  type TaskResult,
} from '../src/object/task.js';

export default async function convert(task: ConvertTask): Promise<TaskResult> {
  const control = task.control ? new Int32Array(task.control) : undefined;
  if (control && Atomics.load(control, 0) >= STOPPING) {
    return {
      source: describeSource(task.source),
      dest: describeLayout(task.layout),
      status: 'not-started',
      ...noCounts(),
    };
  }
  if (!control) return convertObject(task);
  const cancel = new AbortController();
  const watch = setInterval(() => {
    if (Atomics.load(control, 0) === CANCELLED) cancel.abort();
  }, 100);
  try {
    return await convertObject(task, undefined, cancel.signal);
  } finally {
    clearInterval(watch);
  }
}
