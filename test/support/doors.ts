import { randomUUID } from 'node:crypto';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { TransferResult } from '../../lambda/ports';
import { asHttp, httpEvent, TEST_BUFFER_ARN, transferEvent } from './gateway-harness';
import type { GatewayContainer } from './gateway-harness';

/**
 * The doors of contract section 3, driven alike so one test can prove a behaviour on each: HTTPS, the event door as
 * deployed (an SQS record from its buffer), and direct invocation (a function of its own).
 */
export const DOORS = ['https', 'buffered', 'direct'] as const;
export type DoorName = (typeof DOORS)[number];

/**
 * What each door tells its caller. The buffered door answers the event source mapping only with the records that
 * failed (the outcome goes out as a transfer event); the direct door answers with Connect's shape, without a replay flag.
 */
export const DOOR_REPORTS: Record<DoorName, { readonly result: boolean; readonly replay: boolean; readonly reason: boolean }> = {
  https: { result: true, replay: true, reason: true },
  buffered: { result: false, replay: false, reason: false },
  direct: { result: true, replay: false, reason: true },
};

/** What a caller of any door learnt: the transfer (and whether it was a replay, where the door says so), or the reason. */
export interface DoorAnswer {
  readonly ok: boolean;
  readonly ContactId?: string;
  readonly ContactArn?: string;
  /** Undefined for the direct door, whose answer is Connect's shape only. */
  readonly replayed?: boolean;
  readonly reason?: string;
}

/** The buffered door's only failure answer: the record goes back to the buffer for SQS to deliver again. */
export const RETURNED_TO_BUFFER = 'RETURNED_TO_BUFFER';

/** The event Lambda hands the function for `request` through `door`; the same event is what a retry redelivers. */
export function eventFor(door: DoorName, request: Record<string, unknown>): unknown {
  if (door === 'https') return httpEvent(request);
  if (door === 'buffered') return bufferedEvent(transferEvent(request));
  return { ...request };
}

/** The bundle's export whose function serves `door`: direct invocation is a function of its own. */
export const handlerExportOf = (door: DoorName): 'handler' | 'invoke' => (door === 'direct' ? 'invoke' : 'handler');

/** Invokes the function of `container` that serves `door`, as its caller would. */
export function invokeThrough(container: GatewayContainer, door: DoorName, event: unknown, context: Context): Promise<unknown> {
  return door === 'direct' ? container.direct(event, context) : container(event, context);
}

/** One message of the buffer, as the event source mapping delivers it: its body is the event the rule sent. */
function bufferedEvent(event: unknown): SQSEvent {
  return {
    Records: [
      {
        messageId: randomUUID(),
        receiptHandle: randomUUID(),
        body: JSON.stringify(event),
        attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()), SenderId: 'AIDAEVENTBRIDGE', ApproximateFirstReceiveTimestamp: String(Date.now()) },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: TEST_BUFFER_ARN,
        awsRegion: 'us-east-1',
      },
    ],
  };
}

/** Reads a handler's answer, or its thrown error (a failed invocation), the way that door's caller would. */
export function answerOf(door: DoorName, outcome: { readonly result?: unknown; readonly error?: { readonly name: string; readonly message: string } }): DoorAnswer {
  if (outcome.error) return { ok: false, reason: outcome.error.message.split(':')[0] ?? outcome.error.name };
  if (door === 'https') {
    const answer = asHttp(outcome.result);
    if (answer.status !== 200) return { ok: false, reason: String(answer.body.ReasonCode) };
    return {
      ok: true,
      ContactId: String(answer.body.ContactId),
      ContactArn: String(answer.body.ContactArn),
      replayed: answer.headers['Idempotent-Replayed'] === 'true',
    };
  }
  if (door === 'buffered') {
    const { batchItemFailures } = outcome.result as SQSBatchResponse;
    return batchItemFailures.length === 0 ? { ok: true } : { ok: false, reason: RETURNED_TO_BUFFER };
  }
  const result = outcome.result as TransferResult;
  return { ok: true, ContactId: result.ContactId, ContactArn: result.ContactArn };
}

export async function settle(invocation: Promise<unknown>): Promise<{ result?: unknown; error?: { name: string; message: string } }> {
  try {
    return { result: await invocation };
  } catch (error) {
    return { error: { name: error instanceof Error ? error.name : 'Error', message: error instanceof Error ? error.message : String(error) } };
  }
}
