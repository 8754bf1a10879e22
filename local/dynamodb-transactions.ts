import { createHash } from 'node:crypto';
import { DeleteItemCommand, DescribeTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeValue, TransactWriteItem, TransactWriteItemsInput } from '@aws-sdk/client-dynamodb';

/**
 * TransactWriteItems for the embedded DynamoDB: dynalite 4 has no transactions, and the ledger's atomicity is what
 * the tests must prove. Each action runs as its own conditional write against dynalite (so dynalite evaluates the
 * conditions exactly as it does for single writes); if one fails, the ones already applied are put back as they
 * were, and the caller sees DynamoDB's TransactionCanceledException with one reason per action. The front server
 * runs a transaction alone (no other request in between), so nobody sees half of one.
 *
 * As DynamoDB does: no two actions on one item (ValidationException), the item as a failed condition found it for an
 * action that asks with ReturnValuesOnConditionCheckFailure ALL_OLD, and a ClientRequestToken (the SDK fills one in)
 * answers a repeat of a committed transaction with success for 10 minutes, so an SDK retry after a lost answer is not
 * reported as a conflict with itself.
 */
export interface TransactionAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

const TOKEN_WINDOW_MS = 10 * 60 * 1000;
const PREFIX = 'com.amazonaws.dynamodb.v20120810#';

export class EmbeddedTransactions {
  private readonly client: DynamoDBClient;
  private readonly committed = new Map<string, { readonly fingerprint: string; readonly at: number }>();
  private readonly keySchemas = new Map<string, string[]>();

  constructor(storeUrl: string) {
    this.client = new DynamoDBClient({
      endpoint: storeUrl,
      region: 'us-east-1',
      credentials: { accessKeyId: 'embedded', secretAccessKey: 'embedded' },
      maxAttempts: 1,
    });
  }

  async transactWriteItems(raw: string): Promise<TransactionAnswer> {
    let input: TransactWriteItemsInput;
    try {
      input = JSON.parse(raw) as TransactWriteItemsInput;
    } catch {
      return failure('SerializationException', 'The request body is not JSON');
    }
    const actions = input.TransactItems ?? [];
    if (actions.length === 0 || actions.length > 100) return failure('ValidationException', 'TransactItems must hold 1 to 100 actions');
    const targets = await Promise.all(actions.map((action) => this.targetOf(action)));
    if (targets.some((target) => target === undefined)) {
      return failure('ValidationException', 'Each action must be a Put, Update or Delete (ConditionCheck is not emulated locally)');
    }
    const identities = targets.map((target) => `${target?.table}\n${JSON.stringify(Object.entries(target?.key ?? {}).sort(([a], [b]) => a.localeCompare(b)))}`);
    if (new Set(identities).size !== identities.length) {
      return failure('ValidationException', 'Transaction request cannot include multiple operations on one item');
    }

    const fingerprint = createHash('sha256').update(raw.replace(/"ClientRequestToken":"[^"]*",?/, '')).digest('hex');
    const token = input.ClientRequestToken;
    this.forgetOldTokens();
    const earlier = token === undefined ? undefined : this.committed.get(token);
    if (earlier) {
      return earlier.fingerprint === fingerprint
        ? { status: 200, body: {} }
        : failure('IdempotentParameterMismatchException', 'The ClientRequestToken was used with another transaction');
    }

    const before = await Promise.all(
      targets.map(async (target) => {
        const output = await this.client.send(new GetItemCommand({ TableName: target?.table, Key: target?.key, ConsistentRead: true }));
        return output.Item;
      }),
    );
    for (let index = 0; index < actions.length; index += 1) {
      try {
        await this.apply(actions[index] as TransactWriteItem);
      } catch (error) {
        await this.restore(targets.slice(0, index), before.slice(0, index));
        const name = error instanceof Error ? error.name : 'InternalServerError';
        if (name !== 'ConditionalCheckFailedException') return failure(name, error instanceof Error ? error.message : 'Failed');
        const failedItem = returnsOldItem(actions[index] as TransactWriteItem) ? before[index] : undefined;
        const reasons = actions.map((_action, position) =>
          position === index ? { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed', ...(failedItem && { Item: failedItem }) } : { Code: 'None' },
        );
        return {
          status: 400,
          body: {
            __type: `${PREFIX}TransactionCanceledException`,
            Message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((reason) => reason.Code).join(', ')}]`,
            CancellationReasons: reasons,
          },
        };
      }
    }
    if (token !== undefined) this.committed.set(token, { fingerprint, at: Date.now() });
    return { status: 200, body: {} };
  }

  private async apply(action: TransactWriteItem): Promise<void> {
    if (action.Put) {
      const { Item, TableName, ConditionExpression, ExpressionAttributeNames, ExpressionAttributeValues } = action.Put;
      await this.client.send(new PutItemCommand({ Item, TableName, ConditionExpression, ExpressionAttributeNames, ExpressionAttributeValues }));
    } else if (action.Update) {
      const { Key, TableName, UpdateExpression, ConditionExpression, ExpressionAttributeNames, ExpressionAttributeValues } = action.Update;
      await this.client.send(
        new UpdateItemCommand({ Key, TableName, UpdateExpression, ConditionExpression, ExpressionAttributeNames, ExpressionAttributeValues }),
      );
    } else if (action.Delete) {
      const { Key, TableName, ConditionExpression, ExpressionAttributeNames, ExpressionAttributeValues } = action.Delete;
      await this.client.send(new DeleteItemCommand({ Key, TableName, ConditionExpression, ExpressionAttributeNames, ExpressionAttributeValues }));
    }
  }

  private async restore(targets: (Target | undefined)[], images: (Record<string, AttributeValue> | undefined)[]): Promise<void> {
    for (let index = targets.length - 1; index >= 0; index -= 1) {
      const target = targets[index];
      if (!target) continue;
      const image = images[index];
      if (image) await this.client.send(new PutItemCommand({ TableName: target.table, Item: image }));
      else await this.client.send(new DeleteItemCommand({ TableName: target.table, Key: target.key }));
    }
  }

  /** A Put names its item by the whole item: the table's key schema says which attributes are the key. */
  private async targetOf(action: TransactWriteItem): Promise<Target | undefined> {
    if (action.Update?.TableName && action.Update.Key) return { table: action.Update.TableName, key: action.Update.Key };
    if (action.Delete?.TableName && action.Delete.Key) return { table: action.Delete.TableName, key: action.Delete.Key };
    const put = action.Put;
    if (!put?.TableName || !put.Item) return undefined;
    const item = put.Item;
    const names = await this.keyNames(put.TableName);
    return { table: put.TableName, key: Object.fromEntries(names.flatMap((name) => (item[name] ? [[name, item[name]]] : []))) };
  }

  private async keyNames(table: string): Promise<string[]> {
    let names = this.keySchemas.get(table);
    if (!names) {
      const output = await this.client.send(new DescribeTableCommand({ TableName: table }));
      names = (output.Table?.KeySchema ?? []).flatMap((key) => (key.AttributeName ? [key.AttributeName] : []));
      this.keySchemas.set(table, names);
    }
    return names;
  }

  private forgetOldTokens(): void {
    const oldest = Date.now() - TOKEN_WINDOW_MS;
    for (const [token, { at }] of this.committed) if (at < oldest) this.committed.delete(token);
  }
}

/** Whether the action asked for the item as its failed condition found it (ReturnValuesOnConditionCheckFailure). */
function returnsOldItem(action: TransactWriteItem): boolean {
  const asked = action.Put ?? action.Update ?? action.Delete;
  return asked?.ReturnValuesOnConditionCheckFailure === 'ALL_OLD';
}

interface Target {
  readonly table: string;
  readonly key: Record<string, AttributeValue>;
}

function failure(type: string, message: string): TransactionAnswer {
  return { status: 400, body: { __type: `${PREFIX}${type}`, message } };
}

/** Lets transactions run alone while every other request runs alongside the others. */
export class ReadWriteLock {
  private readers = 0;
  private writing = false;
  private readonly waiting: { readonly exclusive: boolean; readonly grant: () => void }[] = [];

  acquire(exclusive: boolean): Promise<() => void> {
    return new Promise((resolve) => {
      this.waiting.push({ exclusive, grant: () => resolve(this.releaser(exclusive)) });
      this.next();
    });
  }

  private releaser(exclusive: boolean): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (exclusive) this.writing = false;
      else this.readers -= 1;
      this.next();
    };
  }

  private next(): void {
    while (this.waiting.length > 0 && !this.writing) {
      const head = this.waiting[0];
      if (!head) return;
      if (head.exclusive && this.readers > 0) return;
      this.waiting.shift();
      if (head.exclusive) this.writing = true;
      else this.readers += 1;
      head.grant();
      if (head.exclusive) return;
    }
  }
}
