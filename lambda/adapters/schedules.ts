import { GetItemCommand, QueryCommand, TransactWriteItemsCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { TransferError } from '../domain/errors';
import { SCHEDULE_AHEAD_SECONDS } from '../domain/schedule';
import type { ScheduleListQuery, ScheduleOutcome, StoredSchedule } from '../domain/schedule';
import type { ScheduleCreation, ScheduleMove, SchedulesPort, UnarmedSchedule } from '../ports';
import { SCHEDULES_CONTACT_INDEX, SCHEDULES_TABLE, SCHEDULES_UNARMED_INDEX } from '../tables';
import { isConditionalCheckFailed } from './conditions';
import { expiryAfter, failedConditions, isTransactionCancelled, itemFailingCondition } from './ledger-table';
import { counterKey, decodeToken, encodeToken, scheduleKey, scheduleOf } from './schedule-items';

const { partitionKey: PK, timeToLiveAttribute: TTL } = SCHEDULES_TABLE;
const { indexName: CONTACT_INDEX, partitionKey: CONTACT_ID, sortKey: CREATED_AT } = SCHEDULES_CONTACT_INDEX;
const { indexName: UNARMED_INDEX, partitionKey: UNARMED, sortKey: UNARMED_SINCE, partition: UNARMED_PARTITION } = SCHEDULES_UNARMED_INDEX;
/** The marker's two attributes, as a write that ends it names them. */
const UNARMED_NAMES = { '#unarmed': UNARMED, '#unarmedSince': UNARMED_SINCE };

/** A contention on a contact's counter (TransactionConflict) is tried again this many times. */
const CONFLICT_ATTEMPTS = 5;

/**
 * Schedules in their own table (lambda/tables.ts). Each schedule item changes state by a conditional write made in one
 * transaction with its contact's counter of SCHEDULED schedules, whose condition holds the limit however many creates
 * race. Items live `retentionDays` past the time they fire, the counter past the latest time a schedule of it can.
 */
export class DynamoDbSchedules implements SchedulesPort {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly retentionDays: number,
  ) {}

  async create(schedule: StoredSchedule, limit: number): Promise<ScheduleCreation> {
    const createdAt = Date.parse(schedule.CreatedAt);
    const item = {
      ...marshall({
        scheduleId: schedule.ScheduleId,
        [CONTACT_ID]: schedule.ContactId,
        at: schedule.At,
        state: schedule.State,
        [CREATED_AT]: schedule.CreatedAt,
        createdBy: schedule.createdBy,
        payloadHash: schedule.payloadHash,
        request: JSON.stringify(schedule.Request),
        [TTL]: this.expiry(Date.parse(schedule.At)),
        ...(schedule.unarmedSince !== undefined && { [UNARMED]: UNARMED_PARTITION, [UNARMED_SINCE]: schedule.unarmedSince }),
      }),
      ...scheduleKey(schedule.ScheduleId),
    };
    const write = new TransactWriteItemsCommand({
      TransactItems: [
        { Put: { TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': PK } } },
        {
          Update: {
            TableName: this.tableName,
            Key: counterKey(schedule.ContactId),
            UpdateExpression: 'SET #ttl = :ttl ADD scheduled :one',
            ConditionExpression: 'attribute_not_exists(scheduled) OR scheduled < :limit',
            ExpressionAttributeNames: { '#ttl': TTL },
            ExpressionAttributeValues: { ':one': { N: '1' }, ':limit': { N: String(limit) }, ':ttl': { N: String(this.expiry(createdAt + SCHEDULE_AHEAD_SECONDS.max * 1000)) } },
          },
        },
      ],
    });
    const cancelled = await this.transact(write);
    if (cancelled === undefined) return { created: true };
    const failed = failedConditions(cancelled) ?? [];
    if (failed[0]) {
      const existing = await this.get(schedule.ScheduleId);
      if (existing) return { existing };
    }
    if (failed[1]) return { limitReached: true };
    throw TransferError.of('INTERNAL_ERROR', { message: 'The schedule could not be written; retry later.' });
  }

  async get(scheduleId: string): Promise<StoredSchedule | undefined> {
    const { Item } = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: scheduleKey(scheduleId), ConsistentRead: true }));
    return Item && scheduleOf(unmarshall(Item));
  }

  async list(query: ScheduleListQuery): Promise<{ readonly schedules: readonly StoredSchedule[]; readonly nextToken?: string }> {
    const output = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: CONTACT_INDEX,
        KeyConditionExpression: '#contact = :contact',
        ExpressionAttributeNames: { '#contact': CONTACT_ID },
        ExpressionAttributeValues: { ':contact': { S: query.ContactId } },
        Limit: query.maxResults,
        ...(query.nextToken !== undefined && { ExclusiveStartKey: decodeToken(query.nextToken, query.ContactId) }),
      }),
    );
    const schedules = (output.Items ?? []).flatMap((item) => scheduleOf(unmarshall(item)) ?? []);
    return { schedules, ...(output.LastEvaluatedKey && { nextToken: encodeToken(output.LastEvaluatedKey) }) };
  }

  async move(scheduleId: string, to: 'CANCELLED' | 'FIRED', at: Date, createdAt?: string): Promise<ScheduleMove> {
    // The state of the write named, if any: another write's is none of this move's business.
    const ofThatWrite = (found: StoredSchedule | undefined) => (createdAt === undefined || found?.CreatedAt === createdAt ? found : undefined);
    const schedule = ofThatWrite(await this.get(scheduleId));
    if (!schedule) return { outcome: 'missing' };
    if (schedule.State !== 'SCHEDULED') return { outcome: schedule.State, schedule };
    const stamp = to === 'FIRED' ? { FiredAt: at.toISOString() } : { CancelledAt: at.toISOString() };
    const cancelled = await this.transact(
      new TransactWriteItemsCommand({
        TransactItems: [
          {
            Update: {
              TableName: this.tableName,
              Key: scheduleKey(scheduleId),
              // A move ends the marker too: a schedule that left SCHEDULED is nothing the sweeper may take back.
              UpdateExpression: 'SET #state = :to, #stamp = :at REMOVE #unarmed, #unarmedSince',
              // The state just read, unchanged but for this move: so the schedule moved is that one, read once.
              ConditionExpression: '#state = :scheduled AND #createdAt = :createdAt',
              ExpressionAttributeNames: { '#state': 'state', '#stamp': to === 'FIRED' ? 'firedAt' : 'cancelledAt', '#createdAt': CREATED_AT, ...UNARMED_NAMES },
              ExpressionAttributeValues: { ':to': { S: to }, ':at': { S: at.toISOString() }, ':scheduled': { S: 'SCHEDULED' }, ':createdAt': { S: schedule.CreatedAt } },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
          { Update: { TableName: this.tableName, Key: counterKey(schedule.ContactId), UpdateExpression: 'ADD scheduled :less', ExpressionAttributeValues: { ':less': { N: '-1' } } } },
        ],
      }),
    );
    if (cancelled === undefined) {
      const { unarmedSince: _ended, ...moved } = schedule;
      return { outcome: 'moved', schedule: { ...moved, State: to, ...stamp } };
    }
    // The other move won, or the state was taken back (and perhaps written again): what the write found is the answer.
    const found = itemFailingCondition(cancelled, 0);
    const current = ofThatWrite(found && scheduleOf(unmarshall(found)));
    if (current === undefined) return { outcome: 'missing' };
    return current.State === 'SCHEDULED' ? this.move(scheduleId, to, at, createdAt) : { outcome: current.State, schedule: current };
  }

  async settle(scheduleId: string, outcome: ScheduleOutcome): Promise<void> {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: scheduleKey(scheduleId),
        UpdateExpression: 'SET outcome = :outcome',
        ConditionExpression: '#state = :fired',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':outcome': { S: JSON.stringify(outcome) }, ':fired': { S: 'FIRED' } },
      }),
    );
  }

  async arm(schedule: StoredSchedule): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: scheduleKey(schedule.ScheduleId),
          UpdateExpression: 'REMOVE #unarmed, #unarmedSince',
          ConditionExpression: '#createdAt = :createdAt',
          ExpressionAttributeNames: { '#createdAt': CREATED_AT, ...UNARMED_NAMES },
          ExpressionAttributeValues: { ':createdAt': { S: schedule.CreatedAt } },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  async unarmedBefore(before: Date, limit: number): Promise<readonly UnarmedSchedule[]> {
    const output = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: UNARMED_INDEX,
        KeyConditionExpression: '#unarmed = :unarmed AND #unarmedSince < :before',
        ExpressionAttributeNames: UNARMED_NAMES,
        ExpressionAttributeValues: { ':unarmed': { S: UNARMED_PARTITION }, ':before': { S: before.toISOString() } },
        Limit: limit,
      }),
    );
    return (output.Items ?? []).flatMap((item) => {
      const { scheduleId, [CONTACT_ID]: contactId, [UNARMED_SINCE]: unarmedSince } = unmarshall(item);
      return typeof scheduleId === 'string' && typeof contactId === 'string' && typeof unarmedSince === 'string' ? [{ scheduleId, contactId, unarmedSince }] : [];
    });
  }

  async takeBack(orphan: UnarmedSchedule): Promise<boolean> {
    const cancelled = await this.transact(
      new TransactWriteItemsCommand({
        TransactItems: [
          {
            Delete: {
              TableName: this.tableName,
              Key: scheduleKey(orphan.scheduleId),
              ConditionExpression: '#state = :scheduled AND #unarmedSince = :since AND #contact = :contact',
              ExpressionAttributeNames: { '#state': 'state', '#unarmedSince': UNARMED_SINCE, '#contact': CONTACT_ID },
              ExpressionAttributeValues: { ':scheduled': { S: 'SCHEDULED' }, ':since': { S: orphan.unarmedSince }, ':contact': { S: orphan.contactId } },
            },
          },
          { Update: { TableName: this.tableName, Key: counterKey(orphan.contactId), UpdateExpression: 'ADD scheduled :less', ExpressionAttributeValues: { ':less': { N: '-1' } } } },
        ],
      }),
    );
    return cancelled === undefined;
  }

  /**
   * Runs a transaction; undefined when written, else the cancellation, which names the actions that failed their
   * condition. Contention is tried again.
   */
  private async transact(write: TransactWriteItemsCommand): Promise<unknown> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.client.send(write);
        return undefined;
      } catch (error) {
        if (!isTransactionCancelled(error)) throw error;
        if (failedConditions(error)) return error;
        if (attempt >= CONFLICT_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * 2 ** attempt));
      }
    }
  }

  /** Rounded up: the retention is a minimum. */
  private expiry(ms: number): number {
    return expiryAfter(ms, this.retentionDays);
  }
}
