import type { SQSRecord } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { BufferVisibility } from '../../../lambda/adapters/buffer-visibility';
import type { FailureLog } from '../../../lambda/adapters/failure-records';
import { firedScheduleMessage } from '../../../lambda/adapters/scheduler';
import type { DoorTrust } from '../../../lambda/config';
import { parseInstanceArn } from '../../../lambda/domain/arn';
import type { ConnectInstance } from '../../../lambda/domain/arn';
import { TransferError } from '../../../lambda/domain/errors';
import { MAX_JSON_DEPTH } from '../../../lambda/domain/request';
import { bufferEntry, isBufferEvent, originalRequestOf, transferEventOf } from '../../../lambda/doors/sqs';
import { logger } from '../../../lambda/observability';
import type { Origin, TransferResult } from '../../../lambda/ports';
import { ScheduledTransfers } from '../../../lambda/usecase/scheduled-transfers';
import type { TransferContactUseCase, TransferOutcome } from '../../../lambda/usecase/transfer-contact';
import { QueueModel } from '../../../local/buffered-delivery';
import { eventBridgeEvent, lambdaContext } from '../../../local/lambda-events';
import { fakeScheduler, InMemorySchedules } from '../../support/schedule-store';

const INSTANCE_ARN = 'arn:aws:connect:us-east-1:111122223333:instance/11111111-1111-4111-8111-111111111111';
const instance = parseInstanceArn(INSTANCE_ARN) as ConnectInstance;
const BUFFER = 'arn:aws:sqs:us-east-1:111122223333:event-buffer';
const SOURCE = 'internal.contact-transfer';
const trust: DoorTrust = { account: '111122223333', eventSources: [SOURCE] };
const MAX_RECEIVES = 5;
const toQueue = { ContactId: 'c-1', ContactFlowId: 'f-1', QueueId: 'q-1', ClientToken: 'crm-1' };
const transferred: TransferResult = { ContactId: 'c-new', ContactArn: `${INSTANCE_ARN}/contact/c-new` };
const fromThePublisher: Origin = { door: 'eventbridge', caller: `${SOURCE}/evt-1`, correlationId: 'evt-1' };

const refused = (error: unknown) => async (): Promise<TransferOutcome> => {
  throw error;
};

/**
 * The event door as lambda/gateway.ts wires it with scheduled transfers configured, in front of a use case that
 * answers as told, with the buffer's visibility calls and failure records kept for the test to read.
 */
async function setUp(answer: () => Promise<TransferOutcome> = async () => ({ result: transferred, replayed: false }), options: { scheduledTransfers?: boolean } = {}) {
  const execute = vi.fn<TransferContactUseCase['execute']>(answer);
  const failures = { record: vi.fn<FailureLog['record']>(async () => undefined) };
  const returnAfter = vi.fn<BufferVisibility['returnAfter']>(async () => undefined);
  const visibility = { returnAfter } as Pick<BufferVisibility, 'returnAfter'> as BufferVisibility;
  const store = new InMemorySchedules();
  const schedules = new ScheduledTransfers({ instance, schedules: store, scheduler: fakeScheduler() });
  const { schedule } = await schedules.create({ ...toQueue, AfterSeconds: 120 }, { door: 'https', caller: 'crm', correlationId: 'req-1' });
  const serve = bufferEntry({ instance, useCase: { execute }, trust, failures, visibility, maxReceives: MAX_RECEIVES, ...(options.scheduledTransfers !== false && { schedules }) });
  const queue = new QueueModel({ arn: BUFFER, visibilityTimeoutMs: 1000 });
  /** Delivers one message with this body, on its `receiveCount`-th receive; answers the batch response and the record. */
  const deliver = async (body: string, receiveCount = 1) => {
    queue.send(body);
    const [received] = queue.receive(1);
    const record: SQSRecord = { ...received!, attributes: { ...received!.attributes, ApproximateReceiveCount: String(receiveCount) } };
    const response = await serve({ Records: [record] }, lambdaContext());
    return { failed: response.batchItemFailures.map(({ itemIdentifier }) => itemIdentifier), record };
  };
  return { deliver, execute, failures, returnAfter, store, scheduleId: schedule.ScheduleId, firedMessage: firedScheduleMessage(store.items.get(schedule.ScheduleId)!) };
}

const transferMessage = (detail: unknown = toQueue, options: { source?: string } = {}) => JSON.stringify(eventBridgeEvent(detail, { id: 'evt-1', ...options }));

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the event door\'s entry: what becomes of each buffered record', () => {
  it('transfers the event\'s request as its publisher\'s, taking the idempotency lock before the look-ups, and deletes the record', async () => {
    const { deliver, execute, failures, returnAfter } = await setUp();
    expect((await deliver(transferMessage())).failed).toEqual([]);
    expect(execute).toHaveBeenCalledExactlyOnceWith(toQueue, fromThePublisher, { lockBeforeLookups: true, slotDeadline: expect.any(Number) });
    expect(failures.record).not.toHaveBeenCalled();
    expect(returnAfter).not.toHaveBeenCalled();
  });

  it('records a refusal, with the request as published and who published it, for its Contact Transfer Failed event, and deletes the record', async () => {
    const refusal = TransferError.of('CONTACT_NOT_ACTIVE');
    const { deliver, failures } = await setUp(refused(refusal));
    expect((await deliver(transferMessage())).failed).toEqual([]);
    expect(failures.record).toHaveBeenCalledExactlyOnceWith({
      outcome: 'REJECTED',
      request: toQueue,
      error: { type: 'InvalidRequestException', reason: 'CONTACT_NOT_ACTIVE', message: refusal.message },
      origin: fromThePublisher,
      at: expect.any(Date),
    });
  });

  it('refuses an event from a source the stack does not name before the use case, and records the refusal', async () => {
    const { deliver, execute, failures } = await setUp();
    expect((await deliver(transferMessage(toQueue, { source: 'someone.else' }))).failed).toEqual([]);
    expect(execute).not.toHaveBeenCalled();
    expect(failures.record).toHaveBeenCalledExactlyOnceWith(
      expect.objectContaining({ outcome: 'REJECTED', error: expect.objectContaining({ reason: 'VALIDATION_FAILED', message: expect.stringMatching(/not from a configured source/) }) }),
    );
  });

  it('records no failure for a condition that did not hold (its Skipped event comes from the ledger) and deletes the record', async () => {
    const { deliver, failures } = await setUp(refused(TransferError.of('CONDITION_NOT_MET')));
    expect((await deliver(transferMessage())).failed).toEqual([]);
    expect(failures.record).not.toHaveBeenCalled();
  });

  it('returns a transfer the ledger has not recorded yet to the buffer, so a replay records it, and never records it as failed', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const { deliver, failures, returnAfter } = await setUp(async () => ({ result: transferred, replayed: false, unrecorded: true }));
    const { failed, record } = await deliver(transferMessage());
    expect(failed).toEqual([record.messageId]);
    expect(returnAfter).toHaveBeenCalledExactlyOnceWith(record.receiptHandle, 30);
    expect(failures.record).not.toHaveBeenCalled();
  });
});

describe('the event door\'s entry: when a record that failed comes back', () => {
  it.each<[number, number]>([
    [1, 30],
    [2, 60],
    [4, 240],
  ])('on receive %i a failure a retry can fix returns after %i s, unrecorded as a failure', async (receiveCount, seconds) => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const { deliver, failures, returnAfter } = await setUp(refused(TransferError.of('UPSTREAM_FAILURE')));
    const { failed, record } = await deliver(transferMessage(), receiveCount);
    expect(failed).toEqual([record.messageId]);
    expect(returnAfter).toHaveBeenCalledExactlyOnceWith(record.receiptHandle, seconds);
    expect(failures.record).not.toHaveBeenCalled();
  });

  it('returns one only the pacer turned away in 10 s, Connect not having been asked, and logs when it returns', async () => {
    const { deliver, returnAfter } = await setUp(refused(TransferError.pacedOut()));
    const info = vi.spyOn(logger, 'info');
    const { failed, record } = await deliver(transferMessage(), 2);
    expect(failed).toEqual([record.messageId]);
    expect(returnAfter).toHaveBeenCalledExactlyOnceWith(record.receiptHandle, 10);
    expect(info).toHaveBeenCalledWith('returned to the buffer', { receiveCount: 2, returnsInSeconds: 10, pacedOut: true });
  });

  it('leaves the last receive as it is, so SQS moves the record to the dead-letter queue when its visibility timeout ends', async () => {
    const { deliver, returnAfter } = await setUp(refused(TransferError.of('UPSTREAM_FAILURE')));
    const { failed, record } = await deliver(transferMessage(), MAX_RECEIVES);
    expect(failed).toEqual([record.messageId]);
    expect(returnAfter).not.toHaveBeenCalled();
  });

  it('still returns the record, after the visibility timeout, when SQS refuses to set its return, with a warning', async () => {
    const { deliver, returnAfter } = await setUp(refused(TransferError.of('THROTTLED')));
    const refusal = new Error('ReceiptHandleIsInvalid');
    returnAfter.mockRejectedValueOnce(refusal);
    const warn = vi.spyOn(logger, 'warn');
    const { failed, record } = await deliver(transferMessage());
    expect(failed).toEqual([record.messageId]);
    expect(warn).toHaveBeenCalledExactlyOnceWith(expect.stringMatching(/visibility timeout/), { receiveCount: 1, error: refusal });
  });
});

describe('the event door\'s entry: a fired schedule in the buffer', () => {
  it('transfers the schedule\'s own request under its ScheduleId and records its outcome', async () => {
    const { deliver, execute, store, scheduleId, firedMessage } = await setUp();
    expect((await deliver(firedMessage)).failed).toEqual([]);
    expect(execute).toHaveBeenCalledExactlyOnceWith({ ...toQueue, ClientToken: scheduleId, ScheduleId: scheduleId }, expect.objectContaining({ correlationId: scheduleId }), expect.anything());
    expect(store.items.get(scheduleId)?.Outcome).toMatchObject({ Result: 'TRANSFERRED' });
  });

  it('returns it to the buffer while its transfer is not recorded', async () => {
    const { deliver, store, scheduleId, firedMessage } = await setUp(async () => ({ result: transferred, replayed: false, unrecorded: true }));
    const { failed, record } = await deliver(firedMessage);
    expect(failed).toEqual([record.messageId]);
    expect(store.items.get(scheduleId)).not.toHaveProperty('Outcome');
  });

  it('without scheduled transfers configured, refuses it as no TransferContact event, transferring nothing', async () => {
    const { deliver, execute, failures, firedMessage } = await setUp(undefined, { scheduledTransfers: false });
    expect((await deliver(firedMessage)).failed).toEqual([]);
    expect(execute).not.toHaveBeenCalled();
    expect(failures.record).toHaveBeenCalledExactlyOnceWith(expect.objectContaining({ outcome: 'REJECTED', error: expect.objectContaining({ reason: 'VALIDATION_FAILED' }) }));
  });
});

describe('the buffered event door: what it reads from a record', () => {
  const queue = new QueueModel({ arn: BUFFER, visibilityTimeoutMs: 1000 });
  const recordOf = (body: string): SQSRecord => {
    queue.send(body);
    return queue.receive(1)[0]!;
  };
  const nested = (levels: number): unknown => (levels === 0 ? 'deep' : { inner: nested(levels - 1) });

  it('refuses a message nested deeper than any TransferContact event, and keeps it as text for the failure event', () => {
    const body = JSON.stringify(eventBridgeEvent({ ...toQueue, Note: nested(MAX_JSON_DEPTH) }));
    expect(() => transferEventOf(recordOf(body))).toThrow(expect.objectContaining({ reason: 'VALIDATION_FAILED', message: expect.stringMatching(/nests deeper than 32 levels/) }));
    expect(originalRequestOf(recordOf(body))).toBe(body);
  });

  it('refuses JSON that is no object as no EventBridge event', () => {
    for (const body of ['5', '"TransferContact"', 'true']) {
      expect(() => transferEventOf(recordOf(body))).toThrow(expect.objectContaining({ reason: 'VALIDATION_FAILED', message: 'The buffered message is not an EventBridge event.' }));
    }
  });

  it('takes no record without the buffer\'s ARN when the gateway has no buffer', () => {
    const { eventSourceARN: _arn, ...withoutArn } = recordOf('{}');
    expect(isBufferEvent({ Records: [withoutArn] }, undefined)).toBe(false);
  });
});
