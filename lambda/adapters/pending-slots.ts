import { QueryCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeValue, DynamoDBClient, QueryCommandOutput } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { TransferRequest } from '../domain/request';
import type { Origin } from '../ports';
import { PENDING_SLOTS_INDEX } from '../tables';

/** A transfer slot still PENDING: the request it reserved for, rebuilt from the slot, and who asked. */
export interface PendingSlot {
  readonly request: TransferRequest;
  readonly origin: Origin;
  readonly reservedAt: Date;
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

  /** Oldest first: the slots reserved at or before `reservedBefore`, at most `limit` of them. */
  async reservedBefore(reservedBefore: Date, limit: number): Promise<PendingSlot[]> {
    const slots: PendingSlot[] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const output: QueryCommandOutput = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: PENDING_SLOTS_INDEX.indexName,
          KeyConditionExpression: '#pending = :pending AND #reservedAt <= :before',
          ExpressionAttributeNames: { '#pending': PENDING_SLOTS_INDEX.partitionKey, '#reservedAt': PENDING_SLOTS_INDEX.sortKey },
          ExpressionAttributeValues: { ':pending': { S: 'PENDING' }, ':before': { S: reservedBefore.toISOString() } },
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
  const reservedAt = text('reservedAt');
  if (!ContactId || !ContactFlowId || !door || !caller || !correlationId || !reservedAt) return undefined;
  const QueueId = text('queueId');
  const UserId = text('userId');
  const ClientToken = text('clientToken');
  return {
    request: { ContactId, ContactFlowId, ...(QueueId && { QueueId }), ...(UserId && { UserId }), ...(ClientToken && { ClientToken }) },
    origin: { door, caller, correlationId },
    reservedAt: new Date(reservedAt),
  };
}
