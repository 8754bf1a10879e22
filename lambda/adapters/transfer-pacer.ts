import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { reportPacedRate } from '../observability';
import { IDEMPOTENCY_TABLE } from '../tables';
import { isConditionalCheckFailed } from './conditions';

/**
 * Paces the gateway's TransferContact calls to a rate within Connect's quota, which is per account and Region and
 * shared by every caller (docs/connect-api.md, "Quotas"): one budget for the HTTPS door, the event door and every container.
 */
export interface TransferPacer {
  /**
   * Waits for the next slot; false, having taken nothing, when that slot comes after `deadline` (ms since the epoch).
   * A slot free now is taken whatever the deadline.
   */
  acquire(deadline: number): Promise<boolean>;
  /**
   * Reserves the next slot without waiting for it: when it comes (ms since the epoch), or undefined when that would be
   * after `deadline` (nothing reserved). Lets the HTTPS door reserve while its look-ups run instead of after them.
   */
  reserve(deadline: number): Promise<number | undefined>;
  /**
   * Gives back a slot this pacer reserved and that will not be used (the request was rejected or replayed), if it is
   * still ahead and still the last one reserved: a slot with later ones behind it stays spent, as handing it to the
   * next caller would put two calls on the later slots' instants.
   */
  release(sendAt: number): Promise<void>;
  /**
   * Connect throttled anyway (a caller outside the gateway used the quota): every container waits `ms` more, and the
   * shared rate drops, to recover while no throttle follows.
   */
  slowDown(ms: number): Promise<void>;
}

export interface PaceSettings {
  /** TransferContact calls per second: the most the shared rate ever allows. */
  readonly ratePerSecond: number;
  /** Calls that may go at once after a quiet spell; kept below Connect's burst so timing jitter meets spare tokens. */
  readonly burst: number;
}

/**
 * How the shared rate follows Connect's throttles, after the AWS SDK's adaptive retry mode (`DefaultRateLimiter` in
 * @smithy/core's retry: on a throttle the rate drops to `beta` times the rate throttled at, then grows back along a
 * cubic, as TCP CUBIC does). The SDK's curve is in absolute calls per second and regains a rate of 2/s within about a
 * second, which against a quota of 2/s collides again at once; here the curve is scaled to the throttled rate, so it
 * regains it after `recoveryMs` whatever the configured rate, and probes above it only after that.
 */
export interface AdaptiveRate {
  /** The share of the throttled rate kept after a throttle (the SDK's `beta`). */
  readonly beta: number;
  /** How long the rate takes to regain the rate it was throttled at, while no throttle follows. */
  readonly recoveryMs: number;
  /** The lowest share of the configured rate the gateway slows to, so that it keeps probing for its share. */
  readonly minimumShare: number;
}

export const ADAPTIVE_RATE: AdaptiveRate = { beta: 0.7, recoveryMs: 60_000, minimumShare: 0.1 };

/** The last throttle the shared rate is recovering from. */
export interface Throttle {
  /** When the rate dropped (ms since the epoch). */
  readonly at: number;
  /** The rate in effect when Connect throttled, in calls per second. */
  readonly rate: number;
  /** The rate the recovery levels off at, in calls per second (CUBIC's `W_max`). */
  readonly plateau: number;
  /**
   * Until when a throttle is an echo of this one (ms since the epoch): calls whose slots were reserved before the rate
   * dropped still go at the old rate, and their throttles must not lower it again.
   */
  readonly echoesUntil: number;
}

/** The shared budget as stored: `tat`, the theoretical arrival time of the next slot, and the throttle being recovered from. */
export interface Budget {
  readonly tat?: number;
  readonly throttle?: Throttle;
}

/**
 * The one budget every container shares, as conditional writes: each returns the budget after it, or undefined when
 * its condition did not hold (another container moved the budget first).
 */
export interface BudgetStore {
  /**
   * Slots are reserved ahead (`now` <= tat <= `latest`): tat moves on by `interval`. Like `startIdle`, only while the
   * throttle recorded is still `seen`, the one the interval was computed from.
   */
  append(seen: Throttle | undefined, now: number, latest: number, interval: number): Promise<Budget | undefined>;
  /** Nothing is reserved ahead (no tat, or tat < `now`): tat becomes `now + interval`. */
  startIdle(seen: Throttle | undefined, now: number, interval: number): Promise<Budget | undefined>;
  /** The slot ending at `tail` is still the last reserved (tat = `tail`): tat goes back to `previous`. */
  giveBack(tail: number, previous: number): Promise<Budget | undefined>;
  /** No slot is reserved before `until` yet (no tat, or tat < `until`): tat becomes `until`. */
  pushTo(until: number): Promise<Budget | undefined>;
  /** The throttle recorded is still `seen` (none, when undefined): it becomes `next`. */
  replaceThrottle(seen: Throttle | undefined, next: Throttle): Promise<Budget | undefined>;
  read(): Promise<Budget>;
}

export interface PacerOptions {
  /** The clock (ms since the epoch); every container's is close enough to Connect's for pacing. */
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly adaptive?: AdaptiveRate;
  /** Told the shared rate (calls per second) each slot was reserved at: the rate the gateway settled on. */
  readonly onRate?: (ratePerSecond: number) => void;
}

const sleepFor = (ms: number): Promise<void> => (ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve());

/** A reserved slot as this pacer took it: what giving it back restores. */
interface ReservedSlot {
  readonly tail: number;
  readonly previous: number;
}

/**
 * The generic cell rate algorithm (a token bucket written as one number): the theoretical arrival time `tat` of the
 * next call. A caller reserves the slot at `tat` and moves it on by one interval, then sleeps until its slot, less
 * the burst tolerance. Scheduling instead of try-and-refuse means callers never spin on the shared item and are served
 * in the order they asked. The interval follows the adaptive rate; the budget's writes are the store's.
 */
export class SharedPacer implements TransferPacer {
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly adaptive: AdaptiveRate;
  private readonly onRate: (ratePerSecond: number) => void;
  /** The budget as this container last saw it: which write is likely to succeed first, and the rate to reserve at. */
  private seen: Budget = {};
  /** Slots this pacer reserved that are still ahead, by send time: what `release` may give back. */
  private readonly reserved = new Map<number, ReservedSlot>();

  constructor(
    private readonly store: BudgetStore,
    private readonly settings: PaceSettings,
    options: PacerOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? sleepFor;
    this.adaptive = options.adaptive ?? ADAPTIVE_RATE;
    this.onRate = options.onRate ?? (() => undefined);
  }

  /** The shared rate at `now` as this container last saw the budget, in calls per second. */
  rateAt(now: number): number {
    return rateAfter(this.seen.throttle, now, this.settings.ratePerSecond, this.adaptive);
  }

  async acquire(deadline: number): Promise<boolean> {
    const sendAt = await this.reserve(deadline);
    if (sendAt === undefined) return false;
    await this.sleep(sendAt - this.now());
    return true;
  }

  async reserve(deadline: number): Promise<number | undefined> {
    for (let round = 0; round < 2; round += 1) {
      const now = this.now();
      this.forgetPassed(now);
      const rate = this.rateAt(now);
      const interval = 1000 / rate;
      const tolerance = (this.settings.burst - 1) * interval;
      const latest = Math.max(deadline, now) + tolerance;
      const busy = (this.seen.tat ?? 0) >= now;
      const seen = this.seen.throttle;
      const append = () => this.store.append(seen, now, latest, interval);
      const startIdle = () => this.store.startIdle(seen, now, interval);
      for (const write of busy ? [append, startIdle] : [startIdle, append]) {
        const budget = await write();
        if (budget?.tat === undefined) continue;
        this.seen = budget;
        const sendAt = Math.max(now, budget.tat - interval - tolerance);
        this.reserved.set(sendAt, { tail: budget.tat, previous: budget.tat - interval });
        this.onRate(rate);
        return sendAt;
      }
      // Neither condition held: the queue reaches past the deadline, another container moved it in between, or the
      // rate dropped since this container last saw the budget.
      const budget = await this.store.read();
      this.seen = budget;
      if (budget.tat !== undefined && budget.tat > latest) return undefined;
    }
    return undefined;
  }

  async release(sendAt: number): Promise<void> {
    const slot = this.reserved.get(sendAt);
    this.reserved.delete(sendAt);
    if (slot === undefined || sendAt <= this.now()) return;
    const budget = await this.store.giveBack(slot.tail, slot.previous);
    if (budget) this.seen = budget;
  }

  async slowDown(ms: number): Promise<void> {
    const now = this.now();
    // Where the queue ends: the slots reserved before this throttle, whose calls it echoes.
    this.seen = await this.store.read();
    await this.lowerRate(now, Math.max(now + ms, this.seen.tat ?? now));
    // The wait counts the burst tolerance at the lowered rate, so no burst meets Connect right after its throttle.
    const tolerance = (this.settings.burst - 1) * (1000 / this.rateAt(now));
    const pushed = await this.store.pushTo(now + ms + tolerance);
    if (pushed) this.seen = pushed;
  }

  /**
   * Records the throttle the shared rate recovers from, unless it echoes the one recorded: slots reserved before the
   * rate dropped (until `echoesUntil`) still go at the old rate, and their throttles must not lower it again. When
   * another container records one first, between this one's read and write, that one is this throttle's echo.
   */
  private async lowerRate(now: number, echoesUntil: number): Promise<void> {
    const seen = this.seen.throttle;
    if (seen !== undefined && now < seen.echoesUntil) return;
    const replaced = await this.store.replaceThrottle(seen, throttleAt(now, this.rateAt(now), echoesUntil, this.adaptive));
    if (replaced) this.seen = replaced;
  }

  private forgetPassed(now: number): void {
    for (const sendAt of this.reserved.keys()) if (sendAt <= now) this.reserved.delete(sendAt);
  }
}

/**
 * The rate, in calls per second, `now` after `throttle`: `beta` times the throttled rate at once, reaching the plateau
 * after `recoveryMs` along a cubic (steep away from the plateau, flat near it, then probing above it), never above
 * `ceiling` nor below `minimumShare` of it.
 */
export function rateAfter(throttle: Throttle | undefined, now: number, ceiling: number, adaptive: AdaptiveRate): number {
  if (throttle === undefined) return ceiling;
  const sincePlateau = (Math.max(0, now - throttle.at) - adaptive.recoveryMs) / adaptive.recoveryMs;
  const rate = throttle.plateau + (throttle.plateau - adaptive.beta * throttle.rate) * sincePlateau ** 3;
  return Math.min(ceiling, Math.max(ceiling * adaptive.minimumShare, rate));
}

/**
 * The throttle Connect answered `now`, at `rate`: the rate drops to `beta` times it and levels off halfway back. CUBIC
 * levels off at the rate throttled at, or halfway when that is below the last plateau (its fast convergence); a
 * throttle here means the rate was above the share others leave, every time, so halfway it is from the first.
 */
export function throttleAt(now: number, rate: number, echoesUntil: number, adaptive: AdaptiveRate): Throttle {
  return { at: now, rate, plateau: (rate * (1 + adaptive.beta)) / 2, echoesUntil };
}

/** The budget in this container's memory: for local tools and unit tests; the function uses the shared one below. */
export class InMemoryBudget implements BudgetStore {
  private budget: Budget = {};

  async append(seen: Throttle | undefined, now: number, latest: number, interval: number): Promise<Budget | undefined> {
    const { tat } = this.budget;
    if (!this.stillSeen(seen) || tat === undefined || tat < now || tat > latest) return undefined;
    return this.set({ tat: tat + interval });
  }

  async startIdle(seen: Throttle | undefined, now: number, interval: number): Promise<Budget | undefined> {
    const { tat } = this.budget;
    if (!this.stillSeen(seen) || (tat !== undefined && tat >= now)) return undefined;
    return this.set({ tat: now + interval });
  }

  async giveBack(tail: number, previous: number): Promise<Budget | undefined> {
    if (this.budget.tat !== tail) return undefined;
    return this.set({ tat: previous });
  }

  async pushTo(until: number): Promise<Budget | undefined> {
    const { tat } = this.budget;
    if (tat !== undefined && tat >= until) return undefined;
    return this.set({ tat: until });
  }

  async replaceThrottle(seen: Throttle | undefined, next: Throttle): Promise<Budget | undefined> {
    if (!this.stillSeen(seen)) return undefined;
    return this.set({ throttle: next });
  }

  private stillSeen(seen: Throttle | undefined): boolean {
    return this.budget.throttle?.at === seen?.at;
  }

  async read(): Promise<Budget> {
    return this.budget;
  }

  private set(change: Budget): Budget {
    this.budget = { ...this.budget, ...change };
    return this.budget;
  }
}

/** One container's pacer, for local tools and unit tests. */
export class InMemoryPacer extends SharedPacer {
  constructor(settings: PaceSettings, options: PacerOptions = {}) {
    super(new InMemoryBudget(), settings, options);
  }
}

/** The budget's item in the idempotency table: one per account and Region, as Connect counts its quota. */
export function pacerKeyOf(instance: { readonly account: string; readonly region: string }): string {
  return `pacer#TransferContact#${instance.account}:${instance.region}`;
}

/** The item's attributes: `#name` in expressions. */
const ATTRIBUTE = {
  tat: 'tat',
  throttledAt: 'throttledAt',
  throttledRate: 'throttledRate',
  plateau: 'plateau',
  echoesUntil: 'echoesUntil',
  expiry: IDEMPOTENCY_TABLE.timeToLiveAttribute,
} as const;

/**
 * The shared budget: one item in the idempotency table (the gateway's own ephemeral table, which the function may
 * already update), so every container and both doors draw on one budget. A reservation is one conditional UpdateItem
 * while Connect is busy, two after a quiet spell; at 2 writes a second the item is far from a hot key. The arithmetic
 * of a reservation happens in the write itself, so containers reserving at once never conflict; only a throttle's
 * change of rate is read, then written on the condition that nobody changed it first.
 */
export class DynamoDbBudget implements BudgetStore {
  private readonly key: Record<string, AttributeValue>;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    scope: { readonly account: string; readonly region: string },
    private readonly now: () => number = Date.now,
  ) {
    this.key = { [IDEMPOTENCY_TABLE.partitionKey]: { S: pacerKeyOf(scope) } };
  }

  append(seen: Throttle | undefined, now: number, latest: number, interval: number): Promise<Budget | undefined> {
    return this.update('SET #tat = #tat + :interval', `#tat >= :now AND #tat <= :latest AND ${throttleIs(seen)}`, {
      ':interval': interval,
      ':now': now,
      ':latest': latest,
      ...seenValue(seen),
    });
  }

  startIdle(seen: Throttle | undefined, now: number, interval: number): Promise<Budget | undefined> {
    return this.update('SET #tat = :next', `(attribute_not_exists(#tat) OR #tat < :now) AND ${throttleIs(seen)}`, { ':next': now + interval, ':now': now, ...seenValue(seen) });
  }

  giveBack(tail: number, previous: number): Promise<Budget | undefined> {
    return this.update('SET #tat = :previous', '#tat = :tail', { ':previous': previous, ':tail': tail });
  }

  pushTo(until: number): Promise<Budget | undefined> {
    return this.update('SET #tat = :until', 'attribute_not_exists(#tat) OR #tat < :until', { ':until': until });
  }

  replaceThrottle(seen: Throttle | undefined, next: Throttle): Promise<Budget | undefined> {
    return this.update(
      'SET #throttledAt = :at, #throttledRate = :rate, #plateau = :plateau, #echoesUntil = :echoesUntil',
      throttleIs(seen),
      { ':at': next.at, ':rate': next.rate, ':plateau': next.plateau, ':echoesUntil': next.echoesUntil, ...seenValue(seen) },
    );
  }

  async read(): Promise<Budget> {
    const { Item } = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: this.key, ConsistentRead: true }));
    return budgetOf(Item);
  }

  /** The budget after the write, or undefined when the condition did not hold. */
  private async update(expression: string, condition: string, values: Record<string, number>): Promise<Budget | undefined> {
    const statement = `${expression}, #expiry = :expiry`;
    // DynamoDB refuses names an expression does not use.
    const names = Object.fromEntries(Object.entries(ATTRIBUTE).filter(([name]) => `${statement} ${condition}`.includes(`#${name}`)).map(([name, attribute]) => [`#${name}`, attribute]));
    try {
      const output = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: this.key,
          UpdateExpression: statement,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: Object.fromEntries(
            // A day after its last use the item expires, like the idempotency records around it.
            Object.entries({ ...values, ':expiry': Math.ceil(this.now() / 1000) + 86_400 }).map(([name, value]) => [name, { N: String(value) }]),
          ),
          ReturnValues: 'ALL_NEW',
        }),
      );
      return budgetOf(output.Attributes);
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw error;
    }
  }
}

/** The condition that the throttle recorded is still `seen`: a throttle is told by when it came. */
const throttleIs = (seen: Throttle | undefined): string => (seen === undefined ? 'attribute_not_exists(#throttledAt)' : '#throttledAt = :seenAt');
const seenValue = (seen: Throttle | undefined): Record<string, number> => (seen === undefined ? {} : { ':seenAt': seen.at });

function budgetOf(item: Record<string, AttributeValue> | undefined): Budget {
  const number = (attribute: string): number | undefined => (item?.[attribute]?.N === undefined ? undefined : Number(item[attribute].N));
  const tat = number(ATTRIBUTE.tat);
  const at = number(ATTRIBUTE.throttledAt);
  const rate = number(ATTRIBUTE.throttledRate);
  const plateau = number(ATTRIBUTE.plateau);
  const echoesUntil = number(ATTRIBUTE.echoesUntil);
  return {
    ...(tat !== undefined && { tat }),
    ...(at !== undefined && rate !== undefined && plateau !== undefined && echoesUntil !== undefined && { throttle: { at, rate, plateau, echoesUntil } }),
  };
}

/**
 * The function's pacer: the budget shared by every container, in the stack's own idempotency table. The rate of each
 * slot goes to the PacedTransferRate metric unless `options` say otherwise.
 */
export class DynamoDbPacer extends SharedPacer {
  constructor(
    client: DynamoDBClient,
    tableName: string,
    settings: PaceSettings,
    /** One budget per stack: the item lives in the stack's own idempotency table (two stacks pace independently). */
    scope: { readonly account: string; readonly region: string },
    options: PacerOptions = {},
  ) {
    super(new DynamoDbBudget(client, tableName, scope, options.now), settings, { onRate: reportPacedRate, ...options });
  }
}
