import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoDbBudget, InMemoryBudget, pacerKeyOf } from '../../../lambda/adapters/pacer-budget';
import type { BudgetStore } from '../../../lambda/adapters/pacer-budget';
import { DynamoDbPacer, InMemoryPacer, SharedPacer } from '../../../lambda/adapters/transfer-pacer';
import { IDEMPOTENCY_TABLE } from '../../../lambda/tables';
import type { PaceSettings } from '../../../lambda/adapters/transfer-pacer';
import { createGatewayTables, startEmbeddedDynamoDb } from '../../../local/embedded-dynamodb';
import type { EmbeddedDynamoDb } from '../../../local/embedded-dynamodb';

/**
 * The pacer's arithmetic against a fake clock: the slots it hands out, what a release gives back, how a Connect
 * throttle slows every container and how the rate recovers. Each case runs on the in-memory budget and on the shared
 * one over embedded DynamoDB (real requests, in-process), so both stores' conditions are held to the same answers.
 */
const T0 = 1_800_000_000_000;

let dynamodb: EmbeddedDynamoDb;
let client: DynamoDBClient;
const TABLE = 'pacer-unit-idempotency';
beforeAll(async () => {
  dynamodb = await startEmbeddedDynamoDb();
  client = new DynamoDBClient({ endpoint: dynamodb.url, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  await createGatewayTables(client, { idempotency: TABLE, ledger: 'pacer-unit-ledger' });
});
afterAll(() => dynamodb.close());

class FakeClock {
  at = T0;
  readonly now = () => this.at;
  readonly sleep = async (ms: number) => {
    this.slept.push(ms);
    if (ms > 0) this.at += ms;
  };
  readonly slept: number[] = [];
  advance(ms: number): void {
    this.at += ms;
  }
}

let budgets = 0;
const stores: [string, (clock: FakeClock) => BudgetStore][] = [
  ['in memory', () => new InMemoryBudget()],
  ['shared over DynamoDB', (clock) => new DynamoDbBudget(client, TABLE, { account: `unit-${(budgets += 1)}`, region: 'test' }, clock.now)],
];

describe.each(stores)('the pacer on a budget %s', (_name, storeOf) => {
  /** Containers sharing one budget, on one clock; each records the rates it reported. */
  function containers(settings: PaceSettings, count = 1) {
    const clock = new FakeClock();
    const store = storeOf(clock);
    const rates: number[] = [];
    const pacers = Array.from({ length: count }, () => new SharedPacer(store, settings, { now: clock.now, sleep: clock.sleep, onRate: (rate) => rates.push(rate) }));
    return { clock, pacers, rates, pacer: pacers[0] as SharedPacer };
  }
  const reserveAll = async (pacer: SharedPacer, count: number, deadline = T0 + 60_000) => {
    const slots: (number | undefined)[] = [];
    for (let i = 0; i < count; i += 1) slots.push(await pacer.reserve(deadline));
    return slots.map((slot) => (slot === undefined ? undefined : slot - T0));
  };

  describe('slots', () => {
    it('lets the burst go at once after a quiet spell, then one call per interval', async () => {
      const { pacer } = containers({ ratePerSecond: 2, burst: 3 });
      expect(await reserveAll(pacer, 6)).toEqual([0, 0, 0, 500, 1000, 1500]);
    });

    it('spaces every call one interval apart with a burst of one', async () => {
      const { pacer } = containers({ ratePerSecond: 4, burst: 1 });
      expect(await reserveAll(pacer, 4)).toEqual([0, 250, 500, 750]);
    });

    it('counts the queue from the clock, not from the last slot, once the queue has passed', async () => {
      const { pacer, clock } = containers({ ratePerSecond: 2, burst: 1 });
      expect(await reserveAll(pacer, 2)).toEqual([0, 500]);
      clock.advance(10_000);
      expect(await reserveAll(pacer, 2)).toEqual([10_000, 10_500]);
    });

    it('takes the slot that comes exactly when the queue ends, one interval on', async () => {
      const { pacer, clock } = containers({ ratePerSecond: 2, burst: 1 });
      await reserveAll(pacer, 1);
      clock.advance(500);
      expect(await reserveAll(pacer, 2)).toEqual([500, 1000]);
    });

    it('hands out the slots of several containers from one budget, in the order they asked', async () => {
      const { pacers } = containers({ ratePerSecond: 2, burst: 1 }, 3);
      const slots = [];
      for (const pacer of [...pacers, ...pacers]) slots.push(((await pacer.reserve(T0 + 60_000)) ?? 0) - T0);
      expect(slots).toEqual([0, 500, 1000, 1500, 2000, 2500]);
    });
  });

  describe('deadlines', () => {
    it('grants a slot that comes by the deadline and refuses, taking nothing, one that comes after it', async () => {
      const { pacer } = containers({ ratePerSecond: 2, burst: 1 });
      await reserveAll(pacer, 1);
      expect(await pacer.reserve(T0 + 499)).toBeUndefined();
      expect(await pacer.reserve(T0 + 500)).toBe(T0 + 500);
      expect(await pacer.reserve(T0 + 999)).toBeUndefined();
      expect(await pacer.reserve(T0 + 1000)).toBe(T0 + 1000);
    });

    it('counts the burst tolerance in the deadline', async () => {
      const { pacer } = containers({ ratePerSecond: 2, burst: 2 });
      expect(await reserveAll(pacer, 2)).toEqual([0, 0]);
      expect(await pacer.reserve(T0 + 499)).toBeUndefined();
      expect(await pacer.reserve(T0 + 500)).toBe(T0 + 500);
    });

    it('grants a container that has not seen a throttle the slot that ends exactly at its deadline, at the lowered rate', async () => {
      // 20/7 calls a second: 2/s after a throttle, so every slot falls on a whole millisecond in both budgets.
      const { pacers } = containers({ ratePerSecond: 20 / 7, burst: 1 }, 2);
      const [a, b] = pacers as [SharedPacer, SharedPacer];
      await a.slowDown(1000);
      expect(await reserveAll(a, 1)).toEqual([1000]);
      // b still reckons with the rate before the throttle, and learns it from the budget.
      expect(await b.reserve(T0 + 1500)).toBe(T0 + 1500);
      expect(await reserveAll(a, 1)).toEqual([2000]);
    });

    it('grants a free slot whatever the deadline', async () => {
      const { pacer } = containers({ ratePerSecond: 2, burst: 2 });
      expect(await pacer.reserve(0)).toBe(T0);
      expect(await pacer.reserve(0)).toBe(T0);
      expect(await pacer.reserve(0)).toBeUndefined();
    });

    it('waits for its slot, and waits for nothing when it gets none', async () => {
      const { pacer, clock } = containers({ ratePerSecond: 2, burst: 1 });
      expect(await pacer.acquire(T0)).toBe(true);
      expect(await pacer.acquire(T0 + 400)).toBe(false);
      expect(clock.slept.filter((ms) => ms > 0)).toEqual([]);
      expect(await pacer.acquire(T0 + 500)).toBe(true);
      expect(clock.slept.filter((ms) => ms > 0)).toEqual([500]);
      expect(clock.at).toBe(T0 + 500);
    });
  });

  describe('releases', () => {
    it('gives the last reserved slot back to the next caller', async () => {
      const { pacer } = containers({ ratePerSecond: 2, burst: 1 });
      expect(await reserveAll(pacer, 3)).toEqual([0, 500, 1000]);
      await pacer.release(T0 + 1000);
      expect(await reserveAll(pacer, 2)).toEqual([1000, 1500]);
    });

    it('keeps a slot with later ones behind it spent, so no two calls share an instant', async () => {
      const { pacer } = containers({ ratePerSecond: 2, burst: 2 });
      const held = await reserveAll(pacer, 5);
      expect(held).toEqual([0, 0, 500, 1000, 1500]);
      await pacer.release(T0 + 500);
      await pacer.release(T0 + 1000);
      const next = await reserveAll(pacer, 2);
      expect(next).toEqual([2000, 2500]);
      // Never more than the burst within one interval, counting every slot still in use.
      const inUse = [...held.filter((slot) => slot !== 500 && slot !== 1000), ...next].map(Number);
      for (const start of inUse) expect(inUse.filter((slot) => slot >= start && slot < start + 500).length).toBeLessThanOrEqual(2);
    });

    it('gives back nothing for a slot that has come, one it never reserved, or one already given back', async () => {
      const { pacer, clock } = containers({ ratePerSecond: 2, burst: 1 });
      expect(await reserveAll(pacer, 2)).toEqual([0, 500]);
      await pacer.release(T0 + 250);
      clock.advance(500);
      await pacer.release(T0 + 500);
      expect(await reserveAll(pacer, 1)).toEqual([1000]);
      await pacer.release(T0 + 1000);
      await pacer.release(T0 + 1000);
      expect(await reserveAll(pacer, 2)).toEqual([1000, 1500]);
    });

    it('counts the slots after a quiet spell from the clock, also when the last one before it was given back', async () => {
      const { pacer, clock } = containers({ ratePerSecond: 2, burst: 1 });
      expect(await reserveAll(pacer, 2)).toEqual([0, 500]);
      clock.advance(100);
      await pacer.release(T0 + 500);
      clock.advance(600);
      expect(await reserveAll(pacer, 2)).toEqual([700, 1200]);
    });

    it('gives back a slot still ahead by a millisecond', async () => {
      const { pacer, clock } = containers({ ratePerSecond: 2, burst: 1 });
      expect(await reserveAll(pacer, 2)).toEqual([0, 500]);
      clock.advance(499);
      await pacer.release(T0 + 500);
      expect(await reserveAll(pacer, 1)).toEqual([500]);
    });

    it('frees nothing when a slot is given back twice, not even another container\'s slot reserved in between', async () => {
      const { pacers } = containers({ ratePerSecond: 2, burst: 1 }, 2);
      const [a, b] = pacers as [SharedPacer, SharedPacer];
      expect(await reserveAll(a, 3)).toEqual([0, 500, 1000]);
      await a.release(T0 + 1000);
      expect(await reserveAll(b, 1)).toEqual([1000]);
      await a.release(T0 + 1000);
      expect(await reserveAll(b, 1)).toEqual([1500]);
    });

    it('gives back only what this container reserved', async () => {
      const { pacers } = containers({ ratePerSecond: 2, burst: 1 }, 2);
      const [a, b] = pacers as [SharedPacer, SharedPacer];
      expect(await reserveAll(a, 2)).toEqual([0, 500]);
      await b.release(T0 + 500);
      expect(await reserveAll(b, 1)).toEqual([1000]);
    });
  });

  describe('Connect throttles', () => {
    /** Each rate the pacer reserves at, `after` ms from T0, rounded to what an operator reads off the metric. */
    async function ratesAt(setup: ReturnType<typeof containers>, afters: readonly number[]) {
      const seen: number[] = [];
      for (const after of afters) {
        setup.clock.at = T0 + after;
        await setup.pacer.reserve(setup.clock.at + 60_000);
        seen.push(Number((setup.rates.at(-1) ?? 0).toFixed(4)));
      }
      return seen;
    }

    it('holds the wait after a throttle for every container, also against releases', async () => {
      const { pacers } = containers({ ratePerSecond: 2, burst: 1 }, 2);
      const [a, b] = pacers as [SharedPacer, SharedPacer];
      expect(await reserveAll(a, 2)).toEqual([0, 500]);
      await b.slowDown(2000);
      await a.release(T0 + 500);
      // The wait comes after the calls already queued (until 1 s), and the released slot does not cut into it.
      expect(await reserveAll(b, 1)).toEqual([3000]);
      expect(((await a.reserve(T0 + 60_000)) ?? 0) - T0).toBeGreaterThan(3000);
    });

    it('waits the back-off plus the burst tolerance, so the burst does not meet Connect right after its throttle', async () => {
      const { pacer } = containers({ ratePerSecond: 2, burst: 3 });
      await pacer.slowDown(1000);
      // The rate is 1.4/s after the throttle: an interval of 714 ms, a tolerance of two; the first slot after 1 s.
      // No burst right after it either: one slot at a time.
      const [first, second] = await reserveAll(pacer, 2);
      expect(first).toBeCloseTo(1000, 0);
      expect(second).toBeCloseTo(1000 + 1000 / 1.4, 0);
    });

    it('puts the wait behind the calls already queued when it lowers the rate, and a throttle of one of them adds none', async () => {
      const { pacer, clock } = containers({ ratePerSecond: 2, burst: 1 });
      expect(await reserveAll(pacer, 6)).toEqual([0, 500, 1000, 1500, 2000, 2500]);
      await pacer.slowDown(1000);
      // The six queued calls go by 3 s at the old rate; Connect's bucket then refills for 1 s before the lowered rate.
      clock.advance(500);
      await pacer.slowDown(1000);
      const [next, after] = await reserveAll(pacer, 2);
      expect(next).toBe(4000);
      expect(after).toBeCloseTo(4000 + 1000 / 1.4, 0);
    });

    it('drops the shared rate to 70 % of the rate throttled, for every container', async () => {
      const { pacers, rates, clock } = containers({ ratePerSecond: 2, burst: 1 }, 2);
      const [a, b] = pacers as [SharedPacer, SharedPacer];
      await a.slowDown(1000);
      expect(a.rateAt(T0)).toBeCloseTo(1.4, 6);
      clock.advance(1000);
      const [first, second] = [await a.reserve(T0 + 60_000), await a.reserve(T0 + 60_000)].map((slot) => (slot ?? 0) - T0);
      expect(first).toBe(1000);
      expect(second).toBeCloseTo(1000 + 1000 / 1.4, 0);
      // b never saw the throttle; its slots follow a's at the lowered rate all the same.
      const third = ((await b.reserve(T0 + 60_000)) ?? 0) - T0;
      expect(third - second).toBeCloseTo(1000 / 1.4, 0);
      await b.reserve(T0 + 60_000);
      expect(rates).toHaveLength(4);
      for (const rate of rates) expect(rate).toBeCloseTo(1.4, 6);
    });

    it('holds the share it learned for a minute, then probes slowly, regaining the rate throttled at a minute later', async () => {
      const setup = containers({ ratePerSecond: 2, burst: 1 });
      await setup.pacer.slowDown(1000);
      expect(await ratesAt(setup, [0, 30_000, 60_000, 90_000, 105_000, 120_000, 600_000])).toEqual([1.4, 1.4, 1.4, 1.475, 1.6531, 2, 2]);
    });

    it('scales the probe to the rate throttled at', async () => {
      const setup = containers({ ratePerSecond: 10, burst: 1 });
      await setup.pacer.slowDown(1000);
      expect(await ratesAt(setup, [0, 60_000, 90_000, 120_000])).toEqual([7, 7, 7.375, 10]);
    });

    it('answers a throttle while probing with the share it held, not lower, and holds it a minute again', async () => {
      const setup = containers({ ratePerSecond: 2, burst: 1 });
      await setup.pacer.slowDown(1000);
      setup.clock.at = T0 + 100_000;
      expect(setup.pacer.rateAt(setup.clock.at)).toBeGreaterThan(1.5);
      await setup.pacer.slowDown(1000);
      expect(await ratesAt(setup, [100_000, 159_999, 190_000])).toEqual([1.4, 1.4, 1.4222]);
    });

    it('trims the share it holds by 5 % for a throttle after the episode of the last one', async () => {
      const setup = containers({ ratePerSecond: 2, burst: 1 });
      await setup.pacer.slowDown(1000);
      // Connect's bucket is still refilling for 10 s after the back-off: throttles until then are the same episode.
      setup.clock.at = T0 + 10_999;
      await setup.pacer.slowDown(1000);
      expect(await ratesAt(setup, [10_999])).toEqual([1.4]);
      setup.clock.at = T0 + 11_000;
      await setup.pacer.slowDown(1000);
      expect(await ratesAt(setup, [11_000, 70_999])).toEqual([1.33, 1.33]);
    });

    it('treats a throttle exactly when the hold ends as a probe that found the share', async () => {
      const setup = containers({ ratePerSecond: 2, burst: 1 });
      await setup.pacer.slowDown(1000);
      setup.clock.at = T0 + 59_999;
      await setup.pacer.slowDown(1000);
      expect(await ratesAt(setup, [59_999])).toEqual([1.33]);
      const other = containers({ ratePerSecond: 2, burst: 1 });
      await other.pacer.slowDown(1000);
      other.clock.at = T0 + 60_000;
      await other.pacer.slowDown(1000);
      expect(await ratesAt(other, [60_000])).toEqual([1.4]);
    });

    it('regains the configured rate while the other caller is away, and learns the share anew from 70 % of it', async () => {
      const setup = containers({ ratePerSecond: 2, burst: 1 });
      await setup.pacer.slowDown(1000);
      setup.clock.at = T0 + 11_000;
      await setup.pacer.slowDown(1000);
      expect(await ratesAt(setup, [11_000, 200_000])).toEqual([1.33, 2]);
      await setup.pacer.slowDown(1000);
      expect(await ratesAt(setup, [200_000])).toEqual([1.4]);
    });

    it('takes the throttles of calls already on their way for echoes of the first, lowering the rate once', async () => {
      const { pacers, rates, clock } = containers({ ratePerSecond: 2, burst: 1 }, 2);
      const [a, b] = pacers as [SharedPacer, SharedPacer];
      expect(await reserveAll(a, 6)).toEqual([0, 500, 1000, 1500, 2000, 2500]);
      // b never reserved: it learns where the queue ends from the budget.
      await b.slowDown(1000);
      // Calls reserved before the throttle go until 3 s, and the bucket refills for 10 s after: echoes, from either container.
      for (const at of [500, 1500, 12_999]) {
        clock.at = T0 + at;
        await (at === 1500 ? b : a).slowDown(1000);
      }
      await a.reserve(clock.at + 60_000);
      expect(rates.at(-1)).toBeCloseTo(1.4, 6);
      clock.at = T0 + 13_000;
      await a.slowDown(1000);
      await b.reserve(clock.at + 60_000);
      expect(rates.at(-1)).toBeCloseTo(1.33, 6);
    });

    it('takes a throttle another container recorded first, between its look and its write, for an echo of that one', async () => {
      const clock = new FakeClock();
      const store = storeOf(clock);
      const other = new SharedPacer(store, { ratePerSecond: 2, burst: 1 }, { now: clock.now, sleep: clock.sleep });
      // The other container records its throttle just before this one writes its own.
      const racing: BudgetStore = {
        append: (...args) => store.append(...args),
        startIdle: (...args) => store.startIdle(...args),
        giveBack: (...args) => store.giveBack(...args),
        pushTo: (...args) => store.pushTo(...args),
        read: () => store.read(),
        replaceThrottle: async (...args) => {
          await other.slowDown(1000);
          return store.replaceThrottle(...args);
        },
      };
      const pacer = new SharedPacer(racing, { ratePerSecond: 2, burst: 1 }, { now: clock.now, sleep: clock.sleep });
      expect(await reserveAll(pacer, 6)).toEqual([0, 500, 1000, 1500, 2000, 2500]);
      await pacer.slowDown(3000);
      // One wait behind the six queued calls (the other container's), not a second, longer one from this throttle.
      expect(await reserveAll(other, 1)).toEqual([4000]);
      expect(other.rateAt(clock.at)).toBeCloseTo(1.4, 6);
    });

    it('reads a throttle recorded by a container whose clock runs ahead as just now', async () => {
      const { pacers, clock } = containers({ ratePerSecond: 2, burst: 1 }, 2);
      const [ahead, behind] = pacers as [SharedPacer, SharedPacer];
      await ahead.slowDown(1000);
      clock.at = T0 - 200;
      await behind.reserve(T0 + 60_000);
      expect(behind.rateAt(T0 - 200)).toBeCloseTo(1.4, 6);
    });

    it('keeps a tenth of the configured rate however often Connect throttles', async () => {
      const { pacer, rates, clock } = containers({ ratePerSecond: 2, burst: 1 });
      for (let i = 0; i < 40; i += 1) {
        await pacer.slowDown(1000);
        clock.advance(11_000);
      }
      await pacer.reserve(clock.at + 600_000);
      expect(rates.at(-1)).toBeCloseTo(0.2, 6);
      expect(1.4 * 0.95 ** 39).toBeLessThan(0.2);
    });
  });

  describe('writes to the budget', () => {
    /** The budget's writes and reads, counted: what a reservation costs in DynamoDB requests. */
    function counted(settings: PaceSettings) {
      const clock = new FakeClock();
      const store = storeOf(clock);
      const requests: string[] = [];
      /** While set, every reservation write loses its race, as if other containers always moved the budget first. */
      const contention = { losing: false };
      const counting = new Proxy(store, {
        get: (target, name: keyof BudgetStore) => {
          const method = target[name].bind(target) as (...args: never[]) => Promise<unknown>;
          return (...args: never[]) => {
            requests.push(name);
            if (contention.losing && (name === 'append' || name === 'startIdle')) return Promise.resolve(undefined);
            return method(...args);
          };
        },
      });
      return { clock, requests, contention, pacer: new SharedPacer(counting, settings, { now: clock.now, sleep: clock.sleep }) };
    }

    it('takes the slot that comes exactly when the queue ends with one write', async () => {
      const { pacer, clock, requests } = counted({ ratePerSecond: 2, burst: 1 });
      await reserveAll(pacer, 1);
      clock.advance(500);
      requests.length = 0;
      expect(await reserveAll(pacer, 1)).toEqual([500]);
      expect(requests).toEqual(['append']);
    });

    it('gives up after two lost races instead of spinning on the shared item', async () => {
      const { pacer, requests, contention } = counted({ ratePerSecond: 2, burst: 1 });
      await reserveAll(pacer, 1);
      contention.losing = true;
      requests.length = 0;
      expect(await pacer.reserve(T0 + 60_000)).toBeUndefined();
      expect(requests).toEqual(['append', 'startIdle', 'read', 'append', 'startIdle', 'read']);
    });

    it('slows down with one read and two writes, after which a reservation costs one write again', async () => {
      const { pacer, requests } = counted({ ratePerSecond: 2, burst: 1 });
      await reserveAll(pacer, 2);
      requests.length = 0;
      await pacer.slowDown(1000);
      expect(requests).toEqual(['read', 'replaceThrottle', 'pushTo']);
      requests.length = 0;
      expect(await reserveAll(pacer, 1)).toEqual([2000]);
      expect(requests).toEqual(['append']);
    });

    it('knows the queue a throttle started after a quiet spell, so the first reservation behind it costs one write', async () => {
      const { pacer, clock, requests } = counted({ ratePerSecond: 2, burst: 1 });
      await reserveAll(pacer, 1);
      clock.advance(5000);
      await pacer.slowDown(1000);
      requests.length = 0;
      expect(await reserveAll(pacer, 1)).toEqual([6000]);
      expect(requests).toEqual(['append']);
    });

    it('costs one write per reservation while slots are queued, and one after a quiet spell', async () => {
      const { pacer, clock, requests } = counted({ ratePerSecond: 2, burst: 1 });
      await reserveAll(pacer, 3);
      expect(requests).toEqual(['startIdle', 'append', 'append']);
      clock.advance(5000);
      requests.length = 0;
      await reserveAll(pacer, 2);
      expect(requests).toEqual(['startIdle', 'append']);
    });

    it('refuses a slot past the deadline after one look at the budget', async () => {
      const { pacer, requests } = counted({ ratePerSecond: 2, burst: 1 });
      await reserveAll(pacer, 2);
      requests.length = 0;
      expect(await pacer.reserve(T0 + 100)).toBeUndefined();
      expect(requests).toEqual(['append', 'startIdle', 'read']);
    });
  });
});

describe('the function\'s pacer', () => {
  it('keeps one budget per account and Region in the stack\'s idempotency table, for a day after its last use', async () => {
    const clock = new FakeClock();
    const rates: number[] = [];
    const settings = { ratePerSecond: 2, burst: 1 };
    const options = { now: clock.now, sleep: clock.sleep, onRate: (rate: number) => rates.push(rate) };
    const scope = { account: 'unit-function', region: 'test' };
    const [a, b] = [new DynamoDbPacer(client, TABLE, settings, scope, options), new DynamoDbPacer(client, TABLE, settings, scope, options)];
    const elsewhere = new DynamoDbPacer(client, TABLE, settings, { ...scope, region: 'elsewhere' }, options);
    expect([await a.reserve(T0 + 60_000), await b.reserve(T0 + 60_000), await elsewhere.reserve(T0 + 60_000)]).toEqual([T0, T0 + 500, T0]);
    expect(rates).toEqual([2, 2, 2]);
    const { Item } = await client.send(
      new GetItemCommand({ TableName: TABLE, Key: { [IDEMPOTENCY_TABLE.partitionKey]: { S: pacerKeyOf(scope) } }, ConsistentRead: true }),
    );
    expect(Number(Item?.[IDEMPOTENCY_TABLE.timeToLiveAttribute]?.N)).toBe(T0 / 1000 + 86_400);
  });
});

describe('the shared budget\'s requests', () => {
  it('reads the budget strongly consistent, so a throttle another container just recorded is seen', async () => {
    const mocked = new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    const dynamodbMock = mockClient(mocked);
    dynamodbMock.on(GetItemCommand).resolves({});
    await new DynamoDbBudget(mocked, TABLE, { account: 'unit-read', region: 'test' }).read();
    expect(dynamodbMock.commandCalls(GetItemCommand)[0]?.args[0].input.ConsistentRead).toBe(true);
  });

  it('tells a budget it cannot reach from a lost race, so the caller calls Connect unpaced instead of being paced out', async () => {
    const missing = new DynamoDbBudget(client, 'no-such-table', { account: 'unit-missing', region: 'test' });
    await expect(missing.pushTo(T0)).rejects.toThrow();
    await expect(missing.append(undefined, T0, T0 + 1000, 500)).rejects.toThrow();
  });
});

describe('the pacer on the real clock', () => {
  afterEach(() => vi.useRealTimers());

  it('waits on a timer for a slot ahead, and not at all for a slot free now', async () => {
    vi.useFakeTimers({ now: T0, toFake: ['setTimeout', 'Date'] });
    const pacer = new InMemoryPacer({ ratePerSecond: 2, burst: 1 });
    expect(await pacer.acquire(T0 + 60_000)).toBe(true);
    let waited = false;
    const second = pacer.acquire(T0 + 60_000).then(() => (waited = true));
    await vi.advanceTimersByTimeAsync(499);
    expect(waited).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await second;
    expect(Date.now()).toBe(T0 + 500);
  });
});
