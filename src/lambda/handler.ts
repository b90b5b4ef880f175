/**
 * flowhose as an AWS Lambda handler (`flowhose/lambda`): one `handler(event, context)` for every way AWS
 * hands it objects, each converted in-process by the same convertObject as the CLI.
 *
 *   event ─► recognise (events.ts) ─► settings (env FLOWHOSE_* + BatchInput, the option table) ─► objects
 *         ─► convertItems (time guard, one JSON log line each) ─► the answer that shape's caller expects:
 *
 *   Distributed Map batch   {results, counts}; throws FlowhoseRetryableBatch when any object may succeed on a
 *                           retry (the state machine's Retry runs the batch again; done objects are skipped)
 *   S3 notification         {results}; throws on a retryable failure (Lambda retries async invocations)
 *   SQS                     {batchItemFailures: [{itemIdentifier}]}: only failed messages go back to the queue
 *   EventBridge             as an S3 notification
 *   S3 Batch Operations     {invocationSchemaVersion, treatMissingKeysAs, invocationId, results: [{taskId,
 *                           resultCode: Succeeded | TemporaryFailure | PermanentFailure, resultString}]}
 *
 * A bad setting or an event of no known shape throws at once, naming what is wrong: retrying cannot help.
 */
import {
  convertItems,
  DEFAULT_GUARD,
  type GuardSettings,
  type ItemResult,
  isFailure,
  isRetryable,
  type Log,
  type TimeLeft,
} from './convert-items.js';
import { type EventObject, EventShapeError, recognise, type Work } from './events.js';
import { createSettings, type HandlerSettings } from './settings.js';

export type { ItemResult, ItemStatus, TimeLeft } from './convert-items.js';
export { ACCEPTED_SHAPES, EventShapeError } from './events.js';

/** Thrown (after every object was tried) when a Distributed Map batch should run again. */
export class RetryableBatchError extends Error {
  constructor(readonly results: ItemResult[]) {
    const retry = results.filter(isRetryable);
    super(
      `${retry.length} of ${results.length} objects may succeed on a retry (${retry
        .slice(0, 3)
        .map((r) => `${r.source}: ${r.error?.code}`)
        .join('; ')}${retry.length > 3 ? '; …' : ''}); the converted ones will be skipped`,
    );
    // The name is what Step Functions matches in Retry.ErrorEquals.
    this.name = 'FlowhoseRetryableBatch';
  }
}

export interface HandlerOptions {
  /** Where FLOWHOSE_* settings and AWS_* variables are read; process.env by default. */
  env?: Record<string, string | undefined>;
  /** One line per object; standard output by default (each line one CloudWatch Logs event). */
  log?: Log;
  guard?: Partial<GuardSettings>;
}

export interface Counts {
  ok: number;
  skipped: number;
  ignored: number;
  failed: number;
  notStarted: number;
}

export interface MapBatchAnswer extends Counts {
  results: ItemResult[];
}

export type LambdaAnswer =
  | MapBatchAnswer
  | { results: ItemResult[] }
  | { batchItemFailures: { itemIdentifier: string }[] }
  | BatchOperationsAnswer;

export interface BatchOperationsAnswer {
  invocationSchemaVersion: string;
  treatMissingKeysAs: 'PermanentFailure';
  invocationId: string;
  results: {
    taskId: string;
    resultCode: 'Succeeded' | 'TemporaryFailure' | 'PermanentFailure';
    resultString: string;
  }[];
}

function counts(results: ItemResult[]): Counts {
  const c: Counts = { ok: 0, skipped: 0, ignored: 0, failed: 0, notStarted: 0 };
  for (const r of results) {
    if (r.status === 'not-started') c.notStarted++;
    else c[r.status]++;
  }
  return c;
}

const writeLine: Log = (line) => {
  process.stdout.write(`${line}\n`);
};

export function createHandler(options: HandlerOptions = {}) {
  const env = options.env ?? process.env;
  const log = options.log ?? writeLine;
  const guard = { ...DEFAULT_GUARD, ...options.guard };
  // Read on the first invocation, so a bad setting fails it with its message (and every later one alike).
  let fromEnv: HandlerSettings | undefined;
  const base = () => {
    fromEnv ??= createSettings(env);
    return fromEnv;
  };
  const run = (objects: EventObject[], settings: HandlerSettings, time: TimeLeft) =>
    convertItems(objects, settings, time, log, guard);

  return async function handler(event: unknown, context: TimeLeft): Promise<LambdaAnswer> {
    const work: Work = recognise(event);
    switch (work.kind) {
      case 'map-batch': {
        const { bucket } = work.batchInput;
        if (typeof bucket !== 'string' || bucket === '')
          throw new EventShapeError(
            'BatchInput.bucket must name the source bucket (Distributed Map items carry only keys)',
          );
        const settings = createSettings(env, work.batchInput, 'BatchInput');
        const objects = work.items.map((item) => ({ bucket, ...item }));
        const results = await run(objects, settings, context);
        if (results.some(isRetryable)) throw new RetryableBatchError(results);
        return { ...counts(results), results };
      }
      case 's3-notification':
      case 'eventbridge': {
        const results = await run(work.objects, base(), context);
        if (results.some(isRetryable)) throw new RetryableBatchError(results);
        return { results };
      }
      case 'sqs': {
        const settings = base();
        // One pass over every message's objects, so the time guard sees the whole invocation.
        const owners: number[] = [];
        const objects = work.messages.flatMap((message, i) => {
          if (message.unreadable !== undefined) {
            log(
              JSON.stringify({
                level: 'ERROR',
                message: 'flowhose unreadable message',
                messageId: message.messageId,
                error: message.unreadable,
              }),
            );
            return [];
          }
          owners.push(...message.objects.map(() => i));
          return message.objects;
        });
        const results = await run(objects, settings, context);
        const failed = new Set(work.messages.flatMap((m, i) => (m.unreadable !== undefined ? [i] : [])));
        // Every failure goes back to the queue: retried until maxReceiveCount, then kept in the dead-letter queue.
        results.forEach((result, j) => {
          if (isFailure(result)) failed.add(owners[j]!);
        });
        return {
          batchItemFailures: work.messages
            .filter((_, i) => failed.has(i))
            .map((m) => ({ itemIdentifier: m.messageId })),
        };
      }
      case 'batch-operations': {
        const settings = createSettings(env, work.userArguments, 'userArguments');
        const results = await run(
          work.tasks.map((task) => task.object),
          settings,
          context,
        );
        const answers = work.tasks.map((task, i) => batchOperationsResult(task.taskId, results[i]!));
        return {
          invocationSchemaVersion: work.version,
          treatMissingKeysAs: 'PermanentFailure',
          invocationId: work.invocationId,
          results: answers,
        };
      }
    }
  };
}

function batchOperationsResult(taskId: string, result: ItemResult): BatchOperationsAnswer['results'][number] {
  const resultCode = !isFailure(result)
    ? 'Succeeded'
    : isRetryable(result)
      ? 'TemporaryFailure'
      : 'PermanentFailure';
  const resultString = result.error
    ? `${result.error.code}: ${result.error.message}`
    : [result.status, result.reason && `(${result.reason})`, result.dest].filter(Boolean).join(' ');
  return { taskId, resultCode, resultString };
}

/** The handler Lambda runs: settings from the function's environment. */
export const handler = createHandler();
