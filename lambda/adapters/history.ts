import { GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { invalidNextToken } from '../domain/history';
import type { HistoryItem, HistoryPage, HistoryQuery, TransferHistoryPort } from '../domain/history';
import { LEDGER_TABLE } from '../tables';
import { ledgerKeys, TRANSFER_SORT_KEY } from './ledger-items';

const { partitionKey: PK, sortKey: SK = 'sk' } = LEDGER_TABLE;
const TRANSFER_PREFIX = 'TRANSFER#';
const DOORS: readonly HistoryItem['Door'][] = ['https', 'eventbridge', 'invoke'];

/**
 * The ledger read for contract section 10. A contact the gateway made has a `CONTACT#` item naming its tree; any
 * other contact is looked up as a tree's first contact. Either way the tree is one Query on `TREE#<id>`, in transfer
 * order, never a scan.
 */
export class DynamoDbTransferHistory implements TransferHistoryPort {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async list(query: HistoryQuery): Promise<HistoryPage> {
    const treeId = await this.treeOf(query.ContactId);
    const tree = ledgerKeys.tree(treeId);
    let startKey = query.nextToken === undefined ? undefined : decodeToken(query.nextToken, tree);
    const transfers: ReadItem[] = [];
    // DynamoDB applies Limit before the filter, so a page is filled by reading on until it is full or the tree ends.
    do {
      const output = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :tree AND begins_with(#sk, :transfer)',
          // A transfer's place reserved before Connect answered is not history until Connect accepted it.
          FilterExpression: 'attribute_not_exists(#status) OR #status = :transferred',
          ExpressionAttributeNames: { '#pk': PK, '#sk': SK, '#status': 'status' },
          ExpressionAttributeValues: marshall({ ':tree': tree, ':transfer': TRANSFER_PREFIX, ':transferred': 'TRANSFERRED' }),
          ExclusiveStartKey: startKey,
          Limit: query.maxResults - transfers.length,
          ConsistentRead: true,
        }),
      );
      for (const item of output.Items ?? []) transfers.push(historyItem(unmarshall(item)));
      startKey = output.LastEvaluatedKey;
    } while (startKey && transfers.length < query.maxResults);
    // The token names the last item returned, so the next page starts right after it.
    const last = transfers.at(-1);
    const more = startKey !== undefined && last !== undefined;
    return { Transfers: transfers.map(({ item }) => item), ...(more && { NextToken: encodeToken(tree, last.sk) }) };
  }

  private async treeOf(contactId: string): Promise<string> {
    const output = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: marshall(ledgerKeys.contact(contactId)), ConsistentRead: true }),
    );
    const treeId = output.Item && unmarshall(output.Item).treeId;
    return typeof treeId === 'string' ? treeId : contactId;
  }
}

/** A history item and the sort key it was read from, which a NextToken resumes after. */
interface ReadItem {
  readonly item: HistoryItem;
  readonly sk: string;
}

function historyItem(item: Record<string, unknown>): ReadItem {
  const text = (name: string): string => (typeof item[name] === 'string' ? (item[name] as string) : '');
  const optional = (name: string): string | undefined => (typeof item[name] === 'string' ? (item[name] as string) : undefined);
  const door = DOORS.find((known) => known === item.door) ?? 'invoke';
  const transferNumber = Number(item.transferNumber ?? item.transfersInTree);
  const queueId = optional('queueId');
  const userId = optional('userId');
  const note = optional('note');
  const scheduleId = optional('scheduleId');
  const read: HistoryItem = {
    TransferNumber: Number.isInteger(transferNumber) ? transferNumber : 0,
    FromContactId: text('fromContactId'),
    ToContactId: text('toContactId'),
    ToContactArn: text('toContactArn'),
    ContactFlowId: text('contactFlowId'),
    ...(queueId !== undefined && { QueueId: queueId }),
    ...(userId !== undefined && { UserId: userId }),
    RequestedBy: text('requestedBy'),
    Door: door,
    TransferredAt: text('at'),
    ...(note !== undefined && { Note: note }),
    ...(scheduleId !== undefined && { ScheduleId: scheduleId }),
  };
  return { item: read, sk: text(SK) };
}

/** Opaque to callers; bound to one tree, so a token cannot be replayed against another contact's history. */
function encodeToken(tree: string, sk: string): string {
  return Buffer.from(JSON.stringify([tree, sk]), 'utf8').toString('base64url');
}

/**
 * Only a sort key the ledger itself could have written is accepted: anything else would reach DynamoDB as a
 * malformed key and come back as a 500.
 */
function decodeToken(token: string, tree: string): Record<string, AttributeValue> {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalidNextToken();
  }
  if (!Array.isArray(decoded) || decoded.length !== 2 || decoded[0] !== tree || typeof decoded[1] !== 'string' || !TRANSFER_SORT_KEY.test(decoded[1])) {
    throw invalidNextToken();
  }
  return marshall({ [PK]: tree, [SK]: decoded[1] });
}
