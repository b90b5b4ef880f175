/**
 * The backfill state machine in Amazon States Language, as plain data: the CDK stack deploys it (with
 * CloudFormation substitutions for the function, the results bucket and the parameters), the tests validate it
 * with asl-validator and replay its ItemReader and ItemBatcher over a local S3 server. No aws-cdk-lib here.
 *
 *   start-execution {"bucket", "prefix"}
 *     └─ Map (DISTRIBUTED): ItemReader s3:listObjectsV2 over bucket/prefix (AWS lists; no 256 KiB input limit)
 *          ItemBatcher: up to MaxItemsPerBatch keys and MaxInputBytesPerBatch of JSON per child, BatchInput
 *          {bucket, prefix} (the handler names outputs below the prefix, as `flowhose convert s3://b/p/` does)
 *          └─ Task lambda:invoke flowhose (Retry: FlowhoseRetryableBatch = some objects ran out of time or hit
 *             a transient error; done ones are skipped on the retry by their recorded source ETag)
 *        MaxConcurrency children at once, ToleratedFailurePercentage of failed children before the run fails,
 *        ResultWriter: the per-batch results as JSON under s3://results/prefix/<execution>/
 */

/** A value CloudFormation fills in (DefinitionSubstitutions: `${Name}`), or a literal. */
export class Substitution {
  constructor(
    readonly name: string,
    /** A number is written bare, so the substituted definition holds a JSON number. */
    readonly kind: 'string' | 'number' = 'string',
  ) {}
}
export type Value<T> = T | Substitution;

export interface BackfillSettings {
  functionArn: Value<string>;
  resultBucket: Value<string>;
  resultPrefix: string;
  /**
   * Objects per child invocation. From the bench figure (README, "Serverless"): one vCPU converts about 8 MB of
   * stored Firehose objects per second, so 20 objects of Firehose's largest buffer (128 MiB) take about 320 s,
   * well inside the function's 900 s; the handler's time guard hands back what would not fit.
   */
  maxItemsPerBatch: number;
  /** Bytes of item JSON per batch: Step Functions' ceiling for a child's input is 256 KiB. */
  maxInputBytesPerBatch: number;
  maxConcurrency: Value<number>;
  toleratedFailurePercentage: Value<number>;
}

export const DEFAULT_BACKFILL = {
  resultPrefix: 'flowhose-backfill-results',
  maxItemsPerBatch: 20,
  maxInputBytesPerBatch: 262_144,
  maxConcurrency: 1000,
  toleratedFailurePercentage: 0,
} as const;

/** Errors of the Lambda service itself, worth retrying (AWS's recommended list for lambda:invoke). */
const LAMBDA_TRANSIENT = [
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];

export function backfillDefinition(s: BackfillSettings) {
  return {
    Comment: 'flowhose backfill: convert every object under s3://{bucket}/{prefix} with the flowhose Lambda',
    StartAt: 'ConvertPrefix',
    States: {
      ConvertPrefix: {
        Type: 'Map',
        ItemReader: {
          Resource: 'arn:aws:states:::s3:listObjectsV2',
          Parameters: { 'Bucket.$': '$.bucket', 'Prefix.$': '$.prefix' },
        },
        ItemBatcher: {
          MaxItemsPerBatch: s.maxItemsPerBatch,
          MaxInputBytesPerBatch: s.maxInputBytesPerBatch,
          BatchInput: { 'bucket.$': '$.bucket', 'prefix.$': '$.prefix' },
        },
        ItemProcessor: {
          ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
          StartAt: 'ConvertBatch',
          States: {
            ConvertBatch: {
              Type: 'Task',
              Resource: 'arn:aws:states:::lambda:invoke',
              Parameters: { FunctionName: s.functionArn, 'Payload.$': '$' },
              OutputPath: '$.Payload',
              Retry: [
                {
                  ErrorEquals: LAMBDA_TRANSIENT,
                  IntervalSeconds: 2,
                  MaxAttempts: 6,
                  BackoffRate: 2,
                  JitterStrategy: 'FULL',
                },
                {
                  ErrorEquals: ['FlowhoseRetryableBatch'],
                  IntervalSeconds: 10,
                  MaxAttempts: 3,
                  BackoffRate: 2,
                  JitterStrategy: 'FULL',
                },
              ],
              End: true,
            },
          },
        },
        MaxConcurrency: s.maxConcurrency,
        ToleratedFailurePercentage: s.toleratedFailurePercentage,
        ResultWriter: {
          Resource: 'arn:aws:states:::s3:putObject',
          Parameters: { Bucket: s.resultBucket, Prefix: s.resultPrefix },
        },
        End: true,
      },
    },
  };
}

const MARK = '@@sub@@';

/** The definition as text, each Substitution as CloudFormation's `${Name}` (unquoted where a number goes). */
export function renderDefinition(definition: unknown): { text: string; names: string[] } {
  const names = new Set<string>();
  const text = JSON.stringify(definition, (_key, value: unknown) => {
    if (!(value instanceof Substitution)) return value;
    names.add(value.name);
    return `${MARK}${value.kind}:${value.name}${MARK}`;
  });
  const substituted = text
    .replace(new RegExp(`"${MARK}number:(\\w+)${MARK}"`, 'g'), (_m, name: string) => `\${${name}}`)
    .replace(new RegExp(`${MARK}string:(\\w+)${MARK}`, 'g'), (_m, name: string) => `\${${name}}`);
  return { text: substituted, names: [...names] };
}
