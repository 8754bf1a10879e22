import { ConflictException, CreateScheduleCommand, DeleteScheduleCommand, ResourceNotFoundException, SchedulerClient, ValidationException } from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { EventBridgeScheduler, firedScheduleMessage, firedScheduleOf, SCHEDULE_DELIVERY, schedulerNameOf } from '../../../lambda/adapters/scheduler';
import type { StoredSchedule } from '../../../lambda/domain/schedule';

const client = new SchedulerClient({ region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 's' } });
const scheduler = mockClient(client);
beforeEach(() => scheduler.reset());

const settings = {
  table: 'schedules',
  groupName: 'gateway-schedules',
  roleArn: 'arn:aws:iam::111122223333:role/gateway-scheduler',
  targetArn: 'arn:aws:sqs:eu-west-1:111122223333:gateway-EventBuffer',
  deadLetterArn: 'arn:aws:sqs:eu-west-1:111122223333:gateway-ScheduleDeadLetters',
};
const ID = 'sch-0123456789abcdef0123456789abcdef';
const CREATED_AT = '2030-01-31T12:00:00.000Z';
const stored = (at: string, createdAt = CREATED_AT): StoredSchedule => ({
  ScheduleId: ID,
  ContactId: 'c-1',
  At: at,
  State: 'SCHEDULED',
  CreatedAt: createdAt,
  Request: { ContactId: 'c-1', ContactFlowId: 'f-1', QueueId: 'q-1' },
  createdBy: 'caller',
  payloadHash: 'hash',
});
/** The name of the scheduler's schedule for the state written at CREATED_AT: the id and that time in base 36. */
const NAME = `${ID}-${Date.parse(CREATED_AT).toString(36)}`;

describe('EventBridgeScheduler (one-time schedules in the stack\'s group)', () => {
  it('creates a one-time UTC schedule in the group, named for this write of the state, deleted after it fires, sending the id and that write to the buffer with the scheduler role, retries and dead-letter queue', async () => {
    scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn' });
    await new EventBridgeScheduler(client, settings).create(stored('2030-01-31T12:34:56.000Z'));
    expect(scheduler.commandCalls(CreateScheduleCommand).map((call) => call.args[0].input)).toEqual([
      {
        Name: NAME,
        GroupName: 'gateway-schedules',
        ClientToken: NAME,
        ScheduleExpression: 'at(2030-01-31T12:34:56)',
        ScheduleExpressionTimezone: 'UTC',
        FlexibleTimeWindow: { Mode: 'OFF' },
        ActionAfterCompletion: 'DELETE',
        State: 'ENABLED',
        Target: {
          Arn: settings.targetArn,
          RoleArn: settings.roleArn,
          Input: JSON.stringify({ 'detail-type': 'Scheduled Contact Transfer', detail: { ScheduleId: ID, CreatedAt: CREATED_AT } }),
          RetryPolicy: { MaximumEventAgeInSeconds: SCHEDULE_DELIVERY.maximumEventAgeSeconds, MaximumRetryAttempts: SCHEDULE_DELIVERY.maximumRetryAttempts },
          DeadLetterConfig: { Arn: settings.deadLetterArn },
        },
      },
    ]);
  });

  it('names a state written again (after a take-back) apart from the write before it, within Scheduler\'s 64 characters', () => {
    const again = stored('2030-01-31T12:34:56.000Z', '2030-01-31T12:06:10.123Z');
    expect(schedulerNameOf(again)).not.toBe(schedulerNameOf(stored('2030-01-31T12:34:56.000Z')));
    expect(schedulerNameOf(again)).toMatch(/^[0-9a-zA-Z-_.]{1,64}$/);
  });

  it('takes a schedule that exists as made by an earlier attempt for the same write, and passes other refusals on', async () => {
    scheduler.on(CreateScheduleCommand).rejectsOnce(new ConflictException({ Message: 'exists', message: 'exists', $metadata: {} })).rejectsOnce(new ValidationException({ Message: 'bad', message: 'bad', $metadata: {} }));
    const adapter = new EventBridgeScheduler(client, settings);
    await expect(adapter.create(stored(CREATED_AT))).resolves.toBeUndefined();
    await expect(adapter.create(stored(CREATED_AT))).rejects.toThrow('bad');
    expect(scheduler.commandCalls(DeleteScheduleCommand)).toHaveLength(0);
  });

  it('deletes the write\'s schedule in the group, and a schedule already gone (fired and deleted) is no error', async () => {
    scheduler.on(DeleteScheduleCommand).rejectsOnce(new ResourceNotFoundException({ Message: 'gone', message: 'gone', $metadata: {} }));
    await expect(new EventBridgeScheduler(client, settings).delete(stored(CREATED_AT))).resolves.toBeUndefined();
    expect(scheduler.commandCalls(DeleteScheduleCommand)[0]?.args[0].input).toEqual({ Name: NAME, GroupName: 'gateway-schedules', ClientToken: NAME });
  });
});

describe('the message a fired schedule puts into the buffer', () => {
  it('is recognised by its detail-type and a well-formed ScheduleId, with the write it was made for, and nothing else is', () => {
    expect(firedScheduleOf(firedScheduleMessage(stored(CREATED_AT)))).toEqual({ scheduleId: ID, createdAt: CREATED_AT });
    expect(firedScheduleOf(JSON.stringify({ 'detail-type': 'Scheduled Contact Transfer', detail: { ScheduleId: ID } }))).toEqual({ scheduleId: ID });
    expect(firedScheduleOf(JSON.stringify({ 'detail-type': 'Scheduled Contact Transfer', detail: { ScheduleId: ID, CreatedAt: 7 } }))).toBeUndefined();
    expect(firedScheduleOf(JSON.stringify({ 'detail-type': 'TransferContact', detail: { ScheduleId: ID } }))).toBeUndefined();
    expect(firedScheduleOf(JSON.stringify({ 'detail-type': 'Scheduled Contact Transfer', detail: { ScheduleId: 'sch-../x' } }))).toBeUndefined();
    expect(firedScheduleOf(JSON.stringify({ 'detail-type': 'Scheduled Contact Transfer' }))).toBeUndefined();
    expect(firedScheduleOf('Scheduled Contact Transfer, not JSON')).toBeUndefined();
  });
});
