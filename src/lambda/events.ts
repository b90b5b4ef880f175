/**
 * What a Lambda event asks for, recognised by its shape alone (no event carries a type field that all
 * sources share). Each shape becomes a list of objects to convert plus what its answer must look like:
 *
 *   {BatchInput, Items}                 Step Functions Distributed Map batch (ItemReader over ListObjectsV2)
 *   {Records: [{s3}]}                   S3 event notification (keys URL-encoded, `+` for a space)
 *   {Records: [{body, messageId}]}      SQS of S3 notifications (or of s3:TestEvent, SNS- or EventBridge-wrapped)
 *   {source: aws.s3, detail-type: Object Created}   EventBridge (keys not encoded)
 *   {invocationSchemaVersion, tasks}    S3 Batch Operations 1.0 (s3BucketArn) / 2.0 (s3Bucket, userArguments)
 */

/** One object an event names. `etag` is S3's quoted form, as ListObjectsV2 and HeadObject give it. */
export interface EventObject {
  bucket: string;
  key: string;
  etag?: string;
  size?: number;
  lastModified?: number;
  /** Set when the event names something that is not a new object (a delete, a test event). */
  ignore?: string;
}

export type Work =
  | { kind: 'map-batch'; batchInput: Record<string, unknown>; items: MapItem[] }
  | { kind: 's3-notification'; objects: EventObject[] }
  | { kind: 'sqs'; messages: SqsMessage[] }
  | { kind: 'eventbridge'; objects: EventObject[] }
  | {
      kind: 'batch-operations';
      version: '1.0' | '2.0';
      invocationId: string;
      userArguments: Record<string, unknown>;
      tasks: BatchTask[];
    };

export interface MapItem {
  key: string;
  etag?: string;
  size?: number;
  lastModified?: number;
}

/** A message, and its objects or why it could not be read (then it fails, and goes on to the DLQ). */
export interface SqsMessage {
  messageId: string;
  objects: EventObject[];
  unreadable?: string;
}

export interface BatchTask {
  taskId: string;
  object: EventObject;
}

export const ACCEPTED_SHAPES =
  'a Step Functions Distributed Map batch {"BatchInput", "Items": [{"Key", "Etag", …}]}, ' +
  'an S3 event notification {"Records": [{"s3": …}]}, an SQS event {"Records": [{"messageId", "body"}]} whose bodies are S3 notifications, ' +
  'an EventBridge "Object Created" event from aws.s3, or an S3 Batch Operations job (invocationSchemaVersion 1.0 or 2.0)';

/** The event could not be recognised, or a part it must have is missing: retrying it cannot help. */
export class EventShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EventShapeError';
  }
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** `abc` or `"abc"` → `"abc"`: notifications drop the quotes that listings and HEAD keep. */
export const quotedEtag = (etag: unknown): string | undefined =>
  typeof etag === 'string' && etag !== '' ? (etag.startsWith('"') ? etag : `"${etag}"`) : undefined;

/** S3 notifications encode keys as an HTML form does: `+` is a space, the rest percent-encoded UTF-8. */
export function decodeNotificationKey(key: string): string {
  const spaced = key.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    throw new EventShapeError(
      `object key ${JSON.stringify(key)} is not URL-encoded as S3 notifications encode keys`,
    );
  }
}

/** ItemReader gives LastModified as epoch seconds; accept milliseconds and ISO dates too. */
function epochMs(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value < 1e11 ? value * 1000 : value;
  if (typeof value === 'string' && value !== '') {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

const sizeOf = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;

function describeShape(event: unknown): string {
  if (!isObject(event)) return Array.isArray(event) ? 'an array' : `a ${typeof event}`;
  const keys = Object.keys(event).slice(0, 8);
  return keys.length > 0 ? `an object with keys ${keys.join(', ')}` : 'an empty object';
}

export function recognise(event: unknown): Work {
  if (isObject(event)) {
    if (
      Array.isArray(event.Items) &&
      ('BatchInput' in event || event.Items.length === 0 || isMapItem(event.Items[0]))
    )
      return mapBatch(event);
    if (typeof event.invocationSchemaVersion === 'string' && Array.isArray(event.tasks))
      return batchOperations(event);
    if (isEventBridgeS3(event)) return { kind: 'eventbridge', objects: [eventBridgeObject(event)] };
    if (Array.isArray(event.Records) && event.Records.length > 0) {
      const first = event.Records[0];
      if (isObject(first) && first.eventSource === 'aws:sqs') return sqs(event.Records);
      if (isObject(first) && isObject(first.s3))
        return { kind: 's3-notification', objects: notificationObjects(event) };
    }
  }
  throw new EventShapeError(
    `flowhose/lambda cannot handle this event (${describeShape(event)}); it accepts ${ACCEPTED_SHAPES}`,
  );
}

const isMapItem = (item: unknown): boolean => isObject(item) && typeof item.Key === 'string';

function mapBatch(event: Json): Work {
  const batchInput = event.BatchInput ?? {};
  if (!isObject(batchInput)) throw new EventShapeError('BatchInput must be an object of flowhose settings');
  const items = (event.Items as unknown[]).map((item, i): MapItem => {
    if (!isObject(item) || typeof item.Key !== 'string' || item.Key === '')
      throw new EventShapeError(
        `Items[${i}] has no Key: a Distributed Map over S3 objects gives {"Key", "Etag", "Size", "LastModified"}`,
      );
    return {
      key: item.Key,
      etag: quotedEtag(item.Etag ?? item.ETag),
      size: sizeOf(item.Size),
      lastModified: epochMs(item.LastModified),
    };
  });
  return { kind: 'map-batch', batchInput, items };
}

function notificationObjects(event: Json): EventObject[] {
  return (event.Records as unknown[]).map((record, i) => {
    const s3 = isObject(record) ? record.s3 : undefined;
    const bucket = isObject(s3) && isObject(s3.bucket) ? s3.bucket.name : undefined;
    const object = isObject(s3) && isObject(s3.object) ? s3.object : undefined;
    if (typeof bucket !== 'string' || !object || typeof object.key !== 'string')
      throw new EventShapeError(
        `Records[${i}] is not an S3 notification record (s3.bucket.name, s3.object.key)`,
      );
    const name = isObject(record) && typeof record.eventName === 'string' ? record.eventName : '';
    return {
      bucket,
      key: decodeNotificationKey(object.key),
      size: sizeOf(object.size),
      ...(name.startsWith('ObjectCreated:')
        ? {}
        : { ignore: `${name || 'an event'} is not an object creation` }),
    };
  });
}

function isEventBridgeS3(event: Json): boolean {
  return event.source === 'aws.s3' && typeof event['detail-type'] === 'string' && isObject(event.detail);
}

function eventBridgeObject(event: Json): EventObject {
  const detail = event.detail as Json;
  const bucket = isObject(detail.bucket) ? detail.bucket.name : undefined;
  const object = isObject(detail.object) ? detail.object : undefined;
  if (typeof bucket !== 'string' || !object || typeof object.key !== 'string')
    throw new EventShapeError('the EventBridge event has no detail.bucket.name and detail.object.key');
  return {
    bucket,
    key: object.key, // EventBridge keys are not encoded
    size: sizeOf(object.size),
    ...(event['detail-type'] === 'Object Created'
      ? {}
      : { ignore: `${String(event['detail-type'])} is not Object Created` }),
  };
}

function sqs(records: unknown[]): Work {
  const messages = records.map((record, i): SqsMessage => {
    if (!isObject(record) || typeof record.messageId !== 'string')
      throw new EventShapeError(`Records[${i}] is not an SQS message (messageId, body)`);
    try {
      return { messageId: record.messageId, objects: bodyObjects(record.body) };
    } catch (error) {
      return { messageId: record.messageId, objects: [], unreadable: (error as Error).message };
    }
  });
  return { kind: 'sqs', messages };
}

/** An SQS body: an S3 notification, S3's test event, or either wrapped by SNS, or an EventBridge event. */
function bodyObjects(body: unknown, depth = 0): EventObject[] {
  let parsed: unknown;
  try {
    parsed = typeof body === 'string' ? JSON.parse(body) : body;
  } catch {
    throw new EventShapeError('the message body is not JSON');
  }
  if (!isObject(parsed)) throw new EventShapeError('the message body is not a JSON object');
  if (parsed.Event === 's3:TestEvent')
    return [
      {
        bucket: String(parsed.Bucket ?? ''),
        key: '',
        ignore: 's3:TestEvent (sent when notifications are set up)',
      },
    ];
  if (parsed.Type === 'Notification' && typeof parsed.Message === 'string' && depth === 0)
    return bodyObjects(parsed.Message, depth + 1);
  if (isEventBridgeS3(parsed)) return [eventBridgeObject(parsed)];
  if (Array.isArray(parsed.Records)) return notificationObjects(parsed);
  throw new EventShapeError(`the message body is not an S3 notification (${describeShape(parsed)})`);
}

function batchOperations(event: Json): Work {
  const version = event.invocationSchemaVersion;
  if (version !== '1.0' && version !== '2.0')
    throw new EventShapeError(
      `S3 Batch Operations invocationSchemaVersion ${JSON.stringify(version)} is not 1.0 or 2.0`,
    );
  const job = isObject(event.job) ? event.job : {};
  const tasks = (event.tasks as unknown[]).map((task, i): BatchTask => {
    if (!isObject(task) || typeof task.taskId !== 'string' || typeof task.s3Key !== 'string')
      throw new EventShapeError(`tasks[${i}] has no taskId and s3Key`);
    // 1.0 names the bucket by ARN (arn:aws:s3:::name), 2.0 by name.
    const bucket =
      typeof task.s3Bucket === 'string'
        ? task.s3Bucket
        : typeof task.s3BucketArn === 'string'
          ? task.s3BucketArn.slice(task.s3BucketArn.lastIndexOf(':') + 1)
          : undefined;
    if (!bucket) throw new EventShapeError(`tasks[${i}] has no s3BucketArn (1.0) or s3Bucket (2.0)`);
    // Keys arrive as the manifest holds them, URL-encoded (AWS's example decodes them with unquote_plus).
    return { taskId: task.taskId, object: { bucket, key: decodeNotificationKey(task.s3Key) } };
  });
  return {
    kind: 'batch-operations',
    version,
    invocationId: String(event.invocationId ?? ''),
    userArguments: isObject(job.userArguments) ? job.userArguments : {},
    tasks,
  };
}
