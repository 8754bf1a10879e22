import { QueryCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeValue, DynamoDBClient, QueryCommandOutput } from '@aws-sdk/client-dynamodb';
import type { TransferRequest } from '../domain/request';
import type { TransferConditions } from '../domain/transfer-conditions';
import type { Origin, ReservationRef } from '../ports';
import { PENDING_SLOTS_INDEX } from '../tables';
import { PK, SK } from './ledger-items';
import { batchGetConsistent } from './ledger-table';

/**
 * A transfer slot still PENDING: the request it reserved for, rebuilt from the slot, who asked, when last tried, and
 * the slot itself (the reservation it holds), by which a slot the request does not settle is set aside.
 */
export interface PendingSlot {
  readonly request: TransferRequest;
  readonly origin: Origin;
  readonly lastAttemptAt: Date;
  readonly reservation: ReservationRef;
}

const DOORS: readonly Origin['door'][] = ['https', 'eventbridge', 'invoke'];

/**
 * The ledger's sparse index of PENDING slots (lambda/tables.ts), read eventually consistently, as every global
 * secondary index is. The slots it lists are read again from the table, consistently and whole, in one BatchGetItem: the index projects
 * only part of the request (a deployed index's projection cannot change), and the request must be rebuilt exactly, or
 * its idempotency key and payload hash would name another intent. A slot settled since the index listed it is left
 * out; the sweeper settles the others through the use case, under the idempotency lock.
 */
export class DynamoDbPendingSlots {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  /** Longest untried first: the due slots last attempted at or before `before`, at most `limit` of them. */
  async attemptedBefore(before: Date, limit: number): Promise<PendingSlot[]> {
    const listed: Record<string, AttributeValue>[] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const output: QueryCommandOutput = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: PENDING_SLOTS_INDEX.indexName,
          KeyConditionExpression: '#pending = :due AND #lastAttemptAt <= :before',
          ExpressionAttributeNames: { '#pending': PENDING_SLOTS_INDEX.partitionKey, '#lastAttemptAt': PENDING_SLOTS_INDEX.sortKey },
          ExpressionAttributeValues: { ':due': { S: PENDING_SLOTS_INDEX.partitions.due }, ':before': { S: before.toISOString() } },
          Limit: limit - listed.length,
          ExclusiveStartKey: startKey,
        }),
      );
      listed.push(...(output.Items ?? []));
      startKey = output.LastEvaluatedKey;
    } while (startKey && listed.length < limit);
    // A slot tried again while the pages were read can be listed twice, and BatchGetItem refuses a repeated key.
    const keys = new Map<string, Record<string, AttributeValue>>();
    for (const { [PK]: pk, [SK]: sk } of listed) if (pk?.S && sk?.S) keys.set(JSON.stringify([pk.S, sk.S]), { [PK]: pk, [SK]: sk });
    // BatchGetItem answers in no order of its own.
    const items = await batchGetConsistent(this.client, this.tableName, [...keys.values()]);
    return items
      .map(pendingSlotOf)
      .filter((slot): slot is PendingSlot => slot !== undefined)
      .sort((a, b) => a.lastAttemptAt.getTime() - b.lastAttemptAt.getTime());
  }
}

function pendingSlotOf(item: Record<string, unknown>): PendingSlot | undefined {
  const text = (name: string): string | undefined => (typeof item[name] === 'string' && item[name] !== '' ? item[name] : undefined);
  if (item[PENDING_SLOTS_INDEX.partitionKey] !== PENDING_SLOTS_INDEX.partitions.due) return undefined;
  const ContactId = text('fromContactId');
  const ContactFlowId = text('contactFlowId');
  const door = DOORS.find((candidate) => candidate === item.door);
  const caller = text('requestedBy');
  const correlationId = text('correlationId');
  const lastAttemptAt = text(PENDING_SLOTS_INDEX.sortKey);
  const treeId = text('treeId');
  const idempotencyKey = text('idempotencyKey');
  const { transferNumber, transfersInTree } = item;
  if (!ContactId || !ContactFlowId || !door || !caller || !correlationId || !lastAttemptAt || !treeId || !idempotencyKey) return undefined;
  if (typeof transferNumber !== 'number' || typeof transfersInTree !== 'number') return undefined;
  const QueueId = text('queueId');
  const UserId = text('userId');
  const ClientToken = text('clientToken');
  const Note = text('note');
  const Conditions = conditionsOf(text('conditions'));
  return {
    request: {
      ContactId,
      ContactFlowId,
      ...(QueueId && { QueueId }),
      ...(UserId && { UserId }),
      ...(ClientToken && { ClientToken }),
      ...(Note && { Note }),
      ...(Conditions && { Conditions }),
    },
    origin: { door, caller, correlationId },
    lastAttemptAt: new Date(lastAttemptAt),
    reservation: { treeId, transferNumber, transfersInTree, fromContactId: ContactId, idempotencyKey },
  };
}

/** The conditions as `conditionsText` stored them; what cannot be read is left out (the slot is then set aside). */
function conditionsOf(stored: string | undefined): TransferConditions | undefined {
  if (stored === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(stored);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { InQueue, NotWithAgent, QueuedForSeconds } = parsed as Record<string, unknown>;
  return {
    ...(typeof InQueue === 'string' && { InQueue }),
    ...(NotWithAgent === true && { NotWithAgent }),
    ...(typeof QueuedForSeconds === 'number' && { QueuedForSeconds }),
  };
}
