import type { SQSRecord } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { FailureLog } from '../../../lambda/adapters/failure-records';
import { parseInstanceArn } from '../../../lambda/domain/arn';
import type { ConnectInstance } from '../../../lambda/domain/arn';
import { TransferError } from '../../../lambda/domain/errors';
import { answerDeadLetteredSchedule, serveFiredSchedule } from '../../../lambda/doors/fired-schedules';
import { logger, metrics } from '../../../lambda/observability';
import type { TransferResult } from '../../../lambda/ports';
import { ScheduledTransfers } from '../../../lambda/usecase/scheduled-transfers';
import type { FiredSchedule } from '../../../lambda/domain/schedule';
import type { TransferContactUseCase, TransferOutcome } from '../../../lambda/usecase/transfer-contact';
import { lambdaContext } from '../../../local/lambda-events';
import { fakeScheduler, InMemorySchedules } from '../../support/schedule-store';

const INSTANCE_ARN = 'arn:aws:connect:eu-west-1:123456789012:instance/11111111-1111-4111-8111-111111111111';
const instance = parseInstanceArn(INSTANCE_ARN) as ConnectInstance;
const CREATOR = 'arn:aws:sts::123456789012:assumed-role/escalations/app';
const toQueue = { ContactId: 'c-1', ContactFlowId: 'f-1', QueueId: 'q-1' };
const transferred: TransferResult = { ContactId: 'c-new', ContactArn: `${INSTANCE_ARN}/contact/c-new` };

const record = { messageId: 'm-1', body: '{}' } as SQSRecord;

async function setUp(answer: () => Promise<TransferOutcome> = async () => ({ result: transferred, replayed: false })) {
  const store = new InMemorySchedules();
  const schedules = new ScheduledTransfers({ instance, schedules: store, scheduler: fakeScheduler() });
  const { schedule } = await schedules.create({ ...toQueue, AfterSeconds: 120 }, { door: 'https', caller: CREATOR, correlationId: 'req-1' });
  const execute = vi.fn<TransferContactUseCase['execute']>(answer);
  const failures = { record: vi.fn<FailureLog['record']>(async () => undefined) };
  const deps = { instance, useCase: { execute }, schedules, failures };
  const scheduleId = schedule.ScheduleId;
  const createdAt = store.items.get(scheduleId)?.CreatedAt;
  return { deps, store, execute, failures, scheduleId, fire: (fired: FiredSchedule = { scheduleId, ...(createdAt && { createdAt }) }) => serveFiredSchedule(deps, fired, record, lambdaContext()) };
}

const refused = (error: TransferError) => async (): Promise<TransferOutcome> => {
  throw error;
};

afterEach(() => {
  vi.restoreAllMocks();
});

describe('a fired schedule (contract section 12)', () => {
  it('transfers its request under its ScheduleId as the key, as the schedule and its creator, and records TRANSFERRED with its metrics published, logged under the ScheduleId', async () => {
    const { fire, execute, store, scheduleId, failures } = await setUp();
    const appendKeys = vi.spyOn(logger, 'appendKeys');
    const publish = vi.spyOn(metrics, 'publishStoredMetrics');
    expect(await fire()).toStrictEqual({});
    expect(appendKeys).toHaveBeenCalledWith({ correlationId: scheduleId });
    expect(publish).toHaveBeenCalledOnce();
    expect(execute).toHaveBeenCalledExactlyOnceWith(
      { ...toQueue, ClientToken: scheduleId, ScheduleId: scheduleId },
      { door: 'eventbridge', caller: `schedule/${scheduleId} created by ${CREATOR}`, correlationId: scheduleId },
      { lockBeforeLookups: true, slotDeadline: expect.any(Number) },
    );
    expect(store.items.get(scheduleId)).toMatchObject({ State: 'FIRED', Outcome: { Result: 'TRANSFERRED', ...transferred } });
    expect(failures.record).not.toHaveBeenCalled();
  });

  it('transfers nothing when made for another write of the state (one taken back since), leaving the state as it is', async () => {
    const { fire, execute, store, scheduleId } = await setUp();
    await fire({ scheduleId, createdAt: '2029-12-31T23:59:00.000Z' });
    expect(execute).not.toHaveBeenCalled();
    expect(store.items.get(scheduleId)).toMatchObject({ State: 'SCHEDULED' });
    await fire();
    expect(execute).toHaveBeenCalledOnce();
  });

  it('transfers nothing once cancelled, and logs that it fired without a transfer', async () => {
    const { fire, execute, store, scheduleId, deps } = await setUp();
    const info = vi.spyOn(logger, 'info');
    await deps.schedules.cancel(scheduleId);
    expect(await fire()).toStrictEqual({});
    expect(execute).not.toHaveBeenCalled();
    expect(store.items.get(scheduleId)).toMatchObject({ State: 'CANCELLED' });
    expect(store.items.get(scheduleId)).not.toHaveProperty('Outcome');
    expect(info).toHaveBeenCalledWith('schedule fired without a transfer', { scheduleId, found: 'CANCELLED', messageId: 'm-1' });
  });

  it('asks the buffer to deliver again when the transfer is not recorded yet, leaving the outcome to that replay', async () => {
    const { fire, store, scheduleId } = await setUp(async () => ({ result: transferred, replayed: false, unrecorded: true }));
    expect(await fire()).toStrictEqual({ unrecorded: true });
    expect(store.items.get(scheduleId)).not.toHaveProperty('Outcome');
  });

  it('records SKIPPED when a condition did not hold, without a failure record', async () => {
    const { fire, store, scheduleId, failures } = await setUp(refused(TransferError.of('CONDITION_NOT_MET')));
    expect(await fire()).toStrictEqual({});
    expect(store.items.get(scheduleId)?.Outcome).toStrictEqual({ Result: 'SKIPPED', ReasonCode: 'CONDITION_NOT_MET', Message: TransferError.of('CONDITION_NOT_MET').message });
    expect(failures.record).not.toHaveBeenCalled();
  });

  it('records FAILED with the refusal and a failure record for its Contact Transfer Failed event', async () => {
    const refusal = TransferError.of('CONTACT_NOT_ACTIVE');
    const { fire, store, scheduleId, failures } = await setUp(refused(refusal));
    expect(await fire()).toStrictEqual({});
    expect(store.items.get(scheduleId)?.Outcome).toStrictEqual({ Result: 'FAILED', ReasonCode: 'CONTACT_NOT_ACTIVE', Type: refusal.type, Message: refusal.message });
    expect(failures.record).toHaveBeenCalledExactlyOnceWith({
      outcome: 'REJECTED',
      request: { ...toQueue, ScheduleId: scheduleId },
      error: { type: refusal.type, reason: 'CONTACT_NOT_ACTIVE', message: refusal.message },
      origin: { door: 'eventbridge', caller: `schedule/${scheduleId} created by ${CREATOR}`, correlationId: scheduleId },
      at: expect.any(Date),
    });
  });

  it('throws a failure a retry may fix, publishing no empty metrics, so the record returns to the buffer with no outcome recorded', async () => {
    const { fire, store, scheduleId, failures } = await setUp(refused(TransferError.of('INTERNAL_ERROR')));
    const publish = vi.spyOn(metrics, 'publishStoredMetrics');
    await expect(fire()).rejects.toMatchObject({ reason: 'INTERNAL_ERROR' });
    // Its failure metric went out on its own; an empty publish would only log a warning.
    expect(publish).not.toHaveBeenCalled();
    expect(store.items.get(scheduleId)).toMatchObject({ State: 'FIRED' });
    expect(store.items.get(scheduleId)).not.toHaveProperty('Outcome');
    expect(failures.record).not.toHaveBeenCalled();
  });
});

describe('a fired schedule dead-lettered after its last receive', () => {
  const lastError = { type: 'ServiceUnavailableException', reason: 'CONNECT_UNAVAILABLE', message: 'Connect did not answer.' };

  it('records DEAD_LETTERED and the FAILED outcome when its transfer did not happen', async () => {
    const { deps, store, scheduleId, failures } = await setUp();
    const info = vi.spyOn(logger, 'info');
    const stateOf = vi.fn(async () => 'not' as const);
    await answerDeadLetteredSchedule(deps, { scheduleId }, lastError, stateOf);
    expect(stateOf).toHaveBeenCalledExactlyOnceWith({ ...toQueue, ClientToken: scheduleId, ScheduleId: scheduleId });
    expect(failures.record).toHaveBeenCalledExactlyOnceWith({
      outcome: 'DEAD_LETTERED',
      request: { ...toQueue, ScheduleId: scheduleId },
      error: lastError,
      origin: { door: 'eventbridge', caller: `schedule/${scheduleId} created by ${CREATOR}`, correlationId: scheduleId },
      at: expect.any(Date),
    });
    expect(store.items.get(scheduleId)).toMatchObject({ State: 'FIRED', Outcome: { Result: 'FAILED', ReasonCode: lastError.reason, Type: lastError.type, Message: lastError.message } });
    expect(info).toHaveBeenCalledWith('dead letter', { scheduleId, outcome: 'DEAD_LETTERED' });
  });

  it('records nothing when its transfer happened', async () => {
    const { deps, store, scheduleId, failures } = await setUp();
    await answerDeadLetteredSchedule(deps, { scheduleId }, lastError, async () => 'transferred');
    expect(failures.record).not.toHaveBeenCalled();
    expect(store.items.get(scheduleId)).not.toHaveProperty('Outcome');
  });

  it('keeps the record in the queue while its transfer may have happened', async () => {
    const { deps, store, scheduleId, failures } = await setUp();
    await expect(answerDeadLetteredSchedule(deps, { scheduleId }, lastError, async () => 'maybe')).rejects.toThrow(/pending intent/);
    expect(failures.record).not.toHaveBeenCalled();
    expect(store.items.get(scheduleId)).not.toHaveProperty('Outcome');
  });

  it('answers nothing for a schedule made for another write of the state (one taken back since), leaving the state as it is', async () => {
    const { deps, store, scheduleId, failures } = await setUp();
    const stateOf = vi.fn(async () => 'not' as const);
    await answerDeadLetteredSchedule(deps, { scheduleId, createdAt: '2029-12-31T23:59:00.000Z' }, lastError, stateOf);
    expect(store.items.get(scheduleId)).toMatchObject({ State: 'SCHEDULED' });
    expect(stateOf).not.toHaveBeenCalled();
    expect(failures.record).not.toHaveBeenCalled();
  });

  it('leaves a cancelled schedule cancelled, and one whose outcome is known as it is', async () => {
    const cancelled = await setUp();
    await cancelled.deps.schedules.cancel(cancelled.scheduleId);
    const stateOf = vi.fn(async () => 'not' as const);
    await answerDeadLetteredSchedule(cancelled.deps, { scheduleId: cancelled.scheduleId }, lastError, stateOf);
    expect(cancelled.store.items.get(cancelled.scheduleId)).toMatchObject({ State: 'CANCELLED' });

    const settled = await setUp();
    await settled.fire();
    await answerDeadLetteredSchedule(settled.deps, { scheduleId: settled.scheduleId }, lastError, stateOf);
    expect(settled.store.items.get(settled.scheduleId)?.Outcome).toMatchObject({ Result: 'TRANSFERRED' });
    expect(stateOf).not.toHaveBeenCalled();
    expect(cancelled.failures.record).not.toHaveBeenCalled();
    expect(settled.failures.record).not.toHaveBeenCalled();
  });
});
