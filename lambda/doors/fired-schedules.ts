import type { Context, SQSRecord } from 'aws-lambda';
import type { FailureError, FailureLog } from '../adapters/failure-records';
import type { TransferRequest } from '../domain/request';
import type { FiredSchedule, ScheduleOutcome, StoredSchedule } from '../domain/schedule';
import { logger, metrics, reportOutcome } from '../observability';
import type { Origin } from '../ports';
import type { ScheduledTransfers } from '../usecase/scheduled-transfers';
import type { TransferDoorDependencies } from './door';
import { asTransferError, slotDeadlineOf } from './door';

export interface FiredScheduleDependencies extends TransferDoorDependencies {
  readonly schedules: ScheduledTransfers;
  readonly failures: FailureLog;
}

/**
 * A fired schedule in the event buffer (contract section 12): its state moves SCHEDULED to FIRED first, so a schedule
 * cancelled before transfers nothing; then its request takes the event door's path under the ScheduleId as its
 * ClientToken, so a duplicate firing is a replay. Who asked is the schedule and the principal that created it.
 * A failure a retry can fix throws, and the record returns to the buffer as any other. Answers `unrecorded` when
 * the transfer happened but the ledger does not hold it yet: the buffer's redelivery is the replay that records it
 * and then the schedule's outcome.
 */
export async function serveFiredSchedule(deps: FiredScheduleDependencies, fired: FiredSchedule, record: SQSRecord, context: Context): Promise<{ readonly unrecorded?: true }> {
  const startedAt = Date.now();
  const { scheduleId } = fired;
  logger.appendKeys({ correlationId: scheduleId });
  const firing = await deps.schedules.fire(fired);
  if ('skipped' in firing) {
    logger.info('schedule fired without a transfer', { scheduleId, found: firing.skipped, messageId: record.messageId });
    return {};
  }
  const { request, recorded, origin } = firingOf(scheduleId, firing.transfer);
  let outcome: ScheduleOutcome;
  try {
    const transferred = await deps.useCase.execute(request, origin, { lockBeforeLookups: true, slotDeadline: slotDeadlineOf(context) });
    reportOutcome({ origin, contactId: request.ContactId, startedAt, outcome: transferred });
    if (transferred.unrecorded) return { unrecorded: true };
    outcome = { Result: 'TRANSFERRED', ...transferred.result };
  } catch (caught) {
    const error = asTransferError(caught);
    reportOutcome({ origin, contactId: request.ContactId, startedAt, error });
    if (error.retryable) throw error;
    if (error.reason === 'CONDITION_NOT_MET') {
      // The expected end of an escalation an agent made unnecessary; its Skipped event comes from the ledger.
      outcome = { Result: 'SKIPPED', ReasonCode: 'CONDITION_NOT_MET', Message: error.message };
    } else {
      outcome = { Result: 'FAILED', ReasonCode: error.reason, Type: error.type, Message: error.message };
      const failure = { type: error.type, reason: error.reason, message: error.message };
      await deps.failures.record({ outcome: 'REJECTED', request: recorded, error: failure, origin, at: new Date() });
    }
  } finally {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  }
  await deps.schedules.settle(scheduleId, outcome);
  return {};
}

/**
 * A fired schedule SQS dead-lettered after its last receive (lambda/doors/dead-letters.ts): its outcome is recorded
 * as that failure, with its `Contact Transfer Failed`, unless its transfer happened or may have (`transferStateOf`,
 * which then keeps the record in the queue until the intent is settled). A schedule cancelled first stays so.
 */
export async function answerDeadLetteredSchedule(
  deps: Pick<FiredScheduleDependencies, 'schedules' | 'failures'>,
  fired: FiredSchedule,
  error: FailureError,
  transferStateOf: (request: TransferRequest) => Promise<'transferred' | 'maybe' | 'not'>,
): Promise<void> {
  const { scheduleId } = fired;
  const firing = await deps.schedules.fire(fired);
  if ('skipped' in firing || firing.transfer.Outcome !== undefined) return;
  const { request, recorded, origin } = firingOf(scheduleId, firing.transfer);
  const state = await transferStateOf(request);
  if (state === 'maybe') throw new Error('The dead-lettered schedule holds a pending intent; it returns to the queue until the sweeper or a retry settles the intent.');
  if (state === 'transferred') return;
  await deps.failures.record({ outcome: 'DEAD_LETTERED', request: recorded, error, origin, at: new Date() });
  await deps.schedules.settle(scheduleId, { Result: 'FAILED', ReasonCode: error.reason, Type: error.type, Message: error.message });
  logger.info('dead letter', { scheduleId, outcome: 'DEAD_LETTERED' });
}

/**
 * What a firing sends and records: the stored request under the schedule's id as its ClientToken (so a duplicate
 * firing is a replay), as a failure record keeps it (the caller's own request with its ScheduleId), and who asked.
 */
function firingOf(scheduleId: string, schedule: StoredSchedule): { request: TransferRequest; recorded: TransferRequest; origin: Origin } {
  return {
    request: { ...schedule.Request, ClientToken: scheduleId, ScheduleId: scheduleId },
    recorded: { ...schedule.Request, ScheduleId: scheduleId },
    origin: { door: 'eventbridge', caller: `schedule/${scheduleId} created by ${schedule.createdBy}`, correlationId: scheduleId },
  };
}
