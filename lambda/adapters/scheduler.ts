import { CreateScheduleCommand, DeleteScheduleCommand } from '@aws-sdk/client-scheduler';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import type { ScheduleSettings } from '../config';
import { SCHEDULE_ID } from '../domain/schedule';
import type { FiredSchedule, StoredSchedule } from '../domain/schedule';
import type { SchedulerPort } from '../ports';

/** The `detail-type` of the message a fired schedule puts into the event buffer. */
export const SCHEDULE_FIRED_DETAIL_TYPE = 'Scheduled Contact Transfer';

/**
 * What EventBridge Scheduler sends to the buffer when a schedule fires: the ScheduleId and its state's CreatedAt. The
 * buffered door reads the request from the schedule's state, so a message copied or sent to the buffer by hand can at
 * most fire early a schedule that is still SCHEDULED, and never carries a request of its own; and a schedule made for
 * a state since taken back and written again fires into nothing.
 */
export function firedScheduleMessage(schedule: Pick<StoredSchedule, 'ScheduleId' | 'CreatedAt'>): string {
  return JSON.stringify({ 'detail-type': SCHEDULE_FIRED_DETAIL_TYPE, detail: { ScheduleId: schedule.ScheduleId, CreatedAt: schedule.CreatedAt } });
}

/** The fired schedule a buffered message names, or undefined for any other message. */
export function firedScheduleOf(body: string): FiredSchedule | undefined {
  if (!body.includes(SCHEDULE_FIRED_DETAIL_TYPE)) return undefined;
  try {
    const message = JSON.parse(body) as { 'detail-type'?: unknown; detail?: { ScheduleId?: unknown; CreatedAt?: unknown } };
    if (message['detail-type'] !== SCHEDULE_FIRED_DETAIL_TYPE) return undefined;
    const { ScheduleId: scheduleId, CreatedAt: createdAt } = message.detail ?? {};
    if (typeof scheduleId !== 'string' || !SCHEDULE_ID.test(scheduleId)) return undefined;
    if (createdAt === undefined) return { scheduleId };
    return typeof createdAt === 'string' ? { scheduleId, createdAt } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The name of the scheduler's schedule for one write of a schedule's state: the ScheduleId and that write's CreatedAt.
 * A state taken back and written again gets a schedule of its own, so a schedule left for the earlier write never
 * stands in for it, and its ClientToken (the name) is never one an earlier write used.
 */
export function schedulerNameOf(schedule: Pick<StoredSchedule, 'ScheduleId' | 'CreatedAt'>): string {
  return `${schedule.ScheduleId}-${Date.parse(schedule.CreatedAt).toString(36)}`;
}

/**
 * How long Scheduler keeps trying to deliver a fired schedule, and how often, before it sends it to the dead-letter
 * queue: an hour, not its default day, since an escalation delivered a day late is seldom still wanted.
 */
export const SCHEDULE_DELIVERY = { maximumEventAgeSeconds: 3600, maximumRetryAttempts: 185 } as const;

/**
 * One-time schedules in the stack's group, deleted by Scheduler once they fired. Each is named for one write of its
 * schedule's state (`schedulerNameOf`), which is also the ClientToken, so a retried create or delete is answered as
 * the first one was.
 */
export class EventBridgeScheduler implements SchedulerPort {
  constructor(
    private readonly client: SchedulerClient,
    private readonly settings: ScheduleSettings,
  ) {}

  async create(schedule: StoredSchedule): Promise<void> {
    const name = schedulerNameOf(schedule);
    try {
      await this.client.send(
        new CreateScheduleCommand({
          Name: name,
          GroupName: this.settings.groupName,
          ClientToken: name,
          ScheduleExpression: `at(${new Date(schedule.At).toISOString().slice(0, 19)})`,
          ScheduleExpressionTimezone: 'UTC',
          FlexibleTimeWindow: { Mode: 'OFF' },
          ActionAfterCompletion: 'DELETE',
          State: 'ENABLED',
          Target: {
            Arn: this.settings.targetArn,
            RoleArn: this.settings.roleArn,
            Input: firedScheduleMessage(schedule),
            RetryPolicy: { MaximumEventAgeInSeconds: SCHEDULE_DELIVERY.maximumEventAgeSeconds, MaximumRetryAttempts: SCHEDULE_DELIVERY.maximumRetryAttempts },
            DeadLetterConfig: { Arn: this.settings.deadLetterArn },
          },
        }),
      );
    } catch (error) {
      // A schedule of that name exists: an earlier attempt made it for this same write of the state.
      if (!(error instanceof Error && error.name === 'ConflictException')) throw error;
    }
  }

  async delete(schedule: StoredSchedule): Promise<void> {
    const name = schedulerNameOf(schedule);
    try {
      await this.client.send(new DeleteScheduleCommand({ Name: name, GroupName: this.settings.groupName, ClientToken: name }));
    } catch (error) {
      if (!(error instanceof Error && error.name === 'ResourceNotFoundException')) throw error;
    }
  }
}
