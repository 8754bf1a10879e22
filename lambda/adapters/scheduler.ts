import { CreateScheduleCommand, DeleteScheduleCommand } from '@aws-sdk/client-scheduler';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import type { ScheduleSettings } from '../config';
import { SCHEDULE_ID } from '../domain/schedule';
import type { SchedulerPort } from '../ports';

/** The `detail-type` of the message a fired schedule puts into the event buffer. */
export const SCHEDULE_FIRED_DETAIL_TYPE = 'Scheduled Contact Transfer';

/**
 * What EventBridge Scheduler sends to the buffer when a schedule fires: its id alone. The buffered door reads the
 * request from the schedule's state, so a message copied or sent to the buffer by hand can at most fire early a
 * schedule that is still SCHEDULED, and never carries a request of its own.
 */
export function firedScheduleMessage(scheduleId: string): string {
  return JSON.stringify({ 'detail-type': SCHEDULE_FIRED_DETAIL_TYPE, detail: { ScheduleId: scheduleId } });
}

/** The ScheduleId of a buffered message that is a fired schedule's, or undefined for any other message. */
export function firedScheduleIdOf(body: string): string | undefined {
  if (!body.includes(SCHEDULE_FIRED_DETAIL_TYPE)) return undefined;
  try {
    const message = JSON.parse(body) as { 'detail-type'?: unknown; detail?: { ScheduleId?: unknown } };
    const id = message['detail-type'] === SCHEDULE_FIRED_DETAIL_TYPE ? message.detail?.ScheduleId : undefined;
    return typeof id === 'string' && SCHEDULE_ID.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * How long Scheduler keeps trying to deliver a fired schedule, and how often, before it sends it to the dead-letter
 * queue: an hour, not its default day, since an escalation delivered a day late is seldom still wanted.
 */
export const SCHEDULE_DELIVERY = { maximumEventAgeSeconds: 3600, maximumRetryAttempts: 185 } as const;

/**
 * One-time schedules in the stack's group, deleted by Scheduler once they fired. Named by the ScheduleId, which is
 * also the ClientToken, so a retried create or delete is answered as the first one was.
 */
export class EventBridgeScheduler implements SchedulerPort {
  constructor(
    private readonly client: SchedulerClient,
    private readonly settings: ScheduleSettings,
  ) {}

  async create(scheduleId: string, at: Date, options: { readonly replaceStale?: boolean } = {}): Promise<void> {
    if ((await this.createUnlessNamed(scheduleId, at, scheduleId)) || !options.replaceStale) return;
    // The schedule of that name was made for an attempt whose state was taken back, perhaps for another time. Both
    // calls go under tokens of their own (the SDK makes one), so neither is answered as one of that attempt's was.
    await this.deleteIfPresent(scheduleId);
    await this.createUnlessNamed(scheduleId, at);
  }

  async delete(scheduleId: string): Promise<void> {
    await this.deleteIfPresent(scheduleId, scheduleId);
  }

  /** False when a schedule of that name exists already. */
  private async createUnlessNamed(scheduleId: string, at: Date, clientToken?: string): Promise<boolean> {
    try {
      await this.client.send(
        new CreateScheduleCommand({
          Name: scheduleId,
          GroupName: this.settings.groupName,
          ...(clientToken !== undefined && { ClientToken: clientToken }),
          ScheduleExpression: `at(${at.toISOString().slice(0, 19)})`,
          ScheduleExpressionTimezone: 'UTC',
          FlexibleTimeWindow: { Mode: 'OFF' },
          ActionAfterCompletion: 'DELETE',
          State: 'ENABLED',
          Target: {
            Arn: this.settings.targetArn,
            RoleArn: this.settings.roleArn,
            Input: firedScheduleMessage(scheduleId),
            RetryPolicy: { MaximumEventAgeInSeconds: SCHEDULE_DELIVERY.maximumEventAgeSeconds, MaximumRetryAttempts: SCHEDULE_DELIVERY.maximumRetryAttempts },
            DeadLetterConfig: { Arn: this.settings.deadLetterArn },
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof Error && error.name === 'ConflictException') return false;
      throw error;
    }
  }

  private async deleteIfPresent(scheduleId: string, clientToken?: string): Promise<void> {
    try {
      await this.client.send(new DeleteScheduleCommand({ Name: scheduleId, GroupName: this.settings.groupName, ...(clientToken !== undefined && { ClientToken: clientToken }) }));
    } catch (error) {
      if (!(error instanceof Error && error.name === 'ResourceNotFoundException')) throw error;
    }
  }
}
