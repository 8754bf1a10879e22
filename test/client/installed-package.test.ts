import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalGateway } from '../../local/local-gateway';
import type { LocalGateway } from '../../local/local-gateway';
import { loadSeed } from '../../simulator/seed';
import { installPackedApp, npm } from '../packaging';

/**
 * The client as an app gets it: `npm pack` (which builds it), the tarball installed into a fresh project next to
 * the SDK package the app already has, then loaded from plain Node with `require` and with `import`, compiled by
 * `tsc` with the tsconfig `tsc --init` writes, and the README's snippet run as written. No tsx, no esbuild.
 *
 * Offline and quick: the project's lockfile is written from this repository's own lockfile (the client's
 * dependency closure at the versions tested here), so `npm ci --offline` installs from the npm cache that this
 * repository's `npm ci` filled. `npm ci` refuses a lockfile whose versions the package's ranges do not admit, so
 * it checks the ranges too.
 */
const root = join(__dirname, '..', '..');
const clientDir = join(root, 'client');
const run = promisify(execFile);
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const PLACEHOLDER_ENDPOINT = 'https://abc123.execute-api.us-east-1.amazonaws.com/prod';
const credentials = { AWS_ACCESS_KEY_ID: 'AKIDAPP', AWS_SECRET_ACCESS_KEY: 'app-secret', AWS_REGION: 'us-east-1' };

let local: LocalGateway;
let scratch: string;
let app: string;
let clientVersion: string;

beforeAll(async () => {
  local = await startLocalGateway({ port: 0, seed: loadSeed() });
  scratch = await mkdtemp(join(tmpdir(), 'client-package-'));
  app = join(scratch, 'app');
  await mkdir(app);

  const rootPackage = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  // The app already uses the AWS SDK's signer, at the version this repository pins.
  clientVersion = await installPackedApp({
    packageDir: clientDir,
    app,
    scratch,
    appName: 'consumer-app',
    otherDependencies: { '@smithy/signature-v4': rootPackage.dependencies['@smithy/signature-v4']! },
  });
}, 120_000);

afterAll(async () => {
  await local?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

const node = (args: string[]) => run(process.execPath, args, { cwd: app, env: { ...process.env, ...credentials } });

describe('the packed client, installed into an app', () => {
  it('installs without a compiler or bundler, and shares the signer the app already has', async () => {
    expect(existsSync(join(app, 'node_modules', '@contact-transfer-gateway', 'client', 'dist', 'index.js'))).toBe(true);
    expect(existsSync(join(app, 'node_modules', '@contact-transfer-gateway', 'client', 'index.ts'))).toBe(false);
    for (const tool of ['tsx', 'esbuild', 'typescript']) expect(existsSync(join(app, 'node_modules', tool)), tool).toBe(false);
    const { stdout } = await npm(['ls', '--all', '--parseable', '@smithy/signature-v4'], app);
    expect(stdout.trim().split('\n')).toEqual([join(app, 'node_modules', '@smithy', 'signature-v4')]);
  });

  it.each([
    ['require', 'require.cjs', `const { createTransferClient, TransferContactError } = require('@contact-transfer-gateway/client');`],
    ['import', 'import.mjs', `import { createTransferClient, TransferContactError } from '@contact-transfer-gateway/client';`],
  ])('loads with %s from plain Node, transfers, and throws its typed error', async (_system, file, load) => {
    const seed = loadSeed();
    const contact = file === 'require.cjs' ? 'a1000000-0000-4000-8000-000000000002' : 'a1000000-0000-4000-8000-000000000003';
    const ended = seed.contacts.find((candidate) => candidate.DisconnectTimestamp)!.Id;
    await writeFile(
      join(app, file),
      `${load}
const gateway = createTransferClient({ endpoint: ${JSON.stringify(local.url)}, region: 'us-east-1' });
const request = { ContactFlowId: 'f1000000-0000-4000-8000-000000000003', QueueId: 'q1000000-0000-4000-8000-000000000001' };
gateway.transferContact({ ...request, ContactId: ${JSON.stringify(contact)} })
  .then((result) => console.log(JSON.stringify(result)))
  .then(() => gateway.transferContact({ ...request, ContactId: ${JSON.stringify(ended)} }))
  .catch((error) => console.log(JSON.stringify({ typed: error instanceof TransferContactError, reason: error.reason })));
`,
    );
    const { stdout } = await node([file]);
    const [transferred, rejected] = stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(transferred).toMatchObject({ ContactArn: expect.stringContaining('/contact/') as unknown, replayed: false });
    expect(rejected).toEqual({ typed: true, reason: 'CONTACT_NOT_ACTIVE' });
    expect(local.connect?.contact(contact)?.DisconnectTimestamp).toBeDefined();
  });

  it("runs the README's snippet as written, type-checked by tsc --init's defaults, as an ES module and as CommonJS", async () => {
    const readme = await readFile(join(clientDir, 'README.md'), 'utf8');
    const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
    const snippet = blocks.find((block) => block.includes('createTransferClient({'));
    const commonJsImport = blocks.find((block) => block.includes('= require('));
    expect(snippet).toBeDefined();
    expect(commonJsImport).toBeDefined();
    expect(snippet).toContain(PLACEHOLDER_ENDPOINT);
    const esm = snippet!;
    const cjs = snippet!.replace(/^import \{[^}]+\} from '@contact-transfer-gateway\/client';\n/m, commonJsImport!);
    expect(cjs).not.toBe(esm);

    const project = join(app, 'snippet');
    await mkdir(project);
    await run(process.execPath, [tsc, '--init'], { cwd: project });
    await writeFile(join(project, 'escalate.mts'), esm);
    await writeFile(join(project, 'escalate-cjs.cts'), cjs);
    const compiled = await run(process.execPath, [tsc, '-p', '.'], { cwd: project }).catch((error: { stdout: string }) => error);
    expect(compiled.stdout).toBe('');

    // The compiled output, unchanged but for the endpoint: local mode instead of a deployed stage.
    const pointAtLocal = async (file: string): Promise<void> => {
      const code = await readFile(join(project, file), 'utf8');
      await writeFile(join(project, file), code.replace(PLACEHOLDER_ENDPOINT, local.url));
    };
    await pointAtLocal('escalate.mjs');
    await pointAtLocal('escalate-cjs.cjs');
    const first = await node([join(project, 'escalate.mjs')]);
    const again = await node([join(project, 'escalate-cjs.cjs')]);

    expect(first.stderr).toBe('');
    expect(first.stdout).toMatch(/^transferred\nnew contact: [0-9a-f-]{36}\n$/);
    // The same ClientToken: the CommonJS run is answered with the first run's transfer.
    expect(again.stdout).toBe(first.stdout.replace('transferred', 'transferred earlier by the same token'));
  });

  it('runs the transfer-contact and list-contact-transfers commands from the package, printing results on stdout', async () => {
    const { stdout, stderr } = await run(
      join(app, 'node_modules', '.bin', 'transfer-contact'),
      ['--endpoint', local.url, '--contact-id', 'a1000000-0000-4000-8000-000000000004', '--contact-flow-id', 'f1000000-0000-4000-8000-000000000003', '--queue-id', 'q1000000-0000-4000-8000-000000000001'],
      { cwd: app, env: { ...process.env, ...credentials } },
    );
    expect(JSON.parse(stdout)).toMatchObject({ replayed: false });
    expect(stderr).toContain('idempotency key: payload');
    const { stdout: help } = await run(join(app, 'node_modules', '.bin', 'transfer-contact'), ['--help'], { cwd: app });
    expect(help).toContain('--contact-id');
    const { stdout: history } = await run(join(app, 'node_modules', '.bin', 'list-contact-transfers'), ['--endpoint', local.url, '--contact-id', 'a1000000-0000-4000-8000-000000000004'], {
      cwd: app,
      env: { ...process.env, ...credentials },
    });
    expect(JSON.parse(history)).toMatchObject({ Transfers: [{ TransferNumber: 1, FromContactId: 'a1000000-0000-4000-8000-000000000004' }] });
    expect(clientVersion).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('runs the scheduled-transfer commands from the package: schedule, cancel what it printed, read it back', async () => {
    const bin = (command: string, args: string[]) => run(join(app, 'node_modules', '.bin', command), ['--endpoint', local.url, ...args], { cwd: app, env: { ...process.env, ...credentials } });
    const { stdout } = await bin('schedule-contact-transfer', [
      '--contact-id', 'a1000000-0000-4000-8000-000000000005', '--contact-flow-id', 'f1000000-0000-4000-8000-000000000003',
      '--queue-id', 'q1000000-0000-4000-8000-000000000001', '--after-seconds', '3600',
    ]);
    const scheduled = JSON.parse(stdout) as { ScheduleId: string; State: string };
    expect(scheduled).toMatchObject({ State: 'SCHEDULED', replayed: false });
    const cancelled = await bin('cancel-contact-transfer-schedule', ['--schedule-id', scheduled.ScheduleId]);
    expect(cancelled.stdout).toBe('');
    const { stdout: read } = await bin('get-contact-transfer-schedule', ['--schedule-id', scheduled.ScheduleId]);
    expect(JSON.parse(read)).toMatchObject({ ScheduleId: scheduled.ScheduleId, State: 'CANCELLED' });
  });
});
