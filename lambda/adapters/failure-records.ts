import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { Origin } from '../ports';
import { LEDGER_TABLE } from '../tables';
import { isConditionalCheckFailed } from './conditions';
import { expiryAfter } from './ledger-table';

/** How an event-door request ended without a transfer (contract section 9). */
export type FailureOutcome = 'REJECTED' | 'DEAD_LETTERED';

/** The contract's error type, reason and message (section 5), as a failure record keeps them. */
export interface FailureError {
  readonly type: string;
  readonly reason: string;
  readonly message: string;
}

export interface FailedRequest {
  readonly outcome: FailureOutcome;
  /** The request as the publisher sent it (the event's detail, or the message body when unreadable). */
  readonly request: unknown;
  readonly error: FailureError;
  readonly origin: Origin;
  readonly at: Date;
}

export interface FailureLog {
  record(failure: FailedRequest): Promise<void>;
}

/** Item keys of a failure record; one per event (its id), so a redelivered event cannot make a second one. */
export const failureKeys = (correlationId: string) => ({ [LEDGER_TABLE.partitionKey]: `FAILURE#${correlationId}`, [LEDGER_TABLE.sortKey ?? 'sk']: 'OUTCOME' });

/**
 * Failure records in the ledger table: the same DynamoDB stream and pipe that turn transfer records into
 * `Contact Transferred` events turn these into `Contact Transfer Failed` events, so the function needs no EventBridge
 * client and the event does not depend on the function surviving after the write. Append-only like every ledger item:
 * a redelivered event finds its record already there and leaves it as it is, so the pipe sees one INSERT.
 */
export class DynamoDbFailureLog implements FailureLog {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly retentionDays: number,
  ) {}

  async record({ outcome, request, error, origin, at }: FailedRequest): Promise<void> {
    const token = typeof request === 'object' && request !== null ? (request as { ClientToken?: unknown }).ClientToken : undefined;
    const contactId = typeof request === 'object' && request !== null ? (request as { ContactId?: unknown }).ContactId : undefined;
    const note = typeof request === 'object' && request !== null ? (request as { Note?: unknown }).Note : undefined;
    const scheduleId = typeof request === 'object' && request !== null ? (request as { ScheduleId?: unknown }).ScheduleId : undefined;
    const item = {
      ...failureKeys(origin.correlationId),
      status: outcome,
      // Text, so that a body that was not even JSON is kept as it came.
      request: capped(typeof request === 'string' ? request : JSON.stringify(request) ?? 'null'),
      ...(typeof token === 'string' && { clientToken: token }),
      ...(typeof contactId === 'string' && { contactId }),
      ...(typeof note === 'string' && { note }),
      ...(typeof scheduleId === 'string' && { scheduleId }),
      type: error.type,
      reason: error.reason,
      message: error.message,
      door: origin.door,
      requestedBy: origin.caller,
      correlationId: origin.correlationId,
      at: at.toISOString(),
      [LEDGER_TABLE.timeToLiveAttribute]: expiryAfter(at.getTime(), this.retentionDays),
    };
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: marshall(item, { removeUndefinedValues: true }),
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': LEDGER_TABLE.partitionKey },
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) return;
      throw error;
    }
  }
}

/**
 * A failure event carries the request as JSON text, which the pipe quotes again: an event of up to 256 KB (full of
 * quotes, say) would outgrow PutEvents' 256 KB limit and stall the pipe. A request is at most 16 KiB (contract
 * section 2), so anything longer is not one and is cut, saying so.
 */
const MAX_RECORDED_REQUEST = 16 * 1024;

function capped(text: string): string {
  return text.length <= MAX_RECORDED_REQUEST ? text : `${text.slice(0, MAX_RECORDED_REQUEST)}... (cut: ${text.length} characters in all)`;
}
