import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, HELP, main } from '../../client/cli';
import type { CliIo } from '../../client/cli';
import { startLocalGateway } from '../../local/local-gateway';
import type { LocalGateway } from '../../local/local-gateway';
import type { ConnectSimulator } from '../../simulator/connect-simulator';
import { connectFixtures } from '../support/fixtures';

const credentials = { accessKeyId: 'AKIDCLITEST', secretAccessKey: 'cli-test-secret' };
const root = join(__dirname, '..', '..');

let local: LocalGateway;
let connect: ConnectSimulator;
let fx: ReturnType<typeof connectFixtures>;
let scratch: string;

beforeAll(async () => {
  local = await startLocalGateway({ port: 0 });
  connect = local.connect!;
  fx = connectFixtures(connect);
  scratch = await mkdtemp(join(tmpdir(), 'transfer-contact-cli-'));
});
afterAll(async () => {
  await local?.close();
  await rm(scratch, { recursive: true, force: true });
});

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  json(): Record<string, unknown>;
  error(): Record<string, unknown>;
}

async function cli(args: readonly string[], env: NodeJS.ProcessEnv = {}, io: Partial<CliIo> = { credentials }): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    env: { AWS_REGION: 'eu-west-2', TRANSFER_GATEWAY_ENDPOINT: local.url, ...env },
    ...io,
  });
  return {
    code,
    stdout,
    stderr,
    json: () => JSON.parse(stdout) as Record<string, unknown>,
    error: () => JSON.parse(stderr) as Record<string, unknown>,
  };
}

const transferredFrom = (contactId: string) => connect.contact(contactId)?.DisconnectTimestamp !== undefined;

describe('transfer-contact', () => {
  it('sends --note and a flag per condition; a condition that does not hold is the typed 409 on stderr, exit 3', async () => {
    const taken = connect.addContact({ Id: `cli-${Date.now()}`, Channel: 'TASK', QueueId: fx.queues.enabled, EnqueueTimestamp: new Date(Date.now() - 600_000).toISOString() }).Id;
    connect.assignAgent(taken, fx.users.agent);
    const flags = ['--contact-flow-id', fx.flows.inbound, '--note', 'waited 10 min', '--in-queue', fx.queues.enabled, '--not-with-agent', '--queued-for-seconds', '300'];
    const refused = await cli(['--contact-id', taken, ...flags]);
    expect(refused.code).toBe(EXIT.CLIENT_ERROR);
    expect(refused.error()).toMatchObject({ Type: 'ConditionalOperationFailedException', ReasonCode: 'CONDITION_NOT_MET', Status: 409, Retryable: false });
    expect(transferredFrom(taken)).toBe(false);

    connect.assignAgent(taken, undefined);
    const run = await cli(['--contact-id', taken, ...flags, '--client-token', `cli-${Date.now()}`]);
    expect(run.code).toBe(EXIT.OK);
    expect(connect.calls('TransferContact').at(-1)?.input.ContactId).toBe(taken);
  });

  it('takes Note and Conditions from --cli-input-json, skeleton placeholders meaning "not asked for"', async () => {
    const contactId = fx.contact();
    const input = { ContactId: contactId, ContactFlowId: fx.flows.inbound, Note: 'from json', Conditions: { InQueue: '', NotWithAgent: true, QueuedForSeconds: 0 } };
    const run = await cli(['--cli-input-json', JSON.stringify(input)]);
    expect(run.code).toBe(EXIT.OK);
    expect(transferredFrom(contactId)).toBe(true);
  });

  it.each([
    [['--queued-for-seconds', 'soon'], /--queued-for-seconds' needs a whole number/],
    [['--cli-input-json', '{"Conditions":{"InQueu":"q"}}'], /unknown parameter 'Conditions.InQueu'/],
  ])('refuses %j as a usage error', async (args, message) => {
    const run = await cli(['--contact-id', 'c', '--contact-flow-id', 'f', ...args]);
    expect(run.code).toBe(EXIT.USAGE);
    expect(run.stderr).toMatch(message);
  });

  it('transfers with AWS CLI-style flags and prints the result as JSON', async () => {
    const contactId = fx.contact();
    const run = await cli(['--contact-id', contactId, '--contact-flow-id', fx.flows.inbound, '--queue-id', fx.queues.enabled, '--endpoint', local.url]);

    expect(run.code).toBe(EXIT.OK);
    expect(run.json()).toMatchObject({ ContactArn: expect.stringContaining('/contact/') as unknown, replayed: false });
    expect(run.stderr).toBe('transfer-contact: idempotency key: payload (ContactId, ContactFlowId, QueueId, UserId, Note, Conditions)\n');
    expect(transferredFrom(contactId)).toBe(true);
  });

  it('without --client-token, running the same command again is a replay, not a second transfer', async () => {
    const contactId = fx.contact();
    const args = ['--contact-id', contactId, '--contact-flow-id', fx.flows.inbound, '--queue-id', fx.queues.enabled];
    const first = await cli(args);
    const again = await cli(args);

    expect(again.code).toBe(EXIT.OK);
    expect(again.json()).toEqual({ ...first.json(), replayed: true });
    expect(again.stderr).toMatch(/idempotency key: payload .*\(replayed: no second transfer\)/);
    expect(connect.calls('TransferContact').filter((call) => call.input.ContactId === contactId && call.status === 200)).toHaveLength(1);
  });

  it('replays through --client-token', async () => {
    const args = ['--contact-id', fx.contact(), '--contact-flow-id', fx.flows.agentTransfer, '--user-id', fx.users.agent, '--client-token', 'cli-replay-1'];
    const first = await cli(args);
    const again = await cli(args);

    expect(again.code).toBe(EXIT.OK);
    expect(again.json()).toEqual({ ...first.json(), replayed: true });
    expect(first.stderr).toBe('transfer-contact: idempotency key: ClientToken cli-replay-1\n');
  });

  it('reads --cli-input-json inline or from file://, and flags override its members', async () => {
    const fromJson = fx.contact();
    const fromFlag = fx.contact();
    const input = { ContactId: fromJson, ContactFlowId: fx.flows.inbound, QueueId: fx.queues.disabled, UserId: '' };
    const file = join(scratch, 'input.json');
    await writeFile(file, JSON.stringify(input));

    const rejected = await cli(['--cli-input-json', JSON.stringify(input)]);
    expect(rejected.code).toBe(EXIT.CLIENT_ERROR);
    expect(rejected.error()).toMatchObject({ ReasonCode: 'QUEUE_DISABLED' });

    const overridden = await cli(['--cli-input-json', `file://${file}`, '--contact-id', fromFlag, '--queue-id', fx.queues.enabled]);
    expect(overridden.code).toBe(EXIT.OK);
    expect(transferredFrom(fromFlag)).toBe(true);
    expect(transferredFrom(fromJson)).toBe(false);
  });

  it('prints a rule rejection as the error JSON on stderr and exits with the client-error code', async () => {
    const run = await cli(['--contact-id', fx.contact('VOICE'), '--contact-flow-id', fx.flows.inbound, '--queue-id', fx.queues.enabled]);

    expect(run.code).toBe(EXIT.CLIENT_ERROR);
    expect(run.stdout).toBe('');
    expect(run.error()).toMatchObject({ Type: 'InvalidRequestException', ReasonCode: 'CHANNEL_NOT_SUPPORTED', Status: 400, Retryable: false });
    expect(run.error().RequestId).toBeTruthy();
    expect(run.error().Message).toEqual(expect.any(String));
    expect(run.error().IdempotencyKey).toBe('payload (ContactId, ContactFlowId, QueueId, UserId, Note, Conditions)');
  });

  it('exits with the throttling code when Connect keeps throttling, and the server-error code when it keeps failing', async () => {
    // One CLI attempt; the Lambda's SDK makes 3 attempts at Connect within it.
    connect.failNext('TransferContact', 3, 'throttle');
    const throttled = await cli(['--contact-id', fx.contact(), '--contact-flow-id', fx.flows.inbound, '--queue-id', fx.queues.enabled], { AWS_MAX_ATTEMPTS: '1' });
    expect(throttled.code).toBe(EXIT.THROTTLED);
    expect(throttled.error()).toMatchObject({ ReasonCode: 'THROTTLED', Status: 429, Retryable: true });

    connect.failNext('TransferContact', 3, 'internal');
    const failed = await cli(['--contact-id', fx.contact(), '--contact-flow-id', fx.flows.inbound, '--queue-id', fx.queues.enabled], { AWS_MAX_ATTEMPTS: '1' });
    expect(failed.code).toBe(EXIT.SERVER_ERROR);
    expect(failed.error()).toMatchObject({ ReasonCode: 'UPSTREAM_FAILURE', Status: 500 });
  });

  it('generates an input skeleton that --cli-input-json accepts once filled in, and an output skeleton', async () => {
    const input = await cli(['--generate-cli-skeleton']);
    expect(input.code).toBe(EXIT.OK);
    const skeleton = input.json();
    expect(Object.keys(skeleton).sort()).toEqual(['ClientToken', 'Conditions', 'ContactFlowId', 'ContactId', 'InstanceId', 'Note', 'QueueId', 'UserId']);

    const contactId = fx.contact('EMAIL');
    const filled = { ...skeleton, ContactId: contactId, ContactFlowId: fx.flows.queueTransfer, QueueId: fx.queues.enabled };
    const run = await cli(['--cli-input-json', JSON.stringify(filled)]);
    expect(run.code).toBe(EXIT.OK);
    expect(transferredFrom(contactId)).toBe(true);

    const output = await cli(['--generate-cli-skeleton', 'output']);
    expect(Object.keys(output.json()).sort()).toEqual(['ContactArn', 'ContactId', 'replayed']);
  });

  it.each([
    [['--contact-id', 'c', '--contact-flow-id', 'f', '--queue', 'q'], /unknown option '--queue'; did you mean '--queue-id'\?/],
    [['--contact-id', 'c', '--contact-flow-id', 'f', '--ttl', '5'], /unknown option '--ttl'/],
    [['--contact-id'], /option '--contact-id' needs a value/],
    [['--contact-flow-id', 'f'], /missing required --contact-id/],
    [['--contact-id', 'c', '--contact-flow-id', 'f', 'extra'], /unexpected argument 'extra'/],
    [['--cli-input-json', '{"ContactId": "c", "ContactFlowID": "f"}'], /unknown parameter 'ContactFlowID'/],
    [['--cli-input-json', '{not json'], /--cli-input-json is not valid JSON/],
    [['--cli-input-json', 'file:///no/such/input.json'], /cannot read '\/no\/such\/input.json'/],
    [['--generate-cli-skeleton', 'yaml'], /takes 'input' or 'output'/],
  ])('rejects %j as a usage error with a clear message', async (args, message) => {
    const before = connect.callCount();
    const run = await cli(args);

    expect(run.code).toBe(EXIT.USAGE);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toContain('--help');
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(connect.callCount()).toBe(before);
  });

  it('asks for an endpoint and a Region when it has neither', async () => {
    const args = ['--contact-id', 'c', '--contact-flow-id', 'f'];
    expect((await cli(args, { TRANSFER_GATEWAY_ENDPOINT: '' })).stderr).toMatch(/no endpoint/);
    const noRegion = await cli([...args, '--endpoint', 'https://gateway.example.com/prod'], { AWS_REGION: '' });
    expect(noRegion.code).toBe(EXIT.USAGE);
    expect(noRegion.stderr).toMatch(/--region/);
  });

  it('against local mode needs no Region and no credentials', async () => {
    const contactId = fx.contact();
    const run = await cli(['--contact-id', contactId, '--contact-flow-id', fx.flows.inbound, '--queue-id', fx.queues.enabled], { AWS_REGION: '' }, {});
    expect(run.code).toBe(EXIT.OK);
    expect(run.json()).toMatchObject({ replayed: false });
    expect(transferredFrom(contactId)).toBe(true);
  });

  it('signs for the Region an execute-api endpoint names, over the shell\'s AWS_REGION; --region over both', async () => {
    const scopes: string[] = [];
    const deployed: typeof fetch = async (_input, init) => {
      scopes.push(/Credential=[^/]+\/\d{8}\/([a-z0-9-]+)\//.exec(new Headers(init?.headers).get('authorization') ?? '')?.[1] ?? 'unsigned');
      return Response.json({ ContactId: 'c-new', ContactArn: 'arn:aws:connect:ap-southeast-2:111122223333:instance/i/contact/c-new' });
    };
    const args = ['--contact-id', 'c', '--contact-flow-id', 'f', '--queue-id', 'q', '--endpoint', 'https://a1b2c3d4e5.execute-api.ap-southeast-2.amazonaws.com/prod'];
    expect((await cli(args, { AWS_REGION: 'eu-west-2' }, { credentials, fetch: deployed })).code).toBe(EXIT.OK);
    expect((await cli([...args, '--region', 'us-west-2'], { AWS_REGION: 'eu-west-2' }, { credentials, fetch: deployed })).code).toBe(EXIT.OK);
    expect(scopes).toEqual(['ap-southeast-2', 'us-west-2']);
  });

  it('--help explains every flag', async () => {
    const run = await cli(['--help']);
    expect(run.code).toBe(EXIT.OK);
    const flags = ['--contact-id', '--contact-flow-id', '--queue-id', '--user-id', '--instance-id', '--client-token', '--cli-input-json', '--generate-cli-skeleton', '--endpoint', '--region', '--profile', '--help'];
    for (const flag of flags) expect(run.stdout).toMatch(new RegExp(`^\\s+(-h, )?${flag} .*\\S`, 'm'));
    expect(run.stdout).toBe(HELP);
  });
});

describe('the transfer-contact command', () => {
  it('runs as an executable against local mode from a shell with no AWS configuration', async () => {
    const contactId = fx.contact();
    const unconfigured = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_')));
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'client/bin.ts', '--contact-id', contactId, '--contact-flow-id', fx.flows.inbound, '--queue-id', fx.queues.enabled],
      { cwd: root, env: { ...unconfigured, TRANSFER_GATEWAY_ENDPOINT: local.url } },
    );
    expect(JSON.parse(stdout)).toMatchObject({ replayed: false });
    expect(transferredFrom(contactId)).toBe(true);
  });

  it('exits with the usage code on an unknown flag', async () => {
    const failure = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'client/bin.ts', '--bogus'], { cwd: root }).catch(
      (error: unknown) => error as { code: number; stderr: string },
    );
    expect(failure).toMatchObject({ code: EXIT.USAGE, stderr: expect.stringContaining("unknown option '--bogus'") as unknown });
  });
});
