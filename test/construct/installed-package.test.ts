import { execFile } from 'node:child_process';
import { existsSync, lstatSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installPackedApp } from '../packaging';

/**
 * The construct as another CDK app gets it: `npm pack` (which compiles lib/ and builds the function's bundle), the
 * tarball installed into a fresh app, construct/README.md's snippet type-checked with the tsconfig `tsc --init`
 * writes, run from plain Node to synthesize, and cdk-nag's AwsSolutions checks run over it. No tsx, no esbuild, no
 * file of this repository but the tarball.
 *
 * Offline: the app's lockfile holds the package, its own dependencies, its peers aws-cdk-lib and constructs, and
 * cdk-nag, at the versions this repository locks (so `npm ci --offline` installs from the npm cache this repository's
 * `npm ci` filled, and checks the package's ranges). Installed, not linked to this repository's copies, so the app
 * resolves everything from its own node_modules as a new app does. This repository pins the newest aws-cdk-lib, which
 * is what `npm install aws-cdk-lib` gives a new app: its newest runtimes are what cdk-nag's AwsSolutions-L1 compares
 * the function's with.
 */
const root = join(__dirname, '..', '..');
const constructDir = join(root, 'construct');
const run = promisify(execFile);
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
/** What the app installs beside the package, as the README's `npm install` line does. */
const APP_DEPENDENCIES = ['aws-cdk-lib', 'constructs', 'cdk-nag'];

let scratch: string;
let app: string;
let synthesized: { stdout: string; stderr: string };
let outdir: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'construct-package-'));
  app = join(scratch, 'app');
  outdir = join(app, 'cdk.out');
  await mkdir(app);

  const { packages } = JSON.parse(await readFile(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version: string }> };
  const otherDependencies = Object.fromEntries(APP_DEPENDENCIES.map((name) => [name, packages[`node_modules/${name}`]!.version]));
  await installPackedApp({ packageDir: constructDir, app, scratch, appName: 'platform-app', otherDependencies });

  // The package README's snippet as written, then the checks an app's test would add: cdk-nag v3 over the app, and synth.
  const readme = await readFile(join(constructDir, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Use'));
  const snippet = [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] ?? '')[0];
  if (!snippet) throw new Error('construct/README.md has no TypeScript snippet under "Use"');
  const checked = `${snippet}
import { AwsSolutionsChecks } from 'cdk-nag';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { ContactTransferGateway as InstalledGateway } from '@contact-transfer-gateway/construct';
const installed = app.node.findAll().find((construct): construct is InstalledGateway => construct instanceof InstalledGateway);
const forCallers = installed && { apiEndpoint: installed.apiEndpoint, transferInvokeArn: installed.transferInvokeArn, historyInvokeArn: installed.historyInvokeArn, scheduleInvokeArns: installed.scheduleInvokeArns };
const assembly = app.synth();
const report = new AwsSolutionsChecks().validateScope(app);
// The same check over a queue it must flag, so an empty report above means clean, not unchecked.
const probe = new Stack(new App({ outdir: 'nag-probe.out' }), 'NagProbe');
new Queue(probe, 'Plain', { encryption: QueueEncryption.UNENCRYPTED });
console.log(JSON.stringify({
  violations: report.violations.map((violation) => \`\${violation.ruleName} at \${violation.violatingResources.map((resource) => resource.constructPath).join(', ')}\`),
  probe: new AwsSolutionsChecks().validateScope(probe).violations.map((violation) => violation.ruleName),
  stacks: assembly.stacks.map((stack) => stack.stackName),
  forCallers: installed && Stack.of(installed).resolve(forCallers),
}));
`;
  await run(process.execPath, [tsc, '--init'], { cwd: app });
  await writeFile(join(app, 'app.mts'), checked);
  const compiled = await run(process.execPath, [tsc, '-p', '.'], { cwd: app }).catch((error: { stdout: string }) => error);
  if (compiled.stdout !== '') throw new Error(`tsc refused the README's snippet:\n${compiled.stdout}`);
  synthesized = await run(process.execPath, ['app.mjs'], { cwd: app, env: { ...process.env, CDK_OUTDIR: outdir } });
  // npm pack builds (tsc and esbuild), npm ci unpacks aws-cdk-lib, tsc checks the app against its declarations: about
  // a minute on an idle 2-core machine, over three with others' suites running beside it.
}, 300_000);

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('the packed construct, installed into another CDK app', () => {
  it('ships JavaScript, declarations and the prebuilt function bundle, and brings neither a compiler nor a bundler', async () => {
    const installed = join(app, 'node_modules', '@contact-transfer-gateway', 'construct');
    expect(existsSync(join(installed, 'dist', 'lib', 'index.js'))).toBe(true);
    expect(existsSync(join(installed, 'dist', 'lib', 'index.d.ts'))).toBe(true);
    expect(existsSync(join(installed, 'dist', 'gateway-function-bundle', 'index.js'))).toBe(true);
    expect(existsSync(join(installed, 'lib'))).toBe(false);
    for (const tool of ['tsx', 'esbuild', 'typescript']) expect(existsSync(join(app, 'node_modules', tool)), tool).toBe(false);
    // The app's own aws-cdk-lib, installed in it: what the construct resolves, not this repository's copy.
    expect(lstatSync(join(app, 'node_modules', 'aws-cdk-lib')).isDirectory()).toBe(true);
  });

  it('synthesizes the package README\'s snippet with the prebuilt bundle as the function code', async () => {
    const { stacks } = JSON.parse(synthesized.stdout) as { stacks: string[] };
    expect(stacks).toEqual(['ContactCenterPlatform']);
    // No bundling ran: the synth printed nothing of esbuild's or CDK's bundling.
    expect(synthesized.stderr).not.toMatch(/Bundling|esbuild/);
    const template = JSON.parse(await readFile(join(outdir, 'ContactCenterPlatform.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
      Outputs: Record<string, unknown>;
    };
    const functions = Object.values(template.Resources).filter((resource) => resource.Type === 'AWS::Lambda::Function');
    const gateway = functions.filter((fn) => JSON.stringify(fn.Properties.Environment).includes('CONNECT_INSTANCE_ARN'));
    // The service function and the direct-invocation function, from one bundle.
    expect(gateway.map((fn) => fn.Properties.Handler).sort()).toEqual(['index.handler', 'index.invoke']);
    expect(gateway[0]?.Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      MemorySize: 512,
      Environment: { Variables: expect.objectContaining({ EVENT_SOURCES: 'crm.escalations', MAX_TRANSFERS: '11' }) as unknown },
    });
    // The outputs the snippet adds for callers.
    expect(Object.keys(template.Outputs)).toEqual(['TransferGatewayEndpoint', 'TransferInvokeArn', 'HistoryInvokeArn', 'ScheduleCreateInvokeArn']);
    const logGroups = Object.values(template.Resources).filter((resource) => resource.Type === 'AWS::Logs::LogGroup');
    // The service function's, the direct-invocation function's and the API's access log.
    expect(logGroups.map((group) => group.Properties.RetentionInDays)).toEqual([90, 90, 90]);
    // The staged asset is the package's bundle, byte for byte.
    const assets = (await readdir(outdir)).filter((entry) => entry.startsWith('asset.'));
    const bundled = await readFile(join(app, 'node_modules', '@contact-transfer-gateway', 'construct', 'dist', 'gateway-function-bundle', 'index.js'), 'utf8');
    const staged = await Promise.all(assets.map((asset) => readFile(join(outdir, asset, 'index.js'), 'utf8').catch(() => '')));
    expect(staged).toContain(bundled);
  });

  it('gives the app what a caller needs as properties: the endpoint and the invoke ARNs of every method', () => {
    const { forCallers } = JSON.parse(synthesized.stdout) as { forCallers: Record<string, unknown> };
    const text = (value: unknown) => JSON.stringify(value);
    expect(text(forCallers.apiEndpoint)).toMatch(/"https:\/\/",\{"Ref":"TransferGatewayApi[0-9A-F]+"\},"\.execute-api\.eu-west-2\.".*"Ref":"TransferGatewayApiDeploymentStageprod/);
    // The stage by reference, so the ARN exists once the stage does.
    expect(text(forCallers.transferInvokeArn)).toMatch(/:execute-api:eu-west-2:111122223333:".*"Ref":"TransferGatewayApiDeploymentStageprod[0-9A-F]+"\},"\/POST\/contact\/transfer"/);
    expect(text(forCallers.historyInvokeArn)).toMatch(/:execute-api:eu-west-2:111122223333:".*"Ref":"TransferGatewayApiDeploymentStageprod[0-9A-F]+"\},"\/GET\/contact\/transfers\/\*"/);
    const schedules = forCallers.scheduleInvokeArns as { create: unknown; read: unknown[]; cancel: unknown };
    expect(text(schedules.create)).toMatch(/"\/POST\/contact\/transfer\/schedules"\]\]\}$/);
    expect(schedules.read.map(text)).toEqual([expect.stringMatching(/"\/GET\/contact\/transfer\/schedules"\]\]\}$/), expect.stringMatching(/"\/GET\/contact\/transfer\/schedules\/\*"\]\]\}$/)]);
    expect(text(schedules.cancel)).toMatch(/"\/DELETE\/contact\/transfer\/schedules\/\*"\]\]\}$/);
  });

  it('is clean under cdk-nag AwsSolutions (v3 validateScope) in that app, where the same check does flag an unencrypted queue', () => {
    const { violations, probe } = JSON.parse(synthesized.stdout) as { violations: string[]; probe: string[] };
    expect(violations).toEqual([]);
    expect(probe).toEqual(expect.arrayContaining(['AwsSolutions-SQS2', 'AwsSolutions-SQS4']));
  });
});
