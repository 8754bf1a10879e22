import { randomUUID } from 'node:crypto';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { afterEach, describe, expect } from 'vitest';
import { failureKeys } from '../../lambda/adapters/failure-records';
import { DynamoDbPacer } from '../../lambda/adapters/transfer-pacer';
import { EVENT_BUFFER, returnDelaySeconds } from '../../lambda/event-buffer';
import { EventSourceMappingModel, QueueModel, containerPool } from '../../local/buffered-delivery';
import { startTransferEvents } from '../../local/event-pipes';
import type { BatchHandler } from '../../local/buffered-delivery';
import { eventBridgeEvent } from '../../local/lambda-events';
import { startSqsEndpoint } from '../../local/sqs-endpoint';
import type { SqsEndpoint } from '../../local/sqs-endpoint';
import { CONNECT_DEFAULT_QUOTAS } from '../../simulator/connect-simulator';
import { asHttp, httpEvent, lambdaContext } from '../support/gateway-harness';
import type { GatewayHarness } from '../support/gateway-harness';
import { gatewayTest } from '../support/gateway-test';

/**
 * The event door as AWS runs it: the rule's events in an SQS queue model, drained by an event source mapping model
 * (batches of 3, at most 2 invocations, partial batch responses) into the real handler, against a Connect simulator
 * with Connect's default quotas and the gateway's default pacing (2/s, burst 2). The function's SQS client reaches the
 * buffer model over HTTP (local/sqs-endpoint.ts) to set when a failed record returns.
 */
const BUFFER_ARN = 'arn:aws:sqs:us-east-1:111122223333:event-buffer';
interface Door {
  readonly buffer: QueueModel;
  readonly deadLetters: QueueModel;
  readonly mapping: EventSourceMappingModel;
  readonly sqs: SqsEndpoint;
  publish(detail: unknown, options?: { id?: string; detailType?: string }): string;
  drained(): Promise<void>;
}
const doors: Door[] = [];
afterEach(async () => {
  await Promise.all(doors.splice(0).map(async (door) => {
    await door.mapping.stop();
    await door.sqs.close();
  }));
});

/**
 * The stack's wiring: visibility 120 s and 33 receives, unless a test compresses them (and says so). A compressed
 * visibility timeout compresses the backoff the function sets in the same proportion (120 s of SQS's in its ms).
 */
async function eventDoorOf(harness: GatewayHarness, options: { visibilityTimeoutMs?: number; maxReceiveCount?: number } = {}): Promise<Door> {
  const maxReceiveCount = options.maxReceiveCount ?? EVENT_BUFFER.maxReceiveCount;
  const visibilityTimeoutMs = options.visibilityTimeoutMs ?? 120_000;
  const deadLetters = new QueueModel({ arn: 'arn:aws:sqs:us-east-1:111122223333:dead-letters', visibilityTimeoutMs: 30_000 });
  const buffer = new QueueModel({ arn: BUFFER_ARN, visibilityTimeoutMs, maxReceiveCount, deadLetterQueue: deadLetters, msPerSecond: visibilityTimeoutMs / 120 });
  const sqs = await startSqsEndpoint([buffer]);
  const handler: BatchHandler = containerPool(() => harness.newContainer({ EVENT_MAX_RECEIVES: String(maxReceiveCount), AWS_ENDPOINT_URL_SQS: sqs.url }) as BatchHandler);
  const mapping = new EventSourceMappingModel({ queue: buffer, handler, batchSize: 3, maxConcurrency: 2, functionTimeoutMs: 10_000 });
  mapping.start();
  const door: Door = {
    buffer,
    deadLetters,
    mapping,
    sqs,
    // What the rule delivers: the EventBridge event itself is the message body.
    publish: (detail, { id = randomUUID(), detailType } = {}) => {
      const event = { ...eventBridgeEvent(detail, { id }), ...(detailType && { 'detail-type': detailType }) };
      buffer.send(JSON.stringify(event));
      return id;
    },
    drained: async () => {
      for (let waited = 0; buffer.size > 0; waited += 50) {
        if (waited > 25_000) throw new Error(`the buffer still holds ${buffer.size} messages`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
  doors.push(door);
  return door;
}

const it = gatewayTest({
  quotas: CONNECT_DEFAULT_QUOTAS,
  env: { TRANSFER_RATE_PER_SECOND: '2', TRANSFER_BURST: '2', EVENT_BUFFER_QUEUE_ARN: BUFFER_ARN, EVENT_MAX_RECEIVES: String(EVENT_BUFFER.maxReceiveCount) },
})
  .extend('eventDoor', { scope: 'file' }, ({ harness }) => (options?: { visibilityTimeoutMs?: number; maxReceiveCount?: number }) => eventDoorOf(harness, options))
  .extend('failureRecord', { scope: 'file' }, ({ harness }) => {
    const dynamodb = harness.dynamodbClient();
    return async (correlationId: string) => {
      const { Item } = await dynamodb.send(new GetItemCommand({ TableName: harness.config.ledgerTable, Key: marshall(failureKeys(correlationId)), ConsistentRead: true }));
      return Item && unmarshall(Item);
    };
  })
  .extend('transfersOf', { scope: 'file' }, ({ harness }) => (contactId: string) =>
    harness.connect.calls('TransferContact').filter((call) => call.input.ContactId === contactId && call.status === 200),
  );

// A test that made Connect throttle has lowered the shared rate for every later one (as it should in AWS).
it.beforeEach(({ harness }) => harness.resetPacer());

describe('a burst through the buffer (contract section 3.2)', () => {
  it('transfers every event exactly once, paced under Connect\'s quota, nothing dead-lettered', async ({ harness, eventDoor, queueTransfer, transfersOf }) => {
    const performedBefore = harness.connect.transfersPerformed();
    const throttledBefore = harness.connect.throttledCount('TransferContact');
    const door = await eventDoor();
    const requests = Array.from({ length: 20 }, queueTransfer);
    for (const request of requests) door.publish(request);
    await door.drained();

    expect(harness.connect.transfersPerformed() - performedBefore).toBe(20);
    for (const request of requests) expect(transfersOf(request.ContactId)).toHaveLength(1);
    expect(door.deadLetters.size).toBe(0);
    expect(harness.connect.throttledCount('TransferContact') - throttledBefore).toBe(0);
    expect(door.mapping.peakConcurrency).toBeLessThanOrEqual(2);
    // Every record was answered on its first receive.
    expect(door.mapping.invocations.reduce((sum, invocation) => sum + invocation.failed, 0)).toBe(0);
  });

  it('drains exactly once when some records fail and come back after their backoff (compressed: 120 s of SQS\'s in 1.2 s)', async ({ harness, eventDoor, queueTransfer, transfersOf }) => {
    const door = await eventDoor({ visibilityTimeoutMs: 1200 });
    const requests = Array.from({ length: 6 }, queueTransfer);
    // Two records' three SDK attempts each fail: they return to the buffer while the rest of the burst drains.
    harness.connect.failNext('TransferContact', 6, 'internal');
    for (const request of requests) door.publish(request);
    await door.drained();

    for (const request of requests) expect(transfersOf(request.ContactId)).toHaveLength(1);
    expect(door.deadLetters.size).toBe(0);
    expect(door.buffer.visibilityChanges.length).toBeGreaterThanOrEqual(1);
    for (const change of door.buffer.visibilityChanges) {
      expect(change.seconds).toBeGreaterThanOrEqual(returnDelaySeconds(change.receiveCount, 0));
      expect(change.seconds).toBeLessThanOrEqual(returnDelaySeconds(change.receiveCount, 1));
    }
  });

  it('takes the lock before the Describe calls: a duplicate event costs Connect nothing', async ({ harness, eventDoor, queueTransfer, transfersOf }) => {
    const door = await eventDoor();
    const request = queueTransfer();
    const id = door.publish(request);
    await door.drained();
    const calls = harness.connect.callCount();
    // EventBridge delivers at least once: the same event again, as another message.
    door.buffer.send(JSON.stringify(eventBridgeEvent(request, { id })));
    await door.drained();
    expect(harness.connect.callCount()).toBe(calls);
    expect(transfersOf(request.ContactId)).toHaveLength(1);
  });
});

describe('what ends without a transfer (contract sections 3.2 and 9)', () => {
  it('rejects final outcomes and malformed messages once, deletes them, and records each for the failure event', async ({ fx, eventDoor, queueTransfer, failureRecord }) => {
    const door = await eventDoor();
    const ended = { ContactId: fx.contact('TASK', true), ContactFlowId: fx.flows.inbound, QueueId: fx.queues.enabled, ClientToken: 'crm-case-1' };
    const endedId = door.publish(ended);
    const wrongTypeId = door.publish(queueTransfer(), { detailType: 'SomethingElse' });
    const notAnObjectId = door.publish('ContactId=1');
    const notJson = door.buffer.send('{not json');
    await door.drained();

    // One invocation per record's single receive: nothing came back from the buffer.
    expect(door.mapping.invocations.reduce((sum, invocation) => sum + invocation.records, 0)).toBe(4);
    expect(door.deadLetters.size).toBe(0);
    expect(await failureRecord(endedId)).toMatchObject({
      status: 'REJECTED',
      reason: 'CONTACT_NOT_ACTIVE',
      type: 'InvalidRequestException',
      clientToken: 'crm-case-1',
      contactId: ended.ContactId,
      request: JSON.stringify(ended),
    });
    expect(await failureRecord(wrongTypeId)).toMatchObject({ status: 'REJECTED', reason: 'VALIDATION_FAILED', message: expect.stringContaining('not a TransferContact event') });
    expect(await failureRecord(notAnObjectId)).toMatchObject({ status: 'REJECTED', reason: 'VALIDATION_FAILED', message: expect.stringContaining('detail must be a JSON object') });
    expect(await failureRecord(notJson)).toMatchObject({ status: 'REJECTED', reason: 'VALIDATION_FAILED', request: '{not json', message: expect.stringContaining('not JSON') });

    // EventBridge delivers at least once: the same event again leaves its failure record, and its one event, as they were.
    const first = await failureRecord(endedId);
    door.publish(ended, { id: endedId });
    await door.drained();
    expect(await failureRecord(endedId)).toEqual(first);
  });

  it('returns a record Connect keeps throttling after its backoff, not the visibility timeout, then transfers it once (compressed: 120 s of SQS\'s in 1.2 s)', async ({ harness, eventDoor, queueTransfer, transfersOf }) => {
    const door = await eventDoor({ visibilityTimeoutMs: 1200 });
    const request = queueTransfer();
    // Other callers hold Connect's whole TransferContact quota (a bucket of none) until the record has been sent back once.
    harness.connect.setQuotas({ ...CONNECT_DEFAULT_QUOTAS, TransferContact: { rate: 2, burst: 0 } });
    try {
      door.publish(request);
      for (let waited = 0; door.buffer.visibilityChanges.length === 0; waited += 50) {
        if (waited > 25_000) throw new Error('the record was never sent back with a backoff');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      harness.connect.setQuotas(CONNECT_DEFAULT_QUOTAS);
    }
    await door.drained();

    expect(transfersOf(request.ContactId)).toHaveLength(1);
    expect(door.deadLetters.size).toBe(0);
    const [first] = door.buffer.visibilityChanges;
    // 30 s after the first receive and doubling, up to a fifth more: not the 120 s visibility timeout.
    expect(first?.seconds).toBeGreaterThanOrEqual(returnDelaySeconds(first?.receiveCount ?? 0, 0));
    expect(first?.seconds).toBeLessThanOrEqual(returnDelaySeconds(first?.receiveCount ?? 0, 1));
    expect(first?.seconds).not.toBe(120);
    expect(door.mapping.invocations.at(-1)).toEqual({ records: 1, failed: 0 });
  });

  it('sends a record the pacer turned away back for about its slot, not for a backoff', async ({ harness, queueTransfer, transfersOf }) => {
    const buffer = new QueueModel({ arn: BUFFER_ARN, visibilityTimeoutMs: 120_000 });
    const sqs = await startSqsEndpoint([buffer]);
    // Other containers hold the next 5 s of the shared pacer's slots (2/s): later than an invocation with 3 s left may wait.
    const { config } = harness;
    const pacer = new DynamoDbPacer(harness.dynamodbClient(), config.idempotencyTable, config.pace, config.instance);
    const held: number[] = [];
    try {
      for (let slot = 0; slot < 10; slot += 1) held.push((await pacer.reserve(Date.now() + 60_000)) ?? 0);
      const request = queueTransfer();
      buffer.send(JSON.stringify(eventBridgeEvent(request)));
      const records = buffer.receive(1);
      const response = await harness.newContainer({ AWS_ENDPOINT_URL_SQS: sqs.url })({ Records: records }, lambdaContext(3000));

      expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: records[0]?.messageId }] });
      expect(transfersOf(request.ContactId)).toHaveLength(0);
      expect(buffer.visibilityChanges).toEqual([{ messageId: records[0]?.messageId, receiveCount: 1, seconds: EVENT_BUFFER.pacedOutSeconds }]);
    } finally {
      for (const sendAt of held.reverse()) await pacer.release(sendAt);
      await sqs.close();
    }
  });

  it('loses nothing when SQS refuses the backoff: the record returns after the visibility timeout and is transferred once (compressed: visibility 1.6 s)', async ({ harness, eventDoor, queueTransfer, transfersOf }) => {
    const door = await eventDoor({ visibilityTimeoutMs: 1600 });
    door.sqs.refuse = true;
    const request = queueTransfer();
    harness.connect.failNext('TransferContact', 3, 'internal');
    door.publish(request);
    await door.drained();

    // Every failed receive asked for its backoff and was refused; the record came back all the same.
    const failedReceives = door.mapping.invocations.filter((invocation) => invocation.failed > 0).length;
    expect(failedReceives).toBeGreaterThanOrEqual(1);
    expect(door.sqs.calls).toBe(failedReceives);
    expect(door.buffer.visibilityChanges).toEqual([]);
    expect(door.mapping.invocations.at(-1)).toEqual({ records: 1, failed: 0 });
    expect(transfersOf(request.ContactId)).toHaveLength(1);
    expect(door.deadLetters.size).toBe(0);
  });

  it('returns a record that keeps failing to the buffer and dead-letters it only after its last receive (compressed: visibility 800 ms, still longer than one invocation as 120 s is than 10 s; 3 receives)', async ({ harness, eventDoor, queueTransfer, failureRecord, transfersOf }) => {
    const door = await eventDoor({ visibilityTimeoutMs: 800, maxReceiveCount: 3 });
    const failing = queueTransfer();
    // Three receives of three SDK attempts each: Connect fails every one of them.
    harness.connect.failNext('TransferContact', 9, 'internal');
    const failingId = door.publish(failing);
    await door.drained();

    expect(door.mapping.invocations.map((invocation) => invocation.failed)).toEqual([1, 1, 1]);
    // A backoff after the first and second receives; none after the last, which only dead-letters it.
    expect(door.buffer.visibilityChanges.map((change) => change.receiveCount)).toEqual([1, 2]);
    expect(door.deadLetters.size).toBe(1);
    expect(JSON.parse(door.deadLetters.bodies()[0] ?? '{}')).toMatchObject({ id: failingId, detail: failing });
    expect(transfersOf(failing.ContactId)).toHaveLength(0);
    // Connect's 5xx may hide a transfer it made, so the intent stays PENDING and no failure is written yet: the
    // dead-letter door writes it once the sweeper has settled the intent (test/integration/backstops.test.ts).
    expect(await failureRecord(failingId)).toBeUndefined();

    // The door goes on with the next event as usual.
    const fine = queueTransfer();
    door.publish(fine);
    await door.drained();
    expect(transfersOf(fine.ContactId)).toHaveLength(1);
    expect(door.deadLetters.size).toBe(1);
  });
});

describe('transfer events from the ledger stream (contract section 9, local model of the deployed pipes)', () => {
  it('publishes one Contact Transferred per transfer from any door, one Contact Transfer Failed per failed event, none for a replay', async ({ harness, fx, eventDoor, queueTransfer }) => {
    const events = startTransferEvents(harness.dynamodbClient(), harness.config.ledgerTable, 'contact-transfer-gateway', 60_000);
    await events.flush();
    const before = events.published.length;
    const door = await eventDoor();
    const transferred = { ...queueTransfer(), ClientToken: 'crm-case-7' };
    const transferredId = door.publish(transferred);
    const rejected = { ContactId: fx.contact('VOICE'), ContactFlowId: fx.flows.inbound, ClientToken: 'crm-case-8' };
    const rejectedId = door.publish(rejected);
    await door.drained();
    // A replay of the same request, by HTTPS this time, and a transfer by HTTPS.
    expect(asHttp(await harness.newContainer()(httpEvent(transferred), lambdaContext())).headers['Idempotent-Replayed']).toBe('true');
    const overHttps = queueTransfer();
    expect(asHttp(await harness.newContainer()(httpEvent(overHttps), lambdaContext())).status).toBe(200);
    await events.flush();
    await events.stop();

    const published = events.published.slice(before);
    expect(published.map((event) => event['detail-type']).sort()).toEqual(['Contact Transfer Failed', 'Contact Transferred', 'Contact Transferred']);
    const byEvent = published.find((event) => (event.detail as { CorrelationId?: string }).CorrelationId === transferredId);
    expect(byEvent).toMatchObject({
      source: 'contact-transfer-gateway',
      detail: {
        TreeId: transferred.ContactId,
        TransferNumber: 1,
        FromContactId: transferred.ContactId,
        ToContactId: expect.any(String),
        ContactFlowId: transferred.ContactFlowId,
        QueueId: transferred.QueueId,
        UserId: '',
        Door: 'eventbridge',
        RequestedBy: `internal.contact-transfer/${transferredId}`,
        ClientToken: 'crm-case-7',
      },
    });
    expect(published.find((event) => (event.detail as { FromContactId?: string }).FromContactId === overHttps.ContactId)?.detail).toMatchObject({ Door: 'https' });
    expect(published.find((event) => event['detail-type'] === 'Contact Transfer Failed')?.detail).toEqual({
      Outcome: 'REJECTED',
      Type: 'InvalidRequestException',
      ReasonCode: 'CHANNEL_NOT_SUPPORTED',
      Message: 'Only contacts of an allowed channel can be transferred.',
      Request: JSON.stringify(rejected),
      ClientToken: 'crm-case-8',
      // Every event carries the request's Note, empty when it had none, and its ScheduleId, empty unless a schedule fired it.
      Note: '',
      ScheduleId: '',
      ContactId: rejected.ContactId,
      EventId: rejectedId,
      RequestedBy: `internal.contact-transfer/${rejectedId}`,
      At: expect.any(String),
    });
  });
});

describe('a detail nested thousands of levels deep, sent straight to the buffer', () => {
  it('is a final VALIDATION_FAILED on its first receive, with its failure record and its Contact Transfer Failed, not a stack overflow', async ({ harness, fx, eventDoor, failureRecord }) => {
    const events = startTransferEvents(harness.dynamodbClient(), harness.config.ledgerTable, 'contact-transfer-gateway', 60_000);
    await events.flush();
    const before = events.published.length;
    const door = await eventDoor();
    const id = randomUUID();
    const request = { ContactId: fx.contact(), ContactFlowId: fx.flows.inbound, ClientToken: `deep-${randomUUID()}` };
    // About 10 KB: 5,000 levels, written as text (building it as an object would overflow the test's own stack).
    const deep = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
    const body = JSON.stringify(eventBridgeEvent({ ...request, Deep: 'DEEP' }, { id })).replace('"DEEP"', deep);
    door.buffer.send(body);
    await door.drained();
    await events.flush();
    await events.stop();

    expect(door.mapping.invocations.map((invocation) => invocation.failed)).toEqual([0]);
    expect(door.deadLetters.size).toBe(0);
    expect(await failureRecord(id)).toMatchObject({ status: 'REJECTED', reason: 'VALIDATION_FAILED', type: 'InvalidRequestException' });
    const failed = events.published.slice(before).filter((event) => (event.detail as { EventId?: string }).EventId === id);
    expect(failed.map((event) => [event['detail-type'], (event.detail as { ReasonCode?: string }).ReasonCode])).toEqual([['Contact Transfer Failed', 'VALIDATION_FAILED']]);
    expect(harness.connect.calls('TransferContact').filter((call) => call.input.ContactId === request.ContactId)).toHaveLength(0);
  });
});

describe('who may use the door', () => {
  it('accepts SQS records only from the stack\'s buffer: another queue\'s are refused, no trigger of the function', async ({ harness, queueTransfer }) => {
    const gateway = harness.newContainer();
    const forged = new QueueModel({ arn: 'arn:aws:sqs:us-east-1:444455556666:elsewhere', visibilityTimeoutMs: 1000 });
    forged.send(JSON.stringify(eventBridgeEvent(queueTransfer())));
    const before = harness.connect.callCount();
    await expect(gateway({ Records: forged.receive(1) }, lambdaContext())).rejects.toMatchObject({ name: 'UnrecognisedEvent' });
    expect(harness.connect.callCount()).toBe(before);
  });
});
