import { QueryCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeValue, QueryCommandOutput } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { LedgerView, TreeTally } from '../ports';
import { intentOf, ledgerKeys, PK, SK, skipOf, STATUS } from './ledger-items';
import type { LedgerTable } from './ledger-table';

/** What the ledger knows of a request before it is tried: its contact's tree count, and its key's intent or skip. */
export async function readLedger(table: LedgerTable, contactId: string, idempotencyKey: string): Promise<LedgerView> {
  const contactKey = ledgerKeys.contact(contactId);
  const intentKey = ledgerKeys.intent(idempotencyKey);
  const items = await table.batchGet([contactKey, intentKey]);
  const view: { -readonly [K in keyof LedgerView]: LedgerView[K] } = {};
  for (const item of items) {
    if (item[PK] === contactKey[PK] && typeof item.treeId === 'string' && typeof item.transfersInTree === 'number') {
      // Items written before the count was kept apart hold the slot number only: an upper bound of the count.
      const lastNumber = typeof item.transferNumber === 'number' ? item.transferNumber : item.transfersInTree;
      view.transfersInTree = { treeId: item.treeId, count: item.transfersInTree, lastNumber };
    }
    if (item[PK] === intentKey[PK]) {
      const intent = intentOf(item, idempotencyKey);
      const skip = skipOf(item);
      if (intent) view.intent = intent;
      if (skip) view.skip = skip;
    }
  }
  return view;
}

/** The tree's slots counted one by one: for a contact made outside the gateway, or a count another request moved. */
export async function tallyTree(table: LedgerTable, treeId: string): Promise<TreeTally> {
  let counted = 0;
  let lastNumber = 0;
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const output: QueryCommandOutput = await table.client.send(
      new QueryCommand({
        TableName: table.tableName,
        KeyConditionExpression: '#pk = :tree AND begins_with(#sk, :transfer)',
        ProjectionExpression: '#status, transferNumber',
        ExpressionAttributeNames: { '#pk': PK, '#sk': SK, '#status': 'status' },
        ExpressionAttributeValues: { ':tree': { S: ledgerKeys.tree(treeId) }, ':transfer': { S: 'TRANSFER#' } },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of (output.Items ?? []).map((raw) => unmarshall(raw))) {
      // A pending slot counts: its transfer may have happened (fail closed).
      if (item.status !== STATUS.released) counted += 1;
      if (typeof item.transferNumber === 'number') lastNumber = Math.max(lastNumber, item.transferNumber);
    }
    startKey = output.LastEvaluatedKey;
  } while (startKey);
  return { counted, lastNumber };
}
