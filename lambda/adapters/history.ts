import { GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { invalidNextToken } from '../domain/history';
import type { HistoryItem, HistoryPage, HistoryQuery, TransferHistoryPort } from '../domain/history';
import { LEDGER_TABLE } from '../tables';
import { ledgerKeys } from './ledger';

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
    const startKey = query.nextToken === undefined ? undefined : decodeToken(query.nextToken, tree);
    const output = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: '#pk = :tree AND begins_with(#sk, :transfer)',
        // A reservation whose transfer has not been confirmed by Connect is not (yet) history.
        FilterExpression: 'attribute_not_exists(#status) OR #status = :transferred',
        ExpressionAttributeNames: { '#pk': PK, '#sk': SK, '#status': 'status' },
        ExpressionAttributeValues: marshall({ ':tree': tree, ':transfer': TRANSFER_PREFIX, ':transferred': 'TRANSFERRED' }),
        ExclusiveStartKey: startKey,
        Limit: query.maxResults,
        ConsistentRead: true,
      }),
    );
    const transfers = (output.Items ?? []).map((item) => historyItem(unmarshall(item)));
    const last = output.LastEvaluatedKey;
    return { Transfers: transfers, ...(last && { NextToken: encodeToken(last) }) };
  }

  private async treeOf(contactId: string): Promise<string> {
    const output = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: marshall(ledgerKeys.contact(contactId)), ConsistentRead: true }),
    );
    const treeId = output.Item && unmarshall(output.Item).treeId;
    return typeof treeId === 'string' ? treeId : contactId;
  }
}

function historyItem(item: Record<string, unknown>): HistoryItem {
  const text = (name: string): string => (typeof item[name] === 'string' ? (item[name] as string) : '');
  const optional = (name: string): string | undefined => (typeof item[name] === 'string' ? (item[name] as string) : undefined);
  const door = DOORS.find((known) => known === item.door) ?? 'invoke';
  const queueId = optional('queueId');
  const userId = optional('userId');
  return {
    TransferNumber: Number(item.transfersInTree ?? item.transferNumber),
    FromContactId: text('fromContactId'),
    ToContactId: text('toContactId'),
    ToContactArn: text('toContactArn'),
    ContactFlowId: text('contactFlowId'),
    ...(queueId !== undefined && { QueueId: queueId }),
    ...(userId !== undefined && { UserId: userId }),
    RequestedBy: text('requestedBy'),
    Door: door,
    TransferredAt: text('at'),
  };
}

/** Opaque to callers; bound to one tree, so a token cannot be replayed against another contact's history. */
function encodeToken(key: Record<string, AttributeValue>): string {
  const { [PK]: pk, [SK]: sk } = unmarshall(key) as Record<string, unknown>;
  return Buffer.from(JSON.stringify([pk, sk]), 'utf8').toString('base64url');
}

function decodeToken(token: string, tree: string): Record<string, AttributeValue> {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalidNextToken();
  }
  if (!Array.isArray(decoded) || decoded.length !== 2 || decoded[0] !== tree || typeof decoded[1] !== 'string' || !decoded[1].startsWith(TRANSFER_PREFIX)) {
    throw invalidNextToken();
  }
  return marshall({ [PK]: tree, [SK]: decoded[1] });
}
