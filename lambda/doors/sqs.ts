import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { DoorTrust } from '../config';
import { TransferError } from '../domain/errors';
import type { Origin } from '../ports';
import type { Door } from './door';
import { namedFailure } from './door';
import { TRANSFER_DETAIL_TYPE } from './eventbridge';
import type { TransferEvent } from './eventbridge';

/**
 * The event door behind its buffer: the stack's rule delivers each TransferContact event into an SQS queue, and an
 * event source mapping hands the function batches of them (contract section 3.2). Each record's body is the
 * EventBridge event exactly as the rule delivered it.
 */
export type BufferedResult =
  | { readonly outcome: 'transferred' | 'replayed'; readonly ContactId: string; readonly ContactArn: string; readonly unrecorded?: true }
  | { readonly outcome: 'rejected'; readonly Type: string; readonly ReasonCode: string; readonly Message: string };

/** An SQS event from the event source mapping, every record from the one buffer queue this stack owns. */
export function isBufferEvent(event: unknown, bufferQueueArn: string | undefined): event is SQSEvent {
  if (bufferQueueArn === undefined || typeof event !== 'object' || event === null || !('Records' in event)) return false;
  const { Records } = event as { Records: unknown };
  return (
    Array.isArray(Records) &&
    Records.length > 0 &&
    Records.every(
      (record: unknown) =>
        typeof record === 'object' &&
        record !== null &&
        (record as Partial<SQSRecord>).eventSource === 'aws:sqs' &&
        (record as Partial<SQSRecord>).eventSourceARN === bufferQueueArn &&
        typeof (record as Partial<SQSRecord>).body === 'string' &&
        typeof (record as Partial<SQSRecord>).messageId === 'string',
    )
  );
}

/**
 * The event a record carries. Anything else (not JSON, another detail-type, a detail that is not an object) is a
 * final rejection with its reason: retrying a message cannot change its body, so it must never loop to the DLQ.
 */
export function transferEventOf(record: SQSRecord): TransferEvent {
  let event: unknown;
  try {
    event = JSON.parse(record.body);
  } catch {
    throw malformed('The buffered message is not JSON; the event door takes the EventBridge events its rule delivers.');
  }
  if (typeof event !== 'object' || event === null || Array.isArray(event)) throw malformed('The buffered message is not an EventBridge event.');
  const fields = event as Record<string, unknown>;
  if (fields['detail-type'] !== TRANSFER_DETAIL_TYPE) {
    throw malformed(`The buffered message is not a ${TRANSFER_DETAIL_TYPE} event (detail-type ${JSON.stringify(fields['detail-type'] ?? null)}).`);
  }
  if (typeof fields.source !== 'string' || typeof fields.id !== 'string') throw malformed('The buffered event has no source or id.');
  const detail = fields.detail;
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
    throw malformed('The event\'s detail must be a JSON object with the members of TransferContact.');
  }
  return event as TransferEvent;
}

function parsedOrNothing(body: string): { readonly id?: unknown; readonly source?: unknown } {
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === 'object' && parsed !== null ? parsed : {};
  } catch {
    return {};
  }
}

const malformed = (message: string): TransferError => TransferError.of('VALIDATION_FAILED', { message });

/** The original request as the publisher sent it, for the failure event: the detail, or the body when unreadable. */
export function originalRequestOf(record: SQSRecord): unknown {
  try {
    const event = JSON.parse(record.body) as { detail?: unknown };
    return typeof event === 'object' && event !== null && 'detail' in event ? event.detail : event;
  } catch {
    return record.body;
  }
}

/** How many times SQS has delivered this message, this delivery included. */
export function receiveCountOf(record: SQSRecord): number {
  const count = Number(record.attributes?.ApproximateReceiveCount);
  return Number.isInteger(count) && count > 0 ? count : 1;
}

/**
 * One record: who asked is the event's source and id (as on the EventBridge door), or the message id when the body is
 * unreadable. A rejection returns (the record is deleted); a failure a retry can fix throws, so the record is reported
 * as a batch item failure and comes back from the buffer.
 */
export const bufferedRecordDoor: Door<SQSRecord, BufferedResult> = {
  origin: (record): Origin => {
    // Any event's own id and source, even one this door will reject: the publisher knows its events by them.
    const { id, source } = parsedOrNothing(record.body);
    if (typeof id === 'string' && typeof source === 'string') return { door: 'eventbridge', caller: `${source}/${id}`, correlationId: id };
    return { door: 'eventbridge', caller: `sqs/${record.messageId}`, correlationId: record.messageId };
  },
  input: (record) => transferEventOf(record).detail,
  succeeded: ({ result, replayed, unrecorded }) => ({ outcome: replayed ? 'replayed' : 'transferred', ...result, ...(unrecorded && { unrecorded }) }),
  failed: (error) => {
    if (error.retryable) throw namedFailure(error);
    return { outcome: 'rejected', Type: error.type, ReasonCode: error.reason, Message: error.message };
  },
};

/**
 * The door as the stack deploys it. Besides its shape, a buffered event must come from a configured source in the
 * stack's account, as on the EventBridge door: whoever may send to the queue directly must not choose who asked.
 */
export function trustedBufferedRecordDoor(trust: DoorTrust): Door<SQSRecord, BufferedResult> {
  return {
    ...bufferedRecordDoor,
    input: (record) => {
      const event = transferEventOf(record);
      if (!trust.eventSources.includes(event.source) || event.account !== trust.account) {
        throw malformed('The buffered event is not from a configured source in this stack\'s account.');
      }
      return event.detail;
    },
  };
}

/**
 * Records one at a time, in order: the calls to Connect are paced anyway, and a record served sequentially knows how
 * much of the invocation is left for it. A batch whose every record failed is answered with all of them as item
 * failures, not a thrown error, so SQS keeps one receive count per message and Lambda does not back off the mapping.
 */
export function serveBuffer(event: SQSEvent, context: Context, serveRecord: (record: SQSRecord) => Promise<unknown>): Promise<SQSBatchResponse> {
  // A processor per batch, not per module: local mode, the tests and the benchmark run several containers' invocations
  // in one process, and a shared processor, reset by each batch, answered one batch with another's failures.
  return processPartialResponse(event, serveRecord, new BatchProcessor(EventType.SQS), { context, processInParallel: false, throwOnFullBatchFailure: false });
}
