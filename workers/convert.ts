/**
 * The Piscina worker: one object per call. Adapters (and their S3 clients) are created once per
 * thread at module scope, not per task; only the plain task and its plain result cross threads.
 */
import { convertObject } from '../src/convert-object.js';
import type { ConvertTask, TaskResult } from '../src/task.js';

export default function convert(task: ConvertTask): Promise<TaskResult> {
  return convertObject(task);
}
