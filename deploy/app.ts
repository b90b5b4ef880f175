/**
 * `npm run deploy:synth`: bundles the function (deploy/bundle.ts) and synthesises the CloudFormation template
 * into deploy/cdk.out/, offline (no AWS account, no Docker). Settings come from CDK context:
 *
 *   npm run deploy:synth -- -c sourceBucket=stash -c sourcePrefix=firehose/ -c destination=s3://flow-csv/ -c realtime=true
 *   npx aws-cdk@2 deploy --app deploy/cdk.out --parameters MaxConcurrency=500
 */
import { fileURLToPath } from 'node:url';
import { App, aws_lambda as lambda } from 'aws-cdk-lib';
import { bundleFunction, HANDLER } from './bundle.js';
import { FlowhoseStack } from './stack.js';

const root = fileURLToPath(new URL('../..', import.meta.url)); // deploy/dist/app.js → the repository
const context: Record<string, string> = {};
for (let i = 2; i < process.argv.length; i++) {
  const match = process.argv[i] === '-c' ? /^([^=]+)=(.*)$/.exec(process.argv[++i] ?? '') : null;
  if (match) context[match[1]!] = match[2]!;
}

const app = new App({ outdir: `${root}deploy/cdk.out`, context });
const get = (key: string, fallback: string) =>
  (app.node.tryGetContext(key) as string | undefined) ?? fallback;
const bundle = bundleFunction(root, `${root}deploy/.bundle`);
new FlowhoseStack(app, 'Flowhose', {
  code: lambda.Code.fromAsset(bundle),
  handler: HANDLER,
  sourceBucket: get('sourceBucket', 'example-firehose-bucket'),
  sourcePrefix: get('sourcePrefix', ''),
  destination: get('destination', 's3://example-flow-csv/'),
  realtime: get('realtime', 'false') === 'true',
});
const assembly = app.synth();
process.stdout.write(
  `synthesised ${assembly.stacks.map((s) => s.templateFile).join(', ')} in ${assembly.directory}\n`,
);
