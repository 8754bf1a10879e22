import { BatchGetItemCommand, BatchWriteItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeValue, BatchGetItemCommandOutput, BatchWriteItemCommandOutput, DynamoDBClient, QueryCommandOutput, WriteRequest } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { LedgerPort, LedgerView, TransferRecord } from '../ports';
import { LEDGER_TABLE } from '../tables';

const { partitionKey: PK, sortKey: SK = 'sk', timeToLiveAttribute: TTL } = LEDGER_TABLE;

/** Item keys of the ledger; tables.ts says what each item kind is for. */
export const ledgerKeys = {
  tree: (treeId: string) => `TREE#${treeId}`,
  transfer: (transferNumber: number, toContactId: string) => `TRANSFER#${String(transferNumber).padStart(4, '0')}#${toContactId}`,
  contact: (contactId: string) => ({ [PK]: `CONTACT#${contactId}`, [SK]: 'TREE' }),
  result: (idempotencyKey: string) => ({ [PK]: `KEY#${idempotencyKey}`, [SK]: 'RESULT' }),
};

/** BatchGet/BatchWrite may hand back unprocessed work under load; it is retried, never dropped. */
const UNPROCESSED_RETRIES = 4;

export class DynamoDbLedger implements LedgerPort {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly retentionDays: number,
  ) {}

  async read(contactId: string, idempotencyKey: string): Promise<LedgerView> {
    let keys: Record<string, AttributeValue>[] | undefined = [marshall(ledgerKeys.contact(contactId)), marshall(ledgerKeys.result(idempotencyKey))];
    const items: Record<string, unknown>[] = [];
    for (let attempt = 0; keys?.length; attempt += 1) {
      if (attempt > UNPROCESSED_RETRIES) throw new Error('The ledger left keys unprocessed after retries');
      if (attempt > 0) await backOff(attempt);
      const output: BatchGetItemCommandOutput = await this.client.send(
        new BatchGetItemCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }),
      );
      items.push(...(output.Responses?.[this.tableName] ?? []).map((item) => unmarshall(item)));
      keys = output.UnprocessedKeys?.[this.tableName]?.Keys;
    }

    const view: { -readonly [K in keyof LedgerView]: LedgerView[K] } = {};
    for (const item of items) {
      if (item[PK] === ledgerKeys.contact(contactId)[PK] && typeof item.treeId === 'string' && typeof item.transfersInTree === 'number') {
        view.transfersInTree = { treeId: item.treeId, count: item.transfersInTree };
      }
      if (item[PK] === ledgerKeys.result(idempotencyKey)[PK] && typeof item.ContactId === 'string' && typeof item.ContactArn === 'string') {
        view.recorded = { result: { ContactId: item.ContactId, ContactArn: item.ContactArn }, payloadHash: String(item.payloadHash) };
      }
    }
    return view;
  }

  async countTransfers(treeId: string): Promise<number> {
    let count = 0;
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const output: QueryCommandOutput = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :tree',
          ExpressionAttributeNames: { '#pk': PK },
          ExpressionAttributeValues: { ':tree': { S: ledgerKeys.tree(treeId) } },
          Select: 'COUNT',
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      count += output.Count ?? 0;
      startKey = output.LastEvaluatedKey;
    } while (startKey);
    return count;
  }

  async record(record: TransferRecord): Promise<void> {
    // Rounded up: the retention is a minimum the contract promises.
    const expiresAt = Math.ceil(record.at.getTime() / 1000) + this.retentionDays * 86_400;
    const common = { treeId: record.treeId, transfersInTree: record.transferNumber, [TTL]: expiresAt };
    const items = [
      {
        [PK]: ledgerKeys.tree(record.treeId),
        [SK]: ledgerKeys.transfer(record.transferNumber, record.result.ContactId),
        ...common,
        fromContactId: record.fromContactId,
        toContactId: record.result.ContactId,
        toContactArn: record.result.ContactArn,
        contactFlowId: record.request.ContactFlowId,
        queueId: record.request.QueueId,
        userId: record.request.UserId,
        door: record.origin.door,
        requestedBy: record.origin.caller,
        correlationId: record.origin.correlationId,
        idempotencyKey: record.idempotencyKey,
        at: record.at.toISOString(),
      },
      { ...ledgerKeys.contact(record.result.ContactId), ...common },
      { ...ledgerKeys.result(record.idempotencyKey), ...record.result, payloadHash: record.payloadHash, [TTL]: expiresAt },
    ];
    let pending: WriteRequest[] | undefined = items.map((item) => ({ PutRequest: { Item: marshall(item, { removeUndefinedValues: true }) } }));
    for (let attempt = 0; pending?.length; attempt += 1) {
      if (attempt > UNPROCESSED_RETRIES) throw new Error('The ledger left items unprocessed after retries');
      if (attempt > 0) await backOff(attempt);
      const output: BatchWriteItemCommandOutput = await this.client.send(new BatchWriteItemCommand({ RequestItems: { [this.tableName]: pending } }));
      pending = output.UnprocessedItems?.[this.tableName];
    }
  }
}

function backOff(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** attempt, 800) * Math.random()));
}
