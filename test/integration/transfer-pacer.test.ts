import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbPacer, InMemoryPacer, pacerKeyOf } from '../../lambda/adapters/transfer-pacer';
import { createGatewayTables, startEmbeddedDynamoDb } from '../../local/embedded-dynamodb';
import type { EmbeddedDynamoDb } from '../../local/embedded-dynamodb';

/** The shared pacer over real DynamoDB requests: two containers draw on one budget. */
let dynamodb: EmbeddedDynamoDb;
let client: DynamoDBClient;
const TABLE = 'pacer-idempotency';

beforeAll(async () => {
  dynamodb = await startEmbeddedDynamoDb();
  client = new DynamoDBClient({ endpoint: dynamodb.url, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  await createGatewayTables(client, { idempotency: TABLE, ledger: 'pacer-ledger' });
});
afterAll(() => dynamodb.close());

const tatOf = async (scope: { account: string; region: string }) => {
  const { Item } = await client.send(new GetItemCommand({ TableName: TABLE, Key: { id: { S: pacerKeyOf(scope) } }, ConsistentRead: true }));
  return Number(Item?.tat?.N);
};

describe('the shared TransferContact pacer', () => {
  it('spaces the calls of two containers one interval apart, after the burst', async () => {
    const settings = { ratePerSecond: 20, burst: 2 };
    const [a, b] = [new DynamoDbPacer(client, TABLE, settings, { account: 'spacing', region: 'test' }), new DynamoDbPacer(client, TABLE, settings, { account: 'spacing', region: 'test' })];
    const started = Date.now();
    const granted = await Promise.all([a, b, a, b, a, b].map((pacer) => pacer.acquire(Date.now() + 10_000)));
    expect(granted).toEqual(Array(6).fill(true));
    // Six slots of 50 ms reserved from an idle start: the next free slot is about 300 ms later.
    const tat = await tatOf({ account: 'spacing', region: 'test' });
    expect(tat - started).toBeGreaterThanOrEqual(290);
    expect(tat - started).toBeLessThan(1000);
    // Four calls had to wait for their slots: 4 x 50 ms at least since the first.
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('refuses, taking nothing, a slot later than the deadline, and grants a free one whatever the deadline', async () => {
    const pacer = new DynamoDbPacer(client, TABLE, { ratePerSecond: 1, burst: 1 }, { account: 'deadline', region: 'test' });
    expect(await pacer.acquire(0)).toBe(true);
    const tat = await tatOf({ account: 'deadline', region: 'test' });
    expect(await pacer.acquire(Date.now() + 100)).toBe(false);
    expect(await tatOf({ account: 'deadline', region: 'test' })).toBe(tat);
  });

  it('takes back a reserved slot that will not be used, while it is still ahead', async () => {
    const pacer = new DynamoDbPacer(client, TABLE, { ratePerSecond: 1, burst: 1 }, { account: 'release', region: 'test' });
    expect(await pacer.acquire(0)).toBe(true);
    const before = await tatOf({ account: 'release', region: 'test' });
    const sendAt = await pacer.reserve(Date.now() + 5000);
    expect(sendAt).toBeGreaterThan(Date.now());
    expect(await tatOf({ account: 'release', region: 'test' })).toBe(before + 1000);
    await pacer.release(sendAt ?? 0);
    expect(await tatOf({ account: 'release', region: 'test' })).toBe(before);
  });

  it('slows every container down after Connect throttled anyway', async () => {
    const pacer = new DynamoDbPacer(client, TABLE, { ratePerSecond: 100, burst: 1 }, { account: 'slow', region: 'test' });
    await pacer.slowDown(5000);
    expect(await pacer.acquire(Date.now() + 1000)).toBe(false);
    const local = new InMemoryPacer({ ratePerSecond: 100, burst: 1 });
    await local.slowDown(5000);
    expect(await local.acquire(Date.now() + 1000)).toBe(false);
  });
});
