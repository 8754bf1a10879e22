import { ConditionalCheckFailedException, DynamoDBClient, GetItemCommand, QueryCommand, TransactionCanceledException, TransactWriteItemsCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { CancellationReason } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbSchedules } from '../../../lambda/adapters/schedules';
import type { StoredSchedule } from '../../../lambda/domain/schedule';

const client = new DynamoDBClient({ region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 's' } });
const dynamodb = mockClient(client);
beforeEach(() => dynamodb.reset());

const ID = 'sch-0123456789abcdef0123456789abcdef';
const FIRED_AT = new Date('2030-01-01T10:30:00.000Z');
const schedule: StoredSchedule = {
  ScheduleId: ID,
  ContactId: 'c-1',
  At: '2030-01-01T10:30:00.000Z',
  State: 'SCHEDULED',
  CreatedAt: '2030-01-01T10:00:00.000Z',
  Request: { ContactId: 'c-1', ContactFlowId: 'f-1', QueueId: 'q-1' },
  createdBy: 'arn:aws:sts::111122223333:assumed-role/escalations/app',
  payloadHash: 'a'.repeat(64),
};
/** The schedule's item as the table holds it, with `changes` to its attributes. */
const itemOf = (changes: Record<string, unknown> = {}) =>
  marshall({
    pk: `SCHEDULE#${ID}`,
    scheduleId: ID,
    contactId: 'c-1',
    at: schedule.At,
    state: 'SCHEDULED',
    createdAt: schedule.CreatedAt,
    createdBy: schedule.createdBy,
    payloadHash: schedule.payloadHash,
    request: JSON.stringify(schedule.Request),
    unarmed: 'UNARMED',
    unarmedSince: schedule.CreatedAt,
    ...changes,
  });
const cancelled = (...reasons: CancellationReason[]) => new TransactionCanceledException({ message: 'Transaction cancelled', $metadata: {}, CancellationReasons: reasons });
const schedules = () => new DynamoDbSchedules(client, 'schedules', 30);

describe('DynamoDbSchedules: moving a schedule out of SCHEDULED', () => {
  it('answers the schedule it wrote, without its unarmed mark, from one read and one transaction pinned to the state read', async () => {
    dynamodb.on(GetItemCommand).resolves({ Item: itemOf() });
    dynamodb.on(TransactWriteItemsCommand).resolves({});
    expect(await schedules().move(ID, 'FIRED', FIRED_AT)).toStrictEqual({ outcome: 'moved', schedule: { ...schedule, State: 'FIRED', FiredAt: FIRED_AT.toISOString() } });
    expect(dynamodb.commandCalls(GetItemCommand)).toHaveLength(1);
    const [update] = dynamodb.commandCalls(TransactWriteItemsCommand)[0]?.args[0].input.TransactItems ?? [];
    expect(update?.Update).toMatchObject({
      UpdateExpression: 'SET #state = :to, #stamp = :at REMOVE #unarmed, #unarmedSince',
      ConditionExpression: '#state = :scheduled AND #createdAt = :createdAt',
      ExpressionAttributeValues: expect.objectContaining({ ':createdAt': { S: schedule.CreatedAt } }),
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
  });

  it('answers what the failed condition found, read from the cancellation: the winner\'s state, or missing when the state was taken back', async () => {
    dynamodb.on(GetItemCommand).resolves({ Item: itemOf() });
    dynamodb
      .on(TransactWriteItemsCommand)
      .rejectsOnce(cancelled({ Code: 'ConditionalCheckFailed', Item: itemOf({ state: 'CANCELLED', cancelledAt: '2030-01-01T10:29:00.000Z' }) }, { Code: 'None' }))
      .rejectsOnce(cancelled({ Code: 'ConditionalCheckFailed' }, { Code: 'None' }));
    expect(await schedules().move(ID, 'FIRED', FIRED_AT)).toMatchObject({ outcome: 'CANCELLED', schedule: { State: 'CANCELLED', CancelledAt: '2030-01-01T10:29:00.000Z' } });
    expect(await schedules().move(ID, 'CANCELLED', FIRED_AT)).toStrictEqual({ outcome: 'missing' });
    expect(dynamodb.commandCalls(GetItemCommand)).toHaveLength(2);
  });

  it('moves again a state written anew after the one it read was taken back', async () => {
    const again = '2030-01-01T10:20:00.000Z';
    dynamodb.on(GetItemCommand).resolvesOnce({ Item: itemOf() }).resolves({ Item: itemOf({ createdAt: again, unarmedSince: again }) });
    dynamodb
      .on(TransactWriteItemsCommand)
      .rejectsOnce(cancelled({ Code: 'ConditionalCheckFailed', Item: itemOf({ createdAt: again, unarmedSince: again }) }, { Code: 'None' }))
      .resolves({});
    expect(await schedules().move(ID, 'FIRED', FIRED_AT)).toMatchObject({ outcome: 'moved', schedule: { CreatedAt: again, State: 'FIRED' } });
  });

  it('moves only the write a firing names: another write\'s state, read first or found by the failed condition, is missing to it', async () => {
    const again = '2030-01-01T10:20:00.000Z';
    dynamodb.on(GetItemCommand).resolvesOnce({ Item: itemOf({ createdAt: again, unarmedSince: again }) }).resolves({ Item: itemOf() });
    dynamodb.on(TransactWriteItemsCommand).rejectsOnce(cancelled({ Code: 'ConditionalCheckFailed', Item: itemOf({ createdAt: again, unarmedSince: again, state: 'FIRED' }) }, { Code: 'None' }));
    expect(await schedules().move(ID, 'FIRED', FIRED_AT, schedule.CreatedAt)).toStrictEqual({ outcome: 'missing' });
    expect(dynamodb.commandCalls(TransactWriteItemsCommand)).toHaveLength(0);
    expect(await schedules().move(ID, 'FIRED', FIRED_AT, schedule.CreatedAt)).toStrictEqual({ outcome: 'missing' });
    expect(dynamodb.commandCalls(TransactWriteItemsCommand)).toHaveLength(1);
  });
});

describe('DynamoDbSchedules: the unarmed mark', () => {
  it('ends the mark only on the state it names by CreatedAt, and answers false when that state is gone', async () => {
    dynamodb.on(UpdateItemCommand).resolvesOnce({}).rejectsOnce(new ConditionalCheckFailedException({ message: 'failed', $metadata: {} }));
    expect(await schedules().arm(schedule)).toBe(true);
    expect(await schedules().arm(schedule)).toBe(false);
    expect(dynamodb.commandCalls(UpdateItemCommand)[0]?.args[0].input).toMatchObject({
      Key: { pk: { S: `SCHEDULE#${ID}` } },
      UpdateExpression: 'REMOVE #unarmed, #unarmedSince',
      ConditionExpression: '#createdAt = :createdAt',
      ExpressionAttributeValues: { ':createdAt': { S: schedule.CreatedAt } },
    });
  });

  it('lists the states marked before a time from the sparse index, longest first, and skips an item it cannot read', async () => {
    dynamodb.on(QueryCommand).resolves({ Items: [marshall({ scheduleId: ID, contactId: 'c-1', unarmedSince: schedule.CreatedAt }), marshall({ scheduleId: ID })] });
    expect(await schedules().unarmedBefore(new Date('2030-01-01T10:05:00.000Z'), 100)).toEqual([{ scheduleId: ID, contactId: 'c-1', unarmedSince: schedule.CreatedAt }]);
    expect(dynamodb.commandCalls(QueryCommand)[0]?.args[0].input).toMatchObject({
      IndexName: 'unarmed-schedules',
      KeyConditionExpression: '#unarmed = :unarmed AND #unarmedSince < :before',
      ExpressionAttributeValues: { ':unarmed': { S: 'UNARMED' }, ':before': { S: '2030-01-01T10:05:00.000Z' } },
      Limit: 100,
    });
  });

  it('takes a state back with its counter in one transaction, only while it is SCHEDULED, of that contact and marked since then', async () => {
    const orphan = { scheduleId: ID, contactId: 'c-1', unarmedSince: schedule.CreatedAt };
    dynamodb.on(TransactWriteItemsCommand).resolvesOnce({}).rejectsOnce(cancelled({ Code: 'ConditionalCheckFailed' }, { Code: 'None' }));
    expect(await schedules().takeBack(orphan)).toBe(true);
    expect(await schedules().takeBack(orphan)).toBe(false);
    const [remove, counter] = dynamodb.commandCalls(TransactWriteItemsCommand)[0]?.args[0].input.TransactItems ?? [];
    expect(remove?.Delete).toMatchObject({
      Key: { pk: { S: `SCHEDULE#${ID}` } },
      ConditionExpression: '#state = :scheduled AND #unarmedSince = :since AND #contact = :contact',
      ExpressionAttributeValues: { ':scheduled': { S: 'SCHEDULED' }, ':since': { S: schedule.CreatedAt }, ':contact': { S: 'c-1' } },
    });
    expect(counter?.Update).toMatchObject({ Key: { pk: { S: 'CONTACT#c-1' } }, UpdateExpression: 'ADD scheduled :less', ExpressionAttributeValues: { ':less': { N: '-1' } } });
  });
});
