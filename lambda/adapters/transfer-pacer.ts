import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
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
  /** Gives back a reserved slot that will not be used (the request was rejected or replayed), if it is still ahead. */
  release(sendAt: number): Promise<void>;
  /** Connect throttled anyway (a caller outside the gateway used the quota): every container waits `ms` more. */
  slowDown(ms: number): Promise<void>;
}

export interface PaceSettings {
  /** TransferContact calls per second. */
  readonly ratePerSecond: number;
  /** Calls that may go at once after a quiet spell; kept below Connect's burst so timing jitter meets spare tokens. */
  readonly burst: number;
}

const sleep = (ms: number): Promise<void> => (ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve());

/**
 * The generic cell rate algorithm (a token bucket written as one number): the theoretical arrival time `tat` of the
 * next call. A caller reserves the slot at `tat` and moves it on by one interval, then sleeps until its slot, less
 * the burst tolerance. Scheduling instead of try-and-refuse means callers never spin on the shared item and are served
 * in the order they asked.
 */
abstract class CellRatePacer implements TransferPacer {
  protected readonly intervalMs: number;
  protected readonly toleranceMs: number;

  constructor(settings: PaceSettings) {
    this.intervalMs = 1000 / settings.ratePerSecond;
    this.toleranceMs = (settings.burst - 1) * this.intervalMs;
  }

  async acquire(deadline: number): Promise<boolean> {
    const sendAt = await this.reserve(deadline);
    if (sendAt === undefined) return false;
    await sleep(sendAt - Date.now());
    return true;
  }

  abstract reserve(deadline: number): Promise<number | undefined>;
  abstract release(sendAt: number): Promise<void>;
  abstract slowDown(ms: number): Promise<void>;
}

/** One container's pacer, for local tools and unit tests; the function uses the shared one below. */
export class InMemoryPacer extends CellRatePacer {
  private tat = 0;

  async reserve(deadline: number): Promise<number | undefined> {
    const now = Date.now();
    const tat = Math.max(this.tat, now);
    const sendAt = tat - this.toleranceMs;
    if (sendAt > Math.max(deadline, now)) return undefined;
    this.tat = tat + this.intervalMs;
    return Math.max(now, sendAt);
  }

  async release(sendAt: number): Promise<void> {
    if (sendAt > Date.now()) this.tat -= this.intervalMs;
  }

  async slowDown(ms: number): Promise<void> {
    this.tat = Math.max(this.tat, Date.now() + ms + this.toleranceMs);
  }
}

/**
 * The shared pacer: the `tat` of one item in the idempotency table (the gateway's own ephemeral table, which the
 * function may already update), so every container and both doors draw on one budget. One conditional UpdateItem per
 * transfer while Connect is busy, two after a quiet spell; at 2 writes a second the item is far from a hot key.
 */
/** The budget's item in the idempotency table: one per account and Region, as Connect counts its quota. */
export function pacerKeyOf(instance: { readonly account: string; readonly region: string }): string {
  return `pacer#TransferContact#${instance.account}:${instance.region}`;
}

export class DynamoDbPacer extends CellRatePacer {
  private readonly key: string;
  /** The last `tat` seen: which of the two writes is likely to succeed first. */
  private lastTat = 0;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    settings: PaceSettings,
    /** One budget per stack: the item lives in the stack's own idempotency table (two stacks pace independently). */
    scope: { readonly account: string; readonly region: string },
  ) {
    super(settings);
    this.key = pacerKeyOf(scope);
  }

  async reserve(deadline: number): Promise<number | undefined> {
    for (let round = 0; round < 2; round += 1) {
      const now = Date.now();
      const busy = this.lastTat >= now;
      for (const branch of busy ? [this.afterQueue, this.whenIdle] : [this.whenIdle, this.afterQueue]) {
        const sendAt = await branch.call(this, now, deadline);
        if (sendAt !== undefined) return sendAt;
      }
    }
    // Both conditions failed twice: the queue of reserved slots reaches past the deadline.
    return undefined;
  }

  /** Slots are reserved ahead: take the one after the last, if it comes before the deadline. */
  private async afterQueue(now: number, deadline: number): Promise<number | undefined> {
    const tat = await this.update('SET #tat = #tat + :interval, #expiry = :expiry', '#tat >= :now AND #tat <= :latest', {
      ':interval': this.intervalMs,
      ':now': now,
      ':latest': Math.max(deadline, now) + this.toleranceMs,
    });
    if (tat === undefined) return undefined;
    this.lastTat = tat;
    return Math.max(now, tat - this.intervalMs - this.toleranceMs);
  }

  /** Nothing reserved ahead (or no item yet): go now. */
  private async whenIdle(now: number): Promise<number | undefined> {
    const tat = await this.update('SET #tat = :next, #expiry = :expiry', 'attribute_not_exists(#tat) OR #tat < :now', {
      ':next': now + this.intervalMs,
      ':now': now,
    });
    if (tat === undefined) return undefined;
    this.lastTat = tat;
    return now;
  }

  /**
   * Moves the queue of slots back by one interval, unless the slot has already passed (then it was capacity that
   * nobody used, and is gone). Over time the rate holds: every reservation given back is one not used.
   */
  async release(sendAt: number): Promise<void> {
    const now = Date.now();
    if (sendAt <= now) return;
    await this.update('SET #tat = #tat - :interval, #expiry = :expiry', '#tat >= :later', { ':interval': this.intervalMs, ':later': now + this.intervalMs });
  }

  async slowDown(ms: number): Promise<void> {
    const until = Date.now() + ms + this.toleranceMs;
    await this.update('SET #tat = :until, #expiry = :expiry', 'attribute_not_exists(#tat) OR #tat < :until', { ':until': until });
  }

  /** The new `tat`, or undefined when the condition did not hold. */
  private async update(expression: string, condition: string, values: Record<string, number>): Promise<number | undefined> {
    try {
      const output = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { [IDEMPOTENCY_TABLE.partitionKey]: { S: this.key } },
          UpdateExpression: expression,
          ConditionExpression: condition,
          ExpressionAttributeNames: { '#tat': 'tat', '#expiry': IDEMPOTENCY_TABLE.timeToLiveAttribute },
          ExpressionAttributeValues: Object.fromEntries(
            // A day after its last use the item expires, like the idempotency records around it.
            Object.entries({ ...values, ':expiry': Math.ceil(Date.now() / 1000) + 86_400 }).map(([name, value]) => [name, { N: String(value) }]),
          ),
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return Number(output.Attributes?.tat?.N);
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw error;
    }
  }
}
