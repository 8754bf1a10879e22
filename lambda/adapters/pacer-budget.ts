import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IDEMPOTENCY_TABLE } from '../tables';
import { isConditionalCheckFailed } from './conditions';
import type { Throttle } from './pacing-rate';

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

/** The budget in this container's memory: for local tools and unit tests; the function uses the shared one below. */
export class InMemoryBudget implements BudgetStore {
  private budget: Budget = {};

  async append(seen: Throttle | undefined, now: number, latest: number, interval: number): Promise<Budget | undefined> {
    const tat = this.budget.tat ?? 0;
    if (!this.stillSeen(seen) || tat < now || tat > latest) return undefined;
    return this.set({ tat: tat + interval });
  }

  async startIdle(seen: Throttle | undefined, now: number, interval: number): Promise<Budget | undefined> {
    const { tat } = this.budget;
    if (!this.stillSeen(seen) || (tat ?? 0) >= now) return undefined;
    return this.set({ tat: now + interval });
  }

  async giveBack(tail: number, previous: number): Promise<Budget | undefined> {
    if (this.budget.tat !== tail) return undefined;
    return this.set({ tat: previous });
  }

  async pushTo(until: number): Promise<Budget | undefined> {
    const { tat } = this.budget;
    if ((tat ?? 0) >= until) return undefined;
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

