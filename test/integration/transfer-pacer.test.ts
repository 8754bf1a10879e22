import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { pacerKeyOf } from '../../lambda/adapters/pacer-budget';
import { DynamoDbPacer, InMemoryPacer } from '../../lambda/adapters/transfer-pacer';
import { createGatewayTables, startEmbeddedDynamoDb } from '../../local/embedded-dynamodb';
import type { EmbeddedDynamoDb } from '../../local/embedded-dynamodb';
import { TokenBucket } from '../../simulator/connect-simulator';

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

  it('keeps the calls of several containers within the configured burst and Connect\'s quota through releases and a throttle', async () => {
    // Only Date is faked: the requests to DynamoDB run for real, the pacers read the clock the test sets.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const T0 = 1_800_000_000_000;
      vi.setSystemTime(T0);
      const scope = { account: 'contention', region: 'test' };
      const containers = Array.from({ length: 4 }, () => new DynamoDbPacer(client, TABLE, { ratePerSecond: 2, burst: 2 }, scope, { onRate: () => undefined }));
      /** The slots of calls still to be made, and the container that reserved each (two may share an instant). */
      const held: { slot: number; pacer: DynamoDbPacer }[] = [];
      const reserve = (count: number) =>
        Promise.all(
          Array.from({ length: count }, async (_, index) => {
            const pacer = containers[index % containers.length] as DynamoDbPacer;
            const sendAt = await pacer.reserve(Date.now() + 60_000);
            if (sendAt === undefined) throw new Error('no slot within 60 s');
            held.push({ slot: sendAt, pacer });
            return sendAt;
          }),
        );
      /** Requests that turn out duplicates or rejections give their slots back, from whichever container took them. */
      const release = (slots: number[]) =>
        Promise.all(
          slots.map((slot) => {
            const [call] = held.splice(held.findIndex((other) => other.slot === slot), 1);
            return call?.pacer.release(slot);
          }),
        );

      const first = (await reserve(20)).sort((a, b) => a - b);
      vi.setSystemTime(T0 + 200);
      await release(first.filter((slot, index) => index % 2 === 1 && slot > Date.now()).slice(0, 8));
      const throttledAt = T0 + 300;
      vi.setSystemTime(throttledAt);
      await (containers[3] as DynamoDbPacer).slowDown(1000);
      const afterThrottle = await reserve(8);
      await release(afterThrottle.filter((_, index) => index % 3 === 0));
      await reserve(8);

      const calls = held.map(({ slot }) => slot).sort((a, b) => a - b);
      expect(calls).toHaveLength(20 - 8 + 8 - 3 + 8);
      // A hundredth of a millisecond for the floating-point sums of intervals.
      const refusedBy = (quota: { rate: number; burst: number }) => {
        const bucket = new TokenBucket(quota, T0);
        return calls.filter((at) => !bucket.take(at + 0.01)).map((at) => at - T0);
      };
      // The gateway's own traffic never exceeds the configured burst (a bucket of 2 at the rate), so Connect's bucket of
      // 5 refuses none of it either.
      expect(refusedBy({ rate: 2, burst: 2 })).toEqual([]);
      expect(refusedBy({ rate: 2, burst: 5 })).toEqual([]);
      // The back-off held for every slot reserved after the throttle, releases or not.
      expect(Math.min(...afterThrottle)).toBeGreaterThanOrEqual(throttledAt + 1000);
    } finally {
      vi.useRealTimers();
    }
  });
});
