import { BatchGetItemCommand, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeValue, BatchGetItemCommandOutput, CancellationReason, DynamoDBClient, TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';

/** BatchGet may hand back unprocessed keys under load; they are retried, never dropped. */
const UNPROCESSED_RETRIES = 4;

/** The ledger's table and how long its items are kept: what every read and write of the ledger shares. */
export class LedgerTable {
  constructor(
    readonly client: DynamoDBClient,
    readonly tableName: string,
    private readonly retentionDays: number,
  ) {}

  async transact(items: TransactWriteItem[]): Promise<void> {
    await this.client.send(new TransactWriteItemsCommand({ TransactItems: items }));
  }

  batchGet(keys: Record<string, string>[]): Promise<Record<string, unknown>[]> {
    return batchGetConsistent(this.client, this.tableName, keys.map((key) => marshall(key)));
  }

  /** Rounded up: the retention is a minimum the contract promises. */
  expiryFrom(at: Date): number {
    return expiryAfter(at.getTime(), this.retentionDays);
  }
}

/** BatchGetItem's most keys per request. */
const BATCH_GET_KEYS = 100;

/** The items at `keys`, read consistently, in no particular order; a key with no item is left out. */
export async function batchGetConsistent(client: DynamoDBClient, tableName: string, keys: Record<string, AttributeValue>[]): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  for (let start = 0; start < keys.length; start += BATCH_GET_KEYS) {
    let pending: Record<string, AttributeValue>[] | undefined = keys.slice(start, start + BATCH_GET_KEYS);
    for (let attempt = 0; pending?.length; attempt += 1) {
      if (attempt > UNPROCESSED_RETRIES) throw new Error('The ledger left keys unprocessed after retries');
      if (attempt > 0) await backOff(attempt);
      const output: BatchGetItemCommandOutput = await client.send(new BatchGetItemCommand({ RequestItems: { [tableName]: { Keys: pending, ConsistentRead: true } } }));
      items.push(...(output.Responses?.[tableName] ?? []).map((item) => unmarshall(item)));
      pending = output.UnprocessedKeys?.[tableName]?.Keys;
    }
  }
  return items;
}

/** Which actions of a cancelled transaction failed their condition; undefined when it failed for another reason. */
export function failedConditions(error: unknown): boolean[] | undefined {
  const reasons = cancellationReasons(error);
  const failed = (reasons ?? []).map((reason) => reason.Code === 'ConditionalCheckFailed');
  return failed.some(Boolean) ? failed : undefined;
}

/**
 * Whether a cancelled transaction's action at `index` met another transaction on its item at the same time
 * (CancellationReason code TransactionConflict): on a contact's item, another reservation or settlement of it.
 */
export function isConflictOn(error: unknown, index: number): boolean {
  return cancellationReasons(error)?.[index]?.Code === 'TransactionConflict';
}

/**
 * The item as action `index` of a cancelled transaction found it when its condition failed, as DynamoDB hands it back
 * to an action that asked with ReturnValuesOnConditionCheckFailure ALL_OLD; undefined when there was no item.
 */
export function itemFailingCondition(error: unknown, index: number): Record<string, AttributeValue> | undefined {
  const reason = cancellationReasons(error)?.[index];
  return reason?.Code === 'ConditionalCheckFailed' ? reason.Item : undefined;
}

/** Whether DynamoDB cancelled the transaction (a condition failed, or another transaction held an item). */
export function isTransactionCancelled(error: unknown): boolean {
  return cancellationReasons(error) !== undefined;
}

function cancellationReasons(error: unknown): CancellationReason[] | undefined {
  if (!(error instanceof Error) || error.name !== 'TransactionCanceledException') return undefined;
  return (error as { CancellationReasons?: CancellationReason[] }).CancellationReasons ?? [];
}

function backOff(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** attempt, 800) * Math.random()));
}

/** A TTL attribute's value: `retentionDays` after the instant `ms`, in epoch seconds as DynamoDB's TTL reads it. */
export function expiryAfter(ms: number, retentionDays: number): number {
  return Math.ceil(ms / 1000) + retentionDays * 86_400;
}
