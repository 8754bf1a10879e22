import { ConflictException, CreateScheduleCommand, DeleteScheduleCommand, ResourceNotFoundException, SchedulerClient, ValidationException } from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { EventBridgeScheduler, firedScheduleIdOf, firedScheduleMessage, SCHEDULE_DELIVERY } from '../../../lambda/adapters/scheduler';

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

describe('EventBridgeScheduler (one-time schedules in the stack\'s group)', () => {
  it('creates a one-time UTC schedule in the group, deleted after it fires, sending the id alone to the buffer with the scheduler role, retries and dead-letter queue', async () => {
    scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn' });
    await new EventBridgeScheduler(client, settings).create(ID, new Date('2030-01-31T12:34:56.000Z'));
    expect(scheduler.commandCalls(CreateScheduleCommand).map((call) => call.args[0].input)).toEqual([
      {
        Name: ID,
        GroupName: 'gateway-schedules',
        ClientToken: ID,
        ScheduleExpression: 'at(2030-01-31T12:34:56)',
        ScheduleExpressionTimezone: 'UTC',
        FlexibleTimeWindow: { Mode: 'OFF' },
        ActionAfterCompletion: 'DELETE',
        State: 'ENABLED',
        Target: {
          Arn: settings.targetArn,
          RoleArn: settings.roleArn,
          Input: firedScheduleMessage(ID),
          RetryPolicy: { MaximumEventAgeInSeconds: SCHEDULE_DELIVERY.maximumEventAgeSeconds, MaximumRetryAttempts: SCHEDULE_DELIVERY.maximumRetryAttempts },
          DeadLetterConfig: { Arn: settings.deadLetterArn },
        },
      },
    ]);
  });

  it('takes a schedule that exists as made by an earlier attempt of the same create, and passes other refusals on', async () => {
    scheduler.on(CreateScheduleCommand).rejectsOnce(new ConflictException({ Message: 'exists', message: 'exists', $metadata: {} })).rejectsOnce(new ValidationException({ Message: 'bad', message: 'bad', $metadata: {} }));
    const adapter = new EventBridgeScheduler(client, settings);
    await expect(adapter.create(ID, new Date())).resolves.toBeUndefined();
    await expect(adapter.create(ID, new Date())).rejects.toThrow('bad');
  });

  it('replaces, when asked, a schedule of that name left by a taken-back attempt: deleted, then made for this time, neither under the ScheduleId as token', async () => {
    scheduler.on(CreateScheduleCommand).rejectsOnce(new ConflictException({ Message: 'exists', message: 'exists', $metadata: {} })).resolves({ ScheduleArn: 'arn' });
    scheduler.on(DeleteScheduleCommand).resolves({});
    await new EventBridgeScheduler(client, settings).create(ID, new Date('2030-01-31T12:40:00.000Z'), { replaceStale: true });
    expect(scheduler.commandCalls(DeleteScheduleCommand).map((call) => call.args[0].input)).toEqual([{ Name: ID, GroupName: 'gateway-schedules' }]);
    const creates = scheduler.commandCalls(CreateScheduleCommand).map((call) => call.args[0].input);
    expect(creates).toEqual([
      expect.objectContaining({ Name: ID, ClientToken: ID }),
      expect.objectContaining({ Name: ID, ScheduleExpression: 'at(2030-01-31T12:40:00)', Target: expect.objectContaining({ Input: firedScheduleMessage(ID) }) }),
    ]);
    expect(creates[1]).not.toHaveProperty('ClientToken');
  });

  it('replaces nothing when the schedule was new, and takes a schedule made meanwhile by a racing retry as made', async () => {
    const conflict = () => new ConflictException({ Message: 'exists', message: 'exists', $metadata: {} });
    scheduler.on(CreateScheduleCommand).resolvesOnce({ ScheduleArn: 'arn' }).rejectsOnce(conflict()).rejectsOnce(conflict());
    scheduler.on(DeleteScheduleCommand).rejects(new ResourceNotFoundException({ Message: 'gone', message: 'gone', $metadata: {} }));
    const adapter = new EventBridgeScheduler(client, settings);
    await adapter.create(ID, new Date(), { replaceStale: true });
    expect(scheduler.commandCalls(DeleteScheduleCommand)).toHaveLength(0);
    await expect(adapter.create(ID, new Date(), { replaceStale: true })).resolves.toBeUndefined();
    expect(scheduler.commandCalls(DeleteScheduleCommand)).toHaveLength(1);
  });

  it('deletes in the group, and a schedule already gone (fired and deleted) is no error', async () => {
    scheduler.on(DeleteScheduleCommand).rejectsOnce(new ResourceNotFoundException({ Message: 'gone', message: 'gone', $metadata: {} }));
    await expect(new EventBridgeScheduler(client, settings).delete(ID)).resolves.toBeUndefined();
    expect(scheduler.commandCalls(DeleteScheduleCommand)[0]?.args[0].input).toEqual({ Name: ID, GroupName: 'gateway-schedules', ClientToken: ID });
  });
});

describe('the message a fired schedule puts into the buffer', () => {
  it('is recognised by its detail-type and a well-formed ScheduleId, and nothing else is', () => {
    expect(firedScheduleIdOf(firedScheduleMessage(ID))).toBe(ID);
    expect(firedScheduleIdOf(JSON.stringify({ 'detail-type': 'TransferContact', detail: { ScheduleId: ID } }))).toBeUndefined();
    expect(firedScheduleIdOf(JSON.stringify({ 'detail-type': 'Scheduled Contact Transfer', detail: { ScheduleId: 'sch-../x' } }))).toBeUndefined();
    expect(firedScheduleIdOf('Scheduled Contact Transfer, not JSON')).toBeUndefined();
  });
});
