/**
 * The CDK app, synthesised in-process (no AWS account): the bundled function loads on its own and holds only
 * production code, and the template holds what README promises: the function's runtime and size, each role's
 * exact statements (least privilege: nothing beyond the list), the realtime path's queue settings and event
 * source, and a state machine whose definition, once CloudFormation has substituted it, asl-validator accepts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import aslValidator from 'asl-validator';
import { App, aws_lambda as lambda } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleFunction, HANDLER } from '../../deploy/bundle.js';
import { backfillDefinition, DEFAULT_BACKFILL } from '../../deploy/definition.js';
import { FlowhoseStack, MEMORY_MB, STATE_MACHINE_NAME, TIMEOUT_SECONDS } from '../../deploy/stack.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let tmp: string;
let bundle: string;
let template: Template;

type Json = Record<string, unknown>;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'flowhose-deploy-'));
  bundle = bundleFunction(ROOT, join(tmp, 'bundle'));
  const app = new App({ outdir: join(tmp, 'cdk.out') });
  const stack = new FlowhoseStack(app, 'Flowhose', {
    code: lambda.Code.fromAsset(bundle),
    handler: HANDLER,
    sourceBucket: 'stash',
    sourcePrefix: 'firehose/',
    destination: 's3://flow-csv/csv/',
    realtime: true,
  });
  template = Template.fromStack(stack);
}, 120_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** `{"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, …]]}` → `arn:${AWS::Partition}…`, for readable asserts. */
function flat(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(flat);
  if (value && typeof value === 'object') {
    const v = value as Json;
    if ('Fn::Join' in v) {
      const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map((p) => (typeof p === 'string' ? p : `\${${JSON.stringify(flat(p))}}`)).join(sep);
    }
    if ('Ref' in v) return `Ref:${v.Ref}`;
    if ('Fn::GetAtt' in v) return `GetAtt:${(v['Fn::GetAtt'] as string[]).join('.')}`;
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, flat(x)]));
  }
  return value;
}

/** The statements of the policies attached to the role whose logical id starts with `rolePrefix`. */
function statementsOf(rolePrefix: string): Json[] {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.values(policies)
    .filter((p) => ((p.Properties as Json).Roles as Json[]).some((r) => String(r.Ref).startsWith(rolePrefix)))
    .flatMap((p) => ((p.Properties as Json).PolicyDocument as Json).Statement as Json[])
    .map((s) => flat(s) as Json);
}

const only = (type: string): Json => {
  const found = Object.values(template.findResources(type));
  expect(found, type).toHaveLength(1);
  return found[0]!.Properties as Json;
};

const S3 = 'arn:${"Ref:AWS::Partition"}:s3:::';

describe('the bundle', () => {
  it('holds the compiled runtime and the production dependencies, nothing of the dev tree', () => {
    expect(existsSync(join(bundle, 'dist/src/lambda/handler.js'))).toBe(true);
    expect(existsSync(join(bundle, 'dist/src/wasm/payload-to-csv.wasm'))).toBe(true);
    expect(existsSync(join(bundle, 'node_modules/@aws-sdk/client-s3/package.json'))).toBe(true);
    expect(existsSync(join(bundle, 'node_modules/@aws-sdk/lib-storage/package.json'))).toBe(true);
    const top = readdirSync(join(bundle, 'node_modules'));
    for (const dev of [
      'aws-cdk-lib',
      'constructs',
      'vitest',
      'typescript',
      '@biomejs',
      'asl-validator',
      's3rver',
      'assemblyscript',
    ])
      expect(top, dev).not.toContain(dev);
    const files = readdirSync(join(bundle, 'dist'), { recursive: true }).map(String);
    expect(files.some((f) => f.endsWith('.map') || f.endsWith('.d.ts'))).toBe(false);
  });

  it('loads on its own (outside the repository) and answers an event it cannot handle', () => {
    const script =
      "import('./dist/src/lambda/handler.js').then((m) => m.handler({ hello: 1 }, { getRemainingTimeInMillis: () => 1000 }))" +
      '.catch((e) => { process.stdout.write(e.name); })';
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: bundle,
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('EventShapeError');
  });
});

describe('the template', () => {
  it('has the function: Node 24, arm64, one vCPU, the longest timeout, the destination in its environment', () => {
    const fn = Object.values(template.findResources('AWS::Lambda::Function')).find(
      (f) => (f.Properties as Json).Handler === HANDLER,
    )!.Properties as Json;
    expect(fn).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: MEMORY_MB,
      Timeout: TIMEOUT_SECONDS,
      Environment: { Variables: { FLOWHOSE_TO: 's3://flow-csv/csv/', FLOWHOSE_SOURCE_PREFIX: 'firehose/' } },
    });
  });

  it("grants the function README's policy for these buckets, and the queue's consumer actions, nothing more", () => {
    const statements = statementsOf('ConvertServiceRole');
    expect(statements).toEqual([
      { Action: 's3:GetObject', Effect: 'Allow', Resource: `${S3}stash/firehose/*` },
      { Action: 's3:ListBucket', Effect: 'Allow', Resource: `${S3}stash` },
      {
        Action: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
        Effect: 'Allow',
        Resource: `${S3}flow-csv/csv/*`,
      },
      { Action: 's3:ListBucket', Effect: 'Allow', Resource: `${S3}flow-csv` },
      {
        Action: [
          'sqs:ReceiveMessage',
          'sqs:ChangeMessageVisibility',
          'sqs:GetQueueUrl',
          'sqs:DeleteMessage',
          'sqs:GetQueueAttributes',
        ],
        Effect: 'Allow',
        Resource: expect.stringMatching(/^GetAtt:Objects[0-9A-F]{8}\.Arn$/),
      },
    ]);
  });

  it('grants the state machine the listing, the invocation, its results prefix and its own child executions', () => {
    expect(statementsOf('BackfillRole')).toEqual([
      { Action: 's3:ListBucket', Effect: 'Allow', Resource: `${S3}stash` },
      {
        Action: 'lambda:InvokeFunction',
        Effect: 'Allow',
        Resource: ['GetAtt:ConvertCF21FBC7.Arn', expect.stringMatching(/GetAtt:ConvertCF21FBC7\.Arn.*:\*$/)],
      },
      {
        Action: ['s3:PutObject', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'],
        Effect: 'Allow',
        Resource: `${S3}flow-csv/${DEFAULT_BACKFILL.resultPrefix}/*`,
      },
      {
        Action: 'states:StartExecution',
        Effect: 'Allow',
        Resource: expect.stringMatching(new RegExp(`:states:.*:stateMachine:${STATE_MACHINE_NAME}$`)),
      },
      {
        Action: ['states:DescribeExecution', 'states:StopExecution'],
        Effect: 'Allow',
        Resource: expect.stringMatching(new RegExp(`:execution:${STATE_MACHINE_NAME}/\\*$`)),
      },
    ]);
  });

  it('has the realtime path: S3 → SQS with a dead-letter queue and a visibility timeout above the function timeout', () => {
    const queues = Object.entries(template.findResources('AWS::SQS::Queue'));
    const main = queues.find(([id]) => id.startsWith('Objects') && !id.includes('Dead'))![1]
      .Properties as Json;
    expect(main.VisibilityTimeout).toBeGreaterThan(TIMEOUT_SECONDS);
    expect(flat(main.RedrivePolicy)).toEqual({
      deadLetterTargetArn: expect.stringMatching(/^GetAtt:ObjectsDeadLetters[0-9A-F]{8}\.Arn$/),
      maxReceiveCount: 5,
    });
    expect(only('AWS::Lambda::EventSourceMapping')).toMatchObject({
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: 30,
    });
    const notification = flat(only('Custom::S3BucketNotifications')) as Json;
    expect(notification).toMatchObject({
      BucketName: 'stash',
      NotificationConfiguration: {
        QueueConfigurations: [
          {
            Events: ['s3:ObjectCreated:*'],
            Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'firehose/' }] } },
          },
        ],
      },
    });
  });

  it('has a Standard state machine whose substituted definition asl-validator accepts', () => {
    const machine = only('AWS::StepFunctions::StateMachine');
    expect(machine.StateMachineType).toBe('STANDARD');
    expect(machine.StateMachineName).toBe(STATE_MACHINE_NAME);
    expect(flat(machine.DefinitionSubstitutions)).toEqual({
      FunctionArn: 'GetAtt:ConvertCF21FBC7.Arn',
      ResultBucket: 'flow-csv',
      MaxConcurrency: 'Ref:MaxConcurrency',
      ToleratedFailurePercentage: 'Ref:ToleratedFailurePercentage',
    });
    const parameters = template.toJSON().Parameters as Json;
    expect(parameters.MaxConcurrency).toMatchObject({ Type: 'Number', Default: 1000 });
    expect(parameters.ToleratedFailurePercentage).toMatchObject({ Type: 'Number', Default: 0 });
    // What CloudFormation does with DefinitionSubstitutions, with the parameters' defaults.
    const values: Record<string, string> = {
      FunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:flowhose',
      ResultBucket: 'flow-csv',
      MaxConcurrency: '1000',
      ToleratedFailurePercentage: '0',
    };
    const text = (machine.DefinitionString as string).replace(
      /\$\{(\w+)\}/g,
      (_m, name: string) => values[name]!,
    );
    const definition = JSON.parse(text) as Json;
    const { isValid, errors } = aslValidator(structuredClone(definition));
    expect(errors).toEqual([]);
    expect(isValid).toBe(true);
    // The same definition the semantics test replays (deploy/definition.ts), numbers as numbers.
    expect(definition).toEqual(
      backfillDefinition({
        functionArn: values.FunctionArn!,
        resultBucket: 'flow-csv',
        ...DEFAULT_BACKFILL,
      }),
    );
  });

  it('asl-validator is not vacuous: a Map without a way to end is refused', () => {
    const broken = structuredClone(
      backfillDefinition({
        functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:f',
        resultBucket: 'b',
        ...DEFAULT_BACKFILL,
      }),
    ) as unknown as { States: { ConvertPrefix: Json } };
    delete broken.States.ConvertPrefix.End;
    expect(aslValidator(broken).isValid).toBe(false);
  });
});
