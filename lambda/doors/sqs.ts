import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, EventBridgeEvent, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { BufferVisibility } from '../adapters/buffer-visibility';
import type { FailureLog } from '../adapters/failure-records';
import type { DoorTrust } from '../config';
import { TransferError } from '../domain/errors';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../domain/request';
import { returnDelayFor, TRANSFER_DETAIL_TYPE } from '../event-buffer';
import { logger } from '../observability';
import type { Origin } from '../ports';
import type { Door, TransferDoorDependencies } from './door';
import { transferThrough } from './door';
import { firedScheduleOf } from '../adapters/scheduler';
import type { ScheduledTransfers } from '../usecase/scheduled-transfers';
import { serveFiredSchedule } from './fired-schedules';

export type TransferEvent = EventBridgeEvent<typeof TRANSFER_DETAIL_TYPE, unknown>;

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
  if (nestsDeeperThan(record.body, MAX_JSON_DEPTH)) {
    throw malformed(`The buffered message nests deeper than ${MAX_JSON_DEPTH} levels; a TransferContact event never does.`);
  }
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

/**
 * The original request as the publisher sent it, for the failure event: the detail, or the body when unreadable or
 * nested too deeply to be written out again as JSON.
 */
export function originalRequestOf(record: SQSRecord): unknown {
  if (nestsDeeperThan(record.body, MAX_JSON_DEPTH)) return record.body;
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
 * One record: who asked is the event's source and id, or the message id when the body is unreadable. A rejection
 * returns (the record is deleted); a failure a retry can fix throws the TransferError itself, so the record is
 * reported as a batch item failure and comes back from the buffer.
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
    if (error.retryable) throw error;
    return { outcome: 'rejected', Type: error.type, ReasonCode: error.reason, Message: error.message };
  },
};

/**
 * The door as the stack deploys it. Besides its shape, a buffered event must come from a configured source in the
 * stack's account: whoever may send to the queue directly must not choose who asked.
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

/** A buffered record whose transfer happened but is not yet in the ledger: returned to the buffer to be recorded. */
export class UnrecordedTransfer extends Error {
  constructor() {
    super('The transfer happened but the ledger did not record it; the record returns to the buffer so a replay records it.');
    this.name = 'UnrecordedTransfer';
  }
}

export interface BufferDependencies extends TransferDoorDependencies {
  readonly trust: DoorTrust;
  readonly failures: FailureLog;
  /** Sets when a failed record returns; absent, it returns after the queue's visibility timeout. */
  readonly visibility?: BufferVisibility;
  /** How many receives SQS makes before it dead-letters a message. */
  readonly maxReceives: number;
  /** Scheduled transfers, whose fired schedules arrive in this buffer (lambda/doors/fired-schedules.ts). */
  readonly schedules?: ScheduledTransfers;
}

/**
 * The event door's entry. Each record: the lock comes before the Describe calls, so a duplicate or a replay costs
 * Connect nothing; a rejection is recorded for its `Contact Transfer Failed` event; a failure a retry can fix returns
 * the record to the buffer after a backoff (lambda/event-buffer.ts), SQS's redelivery being the one retry. What the
 * last receive still fails, SQS moves to the dead-letter queue, whose door records it (lambda/doors/dead-letters.ts).
 */
export function bufferEntry(deps: BufferDependencies): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  const door = trustedBufferedRecordDoor(deps.trust);

  async function serveRecord(record: SQSRecord, context: Context): Promise<void> {
    const fired = deps.schedules && firedScheduleOf(record.body);
    if (deps.schedules && fired) {
      const served = await serveFiredSchedule({ ...deps, schedules: deps.schedules }, fired, record, context);
      if (served.unrecorded) throw new UnrecordedTransfer();
      return;
    }
    const result = await transferThrough(door, deps, record, context, { lockBeforeLookups: true });
    if (result.outcome === 'rejected') {
      // A failed condition is no failure: its ledger record becomes the Contact Transfer Skipped event instead.
      if (result.ReasonCode === 'CONDITION_NOT_MET') return;
      const error = { type: result.Type, reason: result.ReasonCode, message: result.Message };
      await deps.failures.record({ outcome: 'REJECTED', request: originalRequestOf(record), error, origin: door.origin(record, context), at: new Date() });
      return;
    }
    // The transfer happened but the ledger (and so its event) does not hold it yet: SQS's redelivery is a replay
    // that records it. Not a failure of the request, so it is never recorded as one.
    if (result.unrecorded) throw new UnrecordedTransfer();
  }

  /**
   * Before a record is listed as a batch item failure: when SQS delivers it again, a backoff by its receive count,
   * or soon when only the pacer turned it away. The last receive is left as it is: the record goes to the
   * dead-letter queue when its visibility timeout ends. If SQS refuses, nothing is lost: the record still returns,
   * after the queue's visibility timeout.
   */
  async function returnLater(record: SQSRecord, failure: unknown): Promise<never> {
    const receiveCount = receiveCountOf(record);
    if (deps.visibility && receiveCount < deps.maxReceives) {
      const pacedOut = failure instanceof TransferError && failure.pacedOut;
      const seconds = returnDelayFor(receiveCount, { pacedOut });
      try {
        await deps.visibility.returnAfter(record.receiptHandle, seconds);
        logger.info('returned to the buffer', { receiveCount, returnsInSeconds: seconds, pacedOut });
      } catch (error) {
        logger.warn("Could not set when the record returns; it returns after the buffer's visibility timeout", { receiveCount, error });
      }
    }
    throw failure;
  }

  return (event, context) => serveBuffer(event, context, (record) => serveRecord(record, context).catch((failure: unknown) => returnLater(record, failure)));
}
