import {
  AccessDeniedException,
  ConnectClient,
  ContactFlowNotPublishedException,
  DescribeContactCommand,
  DescribeContactFlowCommand,
  DescribeQueueCommand,
  DescribeUserCommand,
  IdempotencyException,
  InternalServiceException,
  InvalidRequestException,
  ResourceNotFoundException,
  ServiceQuotaExceededException,
  ThrottlingException,
  TransferContactCommand,
} from '@aws-sdk/client-connect';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ConnectAdapter, classifyConnectError } from '../../../lambda/adapters/connect';
import { parseInstanceArn } from '../../../lambda/domain/arn';
import type { ConnectInstance } from '../../../lambda/domain/arn';
import { TransferError } from '../../../lambda/domain/errors';
import { TransferNotSent } from '../../../lambda/ports';

const INSTANCE_ID = '11111111-1111-4111-8111-111111111111';
const INSTANCE_ARN = `arn:aws:connect:eu-west-1:123456789012:instance/${INSTANCE_ID}`;
const instance = parseInstanceArn(INSTANCE_ARN) as ConnectInstance;
const TTL = 60_000;

const client = new ConnectClient({ region: 'eu-west-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' } });
const connect = mockClient(client);

let clock = 1_000_000;
let onThrottle: ReturnType<typeof vi.fn<(operation: string) => void>>;
let adapter: ConnectAdapter;

beforeEach(() => {
  connect.reset();
  clock = 1_000_000;
  onThrottle = vi.fn<(operation: string) => void>();
  adapter = new ConnectAdapter(client, instance, { metadataCacheTtlMs: TTL, now: () => clock }, onThrottle);
});

const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });
const notFound = () => new ResourceNotFoundException({ message: 'not found', ...meta(404) });
const throttled = () => new ThrottlingException({ message: 'Rate exceeded', ...meta(429) });
const internal = () => new InternalServiceException({ message: 'boom', ...meta(500) });

async function failureOf(promise: Promise<unknown>): Promise<TransferError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(TransferError);
  return error as TransferError;
}

const flowOutput = { ContactFlow: { Id: 'f-1', Type: 'CONTACT_FLOW' as const, State: 'ACTIVE' as const, Status: 'PUBLISHED' as const } };
const queueOutput = { Queue: { QueueId: 'q-1', Status: 'ENABLED' as const } };
const userOutput = { User: { Id: 'u-1' } };

type Method = 'describeContact' | 'describeFlow' | 'describeQueue' | 'describeUser';

/** One Describe operation: how to make Connect answer it, and what the adapter sent. */
interface Operation {
  readonly method: Method;
  readonly name: string;
  fail(error: Error): void;
  succeed(): void;
  notFoundThenFound(): void;
  calls(): readonly unknown[];
}

const operations: Record<Method, Operation> = {
  describeContact: {
    method: 'describeContact',
    name: 'DescribeContact',
    fail: (error) => void connect.on(DescribeContactCommand).rejects(error),
    succeed: () => void connect.on(DescribeContactCommand).resolves({ Contact: { Id: 'x-1', Channel: 'TASK' } }),
    notFoundThenFound: () => void connect.on(DescribeContactCommand).rejectsOnce(notFound()).resolves({ Contact: { Id: 'x-1', Channel: 'TASK' } }),
    calls: () => connect.commandCalls(DescribeContactCommand).map((call) => call.args[0].input),
  },
  describeFlow: {
    method: 'describeFlow',
    name: 'DescribeContactFlow',
    fail: (error) => void connect.on(DescribeContactFlowCommand).rejects(error),
    succeed: () => void connect.on(DescribeContactFlowCommand).resolves(flowOutput),
    notFoundThenFound: () => void connect.on(DescribeContactFlowCommand).rejectsOnce(notFound()).resolves(flowOutput),
    calls: () => connect.commandCalls(DescribeContactFlowCommand).map((call) => call.args[0].input),
  },
  describeQueue: {
    method: 'describeQueue',
    name: 'DescribeQueue',
    fail: (error) => void connect.on(DescribeQueueCommand).rejects(error),
    succeed: () => void connect.on(DescribeQueueCommand).resolves(queueOutput),
    notFoundThenFound: () => void connect.on(DescribeQueueCommand).rejectsOnce(notFound()).resolves(queueOutput),
    calls: () => connect.commandCalls(DescribeQueueCommand).map((call) => call.args[0].input),
  },
  describeUser: {
    method: 'describeUser',
    name: 'DescribeUser',
    fail: (error) => void connect.on(DescribeUserCommand).rejects(error),
    succeed: () => void connect.on(DescribeUserCommand).resolves(userOutput),
    notFoundThenFound: () => void connect.on(DescribeUserCommand).rejectsOnce(notFound()).resolves(userOutput),
    calls: () => connect.commandCalls(DescribeUserCommand).map((call) => call.args[0].input),
  },
};
const metadata = [operations.describeFlow, operations.describeQueue, operations.describeUser];

describe('Describe calls: "not found" is an answer, not a failure', () => {
  it('a 404 on DescribeContact means no contact', async () => {
    connect.on(DescribeContactCommand).rejects(notFound());
    await expect(adapter.describeContact('c-1')).resolves.toBeUndefined();
  });

  it('a 404 on DescribeContactFlow means no flow', async () => {
    connect.on(DescribeContactFlowCommand).rejects(notFound());
    await expect(adapter.describeFlow('f-1')).resolves.toEqual({ found: false });
  });

  it('a 404 on DescribeQueue means no queue', async () => {
    connect.on(DescribeQueueCommand).rejects(notFound());
    await expect(adapter.describeQueue('q-1')).resolves.toEqual({ found: false, enabled: false });
  });

  it('a 404 on DescribeUser means no user', async () => {
    connect.on(DescribeUserCommand).rejects(notFound());
    await expect(adapter.describeUser('u-1')).resolves.toEqual({ found: false });
  });

  it('ContactFlowNotPublishedException means a flow that exists but is not published', async () => {
    connect.on(DescribeContactFlowCommand).rejects(new ContactFlowNotPublishedException({ message: 'not published', ...meta(404) }));
    await expect(adapter.describeFlow('f-1')).resolves.toEqual({ found: true, published: false });
  });

  it('a 403 on DescribeContact is not mistaken for a missing contact', async () => {
    connect.on(DescribeContactCommand).rejects(new AccessDeniedException({ message: 'denied', ...meta(403) }));
    expect(await failureOf(adapter.describeContact('c-1'))).toMatchObject({ reason: 'CONNECT_REJECTED', status: 403, type: 'AccessDeniedException' });
  });
});

describe('Describe calls: what Connect answered, mapped', () => {
  it('describeContact asks the configured instance and reports channel, tree and whether it ended', async () => {
    connect.on(DescribeContactCommand).resolves({
      Contact: { Id: 'c-2', Channel: 'EMAIL', InitialContactId: 'c-1', DisconnectTimestamp: new Date('2025-01-01T00:00:00Z') },
    });
    await expect(adapter.describeContact('c-2')).resolves.toEqual({ id: 'c-2', channel: 'EMAIL', initialContactId: 'c-1', disconnected: true });
    expect(connect.commandCalls(DescribeContactCommand)[0]?.args[0].input).toEqual({ InstanceId: INSTANCE_ID, ContactId: 'c-2' });
  });

  it("reports where the contact is: QueueInfo, AgentInfo, a pause not yet resumed, a start still scheduled", async () => {
    const at = (iso: string) => new Date(iso);
    connect.on(DescribeContactCommand).resolves({
      Contact: {
        Id: 'c-1',
        Channel: 'TASK',
        QueueInfo: { Id: 'q-1', EnqueueTimestamp: at('2026-12-01T10:00:00Z') },
        AgentInfo: { Id: 'u-1', ConnectedToAgentTimestamp: at('2026-12-01T10:05:00Z') },
        LastPausedTimestamp: at('2026-12-01T10:10:00Z'),
        LastResumedTimestamp: at('2026-12-01T10:09:00Z'),
        ScheduledTimestamp: new Date(clock + 60_000),
      },
    });
    await expect(adapter.describeContact('c-1')).resolves.toEqual({
      id: 'c-1',
      channel: 'TASK',
      disconnected: false,
      queue: { id: 'q-1', enqueuedAt: at('2026-12-01T10:00:00Z') },
      agent: { id: 'u-1', connectedAt: at('2026-12-01T10:05:00Z') },
      pausedAt: at('2026-12-01T10:10:00Z'),
      scheduledFor: new Date(clock + 60_000),
    });
  });

  it('a task resumed after its pause, or whose scheduled start has passed, is neither paused nor scheduled', async () => {
    connect.on(DescribeContactCommand).resolves({
      Contact: { Id: 'c-1', Channel: 'TASK', LastPausedTimestamp: new Date(1000), LastResumedTimestamp: new Date(2000), ScheduledTimestamp: new Date(clock - 1) },
    });
    await expect(adapter.describeContact('c-1')).resolves.toEqual({ id: 'c-1', channel: 'TASK', disconnected: false });
  });

  it('an active first contact of its tree has no initialContactId and is not disconnected', async () => {
    connect.on(DescribeContactCommand).resolves({ Contact: { Id: 'c-1', Channel: 'TASK' } });
    await expect(adapter.describeContact('c-1')).resolves.toEqual({ id: 'c-1', channel: 'TASK', disconnected: false });
  });

  it.each([
    [{ Type: 'AGENT_TRANSFER', State: 'ACTIVE', Status: 'PUBLISHED' }, { found: true, published: true, type: 'AGENT_TRANSFER', state: 'ACTIVE' }],
    [{ Type: 'CONTACT_FLOW', State: 'ARCHIVED', Status: 'PUBLISHED' }, { found: true, published: true, type: 'CONTACT_FLOW', state: 'ARCHIVED' }],
    [{ Type: 'CONTACT_FLOW', State: 'ACTIVE', Status: 'SAVED' }, { found: true, published: false }],
  ] as const)('a flow %o is %o', async (flow, facts) => {
    connect.on(DescribeContactFlowCommand).resolves({ ContactFlow: { Id: 'f-1', ...flow } });
    await expect(adapter.describeFlow('f-1')).resolves.toEqual(facts);
  });

  it.each([
    ['ENABLED', true],
    ['DISABLED', false],
  ] as const)('a %s queue is found, enabled=%s', async (Status, enabled) => {
    connect.on(DescribeQueueCommand).resolves({ Queue: { QueueId: 'q-1', Status } });
    await expect(adapter.describeQueue('q-1')).resolves.toEqual({ found: true, enabled });
  });

  it.each([
    { operation: operations.describeFlow, input: { InstanceId: INSTANCE_ID, ContactFlowId: 'x-1' } },
    { operation: operations.describeQueue, input: { InstanceId: INSTANCE_ID, QueueId: 'x-1' } },
    { operation: operations.describeUser, input: { InstanceId: INSTANCE_ID, UserId: 'x-1' } },
  ])('$operation.method asks the configured instance by id', async ({ operation, input }) => {
    operation.succeed();
    await adapter[operation.method]('x-1');
    expect(operation.calls()).toEqual([input]);
  });
});

describe('failures of Connect or of the way to it', () => {
  it.each(Object.values(operations))('a throttled $method is THROTTLED and reported as a $name throttle', async (operation) => {
    operation.fail(throttled());
    expect(await failureOf(adapter[operation.method]('x-1'))).toMatchObject({
      reason: 'THROTTLED',
      status: 429,
      type: 'ThrottlingException',
      retryable: true,
    });
    expect(onThrottle).toHaveBeenCalledExactlyOnceWith(operation.name);
  });

  it.each(Object.values(operations))('a 500 on $method is UPSTREAM_FAILURE', async (operation) => {
    operation.fail(internal());
    expect(await failureOf(adapter[operation.method]('x-1'))).toMatchObject({ reason: 'UPSTREAM_FAILURE', status: 500 });
  });

  it('a throttled TransferContact is THROTTLED and reported as a TransferContact throttle', async () => {
    connect.on(TransferContactCommand).rejects(throttled());
    expect((await failureOf(adapter.transferContact({ ContactId: 'c-1', ContactFlowId: 'f-1' }, 'tok'))).reason).toBe('THROTTLED');
    expect(onThrottle).toHaveBeenCalledExactlyOnceWith('TransferContact');
  });

  it.each([
    ['InternalServiceException 500', internal()],
    ['a 503 without a known name', Object.assign(new Error('Service Unavailable'), { name: 'ServiceUnavailable', ...meta(503) })],
    ['a TimeoutError without $metadata', Object.assign(new Error('socket timed out'), { name: 'TimeoutError' })],
    ['ECONNREFUSED without $metadata', Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED' })],
    ['$metadata without a status', Object.assign(new Error('getaddrinfo ENOTFOUND'), { $metadata: {} })],
  ])('%s is UPSTREAM_FAILURE (500, retryable) and no throttle', async (_case, error) => {
    connect.on(DescribeContactCommand).rejects(error);
    connect.on(TransferContactCommand).rejects(error);
    for (const call of [adapter.describeContact('c-1'), adapter.transferContact({ ContactId: 'c-1', ContactFlowId: 'f-1' }, 'tok')]) {
      expect(await failureOf(call)).toMatchObject({ reason: 'UPSTREAM_FAILURE', status: 500, type: 'InternalServiceException', retryable: true });
    }
    expect(onThrottle).not.toHaveBeenCalled();
  });

  it.each([
    [new InvalidRequestException({ message: 'The contact is not transferable.', ...meta(400) }), 400, 'InvalidRequestException'],
    [new ServiceQuotaExceededException({ message: 'Quota exceeded.', ...meta(402) }), 402, 'ServiceQuotaExceededException'],
    [new IdempotencyException({ message: 'Token reused.', ...meta(409) }), 409, 'IdempotencyException'],
    [new ResourceNotFoundException({ message: 'Contact gone.', ...meta(404) }), 404, 'ResourceNotFoundException'],
  ])('TransferContact refused with %s is CONNECT_REJECTED carrying Connect status and type', async (error, status, type) => {
    connect.on(TransferContactCommand).rejects(error);
    const failure = await failureOf(adapter.transferContact({ ContactId: 'c-1', ContactFlowId: 'f-1' }, 'tok'));
    expect(failure).toMatchObject({ reason: 'CONNECT_REJECTED', status, type, message: error.message, retryable: false });
  });

  it('ARNs in Connect messages are not passed on', () => {
    const failure = classifyConnectError(
      new AccessDeniedException({
        message: `User: arn:aws:sts::123456789012:assumed-role/gateway-role/fn is not authorized on ${INSTANCE_ARN}/contact/c-1`,
        ...meta(403),
      }),
    );
    expect(failure).toMatchObject({ reason: 'CONNECT_REJECTED', status: 403, type: 'AccessDeniedException' });
    expect(failure.message).not.toContain('arn:');
    expect(failure.message).not.toContain('123456789012');
    expect(failure.message).toMatch(/is not authorized/);
  });

  it.each([
    ['TooManyRequestsException by name', Object.assign(new Error('slow down'), { name: 'TooManyRequestsException', ...meta(400) })],
    ['any 429', Object.assign(new Error('slow down'), { name: 'Whatever', ...meta(429) })],
  ])('%s is THROTTLED', (_case, error) => {
    expect(classifyConnectError(error).reason).toBe('THROTTLED');
  });
});

describe('TransferContact', () => {
  beforeEach(() => {
    connect.on(TransferContactCommand).resolves({ ContactId: 'c-new', ContactArn: `${INSTANCE_ARN}/contact/c-new` });
  });

  it('returns exactly what Connect returned', async () => {
    await expect(adapter.transferContact({ ContactId: 'c-1', ContactFlowId: 'f-1' }, 'tok')).resolves.toEqual({
      ContactId: 'c-new',
      ContactArn: `${INSTANCE_ARN}/contact/c-new`,
    });
  });

  it("answers with the new contact's ARN in the configured instance when Connect's answer leaves it out", async () => {
    connect.on(TransferContactCommand).resolves({ ContactId: 'c-new' });
    await expect(adapter.transferContact({ ContactId: 'c-1', ContactFlowId: 'f-1' }, 'tok')).resolves.toEqual({
      ContactId: 'c-new',
      ContactArn: `${INSTANCE_ARN}/contact/c-new`,
    });
  });

  it.each([
    ['the flow alone', {}],
    ['a queue', { QueueId: 'q-1' }],
    ['a user', { UserId: 'u-1' }],
  ])('sends the configured InstanceId, the ClientToken and the target of a transfer to %s', async (_case, target) => {
    await adapter.transferContact({ ContactId: 'c-1', ContactFlowId: 'f-1', ...target }, 'derived-token');
    const input = connect.commandCalls(TransferContactCommand)[0]?.args[0].input;
    expect(input).toMatchObject({ InstanceId: INSTANCE_ID, ContactId: 'c-1', ContactFlowId: 'f-1', ClientToken: 'derived-token', ...target });
    expect(input?.QueueId).toBe('QueueId' in target ? target.QueueId : undefined);
    expect(input?.UserId).toBe('UserId' in target ? target.UserId : undefined);
  });

  it('with a precondition, describes the contact right before the call and sends nothing when the precondition refuses', async () => {
    connect.on(DescribeContactCommand).resolves({ Contact: { Id: 'c-1', Channel: 'TASK', AgentInfo: { Id: 'u-1', ConnectedToAgentTimestamp: new Date(1000) } } });
    const refusal = TransferError.of('CONDITION_NOT_MET', { message: 'taken' });
    const seen: unknown[] = [];
    const error = await adapter
      .transferContact({ ContactId: 'c-1', ContactFlowId: 'f-1' }, 'tok', (contact) => (seen.push(contact), refusal))
      .catch((caught: unknown) => caught);
    expect(seen).toEqual([expect.objectContaining({ agent: { id: 'u-1', connectedAt: new Date(1000) } })]);
    expect(error).toBeInstanceOf(TransferNotSent);
    expect((error as TransferNotSent).failure).toBe(refusal);
    expect(connect.commandCalls(TransferContactCommand)).toHaveLength(0);

    await expect(adapter.transferContact({ ContactId: 'c-1', ContactFlowId: 'f-1' }, 'tok', () => undefined)).resolves.toMatchObject({ ContactId: 'c-new' });
  });

  it('a Connect throttle is not mistaken for a request never sent: an earlier SDK attempt may have been accepted', async () => {
    connect.on(TransferContactCommand).rejects(new ThrottlingException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 429 } }));
    const error = await adapter.transferContact({ ContactId: 'c-1', ContactFlowId: 'f-1' }, 'tok').catch((caught: unknown) => caught);
    expect(error).toMatchObject({ reason: 'THROTTLED', pacedOut: false });
  });
});

describe('metadata cache', () => {
  it.each(metadata)('$method is asked once within the TTL and again after it', async (operation) => {
    operation.succeed();
    const first = await adapter[operation.method]('x-1');
    expect(first).toMatchObject({ found: true });
    clock += TTL - 1;
    expect(await adapter[operation.method]('x-1')).toEqual(first);
    expect(operation.calls()).toHaveLength(1);

    clock += 1;
    await adapter[operation.method]('x-1');
    expect(operation.calls()).toHaveLength(2);
  });

  it('caches per id', async () => {
    connect.on(DescribeQueueCommand).resolves(queueOutput);
    await adapter.describeQueue('q-1');
    await adapter.describeQueue('q-2');
    expect(connect.commandCalls(DescribeQueueCommand)).toHaveLength(2);
  });

  it.each(metadata)('$method does not cache "not found": a resource created a moment later is seen', async (operation) => {
    operation.notFoundThenFound();
    expect(await adapter[operation.method]('x-1')).toMatchObject({ found: false });
    expect(await adapter[operation.method]('x-1')).toMatchObject({ found: true });
    expect(operation.calls()).toHaveLength(2);
  });

  it('does not cache failures', async () => {
    connect.on(DescribeContactFlowCommand).rejectsOnce(throttled()).resolves(flowOutput);
    await failureOf(adapter.describeFlow('f-1'));
    await expect(adapter.describeFlow('f-1')).resolves.toMatchObject({ found: true, published: true });
  });

  it('never caches a contact', async () => {
    connect.on(DescribeContactCommand).resolvesOnce({ Contact: { Id: 'c-1', Channel: 'TASK' } }).resolves({
      Contact: { Id: 'c-1', Channel: 'TASK', DisconnectTimestamp: new Date() },
    });
    expect(await adapter.describeContact('c-1')).toMatchObject({ disconnected: false });
    expect(await adapter.describeContact('c-1')).toMatchObject({ disconnected: true });
    expect(connect.commandCalls(DescribeContactCommand)).toHaveLength(2);
  });

  it('concurrent describeFlow calls for one flow share one call', async () => {
    connect.on(DescribeContactFlowCommand).resolves(flowOutput);
    const answers = await Promise.all([adapter.describeFlow('f-1'), adapter.describeFlow('f-1'), adapter.describeFlow('f-1')]);
    expect(answers).toEqual([answers[0], answers[0], answers[0]]);
    expect(connect.commandCalls(DescribeContactFlowCommand)).toHaveLength(1);
  });

  it('a TTL of 0 turns caching off', async () => {
    const uncached = new ConnectAdapter(client, instance, { metadataCacheTtlMs: 0 });
    connect.on(DescribeUserCommand).resolves(userOutput);
    await uncached.describeUser('u-1');
    await uncached.describeUser('u-1');
    expect(connect.commandCalls(DescribeUserCommand)).toHaveLength(2);
  });
});
