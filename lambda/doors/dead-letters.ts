import type { SQSRecord } from 'aws-lambda';
import { REASONS } from '../domain/errors';

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
 */
export interface DeadLetterError {
  readonly type: string;
  readonly reason: 'INTERNAL_ERROR';
  readonly message: string;
}

/** How a message came into the dead-letter queue: SQS's redrive from the buffer, or the rule's delivery failure. */
export type DeadLetterArrival = 'redriven' | 'undelivered';

/**
 * How a message came into the queue, from what the sender cannot choose, or undefined for a message neither put there,
 * which must not be answered (its failure record would carry whatever ClientToken and text its sender wrote).
 * DeadLetterQueueSourceArn is a system attribute only SQS sets, when it moves a message after its last receive; the
 * rule's message attributes could be written by any sender, so for those the queue policy, which lets only the rule
 * (aws:SourceArn) send, is what vouches for them, and the door checks that they name the buffer as the target.
 */
export function arrivalOf(record: SQSRecord, bufferQueueArn: string | undefined): DeadLetterArrival | undefined {
  if (bufferQueueArn === undefined) return undefined;
  const redrivenFrom = record.attributes?.DeadLetterQueueSourceArn;
  if (redrivenFrom !== undefined) return redrivenFrom === bufferQueueArn ? 'redriven' : undefined;
  const attribute = (name: string): string | undefined => record.messageAttributes?.[name]?.stringValue || undefined;
  const fromTheRule = attribute('TARGET_ARN') === bufferQueueArn && attribute('RULE_ARN') !== undefined && attribute('ERROR_CODE') !== undefined;
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
