import type { EventBridgeEvent } from 'aws-lambda';
import type { DoorTrust } from '../config';
import type { Door } from './door';
import { isRecord, namedFailure } from './door';

/** The rule the stack owns matches this detail-type (contract section 3.2). */
export const TRANSFER_DETAIL_TYPE = 'TransferContact';

export type TransferEvent = EventBridgeEvent<typeof TRANSFER_DETAIL_TYPE, unknown>;

export type EventResult =
  | { readonly outcome: 'transferred' | 'replayed'; readonly ContactId: string; readonly ContactArn: string }
  | { readonly outcome: 'rejected'; readonly ReasonCode: string };

/**
 * EventBridge delivers asynchronously: a rejection no retry can fix ends the invocation normally (it is logged),
 * while a failure a retry can fix throws so Lambda retries it and finally sends it to the dead-letter queue.
 */
export const eventBridgeDoor: Door<TransferEvent, EventResult> = {
  origin: (event) => ({ door: 'eventbridge', caller: `${event.source}/${event.id}`, correlationId: event.id }),
  input: (event) => event.detail,
  succeeded: ({ result, replayed }) => ({ outcome: replayed ? 'replayed' : 'transferred', ...result }),
  failed: (error) => {
    if (error.retryable) throw namedFailure(error);
    return { outcome: 'rejected', ReasonCode: error.reason };
  },
};

/**
 * An event the stack's rule delivered: the detail-type it matches, one of its configured sources, and the stack's own
 * account (EventBridge sets `account` to the account the event was put in). An event shaped like this from anywhere
 * else is a direct invocation, so a payload cannot record itself as some source's request.
 */
export function isEventBridgeEvent(event: unknown, trust: DoorTrust): event is TransferEvent {
  return (
    isRecord(event) &&
    event['detail-type'] === TRANSFER_DETAIL_TYPE &&
    typeof event.source === 'string' &&
    trust.eventSources.includes(event.source) &&
    event.account === trust.account &&
    typeof event.id === 'string' &&
    event.id !== '' &&
    'detail' in event
  );
}
