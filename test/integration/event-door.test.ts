import { randomUUID } from 'node:crypto';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { afterEach, describe, expect } from 'vitest';
import { failureKeys } from '../../lambda/adapters/failure-records';
import { EventSourceMappingModel, QueueModel, containerPool } from '../../local/buffered-delivery';
import { startTransferEvents } from '../../local/event-pipes';
import type { BatchHandler } from '../../local/buffered-delivery';
import { eventBridgeEvent } from '../../local/lambda-events';
import { CONNECT_DEFAULT_QUOTAS } from '../../simulator/connect-simulator';
import { asHttp, httpEvent, lambdaContext } from '../support/gateway-harness';
import type { GatewayHarness } from '../support/gateway-harness';
import { gatewayTest } from '../support/gateway-test';

/**
 * The event door as AWS runs it: the rule's events in an SQS queue model, drained by an event source mapping model
 * (batches of 3, at most 2 invocations, partial batch responses) into the real handler, against a Connect simulator
 * with Connect's default quotas and the gateway's default pacing (2/s, burst 2).
 */
const BUFFER_ARN = 'arn:aws:sqs:us-east-1:111122223333:event-buffer';
interface Door {
  readonly buffer: QueueModel;
  readonly deadLetters: QueueModel;
  readonly mapping: EventSourceMappingModel;
  publish(detail: unknown, options?: { id?: string; detailType?: string }): string;
  drained(): Promise<void>;
}
const doors: Door[] = [];
afterEach(async () => {
  await Promise.all(doors.splice(0).map((door) => door.mapping.stop()));
});

/** The stack's wiring: visibility 120 s and 31 receives, unless a test compresses them (and says so). */
function eventDoorOf(harness: GatewayHarness, options: { visibilityTimeoutMs?: number; maxReceiveCount?: number } = {}): Door {
  const maxReceiveCount = options.maxReceiveCount ?? 31;
  const deadLetters = new QueueModel({ arn: 'arn:aws:sqs:us-east-1:111122223333:dead-letters', visibilityTimeoutMs: 30_000 });
  const buffer = new QueueModel({ arn: BUFFER_ARN, visibilityTimeoutMs: options.visibilityTimeoutMs ?? 120_000, maxReceiveCount, deadLetterQueue: deadLetters });
  const handler: BatchHandler = containerPool(() => harness.newContainer({ EVENT_MAX_RECEIVES: String(maxReceiveCount) }) as BatchHandler);
  const mapping = new EventSourceMappingModel({ queue: buffer, handler, batchSize: 3, maxConcurrency: 2, functionTimeoutMs: 10_000 });
  mapping.start();
  const door: Door = {
    buffer,
    deadLetters,
    mapping,
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
  env: { TRANSFER_RATE_PER_SECOND: '2', TRANSFER_BURST: '2', EVENT_BUFFER_QUEUE_ARN: BUFFER_ARN, EVENT_MAX_RECEIVES: '31' },
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

describe('a burst through the buffer (contract section 3.2)', () => {
  it('transfers every event exactly once, paced under Connect\'s quota, nothing dead-lettered', async ({ harness, eventDoor, queueTransfer, transfersOf }) => {
    const performedBefore = harness.connect.transfersPerformed();
    const throttledBefore = harness.connect.throttledCount('TransferContact');
    const door = eventDoor();
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

  it('takes the lock before the Describe calls: a duplicate event costs Connect nothing', async ({ harness, eventDoor, queueTransfer, transfersOf }) => {
    const door = eventDoor();
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
    const door = eventDoor();
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

  it('retries a record Connect throttled inside the invocation, then transfers it, without spending a receive', async ({ harness, eventDoor, queueTransfer, transfersOf }) => {
    const door = eventDoor();
    const request = queueTransfer();
    // More throttles than the SDK's three attempts: the door itself has to try again.
    harness.connect.failNext('TransferContact', 4, 'throttle');
    door.publish(request);
    await door.drained();
    expect(transfersOf(request.ContactId)).toHaveLength(1);
    expect(door.mapping.invocations).toEqual([{ records: 1, failed: 0 }]);
  });

  it('returns a record that keeps failing to the buffer and dead-letters it only after its last receive (compressed: visibility 800 ms, still longer than one invocation as 120 s is than 10 s; 3 receives)', async ({ harness, eventDoor, queueTransfer, failureRecord, transfersOf }) => {
    const door = eventDoor({ visibilityTimeoutMs: 800, maxReceiveCount: 3 });
    const failing = queueTransfer();
    // Three receives of three SDK attempts each: Connect fails every one of them.
    harness.connect.failNext('TransferContact', 9, 'internal');
    const failingId = door.publish(failing);
    await door.drained();

    expect(door.mapping.invocations.map((invocation) => invocation.failed)).toEqual([1, 1, 1]);
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
    const door = eventDoor();
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
      Reason: 'CHANNEL_NOT_SUPPORTED',
      Message: 'Only contacts of an allowed channel can be transferred.',
      Request: JSON.stringify(rejected),
      ClientToken: 'crm-case-8',
      ContactId: rejected.ContactId,
      EventId: rejectedId,
      RequestedBy: `internal.contact-transfer/${rejectedId}`,
      At: expect.any(String),
    });
  });
});

describe('who may use the door', () => {
  it('accepts SQS records only from the stack\'s buffer: another queue\'s are a direct invocation, refused', async ({ harness, queueTransfer }) => {
    const gateway = harness.newContainer();
    const forged = new QueueModel({ arn: 'arn:aws:sqs:us-east-1:444455556666:elsewhere', visibilityTimeoutMs: 1000 });
    forged.send(JSON.stringify(eventBridgeEvent(queueTransfer())));
    const before = harness.connect.callCount();
    await expect(gateway({ Records: forged.receive(1) }, lambdaContext())).rejects.toMatchObject({ name: 'InvalidRequestException' });
    expect(harness.connect.callCount()).toBe(before);
  });
});
