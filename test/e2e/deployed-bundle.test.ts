import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { synthesizeDeployedFunction } from '../support/deployed-artifact';
import type { DeployedFunction } from '../support/deployed-artifact';
import { ENV } from '../../lambda/config';
import { LOCAL_API, LOCAL_API_ENVIRONMENT } from '../../local/lambda-events';
import { connectFixtures } from '../support/fixtures';
import { buildFunctionRunner, startFunctionProcess } from '../support/function-process';
import type { FunctionProcess } from '../support/function-process';
import { asHttp, httpEvent } from '../support/gateway-harness';
import type { GatewayHarness } from '../support/gateway-harness';
import { asScheduleAnswer, bufferRecord, scheduleEvent, startScheduleHarness } from '../support/schedules';
import type { ScheduleHarness } from '../support/schedules';

/**
 * The artifact `cdk deploy` uploads, loaded from the cloud assembly in a process of its own with the environment the
 * template gives the function, as Lambda runs it: proves its format, its bundled dependencies and its configuration,
 * not only our sources.
 */
let setup: ScheduleHarness;
let harness: GatewayHarness;
let artifact: DeployedFunction;
let deployed: FunctionProcess;
let runnerDir: string;
let fx: ReturnType<typeof connectFixtures>;

beforeAll(async () => {
  // With scheduled transfers configured: the harness's environment names their table, group, role and queues, and the
  // local scheduler model stands in for EventBridge Scheduler.
  setup = await startScheduleHarness();
  harness = setup.harness;
  artifact = synthesizeDeployedFunction(harness.connect.instanceArn);
  // Table names and the REST API's id are CloudFormation references in the template; locally they name the harness's
  // tables and the API the event builders stand in for (its stage too). Every reference must be one named here.
  const localNames: Record<string, string> = {
    IDEMPOTENCY_TABLE_NAME: harness.config.idempotencyTable,
    LEDGER_TABLE_NAME: harness.config.ledgerTable,
    [ENV.apiId]: LOCAL_API.id,
    [ENV.schedulesTable]: harness.config.schedules?.table ?? '',
  };
  expect(Object.keys(artifact.references).filter((name) => !(name in localNames))).toEqual([]);
  const references = Object.fromEntries(Object.keys(artifact.references).map((name) => [name, localNames[name] ?? '']));
  const { POWERTOOLS_LOG_LEVEL: _keepQuiet, ...fromTemplate } = artifact.environment;
  const [file, exported] = artifact.handler.split('.');
  expect(file).toBe('index');
  runnerDir = mkdtempSync(join(tmpdir(), 'deployed-bundle-'));
  // The harness's environment supplies what Lambda and the rest of the stack would: Region, credentials, endpoints.
  deployed = await startFunctionProcess(await buildFunctionRunner(runnerDir), artifact.entry, { ...harness.env, ...fromTemplate, ...references, ...LOCAL_API_ENVIRONMENT }, exported);
  fx = connectFixtures(harness.connect);
}, 120_000);

afterAll(async () => {
  await deployed?.kill();
  artifact?.cleanup();
  if (runnerDir) rmSync(runnerDir, { recursive: true, force: true });
  await setup?.close();
});

async function post(body: unknown, headers?: Record<string, string>) {
  const outcome = await deployed.invoke(httpEvent(body, headers), 10_000);
  if (outcome.error) throw new Error(`the function failed: ${outcome.error.name}: ${outcome.error.message}`);
  return asHttp(outcome.result);
}
const transfers = () => harness.connect.callCount('TransferContact');

describe('the deployable bundle', () => {
  it('exports the handler the template names (the function process starts only then)', () => {
    expect(deployed).toBeDefined();
    expect(artifact.bytes).toBeGreaterThan(0);
  });

  it('stays within its size budget of 440 KiB: what it bundles grew unnoticed, or a plugin stopped paying', () => {
    // About 422 KiB with the Connect, DynamoDB, SQS and Scheduler clients; without the pure schema keys about 600 KiB,
    // without either of the other two plugins over 440. A plugin that matches nothing fails the build itself.
    expect(artifact.bytes).toBeLessThanOrEqual(440 * 1024);
  });

  it('exports the direct-invocation handler too, which takes the payload as the request (contract section 3.3)', async () => {
    const direct = await startFunctionProcess(await buildFunctionRunner(runnerDir), artifact.entry, { ...harness.env, ...artifact.environment, IDEMPOTENCY_TABLE_NAME: harness.config.idempotencyTable, LEDGER_TABLE_NAME: harness.config.ledgerTable }, 'invoke');
    try {
      const before = transfers();
      const outcome = await direct.invoke({ ContactId: fx.contact(), ContactFlowId: fx.flows.inbound, QueueId: fx.queues.enabled }, 10_000);
      expect(outcome.result).toMatchObject({ ContactId: expect.any(String), ContactArn: expect.any(String) });
      const forged = await direct.invoke(httpEvent({ ContactId: fx.contact(), ContactFlowId: fx.flows.inbound }), 10_000);
      expect(forged.error).toMatchObject({ name: 'InvalidRequestException', message: expect.stringMatching(/^VALIDATION_FAILED/) });
      expect(transfers()).toBe(before + 1);
    } finally {
      await direct.kill();
    }
  });

  it('carries the five Connect operations and the two Scheduler operations the gateway calls and none of the others (npm run bench: size)', () => {
    const bindings = readFileSync(artifact.entry, 'utf8').matchAll(/http:\["(GET|POST|PUT|DELETE|PATCH)","([^"]+)",\d+\]/g);
    expect([...bindings].map(([, method, path]) => `${method} ${path}`).sort()).toEqual([
      'GET /contact-flows/{InstanceId}/{ContactFlowId}', // DescribeContactFlow
      'GET /contacts/{InstanceId}/{ContactId}', // DescribeContact
      'GET /queues/{InstanceId}/{QueueId}', // DescribeQueue
      'GET /users/{InstanceId}/{UserId}', // DescribeUser
      'POST /contact/transfer', // TransferContact
      'POST /schedules/{Name}', // Scheduler's CreateSchedule
      'DELETE /schedules/{Name}', // Scheduler's DeleteSchedule
    ].sort());
  });

  it('transfers, then replays the same request without a second transfer', async () => {
    const request = { ContactId: fx.contact(), ContactFlowId: fx.flows.inbound, QueueId: fx.queues.enabled };
    const first = await post(request, { 'Idempotency-Key': 'bundle-1' });
    expect(first.status).toBe(200);
    const before = transfers();
    const replay = await post(request, { 'Idempotency-Key': 'bundle-1' });
    expect(replay.body).toEqual(first.body);
    expect(replay.headers['Idempotent-Replayed']).toBe('true');
    expect(transfers()).toBe(before);
  });

  // The bundle reads the key and the payload through its member-only JMESPath (lib/gateway-bundle.ts): a key reused
  // with another request must still be found and its payload told apart.
  it('refuses the same key with another request, without a second transfer', async () => {
    const request = { ContactId: fx.contact(), ContactFlowId: fx.flows.inbound, QueueId: fx.queues.enabled };
    expect((await post(request, { 'Idempotency-Key': 'bundle-2' })).status).toBe(200);
    const before = transfers();
    const reused = await post({ ...request, QueueId: undefined }, { 'Idempotency-Key': 'bundle-2' });
    expect(reused.status).toBe(409);
    expect(reused.body).toMatchObject({ Type: 'IdempotencyException', ReasonCode: 'CLIENT_TOKEN_REUSED' });
    expect(transfers()).toBe(before);
  });

  it('rejects by the rules with the contract error', async () => {
    const answer = await post({ ContactId: fx.contact('VOICE'), ContactFlowId: fx.flows.inbound });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ Type: 'InvalidRequestException', ReasonCode: 'CHANNEL_NOT_SUPPORTED' });
  });

  it('fails closed when DynamoDB is unreachable', async () => {
    const before = transfers();
    harness.dynamodb.failNext('*', 1000, 'unreachable');
    const answer = await post({ ContactId: fx.contact(), ContactFlowId: fx.flows.inbound });
    harness.dynamodb.clearFaults();
    expect(answer.status).toBe(500);
    expect(answer.body.ReasonCode).toBe('INTERNAL_ERROR');
    expect(transfers()).toBe(before);
  });

  it('schedules a transfer, and transfers it when it fires, through the bundled Scheduler client', async () => {
    const invoke = async (event: unknown) => {
      const outcome = await deployed.invoke(event, 10_000);
      if (outcome.error) throw new Error(`the function failed: ${outcome.error.name}: ${outcome.error.message}`);
      return outcome.result;
    };
    const created = asScheduleAnswer(await invoke(scheduleEvent('POST', { body: { ContactId: fx.contact(), ContactFlowId: fx.flows.inbound, QueueId: fx.queues.enabled, AfterSeconds: 60 } })));
    expect(created.status).toBe(201);
    const scheduleId = created.body.ScheduleId as string;
    const waiting = setup.scheduler.list().find((schedule) => schedule.name.startsWith(`${scheduleId}-`));
    expect(waiting).toBeDefined();
    const before = transfers();
    await invoke(bufferRecord(waiting?.input ?? ''));
    expect(transfers()).toBe(before + 1);
    expect(asScheduleAnswer(await invoke(scheduleEvent('GET', { scheduleId }))).body).toMatchObject({ State: 'FIRED', Outcome: { Result: 'TRANSFERRED' } });
  });
});
