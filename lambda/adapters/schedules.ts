import { GetItemCommand, QueryCommand, TransactWriteItemsCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { TransferError } from '../domain/errors';
import { SCHEDULE_AHEAD_SECONDS } from '../domain/schedule';
import type { ScheduleListQuery, ScheduleOutcome, ScheduleState, StoredSchedule } from '../domain/schedule';
import type { ScheduleCreation, ScheduleMove, SchedulesPort } from '../ports';
import { SCHEDULES_CONTACT_INDEX, SCHEDULES_TABLE } from '../tables';
import { expiryAfter, failedConditions, isTransactionCancelled } from './ledger-table';

const { partitionKey: PK, timeToLiveAttribute: TTL } = SCHEDULES_TABLE;
const { indexName: CONTACT_INDEX, partitionKey: CONTACT_ID, sortKey: CREATED_AT } = SCHEDULES_CONTACT_INDEX;

const scheduleKey = (scheduleId: string) => ({ [PK]: { S: `SCHEDULE#${scheduleId}` } });
const counterKey = (contactId: string) => ({ [PK]: { S: `CONTACT#${contactId}` } });

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
    const failed = await this.transact(write);
    if (failed === undefined) return { created: true };
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

  async move(scheduleId: string, to: 'CANCELLED' | 'FIRED', at: Date): Promise<ScheduleMove> {
    const schedule = await this.get(scheduleId);
    if (!schedule) return 'missing';
    if (schedule.State !== 'SCHEDULED') return schedule.State;
    const stamp = to === 'FIRED' ? 'firedAt' : 'cancelledAt';
    const failed = await this.transact(
      new TransactWriteItemsCommand({
        TransactItems: [
          {
            Update: {
              TableName: this.tableName,
              Key: scheduleKey(scheduleId),
              UpdateExpression: 'SET #state = :to, #stamp = :at',
              ConditionExpression: '#state = :scheduled',
              ExpressionAttributeNames: { '#state': 'state', '#stamp': stamp },
              ExpressionAttributeValues: { ':to': { S: to }, ':at': { S: at.toISOString() }, ':scheduled': { S: 'SCHEDULED' } },
            },
          },
          { Update: { TableName: this.tableName, Key: counterKey(schedule.ContactId), UpdateExpression: 'ADD scheduled :less', ExpressionAttributeValues: { ':less': { N: '-1' } } } },
        ],
      }),
    );
    if (failed === undefined) return 'moved';
    // The other move won: its state is the answer.
    const now = await this.get(scheduleId);
    return now === undefined ? 'missing' : now.State === 'SCHEDULED' ? this.move(scheduleId, to, at) : now.State;
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

  /** Runs a transaction; undefined when written, else which actions failed their condition. Contention is tried again. */
  private async transact(write: TransactWriteItemsCommand): Promise<boolean[] | undefined> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.client.send(write);
        return undefined;
      } catch (error) {
        if (!isTransactionCancelled(error)) throw error;
        const failed = failedConditions(error);
        if (failed) return failed;
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

const STATES: readonly ScheduleState[] = ['SCHEDULED', 'CANCELLED', 'FIRED'];

function scheduleOf(item: Record<string, unknown>): StoredSchedule | undefined {
  const { scheduleId, at, state, createdBy, payloadHash, request, outcome, firedAt, cancelledAt } = item;
  const contactId = item[CONTACT_ID];
  const createdAt = item[CREATED_AT];
  const known = STATES.find((candidate) => candidate === state);
  if (typeof scheduleId !== 'string' || typeof contactId !== 'string' || typeof at !== 'string' || known === undefined) return undefined;
  if (typeof createdAt !== 'string' || typeof createdBy !== 'string' || typeof payloadHash !== 'string' || typeof request !== 'string') return undefined;
  return {
    ScheduleId: scheduleId,
    ContactId: contactId,
    At: at,
    State: known,
    CreatedAt: createdAt,
    Request: JSON.parse(request) as StoredSchedule['Request'],
    ...(typeof outcome === 'string' && { Outcome: JSON.parse(outcome) as ScheduleOutcome }),
    ...(typeof firedAt === 'string' && { FiredAt: firedAt }),
    ...(typeof cancelledAt === 'string' && { CancelledAt: cancelledAt }),
    createdBy,
    payloadHash,
  };
}

/** Opaque to callers: the index position to resume after, bound to the contact it was issued for. */
function encodeToken(key: Record<string, AttributeValue>): string {
  const { [PK]: pk, [CONTACT_ID]: contact, [CREATED_AT]: created } = unmarshall(key);
  return Buffer.from(JSON.stringify([pk, contact, created]), 'utf8').toString('base64url');
}

function decodeToken(token: string, contactId: string): Record<string, AttributeValue> {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    decoded = undefined;
  }
  if (!Array.isArray(decoded) || decoded.length !== 3 || decoded[1] !== contactId || typeof decoded[0] !== 'string' || !decoded[0].startsWith('SCHEDULE#') || typeof decoded[2] !== 'string') {
    throw TransferError.of('VALIDATION_FAILED', { fields: [{ Field: 'NextToken', Message: "must be the NextToken of an earlier page of this contact's schedules" }] });
  }
  return marshall({ [PK]: decoded[0], [CONTACT_ID]: contactId, [CREATED_AT]: decoded[2] });
}
