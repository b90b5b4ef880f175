/**
 * flowhose on AWS: the handler as a Lambda function, a Standard state machine whose Distributed Map backfills
 * any prefix it is started with, and optionally the realtime path S3 → SQS (with a dead-letter queue) → the
 * function. Buckets are imported by name (they exist already: Firehose writes to one), and every grant is
 * spelled out so the template shows exactly what each role may do (README's policy, per role).
 */
import {
  ArnFormat,
  Aws,
  CfnOutput,
  CfnParameter,
  Duration,
  aws_iam as iam,
  aws_lambda as lambda,
  aws_logs as logs,
  Stack,
  type StackProps,
  aws_s3 as s3,
  aws_s3_notifications as s3n,
  aws_stepfunctions as sfn,
  aws_sqs as sqs,
} from 'aws-cdk-lib';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { Construct } from 'constructs';
import { backfillDefinition, DEFAULT_BACKFILL, renderDefinition, Substitution } from './definition.js';

export interface FlowhoseStackProps extends StackProps {
  /** The bundled function code (deploy/bundle.ts). */
  code: lambda.Code;
  handler: string;
  sourceBucket: string;
  /** Where Firehose writes, `''` for the whole bucket; the realtime path and the grants are limited to it. */
  sourcePrefix: string;
  /** `s3://bucket/prefix/` the outputs go to. */
  destination: string;
  /** Also convert objects as they land (S3 notification → SQS → the function). */
  realtime: boolean;
  /** Extra FLOWHOSE_* settings for the function (FLOWHOSE_COMPRESSION, …). */
  settings?: Record<string, string>;
}

/**
 * From the bench figure (README, "Serverless"): conversion is one thread, CPU-bound, about 8 MB of stored input
 * per second per vCPU, in about 140 MB RSS. 1,769 MB is the memory at which Lambda gives one full vCPU: less
 * only slows it down for the same GB-s, more buys a second vCPU it cannot use.
 */
export const MEMORY_MB = 1769;
/** Lambda's maximum: a batch of 20 of Firehose's largest objects takes about 320 s; the time guard covers the rest. */
export const TIMEOUT_SECONDS = 900;
/** AWS's advice for SQS event sources: a visibility timeout of six times the function's timeout. */
export const VISIBILITY_TIMEOUT_SECONDS = 6 * TIMEOUT_SECONDS;
export const STATE_MACHINE_NAME = 'flowhose-backfill';

const prefixPattern = (prefix: string) => (prefix === '' ? '*' : `${prefix.replace(/\/?$/, '/')}*`);

export class FlowhoseStack extends Stack {
  constructor(scope: Construct, id: string, props: FlowhoseStackProps) {
    super(scope, id, props);
    const dest = /^s3:\/\/([^/]+)\/?(.*)$/.exec(props.destination);
    if (!dest) throw new Error(`destination must be s3://bucket/prefix/, got ${props.destination}`);
    const [, destBucketName, destPrefix] = dest as unknown as [string, string, string];
    const source = s3.Bucket.fromBucketName(this, 'Source', props.sourceBucket);
    const destination = s3.Bucket.fromBucketName(this, 'Destination', destBucketName);

    const maxConcurrency = new CfnParameter(this, 'MaxConcurrency', {
      type: 'Number',
      default: DEFAULT_BACKFILL.maxConcurrency,
      minValue: 1,
      maxValue: 10000,
      description:
        'Distributed Map child executions at once (each one Lambda invocation of up to 20 objects)',
    });
    const toleratedFailure = new CfnParameter(this, 'ToleratedFailurePercentage', {
      type: 'Number',
      default: DEFAULT_BACKFILL.toleratedFailurePercentage,
      minValue: 0,
      maxValue: 100,
      description: 'Failed batches (in percent) a backfill tolerates before it fails',
    });

    const fn = new lambda.Function(this, 'Convert', {
      description: 'flowhose: CloudWatch Logs → Firehose flow log objects to CSV',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: MEMORY_MB,
      timeout: Duration.seconds(TIMEOUT_SECONDS),
      code: props.code,
      handler: props.handler,
      environment: {
        FLOWHOSE_TO: props.destination,
        ...(props.sourcePrefix ? { FLOWHOSE_SOURCE_PREFIX: props.sourcePrefix } : {}),
        ...props.settings,
      },
      logGroup: new logs.LogGroup(this, 'ConvertLogs', { retention: logs.RetentionDays.ONE_MONTH }),
    });
    // What `flowhose convert` needs, as README's policy has it; no ListBucketMultipartUploads: the handler never
    // cleans up after a crashed worker (an aborted invocation's upload is left to the lifecycle rule).
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [source.arnForObjects(prefixPattern(props.sourcePrefix))],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [source.bucketArn] }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
        resources: [destination.arnForObjects(prefixPattern(destPrefix))],
      }),
    );
    if (destBucketName !== props.sourceBucket)
      fn.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [destination.bucketArn] }),
      );

    // The state machine's own ARN, built from its name: its role must name it (child executions) without a cycle.
    const machineArn = Stack.of(this).formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: STATE_MACHINE_NAME,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const role = new iam.Role(this, 'BackfillRole', {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com'),
    });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [source.bucketArn] }));
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: [fn.functionArn, `${fn.functionArn}:*`],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'],
        resources: [destination.arnForObjects(`${DEFAULT_BACKFILL.resultPrefix}/*`)],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [machineArn] }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['states:DescribeExecution', 'states:StopExecution'],
        resources: [
          `arn:${Aws.PARTITION}:states:${Aws.REGION}:${Aws.ACCOUNT_ID}:execution:${STATE_MACHINE_NAME}/*`,
        ],
      }),
    );

    const { text } = renderDefinition(
      backfillDefinition({
        functionArn: new Substitution('FunctionArn'),
        resultBucket: new Substitution('ResultBucket'),
        resultPrefix: DEFAULT_BACKFILL.resultPrefix,
        maxItemsPerBatch: DEFAULT_BACKFILL.maxItemsPerBatch,
        maxInputBytesPerBatch: DEFAULT_BACKFILL.maxInputBytesPerBatch,
        maxConcurrency: new Substitution('MaxConcurrency', 'number'),
        toleratedFailurePercentage: new Substitution('ToleratedFailurePercentage', 'number'),
      }),
    );
    const machine = new sfn.CfnStateMachine(this, 'Backfill', {
      stateMachineName: STATE_MACHINE_NAME,
      stateMachineType: 'STANDARD',
      roleArn: role.roleArn,
      definitionString: text,
      definitionSubstitutions: {
        FunctionArn: fn.functionArn,
        ResultBucket: destBucketName,
        MaxConcurrency: maxConcurrency.valueAsString,
        ToleratedFailurePercentage: toleratedFailure.valueAsString,
      },
    });
    machine.node.addDependency(role);
    new CfnOutput(this, 'StateMachineArn', { value: machine.attrArn });
    new CfnOutput(this, 'FunctionName', { value: fn.functionName });

    if (props.realtime) {
      const dlq = new sqs.Queue(this, 'ObjectsDeadLetters', {
        retentionPeriod: Duration.days(14),
        enforceSSL: true,
      });
      const queue = new sqs.Queue(this, 'Objects', {
        visibilityTimeout: Duration.seconds(VISIBILITY_TIMEOUT_SECONDS),
        retentionPeriod: Duration.days(4),
        deadLetterQueue: { queue: dlq, maxReceiveCount: 5 },
        enforceSSL: true,
      });
      source.addEventNotification(
        s3.EventType.OBJECT_CREATED,
        new s3n.SqsDestination(queue),
        ...(props.sourcePrefix ? [{ prefix: props.sourcePrefix }] : []),
      );
      fn.addEventSource(
        new SqsEventSource(queue, {
          batchSize: 10,
          maxBatchingWindow: Duration.seconds(30),
          reportBatchItemFailures: true,
        }),
      );
      new CfnOutput(this, 'DeadLetterQueueUrl', { value: dlq.queueUrl });
    }
  }
}
