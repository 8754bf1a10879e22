import type { SQSRecord } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { FailureError, FailureLog, FailureOutcome } from '../../../lambda/adapters/failure-records';
import { firedScheduleMessage } from '../../../lambda/adapters/scheduler';
import type { DoorTrust } from '../../../lambda/config';
import { parseInstanceArn } from '../../../lambda/domain/arn';
import type { ConnectInstance } from '../../../lambda/domain/arn';
import { idempotencyKeysOf } from '../../../lambda/domain/idempotency-keys';
import type { TransferRequest } from '../../../lambda/domain/request';
import { arrivalOf, deadLetterEntry, deadLetterErrorOf } from '../../../lambda/doors/dead-letters';
import { logger } from '../../../lambda/observability';
import type { Intent, IntentStatus, LedgerPort, LedgerView, Origin } from '../../../lambda/ports';
import { ScheduledTransfers } from '../../../lambda/usecase/scheduled-transfers';
import { QueueModel } from '../../../local/buffered-delivery';
import { eventBridgeEvent, lambdaContext } from '../../../local/lambda-events';
import { fakeScheduler, InMemorySchedules } from '../../support/schedule-store';

const INSTANCE_ARN = 'arn:aws:connect:us-east-1:111122223333:instance/11111111-1111-4111-8111-111111111111';
const instance = parseInstanceArn(INSTANCE_ARN) as ConnectInstance;
const BUFFER = 'arn:aws:sqs:us-east-1:111122223333:event-buffer';
const DEAD_LETTERS = 'arn:aws:sqs:us-east-1:111122223333:event-dead-letters';
const RULE = 'arn:aws:events:us-east-1:111122223333:rule/transfer-rule';
const SOURCE = 'internal.contact-transfer';
const trust: DoorTrust = { account: '111122223333', eventSources: [SOURCE] };
const toQueue: TransferRequest = { ContactId: 'c-1', ContactFlowId: 'f-1', QueueId: 'q-1', ClientToken: 'crm-1' };
const fromThePublisher: Origin = { door: 'eventbridge', caller: `${SOURCE}/evt-1`, correlationId: 'evt-1' };
const NOT_FINISHED = /^The gateway did not finish the request before its last retry ended/;

/** The intent the ledger holds under a request's key: this request's payload, or another's under the same key. */
function intentOf(request: TransferRequest, status: IntentStatus, payloadHash = idempotencyKeysOf(request, instance.id).payloadHash): Intent {
  const { idempotencyKey } = idempotencyKeysOf(request, instance.id);
  return { treeId: request.ContactId, transferNumber: 1, transfersInTree: 1, fromContactId: request.ContactId, idempotencyKey, status, payloadHash, intendedAt: new Date(0) };
}

/**
 * The dead-letter door as lambda/gateway.ts wires it with scheduled transfers configured: a ledger that answers as
 * told, failure records kept for the test to read, and the dead-letter queue that the buffer redrives into and the
 * rule sends its delivery failures to.
 */
async function setUp(read: LedgerPort['read'] = async () => ({}), options: { scheduledTransfers?: boolean } = {}) {
  const ledger = { read: vi.fn<LedgerPort['read']>(read) };
  const failures = { record: vi.fn<FailureLog['record']>(async () => undefined) };
  const store = new InMemorySchedules();
  const schedules = new ScheduledTransfers({ instance, schedules: store, scheduler: fakeScheduler() });
  const { schedule } = await schedules.create({ ...toQueue, AfterSeconds: 120 }, { door: 'https', caller: 'crm', correlationId: 'req-1' });
  const serve = deadLetterEntry({
    instance,
    trust,
    bufferQueueArn: BUFFER,
    transferRuleArn: RULE,
    ledger,
    failures,
    ...(options.scheduledTransfers !== false && { schedules }),
  });
  const queue = new QueueModel({ arn: DEAD_LETTERS, visibilityTimeoutMs: 1000 });
  const answer = async (enqueue: (queue: QueueModel) => void) => {
    enqueue(queue);
    const [record] = queue.receive(1);
    const response = await serve({ Records: [record!] }, lambdaContext());
    return { returned: response.batchItemFailures.map(({ itemIdentifier }) => itemIdentifier), record: record! };
  };
  return {
    serve,
    ledger,
    failures,
    store,
    scheduleId: schedule.ScheduleId,
    /** What Scheduler puts into the buffer when the schedule fires. */
    firedMessage: firedScheduleMessage(store.items.get(schedule.ScheduleId)!),
    /** SQS's redrive from the buffer after the message's last receive there. */
    redriven: (body: string) => answer((queue) => queue.redriveFrom(BUFFER, body)),
    /** The rule's delivery failure: EventBridge sends the event with its error as message attributes. */
    undelivered: (body: string, error: Record<string, string>) => answer((queue) => queue.send(body, { RULE_ARN: RULE, TARGET_ARN: BUFFER, ...error })),
    /** Whatever else someone sent to the queue. */
    sent: (body: string) => answer((queue) => queue.send(body)),
  };
}

const transferMessage = (detail: unknown = toQueue, options: { source?: string } = {}) => JSON.stringify(eventBridgeEvent(detail, { id: 'evt-1', ...options }));

/** The failure record of the published event: what its Contact Transfer Failed event carries. */
const failureRecordOf = (outcome: FailureOutcome, request: unknown, error: Partial<FailureError>) => ({
  outcome,
  request,
  error: { type: expect.any(String), reason: expect.any(String), message: expect.any(String), ...error },
  origin: fromThePublisher,
  at: expect.any(Date),
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the dead-letter door\'s entry: a dead-lettered transfer (contract section 9)', () => {
  it('records a redriven request that left no transfer as DEAD_LETTERED, for its Contact Transfer Failed event, logged under the event id, and deletes the message', async () => {
    const { redriven, ledger, failures } = await setUp();
    const appendKeys = vi.spyOn(logger, 'appendKeys');
    const info = vi.spyOn(logger, 'info');
    expect((await redriven(transferMessage())).returned).toEqual([]);
    expect(appendKeys).toHaveBeenCalledWith({ correlationId: 'evt-1' });
    expect(ledger.read).toHaveBeenCalledExactlyOnceWith('c-1', idempotencyKeysOf(toQueue, instance.id).idempotencyKey);
    expect(failures.record).toHaveBeenCalledExactlyOnceWith(
      failureRecordOf('DEAD_LETTERED', toQueue, { type: 'InternalServiceException', reason: 'INTERNAL_ERROR', message: expect.stringMatching(NOT_FINISHED) }),
    );
    expect(info).toHaveBeenCalledWith('dead letter', { outcome: 'DEAD_LETTERED', reason: 'INTERNAL_ERROR' });
  });

  it('records an event the rule could not deliver with EventBridge\'s error', async () => {
    const { undelivered, failures } = await setUp();
    expect((await undelivered(transferMessage(), { ERROR_CODE: 'NO_PERMISSIONS', ERROR_MESSAGE: 'Access denied' })).returned).toEqual([]);
    expect(failures.record).toHaveBeenCalledExactlyOnceWith(
      expect.objectContaining({ outcome: 'DEAD_LETTERED', error: expect.objectContaining({ message: expect.stringContaining('(NO_PERMISSIONS: Access denied)') }) }),
    );
  });

  it('reports no failure for a transfer the ledger holds as made, and deletes the message', async () => {
    const { redriven, failures } = await setUp(async () => ({ intent: intentOf(toQueue, 'TRANSFERRED') }));
    const info = vi.spyOn(logger, 'info');
    expect((await redriven(transferMessage())).returned).toEqual([]);
    expect(failures.record).not.toHaveBeenCalled();
    expect(info).toHaveBeenCalledWith('dead letter', { outcome: 'transferred' });
  });

  it.each<[string, () => Promise<LedgerView>]>([
    ['the ledger holds its intent as still pending', async () => ({ intent: intentOf(toQueue, 'PENDING') })],
    ['the ledger cannot be read', async () => Promise.reject(new Error('ledger table unreachable'))],
  ])('keeps the message in the queue, recording nothing, while its transfer may have happened: %s', async (_case, read) => {
    const { redriven, failures } = await setUp(read);
    const { returned, record } = await redriven(transferMessage());
    expect(returned).toEqual([record.messageId]);
    expect(failures.record).not.toHaveBeenCalled();
  });

  it.each<[string, Intent]>([
    ['its intent was released', intentOf(toQueue, 'RELEASED')],
    ['the key holds another request\'s pending intent', intentOf(toQueue, 'PENDING', 'another-payload')],
    ['the key holds another request\'s transfer', intentOf(toQueue, 'TRANSFERRED', 'another-payload')],
  ])('records it as DEAD_LETTERED when %s', async (_case, intent) => {
    const { redriven, failures } = await setUp(async () => ({ intent }));
    expect((await redriven(transferMessage())).returned).toEqual([]);
    expect(failures.record).toHaveBeenCalledExactlyOnceWith(expect.objectContaining({ outcome: 'DEAD_LETTERED' }));
  });

  it('records a request rules 1-3 refuse as that rejection, without reading the ledger', async () => {
    const { redriven, ledger, failures } = await setUp();
    const unknownMember = { ...toQueue, Priority: 1 };
    expect((await redriven(transferMessage(unknownMember))).returned).toEqual([]);
    expect(ledger.read).not.toHaveBeenCalled();
    expect(failures.record).toHaveBeenCalledExactlyOnceWith(failureRecordOf('REJECTED', unknownMember, { type: 'InvalidRequestException', reason: 'VALIDATION_FAILED' }));
  });

  it('records an event from a source the stack does not name as rejected', async () => {
    const { redriven, failures } = await setUp();
    await redriven(transferMessage(toQueue, { source: 'someone.else' }));
    expect(failures.record).toHaveBeenCalledExactlyOnceWith(
      expect.objectContaining({ outcome: 'REJECTED', error: expect.objectContaining({ message: expect.stringMatching(/not from a configured source/) }) }),
    );
  });

  it('keeps the message in the queue when its failure record cannot be written', async () => {
    const { redriven, failures } = await setUp();
    failures.record.mockRejectedValueOnce(new Error('ledger table unreachable'));
    const { returned, record } = await redriven(transferMessage());
    expect(returned).toEqual([record.messageId]);
  });

  it('deletes unanswered, with an error for the operator naming the message and its sender, what neither the buffer nor the rule put there', async () => {
    const { sent, ledger, failures } = await setUp();
    const error = vi.spyOn(logger, 'error');
    const { returned, record } = await sent(transferMessage());
    expect(returned).toEqual([]);
    expect(failures.record).not.toHaveBeenCalled();
    expect(ledger.read).not.toHaveBeenCalled();
    expect(error).toHaveBeenCalledExactlyOnceWith(expect.stringMatching(/deleted unanswered, no failure record/), { messageId: record.messageId, senderId: 'AIDAEVENTBRIDGE' });
  });

  it('deletes unanswered, rather than failing the batch, a message that carries no attributes at all', async () => {
    const { serve, failures } = await setUp();
    const bare = { messageId: 'm-1', receiptHandle: 'h-1', body: transferMessage(), eventSource: 'aws:sqs', eventSourceARN: DEAD_LETTERS } as SQSRecord;
    expect(await serve({ Records: [bare] }, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(failures.record).not.toHaveBeenCalled();
  });
});

describe('the dead-letter door\'s entry: a dead-lettered fired schedule', () => {
  it('records the schedule as FAILED and its request as DEAD_LETTERED when its transfer did not happen', async () => {
    const { redriven, ledger, failures, store, scheduleId, firedMessage } = await setUp();
    expect((await redriven(firedMessage)).returned).toEqual([]);
    const fired = { ...toQueue, ClientToken: scheduleId, ScheduleId: scheduleId };
    expect(ledger.read).toHaveBeenCalledExactlyOnceWith('c-1', idempotencyKeysOf(fired, instance.id).idempotencyKey);
    expect(failures.record).toHaveBeenCalledExactlyOnceWith(
      expect.objectContaining({ outcome: 'DEAD_LETTERED', request: { ...toQueue, ScheduleId: scheduleId }, error: expect.objectContaining({ message: expect.stringMatching(NOT_FINISHED) }) }),
    );
    expect(store.items.get(scheduleId)?.Outcome).toMatchObject({ Result: 'FAILED', ReasonCode: 'INTERNAL_ERROR' });
  });

  it('keeps it in the queue while its transfer may have happened', async () => {
    // The payload hash leaves the ClientToken out, so the schedule's request hashes as the request it was created with.
    const { redriven, failures, store, scheduleId, firedMessage } = await setUp(async () => ({ intent: intentOf(toQueue, 'PENDING') }));
    const { returned, record } = await redriven(firedMessage);
    expect(returned).toEqual([record.messageId]);
    expect(failures.record).not.toHaveBeenCalled();
    expect(store.items.get(scheduleId)).not.toHaveProperty('Outcome');
  });

  it('without scheduled transfers configured, records it as a rejected message that is no TransferContact event', async () => {
    const { redriven, failures, firedMessage } = await setUp(undefined, { scheduledTransfers: false });
    await redriven(firedMessage);
    expect(failures.record).toHaveBeenCalledExactlyOnceWith(expect.objectContaining({ outcome: 'REJECTED', error: expect.objectContaining({ reason: 'VALIDATION_FAILED' }) }));
  });
});

describe('which dead letters the door answers, for messages that carry less', () => {
  const text = (stringValue: string) => ({ stringValue, dataType: 'String' });
  const record = (parts: Partial<SQSRecord>): SQSRecord => ({ messageId: 'm', body: '{}', eventSource: 'aws:sqs', ...parts }) as SQSRecord;

  it('answers no rule-shaped message in a gateway without a buffer, even one naming no target', () => {
    const message = record({ attributes: {} as SQSRecord['attributes'], messageAttributes: { RULE_ARN: text(RULE), ERROR_CODE: text('NO_PERMISSIONS') } });
    expect(arrivalOf(message, { bufferQueueArn: undefined, transferRuleArn: RULE })).toBeUndefined();
  });

  it('answers no message naming no rule where the gateway names none', () => {
    const message = record({ attributes: {} as SQSRecord['attributes'], messageAttributes: { TARGET_ARN: text(BUFFER), ERROR_CODE: text('NO_PERMISSIONS') } });
    expect(arrivalOf(message, { bufferQueueArn: BUFFER, transferRuleArn: undefined })).toBeUndefined();
  });

  it('neither fails on nor answers a message without attributes or message attributes', () => {
    expect(arrivalOf(record({}), { bufferQueueArn: BUFFER, transferRuleArn: RULE })).toBeUndefined();
  });

  it('says the gateway did not finish for a redrive without message attributes', () => {
    expect(deadLetterErrorOf(record({ attributes: { DeadLetterQueueSourceArn: BUFFER } as SQSRecord['attributes'] })).message).toMatch(NOT_FINISHED);
  });

  it('names EventBridge\'s error code alone when it gave no message', () => {
    expect(deadLetterErrorOf(record({ messageAttributes: { ERROR_CODE: text('NO_PERMISSIONS') } })).message).toBe(
      "EventBridge could not deliver the event to the gateway's buffer (NO_PERMISSIONS); nothing was transferred.",
    );
  });
});
