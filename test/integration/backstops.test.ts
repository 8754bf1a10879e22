import { randomUUID } from 'node:crypto';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoDbLedger } from '../../lambda/adapters/ledger';
import { DynamoDbPendingSlots } from '../../lambda/adapters/pending-slots';
import { parseInstanceArn } from '../../lambda/domain/arn';
import type { ConnectInstance } from '../../lambda/domain/arn';
import { TransferError } from '../../lambda/domain/errors';
import { CONNECT_CLIENT_TOKEN_VALIDITY_MS } from '../../lambda/domain/idempotency-keys';
import type { TransferRequest } from '../../lambda/domain/request';
import { sweepPendingIntents } from '../../lambda/doors/sweep';
import type { SweepReport } from '../../lambda/doors/sweep';
import type { ConnectPort, IdempotencyPort, Origin, TransferResult } from '../../lambda/ports';
import type { GatewayContainer } from '../support/gateway-harness';
import { SWEPT_UNTRANSFERRED } from '../../lambda/usecase/sweep-settle';
import { TransferContactUseCase } from '../../lambda/usecase/transfer-contact';
import { startBackstops } from '../../local/backstops';
import type { BackstopsModel } from '../../local/backstops';
import { EventSourceMappingModel, QueueModel } from '../../local/buffered-delivery';
import type { BatchHandler } from '../../local/buffered-delivery';
import { startTransferEvents } from '../../local/event-pipes';
import type { PublishedEvent, TransferEventsModel } from '../../local/event-pipes';
import { apiGatewayProxyEvent, eventBridgeEvent } from '../../local/lambda-events';
import { HISTORY_RESOURCE } from '../../lambda/domain/history';
import { connectFixtures } from '../support/fixtures';
import { asHttp, httpEvent, lambdaContext, ledgerItems, startGatewayHarness, TEST_TRANSFER_RULE_ARN } from '../support/gateway-harness';
import type { GatewayHarness } from '../support/gateway-harness';
import { ranOnce } from '../support/idempotency';
import { gatewayRequests, startInterposer } from '../support/interposer';
import type { Interposer } from '../support/interposer';

/**
 * The two backstops of contract section 9 over real HTTP (Connect simulator, embedded DynamoDB): the dead-letter
 * door, fed by the SQS models as AWS would feed it, and the sweeper, invoked with the scheduled event its rule sends.
 * Queue waits are compressed (visibility 300 ms instead of 120 s and 300 s); the order of events is AWS's.
 */
const BUFFER_ARN = 'arn:aws:sqs:us-east-1:111122223333:event-buffer';
const DEAD_LETTERS_ARN = 'arn:aws:sqs:us-east-1:111122223333:dead-letters';
const SWEEP_RULE_ARN = 'arn:aws:events:us-east-1:111122223333:rule/transfer-sweep';
const MAX_RECEIVES = 2;

let harness: GatewayHarness;
let fx: ReturnType<typeof connectFixtures>;
let dynamoProxy: Interposer;
let events: TransferEventsModel;
const running: { stop(): Promise<void> }[] = [];

beforeAll(async () => {
  harness = await startGatewayHarness({
    env: {
      EVENT_BUFFER_QUEUE_ARN: BUFFER_ARN,
      EVENT_MAX_RECEIVES: String(MAX_RECEIVES),
      EVENT_DEAD_LETTER_QUEUE_ARN: DEAD_LETTERS_ARN,
      TRANSFER_RULE_ARN: TEST_TRANSFER_RULE_ARN,
      SWEEP_RULE_ARN,
      // No wait before an intent is due: the tests make stale intents now, and the lock keeps a sweep safe anyway.
      SWEEP_AFTER_SECONDS: '0',
    },
  });
  fx = connectFixtures(harness.connect);
  dynamoProxy = await startInterposer(harness.dynamodb.url);
  events = startTransferEvents(harness.dynamodbClient(), harness.config.ledgerTable, 'contact-transfer-gateway', 60_000);
});
afterEach(async () => {
  // A test that made Connect throttle lowers the shared rate for every later one, as it would in AWS.
  await harness.resetPacer();
  dynamoProxy.clear();
  await Promise.all(running.splice(0).map((service) => service.stop()));
});
afterAll(async () => {
  await events.stop();
  await dynamoProxy.close();
  await harness.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const queueTransfer = () => ({ ContactId: fx.contact(), ContactFlowId: fx.flows.inbound, QueueId: fx.queues.enabled, ClientToken: `crm-${randomUUID()}` });
/** Transfers Connect performed from this contact; token replays change nothing and are not counted. */
const acceptedTransfersOf = (contactId: string) =>
  harness.connect.calls('TransferContact').filter((call) => call.input.ContactId === contactId && call.status === 200 && !call.tokenReplay);
const transferCallsOf = (contactId: string) => harness.connect.calls('TransferContact').filter((call) => call.input.ContactId === contactId);
const slotsOf = (treeId: string) => ledgerItems(harness, `TREE#${treeId}`);

/** Everything the pipes published since `from`, after reading the stream up to now. */
async function publishedSince(from: number): Promise<PublishedEvent[]> {
  await events.flush();
  return events.published.slice(from);
}
const failuresFor = (published: PublishedEvent[], eventId: string) =>
  published.filter((event) => event['detail-type'] === 'Contact Transfer Failed' && (event.detail as { EventId?: string }).EventId === eventId);
const transfersFrom = (published: PublishedEvent[], contactId: string) =>
  published.filter((event) => event['detail-type'] === 'Contact Transferred' && (event.detail as { FromContactId?: string }).FromContactId === contactId);

/** A container whose DynamoDB requests pass through the interposer, so a test can fail chosen writes. */
const proxiedContainer = (): GatewayContainer => harness.newContainer({ AWS_ENDPOINT_URL_DYNAMODB: dynamoProxy.url });

/**
 * The buffer and its dead-letter queue with their mappings, as the stack wires them (waits compressed to 300 ms), the
 * buffer's drained by `handler`.
 */
function bufferedDoor(handler: ConstructorParameters<typeof EventSourceMappingModel>[0]['handler']) {
  const deadLetters = new QueueModel({ arn: DEAD_LETTERS_ARN, visibilityTimeoutMs: 300 });
  const buffer = new QueueModel({ arn: BUFFER_ARN, visibilityTimeoutMs: 300, maxReceiveCount: MAX_RECEIVES, deadLetterQueue: deadLetters });
  const mapping = new EventSourceMappingModel({ queue: buffer, handler, batchSize: 3, maxConcurrency: 2, functionTimeoutMs: 10_000 });
  mapping.start();
  running.push(mapping);
  return { deadLetters, buffer, mapping, model: backstops(deadLetters) };
}

function backstops(deadLetters: QueueModel): BackstopsModel {
  const model = startBackstops({ deadLetters, handler: harness.newContainer(), sweepRuleArn: SWEEP_RULE_ARN, account: '111122223333', functionTimeoutMs: 10_000 });
  running.push(model);
  return model;
}

async function drained(...queues: QueueModel[]): Promise<void> {
  for (let waited = 0; queues.some((queue) => queue.size > 0); waited += 50) {
    if (waited > 15_000) throw new Error(`queues still hold ${queues.map((queue) => queue.size).join(', ')} messages`);
    await sleep(50);
  }
}

const receiveCountOf = (record: SQSRecord) => Number(record.attributes.ApproximateReceiveCount);

/**
 * The buffer's function: earlier receives run `gateway`; the last one dies before doing anything, as Lambda reports a
 * crash or a timeout. A receive begins only after the one before it ended: the stack's visibility timeout (120 s, 12
 * times the function's) guarantees that, and the compressed 300 ms here would not on a busy machine.
 */
function killedOnLastReceive(gateway: (event: SQSEvent, context: Context) => Promise<unknown>): BatchHandler {
  let previous: Promise<unknown> = Promise.resolve();
  return async (event: SQSEvent, context) => {
    await previous.catch(() => undefined);
    if (event.Records.some((record) => receiveCountOf(record) >= MAX_RECEIVES)) throw new Error('Runtime exited with error: signal: killed');
    previous = gateway(event, context);
    return previous;
  };
}

describe('the dead-letter door: every event-door request that ends without a transfer has one Contact Transfer Failed', () => {
  it('a function that dies on the last receive, before writing anything: the dead-letter door records it, once, also when SQS delivers the dead letter twice', async () => {
    const from = events.published.length;
    // First receive: Connect fails on every SDK attempt, so the record returns (its intent stays PENDING). Last
    // receive: killed before the handler does anything.
    const { deadLetters, buffer, mapping, model } = bufferedDoor(killedOnLastReceive(harness.newContainer()));

    const request = queueTransfer();
    const id = randomUUID();
    harness.connect.failNext('TransferContact', 3, 'internal');
    buffer.send(JSON.stringify(eventBridgeEvent(request, { id })));
    await drained(buffer);
    // Connect's 5xx left the intent PENDING: the dead letter waits until the sweeper has released it (the contact is active).
    expect(failuresFor(await publishedSince(from), id)).toHaveLength(0);
    await model.sweep();
    await drained(deadLetters);

    expect(mapping.invocations.map((invocation) => invocation.failed)).toEqual([1, 1]);
    expect(acceptedTransfersOf(request.ContactId)).toHaveLength(0);
    const failures = failuresFor(await publishedSince(from), id);
    expect(failures).toHaveLength(1);
    expect(failures[0]?.detail).toMatchObject({
      Outcome: 'DEAD_LETTERED',
      Type: 'InternalServiceException',
      ReasonCode: 'INTERNAL_ERROR',
      Message: expect.stringContaining('did not finish the request before its last retry ended'),
      Request: JSON.stringify(request),
      ClientToken: request.ClientToken,
      ContactId: request.ContactId,
    });

    // At-least-once: the same dead letter again publishes nothing more.
    deadLetters.redriveFrom(BUFFER_ARN, JSON.stringify(eventBridgeEvent(request, { id })));
    await drained(deadLetters);
    expect(failuresFor(await publishedSince(from), id)).toHaveLength(1);
  });

  it('a function killed on the last receive after Connect accepted: no failure event; the dead letter waits for the sweeper, which records the transfer', async () => {
    const from = events.published.length;
    // First receive: Connect accepts, then neither the ledger nor the idempotency record takes it (the in-progress
    // record lasts 1 s, as a timed-out invocation's would). Last receive: killed before it does anything.
    dynamoProxy.fail(gatewayRequests.ledgerRecord(harness.config.ledgerTable));
    dynamoProxy.fail(gatewayRequests.idempotencyCompletion(harness.config.idempotencyTable));
    const first = proxiedContainer();
    const { deadLetters, buffer, model } = bufferedDoor(killedOnLastReceive((event) => first(event, lambdaContext(1000))));

    const request = queueTransfer();
    const id = randomUUID();
    buffer.send(JSON.stringify(eventBridgeEvent(request, { id })));
    await drained(buffer);
    dynamoProxy.clear();
    // The dead letter returns to its queue while the intent is PENDING and the contact has ended.
    for (let waited = 0; !model.deadLetterMapping.invocations.some((invocation) => invocation.failed > 0); waited += 50) {
      if (waited > 5000) throw new Error('the dead letter was not served');
      await sleep(50);
    }
    expect(deadLetters.size).toBe(1);
    expect(failuresFor(await publishedSince(from), id)).toHaveLength(0);
    await sleep(1100);

    expect(((await model.sweep()) as SweepReport).failed).toBe(0);
    await drained(deadLetters);
    const published = await publishedSince(from);
    expect(acceptedTransfersOf(request.ContactId)).toHaveLength(1);
    expect(await slotsOf(request.ContactId)).toEqual([expect.objectContaining({ status: 'TRANSFERRED' })]);
    expect(transfersFrom(published, request.ContactId)).toHaveLength(1);
    expect(failuresFor(published, id)).toHaveLength(0);
  });

  it('a dead letter whose intent is PENDING while its contact is still active waits too: another holder of the key may be sending it; once the sweeper released it, one failure', async () => {
    const from = events.published.length;
    const deadLetters = new QueueModel({ arn: DEAD_LETTERS_ARN, visibilityTimeoutMs: 300 });
    const model = backstops(deadLetters);
    const request = queueTransfer();
    // Connect fails on every SDK attempt: the intent stays PENDING and the contact active.
    harness.connect.failNext('TransferContact', 3, 'internal');
    expect(asHttp(await harness.newContainer()(httpEvent(request), lambdaContext())).status).toBe(500);
    const id = randomUUID();
    deadLetters.redriveFrom(BUFFER_ARN, JSON.stringify(eventBridgeEvent(request, { id })));
    for (let waited = 0; !model.deadLetterMapping.invocations.some((invocation) => invocation.failed > 0); waited += 50) {
      if (waited > 5000) throw new Error('the dead letter was not served');
      await sleep(50);
    }
    expect(deadLetters.size).toBe(1);
    expect(failuresFor(await publishedSince(from), id)).toHaveLength(0);

    await model.sweep();
    expect(await slotsOf(request.ContactId)).toEqual([expect.objectContaining({ status: 'RELEASED', releaseReason: SWEPT_UNTRANSFERRED })]);
    await drained(deadLetters);
    expect(failuresFor(await publishedSince(from), id).map((event) => event.detail)).toEqual([expect.objectContaining({ Outcome: 'DEAD_LETTERED' })]);
  });

  it('an event EventBridge could not deliver to the buffer: one Contact Transfer Failed naming the error, no Connect call, none more for a replay', async () => {
    const from = events.published.length;
    const deadLetters = new QueueModel({ arn: DEAD_LETTERS_ARN, visibilityTimeoutMs: 300 });
    backstops(deadLetters);
    const request = queueTransfer();
    const id = randomUUID();
    // What EventBridge puts in a rule target's dead-letter queue: the event as the body, the error as message attributes.
    const undelivered = () =>
      deadLetters.send(JSON.stringify(eventBridgeEvent(request, { id })), {
        RULE_ARN: TEST_TRANSFER_RULE_ARN,
        TARGET_ARN: BUFFER_ARN,
        ERROR_CODE: 'CONNECTION_FAILURE',
        ERROR_MESSAGE: 'Failed to connect to target.',
      });
    undelivered();
    await drained(deadLetters);

    const failures = failuresFor(await publishedSince(from), id);
    expect(failures).toHaveLength(1);
    expect(failures[0]?.detail).toMatchObject({
      Outcome: 'DEAD_LETTERED',
      ReasonCode: 'INTERNAL_ERROR',
      Message: expect.stringContaining('CONNECTION_FAILURE: Failed to connect to target.'),
      Request: JSON.stringify(request),
      ClientToken: request.ClientToken,
    });
    expect(transferCallsOf(request.ContactId)).toHaveLength(0);

    undelivered();
    await drained(deadLetters);
    expect(failuresFor(await publishedSince(from), id)).toHaveLength(1);
  });

  it('a dead letter whose transfer the ledger holds is no failure; one whose ClientToken another request\'s transfer holds, or that breaks the request rules, is a failure', async () => {
    const from = events.published.length;
    const deadLetters = new QueueModel({ arn: DEAD_LETTERS_ARN, visibilityTimeoutMs: 300 });
    backstops(deadLetters);
    const transferred = queueTransfer();
    expect(asHttp(await harness.newContainer()(httpEvent(transferred), lambdaContext())).status).toBe(200);
    const transferredId = randomUUID();
    deadLetters.redriveFrom(BUFFER_ARN, JSON.stringify(eventBridgeEvent(transferred, { id: transferredId })));
    // Another contact under the same ClientToken: the ledger's transfer under that key is not this request's.
    const sameTokenId = randomUUID();
    const sameToken = { ...queueTransfer(), ClientToken: transferred.ClientToken };
    deadLetters.redriveFrom(BUFFER_ARN, JSON.stringify(eventBridgeEvent(sameToken, { id: sameTokenId })));
    const invalidId = randomUUID();
    deadLetters.redriveFrom(BUFFER_ARN, JSON.stringify(eventBridgeEvent({ ContactId: fx.contact(), ContactFlowId: fx.flows.inbound, QueueID: fx.queues.enabled }, { id: invalidId })));
    await drained(deadLetters);

    const published = await publishedSince(from);
    expect(failuresFor(published, transferredId)).toHaveLength(0);
    expect(failuresFor(published, sameTokenId).map((event) => event.detail)).toEqual([
      expect.objectContaining({ Outcome: 'DEAD_LETTERED', ReasonCode: 'INTERNAL_ERROR', Request: JSON.stringify(sameToken) }),
    ]);
    expect(failuresFor(published, invalidId).map((event) => event.detail)).toEqual([expect.objectContaining({ Outcome: 'REJECTED', ReasonCode: 'VALIDATION_FAILED' })]);
  });
});

describe('the dead-letter door answers only what SQS\'s redrive from the buffer or the rule\'s delivery put in its queue', () => {
  it('a message anyone else sent there (a victim\'s request, a redrive from another queue, the rule\'s attributes naming another target) is deleted unanswered: no failure record, no failure event', async () => {
    const from = events.published.length;
    const deadLetters = new QueueModel({ arn: DEAD_LETTERS_ARN, visibilityTimeoutMs: 300 });
    backstops(deadLetters);
    const victim = queueTransfer();
    const ids = [randomUUID(), randomUUID(), randomUUID()] as const;
    const body = (id: string) => JSON.stringify(eventBridgeEvent(victim, { id }));
    deadLetters.send(body(ids[0]));
    deadLetters.redriveFrom('arn:aws:sqs:us-east-1:111122223333:someone-elses-queue', body(ids[1]));
    deadLetters.send(body(ids[2]), {
      RULE_ARN: TEST_TRANSFER_RULE_ARN,
      TARGET_ARN: 'arn:aws:sqs:us-east-1:111122223333:someone-elses-queue',
      ERROR_CODE: 'CONNECTION_FAILURE',
      ERROR_MESSAGE: 'forged',
    });
    await drained(deadLetters);
    for (const id of ids) expect(await ledgerItems(harness, `FAILURE#${id}`), id).toEqual([]);

    // The victim's own transfer then has exactly one outcome: Contact Transferred.
    expect(asHttp(await harness.newContainer()(httpEvent(victim), lambdaContext())).status).toBe(200);
    const published = await publishedSince(from);
    expect(published.filter((event) => (event.detail as { ClientToken?: string }).ClientToken === victim.ClientToken).map((event) => event['detail-type'])).toEqual(['Contact Transferred']);
    expect(transferCallsOf(victim.ContactId)).toHaveLength(1);
  });
});

describe('a transfer Connect may have made is never released on what the contact looks like now (contract section 6)', () => {
  const historyOf = async (contactId: string) =>
    asHttp(
      await harness.newContainer()(
        apiGatewayProxyEvent({ body: null, callerArn: 'arn:aws:sts::111122223333:assumed-role/internal-app/app', route: { method: 'GET', resource: HISTORY_RESOURCE, path: `/contact/transfers/${contactId}`, pathParameters: { ContactId: contactId } } }),
        lambdaContext(),
      ),
    );

  it('the first attempt dies with its TransferContact in flight, the queue is disabled, a retry comes: kept PENDING; Connect then transfers, and the ledger, event, history and count hold it', async () => {
    const from = events.published.length;
    const queue = { Id: randomUUID(), Name: 'Disabled while a transfer is in flight' };
    harness.connect.addQueue({ ...queue, Status: 'ENABLED' });
    const request = { ...queueTransfer(), QueueId: queue.Id };
    const connectProxy = await startInterposer(harness.connect.url);
    try {
      // The first invocation's TransferContact is held before it reaches Connect. Its in-progress record lasts 1 s, as a
      // timed-out invocation's would, and nothing it writes afterwards lands: it has died, as far as anyone can tell.
      const inFlight = connectProxy.delay(gatewayRequests.transferContact(request.ContactId));
      const first = harness.newContainer({ AWS_ENDPOINT_URL_CONNECT: connectProxy.url, AWS_ENDPOINT_URL_DYNAMODB: dynamoProxy.url })(httpEvent(request), lambdaContext(1000));
      const held = await inFlight;
      dynamoProxy.fail(() => true);
      harness.connect.addQueue({ ...queue, Status: 'DISABLED' });
      await sleep(1100);

      const retry = asHttp(await harness.newContainer()(httpEvent(request), lambdaContext()));
      expect(retry.status).toBe(409);
      expect(retry.body).toMatchObject({ ReasonCode: 'REQUEST_IN_PROGRESS', Message: expect.stringContaining('QUEUE_DISABLED') });
      expect(await slotsOf(request.ContactId)).toEqual([expect.objectContaining({ status: 'PENDING' })]);

      held.release();
      await first;
      dynamoProxy.clear();
      const [made] = acceptedTransfersOf(request.ContactId);
      expect(made).toBeDefined();
      const toContactId = (made?.output as { ContactId: string }).ContactId;

      // The caller retries as a 409 asks: the contact has ended, so the same ClientToken hears Connect's original answer.
      const settled = asHttp(await harness.newContainer()(httpEvent(request), lambdaContext()));
      expect(settled).toMatchObject({ status: 200, body: { ContactId: toContactId }, headers: { 'Idempotent-Replayed': 'true' } });
      expect(acceptedTransfersOf(request.ContactId)).toHaveLength(1);
      expect(await slotsOf(request.ContactId)).toEqual([expect.objectContaining({ status: 'TRANSFERRED', toContactId })]);
      expect(transfersFrom(await publishedSince(from), request.ContactId).map((event) => event.detail)).toEqual([expect.objectContaining({ ToContactId: toContactId })]);
      expect((await historyOf(toContactId)).body.Transfers).toEqual([expect.objectContaining({ TransferNumber: 1, FromContactId: request.ContactId, ToContactId: toContactId })]);
      // Rule 14 counts it: the new contact's tree holds one transfer.
      expect(await ledgerItems(harness, `CONTACT#${toContactId}`)).toEqual([expect.objectContaining({ treeId: request.ContactId, transfersInTree: 1 })]);
    } finally {
      dynamoProxy.clear();
      await connectProxy.close();
    }
  });
});

describe('the sweeper settles PENDING intents whose request stopped, and never starts a transfer', () => {
  const ORIGINAL_INVOCATION_MS = 10_000;
  const sweep = async (): Promise<SweepReport> => (await backstops(new QueueModel({ arn: DEAD_LETTERS_ARN, visibilityTimeoutMs: 300 })).sweep()) as SweepReport;

  it('completes an ended contact\'s transfer from Connect\'s original answer and publishes one Contact Transferred; releases an active contact\'s slot', async () => {
    const from = events.published.length;
    // Connect accepts, the ledger record fails; once with the idempotency record kept, once with it lost too.
    dynamoProxy.fail(gatewayRequests.ledgerRecord(harness.config.ledgerTable));
    const resultKept = queueTransfer();
    const keptAnswer = asHttp(await proxiedContainer()(httpEvent(resultKept), lambdaContext()));
    dynamoProxy.fail(gatewayRequests.idempotencyCompletion(harness.config.idempotencyTable));
    const resultLost = queueTransfer();
    // A short remaining time lets the in-progress record expire soon, as a timed-out invocation's would.
    const lostAnswer = asHttp(await proxiedContainer()(httpEvent(resultLost), lambdaContext(1000)));
    dynamoProxy.clear();
    // Connect fails on every SDK attempt: the caller hears 500 and never retries; the contact is still active.
    const active = queueTransfer();
    harness.connect.failNext('TransferContact', 3, 'internal');
    expect(asHttp(await harness.newContainer()(httpEvent(active), lambdaContext())).status).toBe(500);
    for (const request of [resultKept, resultLost, active]) expect(await slotsOf(request.ContactId)).toEqual([expect.objectContaining({ status: 'PENDING' })]);
    await sleep(1100);

    // Counted over the whole table: the other tests' leftovers are due too.
    const report = await sweep();
    expect(report.transferred).toBeGreaterThanOrEqual(2);
    expect(report).toMatchObject({ failed: 0, 'in-progress': 0 });
    const published = await publishedSince(from);
    for (const [request, answer] of [
      [resultKept, keptAnswer],
      [resultLost, lostAnswer],
    ] as const) {
      expect(acceptedTransfersOf(request.ContactId)).toHaveLength(1);
      expect(await slotsOf(request.ContactId)).toEqual([expect.objectContaining({ status: 'TRANSFERRED', toContactId: answer.body.ContactId })]);
      expect(transfersFrom(published, request.ContactId).map((event) => event.detail)).toEqual([
        expect.objectContaining({ ToContactId: answer.body.ContactId, ClientToken: request.ClientToken, Door: 'https' }),
      ]);
      // The caller's retry hears the original answer.
      const retry = asHttp(await harness.newContainer()(httpEvent(request), lambdaContext()));
      expect(retry.body).toEqual(answer.body);
    }
    // The active contact: released without a call to Connect, so it no longer counts toward maxTransfers.
    expect(transferCallsOf(active.ContactId)).toHaveLength(3);
    expect(await slotsOf(active.ContactId)).toEqual([expect.objectContaining({ status: 'RELEASED', releaseReason: SWEPT_UNTRANSFERRED })]);
    expect(transfersFrom(published, active.ContactId)).toHaveLength(0);
    // Its caller may still retry: the key was given back, so the retry transfers, in the next slot.
    expect(asHttp(await harness.newContainer()(httpEvent(active), lambdaContext())).status).toBe(200);
    expect(acceptedTransfersOf(active.ContactId)).toHaveLength(1);
    expect((await slotsOf(active.ContactId)).map((slot) => slot.status)).toEqual(['RELEASED', 'TRANSFERRED']);

    // Nothing is left: the next sweep finds nothing due and calls nothing.
    const calls = harness.connect.callCount();
    expect(await sweep()).toMatchObject({ due: 0 });
    expect(harness.connect.callCount()).toBe(calls);
  });

  it('a stopped request with a Note or Conditions: the sweeper rebuilds it whole from its slot, so it releases the active contact, which takes another request at once', async () => {
    for (const extras of [{ Note: 'escalated by CRM' }, { Conditions: { NotWithAgent: true as const } }]) {
      const request = { ...queueTransfer(), ...extras };
      harness.connect.failNext('TransferContact', 3, 'internal');
      expect(asHttp(await harness.newContainer()(httpEvent(request), lambdaContext())).status).toBe(500);

      expect(await sweep()).toMatchObject({ failed: 0 });
      expect(await slotsOf(request.ContactId)).toEqual([expect.objectContaining({ status: 'RELEASED', releaseReason: SWEPT_UNTRANSFERRED })]);
      // Not TRANSFER_IN_PROGRESS: the contact's in-flight mark went with the slot.
      const another = { ...queueTransfer(), ContactId: request.ContactId };
      expect(asHttp(await harness.newContainer()(httpEvent(another), lambdaContext())).status).toBe(200);
    }
  });

  it('a transfer Connect accepted but the ledger did not record, whose new contact took a request first: the sweeper still records it, and the next transfer counted it', async () => {
    const from = events.published.length;
    dynamoProxy.fail(gatewayRequests.ledgerRecord(harness.config.ledgerTable));
    const first = queueTransfer();
    const firstAnswer = asHttp(await proxiedContainer()(httpEvent(first), lambdaContext()));
    dynamoProxy.clear();
    expect(firstAnswer.status).toBe(200);
    const newContact = String(firstAnswer.body.ContactId);
    // A request on the new contact before the record lands: it marks the contact's item in flight, then transfers.
    const onNewContact = { ...queueTransfer(), ContactId: newContact };
    expect(asHttp(await harness.newContainer()(httpEvent(onNewContact), lambdaContext())).status).toBe(200);

    expect(await sweep()).toMatchObject({ failed: 0 });
    expect(await slotsOf(first.ContactId)).toEqual([
      expect.objectContaining({ transferNumber: 1, fromContactId: first.ContactId, status: 'TRANSFERRED', toContactId: newContact }),
      expect.objectContaining({ transferNumber: 2, fromContactId: newContact, status: 'TRANSFERRED', transfersInTree: 2 }),
    ]);
    expect(await ledgerItems(harness, `CONTACT#${newContact}`)).toEqual([expect.objectContaining({ treeId: first.ContactId, transferNumber: 1, transfersInTree: 1 })]);
    expect(transfersFrom(await publishedSince(from), first.ContactId)).toHaveLength(1);
  });

  it('a sweep and a retry of the same key at once: one transfer, one record, one Contact Transferred', async () => {
    const from = events.published.length;
    dynamoProxy.fail(gatewayRequests.ledgerRecord(harness.config.ledgerTable), 5);
    dynamoProxy.fail(gatewayRequests.idempotencyCompletion(harness.config.idempotencyTable), 5);
    const requests = Array.from({ length: 5 }, queueTransfer);
    // A whole invocation each: one too short to wait for its pacing slot would answer THROTTLED and transfer nothing.
    const answers = await Promise.all(requests.map(async (request) => asHttp(await proxiedContainer()(httpEvent(request), lambdaContext(ORIGINAL_INVOCATION_MS)))));
    dynamoProxy.clear();
    expect(answers.map((answer) => answer.status)).toEqual(requests.map(() => 200));

    // Their invocations' time runs out, so their in-progress idempotency records expire as a timeout's would.
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    vi.setSystemTime(Date.now() + ORIGINAL_INVOCATION_MS + 1000);
    const [report, ...retries] = await Promise.all([
      sweep(),
      ...requests.map(async (request) => asHttp(await harness.newContainer()(httpEvent(request), lambdaContext()))),
    ]).finally(() => vi.useRealTimers());
    // Each key was settled by exactly one of them; the other found it held (409) or settled.
    expect(report?.failed).toBe(0);
    const published = await publishedSince(from);
    for (const [index, request] of requests.entries()) {
      const retry = retries[index];
      expect([200, 409]).toContain(retry?.status);
      if (retry?.status === 200) expect(retry.body).toEqual(answers[index]?.body);
      expect(acceptedTransfersOf(request.ContactId)).toHaveLength(1);
      expect(await slotsOf(request.ContactId)).toEqual([expect.objectContaining({ status: 'TRANSFERRED', toContactId: answers[index]?.body.ContactId })]);
      expect(transfersFrom(published, request.ContactId)).toHaveLength(1);
    }
  });

  it('a sweep never releases an active contact\'s slot while a retry holds its key and is about to send it: the retry transfers, the sweep leaves it', async () => {
    const from = events.published.length;
    const request = queueTransfer();
    harness.connect.failNext('TransferContact', 3, 'internal');
    expect(asHttp(await harness.newContainer()(httpEvent(request), lambdaContext())).status).toBe(500);
    // The retry resumes the pending intent (the contact is active) and is held just before it sends.
    const held = dynamoProxy.delay(gatewayRequests.attemptStamp(harness.config.ledgerTable));
    const retry = proxiedContainer()(httpEvent(request), lambdaContext());
    const stamp = await held;
    let report: SweepReport;
    try {
      report = await sweep();
    } finally {
      stamp.release();
    }
    expect(report['in-progress']).toBeGreaterThanOrEqual(1);
    expect(asHttp(await retry).status).toBe(200);
    expect(acceptedTransfersOf(request.ContactId)).toHaveLength(1);
    expect(await slotsOf(request.ContactId)).toEqual([expect.objectContaining({ status: 'TRANSFERRED' })]);
    expect(transfersFrom(await publishedSince(from), request.ContactId)).toHaveLength(1);
  });

  it('takes the sweep only from the stack\'s rule: the same event naming another rule is refused, no trigger of the function', async () => {
    const forged = { version: '0', id: randomUUID(), 'detail-type': 'Scheduled Event', source: 'aws.events', account: '111122223333', time: new Date().toISOString(), region: 'us-east-1', resources: ['arn:aws:events:us-east-1:111122223333:rule/other'], detail: {} };
    await expect(harness.newContainer()(forged, lambdaContext())).rejects.toMatchObject({ name: 'UnrecognisedEvent' });
  });
});

/**
 * When a slot is due, on a clock the test turns: the use case and the sweep on the real ledger and its index, and a
 * Connect that does what the reviewed scenario needs (accepts a transfer without answering, and shows the contact
 * active for a while after).
 */
describe('the sweeper counts from the latest attempt and sets aside what it cannot settle', () => {
  const instance = (): ConnectInstance => parseInstanceArn(harness.config.instance.arn) as ConnectInstance;
  const FUNCTION_TIMEOUT_MS = 10_000;
  const AFTER_MS = FUNCTION_TIMEOUT_MS + 60_000;
  const runsWork: IdempotencyPort = { once: (_key, work) => ranOnce(work) };
  const origin: Origin = { door: 'eventbridge', caller: 'internal.contact-transfer/evt', correlationId: randomUUID() };

  function world(startAt: number) {
    let now = startAt;
    const connect = {
      accepted: undefined as TransferResult | undefined,
      /** fails: a 5xx, nothing transferred; silent: transfers, but the answer is lost; answers: as Connect normally does. */
      mode: 'answers' as 'fails' | 'silent' | 'answers',
      /** Connect has transferred it, but DescribeContact still shows the contact active until this time. */
      shownEndedFrom: Number.POSITIVE_INFINITY,
      ended: false,
    };
    const port: ConnectPort = {
      describeContact: async (id) => ({ id, channel: 'TASK', disconnected: connect.ended || now >= connect.shownEndedFrom }),
      describeFlow: async () => ({ found: true, published: true, type: 'CONTACT_FLOW', state: 'ACTIVE' }),
      describeQueue: async () => ({ found: true, enabled: true }),
      describeUser: async () => ({ found: true }),
      transferContact: async (request) => {
        if (connect.mode === 'fails') throw TransferError.of('UPSTREAM_FAILURE');
        connect.accepted ??= { ContactId: `to-${request.ContactId}`, ContactArn: `${harness.config.instance.arn}/contact/to-${request.ContactId}` };
        if (connect.mode === 'silent') throw TransferError.of('UPSTREAM_FAILURE');
        return connect.accepted;
      },
    };
    const alert = vi.fn();
    const ledger = new DynamoDbLedger(harness.dynamodbClient(), harness.config.ledgerTable, 90);
    const useCase = new TransferContactUseCase({
      instance: instance(),
      policy: { allowedChannels: ['TASK'], maxTransfers: 11 },
      connect: port,
      ledger,
      idempotency: runsWork,
      alert,
      now: () => new Date(now),
    });
    const pendingSlots = new DynamoDbPendingSlots(harness.dynamodbClient(), harness.config.ledgerTable);
    /** One sweep at the world's time; it touches only `mine` (the table holds the other tests' slots too). */
    const sweepOnly = async (mine: TransferRequest) => {
      const settled: string[] = [];
      await sweepPendingIntents({
        pendingSlots,
        settle: async (request, slotOrigin) => {
          if (request.ContactId !== mine.ContactId) return 'in-progress';
          const settlement = await useCase.settle(request, slotOrigin);
          settled.push(settlement);
          return settlement;
        },
        setAside: (slot) => ledger.setAside(slot.reservation),
        afterMs: AFTER_MS,
        remainingMs: () => FUNCTION_TIMEOUT_MS,
        onFailure: () => undefined,
        onSetAside: (slot) => alert('set aside by the sweep', slot.reservation),
        now: () => new Date(now),
      });
      return settled;
    };
    return { connect, useCase, alert, sweepOnly, at: (ms: number) => (now = startAt + ms) };
  }

  it('a retry that resumes a pending intent long after its reservation and hears no answer, though Connect transferred: not released while the contact still looks active; recorded once due', async () => {
    const request = { ...queueTransfer(), ContactId: `c-${randomUUID()}` };
    const startAt = Date.now();
    const w = world(startAt);
    // T0: reserved; Connect fails without transferring.
    w.connect.mode = 'fails';
    await expect(w.useCase.execute(request, origin)).rejects.toMatchObject({ reason: 'UPSTREAM_FAILURE' });
    // T0 + 120 s: a retry resumes it; Connect transfers but the answer is lost, and DescribeContact lags behind.
    w.at(120_000);
    w.connect.mode = 'silent';
    w.connect.shownEndedFrom = startAt + 120_000 + 30_000;
    await expect(w.useCase.execute(request, origin)).rejects.toMatchObject({ reason: 'UPSTREAM_FAILURE' });
    expect(w.connect.accepted).toBeDefined();

    // T0 + 125 s: due by the reservation, not by the attempt; the contact still looks active.
    w.at(125_000);
    expect(await w.sweepOnly(request)).toEqual([]);
    expect(await slotsOf(request.ContactId)).toEqual([expect.objectContaining({ status: 'PENDING' })]);

    // Due once the attempt's invocation must have ended: the same ClientToken hears Connect's original answer.
    w.at(120_000 + AFTER_MS + 1000);
    w.connect.mode = 'answers';
    expect(await w.sweepOnly(request)).toEqual(['transferred']);
    expect(await slotsOf(request.ContactId)).toEqual([expect.objectContaining({ status: 'TRANSFERRED', toContactId: w.connect.accepted?.ContactId })]);
  });

  it("an intent beyond Connect's ClientToken window whose contact ended: alerted once and set aside, so no later sweep spends a place on it", async () => {
    const request = { ...queueTransfer(), ContactId: `c-${randomUUID()}` };
    const w = world(Date.now());
    w.connect.mode = 'fails';
    await expect(w.useCase.execute(request, origin)).rejects.toMatchObject({ reason: 'UPSTREAM_FAILURE' });
    w.connect.ended = true;
    w.at(CONNECT_CLIENT_TOKEN_VALIDITY_MS + 60_000);
    expect(await w.sweepOnly(request)).toEqual(['set-aside']);
    expect(w.alert).toHaveBeenCalledTimes(1);
    w.at(CONNECT_CLIENT_TOKEN_VALIDITY_MS + 120_000);
    expect(await w.sweepOnly(request)).toEqual([]);
    expect(w.alert).toHaveBeenCalledTimes(1);
    expect(await slotsOf(request.ContactId)).toEqual([expect.objectContaining({ status: 'PENDING', pendingSlot: 'UNCONFIRMED' })]);
  });

  it('a slot still PENDING whose request finds no PENDING intent of its own (here the intent holds another payload): set aside with one alert, never again at the front of the sweep', async () => {
    const request = { ...queueTransfer(), ContactId: `c-${randomUUID()}` };
    const w = world(Date.now());
    w.connect.mode = 'fails';
    await expect(w.useCase.execute(request, origin)).rejects.toMatchObject({ reason: 'UPSTREAM_FAILURE' });
    const [slot] = await slotsOf(request.ContactId);
    await harness.dynamodbClient().send(
      new UpdateItemCommand({
        TableName: harness.config.ledgerTable,
        Key: { pk: { S: `KEY#${String(slot?.idempotencyKey)}` }, sk: { S: 'INTENT' } },
        UpdateExpression: 'SET payloadHash = :other',
        ExpressionAttributeValues: { ':other': { S: 'another-payload' } },
      }),
    );
    w.at(AFTER_MS + 1000);
    expect(await w.sweepOnly(request)).toEqual(['not-pending']);
    expect(w.alert).toHaveBeenCalledExactlyOnceWith('set aside by the sweep', expect.objectContaining({ idempotencyKey: slot?.idempotencyKey }));
    expect(await slotsOf(request.ContactId)).toEqual([expect.objectContaining({ status: 'PENDING', pendingSlot: 'UNCONFIRMED' })]);
    w.at(AFTER_MS + 120_000);
    expect(await w.sweepOnly(request)).toEqual([]);
    expect(w.alert).toHaveBeenCalledTimes(1);
  });
});
