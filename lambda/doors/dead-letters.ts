import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { FailureError, FailureLog, FailureOutcome } from '../adapters/failure-records';
import type { DoorTrust } from '../config';
import type { ConnectInstance } from '../domain/arn';
import { REASONS, TransferError } from '../domain/errors';
import { idempotencyKeysOf } from '../domain/idempotency-keys';
import { parseTransferRequest } from '../domain/request';
import type { TransferRequest } from '../domain/request';
import { logger } from '../observability';
import type { LedgerPort } from '../ports';
import { originalRequestOf, serveBuffer, trustedBufferedRecordDoor } from './sqs';
import { firedScheduleOf } from '../adapters/scheduler';
import type { ScheduledTransfers } from '../usecase/scheduled-transfers';
import { answerDeadLetteredSchedule } from './fired-schedules';

/**
 * The dead-letter door (contract section 9): an event source mapping on the stack's dead-letter queue hands the
 * function what the event door could not finish, so that every event-door request that ends without a transfer gets
 * its `Contact Transfer Failed` event, also when the function never got to write it. Records are trusted only from
 * that queue's ARN (`isBufferEvent` with the dead-letter queue's ARN). Two kinds arrive, both with the EventBridge
 * event as the body:
 * - the buffer's redrive after the last receive (SQS keeps the body and adds the DeadLetterQueueSourceArn attribute);
 * - the rule target's delivery failures: EventBridge adds the message attributes RULE_ARN, TARGET_ARN, ERROR_CODE
 *   and ERROR_MESSAGE (EventBridge user guide, "Using dead-letter queues to process undelivered events").
 * The pipes' own failures go to a queue of their own, so no stream record ever reaches this door. Anything else in
 * the queue is not answered (`arrivalOf`): the queue policy denies other senders, and this is the door's own check.
 * It is the one writer of a dead-lettered request's failure record: the buffered door records only rejections.
 */
export interface DeadLetterError {
  readonly type: string;
  readonly reason: 'INTERNAL_ERROR';
  readonly message: string;
}

/** How a message came into the dead-letter queue: SQS's redrive from the buffer, or the rule's delivery failure. */
export type DeadLetterArrival = 'redriven' | 'undelivered';

/** What a dead letter must name to be answered: the stack's buffer, and the stack's rule that delivers into it. */
export interface DeadLetterSources {
  readonly bufferQueueArn: string | undefined;
  readonly transferRuleArn: string | undefined;
}

/**
 * How a message came into the queue, from what the sender cannot choose, or undefined for a message neither put there,
 * which must not be answered (its failure record would carry whatever ClientToken and text its sender wrote).
 * DeadLetterQueueSourceArn is a system attribute only SQS sets, when it moves a message after its last receive; the
 * rule's message attributes could be written by any sender, so for those the queue policy, which lets only the rule
 * (aws:SourceArn) send, is what vouches for them, and the door checks that they name the stack's rule and its buffer.
 */
export function arrivalOf(record: SQSRecord, { bufferQueueArn, transferRuleArn }: DeadLetterSources): DeadLetterArrival | undefined {
  if (bufferQueueArn === undefined) return undefined;
  const redrivenFrom = record.attributes?.DeadLetterQueueSourceArn;
  if (redrivenFrom !== undefined) return redrivenFrom === bufferQueueArn ? 'redriven' : undefined;
  const attribute = (name: string): string | undefined => record.messageAttributes?.[name]?.stringValue || undefined;
  const fromTheRule =
    transferRuleArn !== undefined && attribute('TARGET_ARN') === bufferQueueArn && attribute('RULE_ARN') === transferRuleArn && attribute('ERROR_CODE') !== undefined;
  return fromTheRule ? 'undelivered' : undefined;
}

/** Why a request was dead-lettered, in the contract's terms (section 5), from what AWS put on the message. */
export function deadLetterErrorOf(record: SQSRecord): DeadLetterError {
  const attribute = (name: string): string | undefined => record.messageAttributes?.[name]?.stringValue || undefined;
  const code = attribute('ERROR_CODE');
  const detail = attribute('ERROR_MESSAGE');
  const message =
    code === undefined
      ? 'The gateway did not finish the request before its last retry ended (the function failed or timed out); nothing was transferred.'
      : `EventBridge could not deliver the event to the gateway's buffer (${code}${detail ? `: ${detail}` : ''}); nothing was transferred.`;
  return { type: REASONS.INTERNAL_ERROR.type, reason: 'INTERNAL_ERROR', message };
}

/** The buffer whose redrive, and the rule whose delivery failures into it, are the only messages answered. */
export interface DeadLetterDependencies extends DeadLetterSources {
  readonly instance: ConnectInstance;
  readonly trust: DoorTrust;
  readonly ledger: Pick<LedgerPort, 'read'>;
  readonly failures: FailureLog;
  /** Scheduled transfers, whose fired schedules the buffer may dead-letter too. */
  readonly schedules?: ScheduledTransfers;
}

/**
 * The dead-letter door's entry. Each record's failure record, written once per event id, becomes the request's one
 * `Contact Transfer Failed` event. A request that rules 1-3 or the envelope checks refuse is recorded as that
 * rejection. A transfer the ledger holds is no failure at all; one Connect may have made is left to the sweeper, and
 * its record returns to the queue until the intent is settled. A record that cannot be written returns to the queue too.
 */
export function deadLetterEntry(deps: DeadLetterDependencies): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  const door = trustedBufferedRecordDoor(deps.trust);

  /**
   * Whether Connect made this request's transfer: the ledger holds it as transferred; it may have, while the ledger
   * holds a pending intent, whatever the contact looks like (the contact may not show the transfer yet, and another
   * holder of the key may be sending it right now: only the use case, under the idempotency lock, settles an intent).
   * When that cannot be told, the answer is maybe too: a transfer that happened is never reported as failed. An intent
   * of another payload under the same key is another request's (this one would be CLIENT_TOKEN_REUSED): not this one's.
   */
  async function transferStateOf(request: TransferRequest): Promise<'transferred' | 'maybe' | 'not'> {
    try {
      const { idempotencyKey, payloadHash } = idempotencyKeysOf(request, deps.instance.id);
      const { intent } = await deps.ledger.read(request.ContactId, idempotencyKey);
      if (intent === undefined || intent.status === 'RELEASED' || intent.payloadHash !== payloadHash) return 'not';
      return intent.status === 'TRANSFERRED' ? 'transferred' : 'maybe';
    } catch {
      return 'maybe';
    }
  }

  async function serveDeadLetter(record: SQSRecord, context: Context): Promise<void> {
    if (arrivalOf(record, deps) === undefined) {
      logger.error('A dead-letter queue message that neither the buffer\'s redrive nor the rule put there: deleted unanswered, no failure record', {
        messageId: record.messageId,
        senderId: record.attributes?.SenderId,
      });
      return;
    }
    const fired = deps.schedules && firedScheduleOf(record.body);
    if (deps.schedules && fired) return answerDeadLetteredSchedule({ ...deps, schedules: deps.schedules }, fired, deadLetterErrorOf(record), transferStateOf);
    const origin = door.origin(record, context);
    logger.appendKeys({ correlationId: origin.correlationId });
    let outcome: FailureOutcome = 'DEAD_LETTERED';
    let error: FailureError = deadLetterErrorOf(record);
    let request: TransferRequest | undefined;
    try {
      request = parseTransferRequest(door.input(record), deps.instance);
    } catch (caught) {
      if (!(caught instanceof TransferError)) throw caught;
      outcome = 'REJECTED';
      error = { type: caught.type, reason: caught.reason, message: caught.message };
    }
    if (request !== undefined) {
      const state = await transferStateOf(request);
      if (state === 'transferred') {
        logger.info('dead letter', { outcome: 'transferred' });
        return;
      }
      if (state === 'maybe') {
        throw new Error('The dead-lettered request holds a pending intent; it returns to the queue until the sweeper or a retry settles the intent.');
      }
    }
    await deps.failures.record({ outcome, request: originalRequestOf(record), error, origin, at: new Date() });
    logger.info('dead letter', { outcome, reason: error.reason });
  }

  return (event, context) => serveBuffer(event, context, (record) => serveDeadLetter(record, context));
}
