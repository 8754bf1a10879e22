import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { reportPacedRate } from '../observability';
import { DynamoDbBudget, InMemoryBudget } from './pacer-budget';
import type { Budget, BudgetStore } from './pacer-budget';
import { ADAPTIVE_RATE, rateAfter, throttleAt } from './pacing-rate';
import type { AdaptiveRate } from './pacing-rate';

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
      if ((budget.tat ?? 0) > latest) return undefined;
    }
    return undefined;
  }

  async release(sendAt: number): Promise<void> {
    const slot = this.reserved.get(sendAt);
    this.reserved.delete(sendAt);
    if (slot === undefined || sendAt <= this.now()) return;
    // What this container saw stays as it was: the slot given back was ahead, so the queue is still busy for it.
    await this.store.giveBack(slot.tail, slot.previous);
  }

  async slowDown(ms: number): Promise<void> {
    const now = this.now();
    // Where the queue ends: the slots reserved before this throttle, whose calls it echoes.
    this.seen = await this.store.read();
    const queueEnd = Math.max(now, this.seen.tat ?? now);
    const lowered = await this.lowerRate(now, Math.max(now + ms, queueEnd));
    // The wait counts the burst tolerance at the lowered rate, so no burst meets Connect right after its throttle. A
    // throttle that lowers the rate also puts the wait behind the calls already queued, which still go at the old
    // rate: Connect's bucket refills before the lowered rate starts, instead of meeting other callers' calls empty.
    const tolerance = (this.settings.burst - 1) * (1000 / this.rateAt(now));
    const pushed = await this.store.pushTo((lowered ? queueEnd : now) + ms + tolerance);
    if (pushed) this.seen = pushed;
  }

  /**
   * Records the throttle the shared rate learns from, unless it belongs to the episode of the one recorded (until
   * `echoesUntil`): slots reserved before the rate dropped still go at the old rate, and Connect's bucket is still
   * refilling after them. When another container records one first, between this one's read and write, that one is
   * this throttle's echo. True when this throttle lowered the rate.
   */
  private async lowerRate(now: number, queueEnd: number): Promise<boolean> {
    const seen = this.seen.throttle;
    if (seen !== undefined && now < seen.echoesUntil) return false;
    const replaced = await this.store.replaceThrottle(seen, throttleAt(now, this.rateAt(now), seen, queueEnd, this.adaptive));
    if (replaced) this.seen = replaced;
    return replaced !== undefined;
  }

  private forgetPassed(now: number): void {
    for (const sendAt of this.reserved.keys()) if (sendAt <= now) this.reserved.delete(sendAt);
  }
}

/** One container's pacer, for local tools and unit tests. */
export class InMemoryPacer extends SharedPacer {
  constructor(settings: PaceSettings, options: PacerOptions = {}) {
    super(new InMemoryBudget(), settings, options);
  }
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
