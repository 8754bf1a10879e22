import { randomUUID } from 'node:crypto';
import { DynamoDBClient, GetItemCommand, PutItemCommand, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGatewayTables, startEmbeddedDynamoDb } from '../../local/embedded-dynamodb';
import type { EmbeddedDynamoDb } from '../../local/embedded-dynamodb';

/** dynalite has no transactions; the ledger's atomicity rests on this emulation, so it is tested against DynamoDB's rules. */
let store: EmbeddedDynamoDb;
let client: DynamoDBClient;
const table = `ledger-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  store = await startEmbeddedDynamoDb();
  client = new DynamoDBClient({ endpoint: store.url, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 's' }, maxAttempts: 1 });
  await createGatewayTables(client, { idempotency: `idempotency-${randomUUID().slice(0, 8)}`, ledger: table });
});
afterAll(() => store.close());

const put = (pk: string, value: string, condition?: string): TransactWriteItem => ({
  Put: {
    TableName: table,
    Item: { pk: { S: pk }, sk: { S: 'X' }, value: { S: value } },
    ...(condition && { ConditionExpression: condition }),
  },
});
const valueOf = async (pk: string) =>
  (await client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: pk }, sk: { S: 'X' } }, ConsistentRead: true }))).Item?.value?.S;
const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error as Error & { CancellationReasons?: { Code?: string }[] });

describe('TransactWriteItems on the embedded DynamoDB', () => {
  it('all or nothing: a failed condition cancels the whole transaction with one reason per action, and undoes the others', async () => {
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    await client.send(new PutItemCommand({ TableName: table, Item: { pk: { S: a }, sk: { S: 'X' }, value: { S: 'original' } } }));
    await client.send(new PutItemCommand({ TableName: table, Item: { pk: { S: c }, sk: { S: 'X' }, value: { S: 'before' } } }));
    const error = await failure(client.send(new TransactWriteItemsCommand({ TransactItems: [put(b, 'new'), put(c, 'after'), put(a, 'overwrite', 'attribute_not_exists(pk)')] })));
    expect(error?.name).toBe('TransactionCanceledException');
    expect(error?.CancellationReasons?.map((reason) => reason.Code)).toEqual(['None', 'None', 'ConditionalCheckFailed']);
    expect([await valueOf(a), await valueOf(b), await valueOf(c)]).toEqual(['original', undefined, 'before']);
  });

  it('commits every action when every condition holds', async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    await client.send(new TransactWriteItemsCommand({ TransactItems: [put(a, '1', 'attribute_not_exists(pk)'), put(b, '2', 'attribute_not_exists(pk)')] }));
    expect([await valueOf(a), await valueOf(b)]).toEqual(['1', '2']);
  });

  it('a repeated ClientRequestToken of a committed transaction succeeds without applying it again; with other actions it is refused', async () => {
    const a = randomUUID();
    const token = randomUUID();
    const once = () => client.send(new TransactWriteItemsCommand({ ClientRequestToken: token, TransactItems: [put(a, 'v', 'attribute_not_exists(pk)')] }));
    await once();
    await expect(once()).resolves.toBeDefined();
    const other = await failure(client.send(new TransactWriteItemsCommand({ ClientRequestToken: token, TransactItems: [put(randomUUID(), 'w')] })));
    expect(other?.name).toBe('IdempotentParameterMismatchException');
  });

  it('hands back the item a failed condition found to an action that asks for it (ReturnValuesOnConditionCheckFailure ALL_OLD), and to no other', async () => {
    const a = randomUUID();
    await client.send(new PutItemCommand({ TableName: table, Item: { pk: { S: a }, sk: { S: 'X' }, value: { S: 'original' } } }));
    const asking: TransactWriteItem = { Put: { ...put(a, 'overwrite', 'attribute_not_exists(pk)').Put!, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } };
    const withItem = await failure(client.send(new TransactWriteItemsCommand({ TransactItems: [asking] })));
    expect(withItem?.CancellationReasons).toEqual([expect.objectContaining({ Code: 'ConditionalCheckFailed', Item: { pk: { S: a }, sk: { S: 'X' }, value: { S: 'original' } } })]);
    const without = await failure(client.send(new TransactWriteItemsCommand({ TransactItems: [put(a, 'overwrite', 'attribute_not_exists(pk)')] })));
    expect(without?.CancellationReasons?.[0]).not.toHaveProperty('Item');
    const missing = await failure(client.send(new TransactWriteItemsCommand({ TransactItems: [{ Put: { ...put(randomUUID(), 'v', 'attribute_exists(pk)').Put!, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } }] })));
    expect(missing?.CancellationReasons).toEqual([expect.not.objectContaining({ Item: expect.anything() })]);
  });

  it('refuses two actions on one item, as DynamoDB does', async () => {
    const a = randomUUID();
    const error = await failure(client.send(new TransactWriteItemsCommand({ TransactItems: [put(a, '1'), put(a, '2')] })));
    expect(error?.name).toBe('ValidationException');
    expect(await valueOf(a)).toBeUndefined();
  });
});
