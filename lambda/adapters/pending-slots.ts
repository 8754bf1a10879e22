import { QueryCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeValue, DynamoDBClient, QueryCommandOutput } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { TransferRequest } from '../domain/request';
import type { Origin } from '../ports';
import { PENDING_SLOTS_INDEX } from '../tables';

/** A transfer slot still PENDING: the request it reserved for, rebuilt from the slot, who asked, and when last tried. */
export interface PendingSlot {
  readonly request: TransferRequest;
  readonly origin: Origin;
  readonly lastAttemptAt: Date;
}

const DOORS: readonly Origin['door'][] = ['https', 'eventbridge', 'invoke'];

/**
 * The ledger's sparse index of PENDING slots (lambda/tables.ts). Read eventually consistently, as every global
 * secondary index is: the sweeper settles each slot through the use case, which reads the intent again consistently
 * under the idempotency lock, so a slot the index still lists after it was settled is found settled and left alone.
 */
export class DynamoDbPendingSlots {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  /** Longest untried first: the due slots last attempted at or before `before`, at most `limit` of them. */
  async attemptedBefore(before: Date, limit: number): Promise<PendingSlot[]> {
    const slots: PendingSlot[] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const output: QueryCommandOutput = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: PENDING_SLOTS_INDEX.indexName,
          KeyConditionExpression: '#pending = :due AND #lastAttemptAt <= :before',
          ExpressionAttributeNames: { '#pending': PENDING_SLOTS_INDEX.partitionKey, '#lastAttemptAt': PENDING_SLOTS_INDEX.sortKey },
          ExpressionAttributeValues: { ':due': { S: PENDING_SLOTS_INDEX.partitions.due }, ':before': { S: before.toISOString() } },
          Limit: limit - slots.length,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of (output.Items ?? []).map((raw) => unmarshall(raw))) {
        const slot = pendingSlotOf(item);
        if (slot) slots.push(slot);
      }
      startKey = output.LastEvaluatedKey;
    } while (startKey && slots.length < limit);
    return slots;
  }
}

function pendingSlotOf(item: Record<string, unknown>): PendingSlot | undefined {
  const text = (name: string): string | undefined => (typeof item[name] === 'string' && item[name] !== '' ? item[name] : undefined);
  const ContactId = text('fromContactId');
  const ContactFlowId = text('contactFlowId');
  const door = DOORS.find((candidate) => candidate === item.door);
  const caller = text('requestedBy');
  const correlationId = text('correlationId');
  const lastAttemptAt = text(PENDING_SLOTS_INDEX.sortKey);
  if (!ContactId || !ContactFlowId || !door || !caller || !correlationId || !lastAttemptAt) return undefined;
  const QueueId = text('queueId');
  const UserId = text('userId');
  const ClientToken = text('clientToken');
  return {
    request: { ContactId, ContactFlowId, ...(QueueId && { QueueId }), ...(UserId && { UserId }), ...(ClientToken && { ClientToken }) },
    origin: { door, caller, correlationId },
    lastAttemptAt: new Date(lastAttemptAt),
  };
}
