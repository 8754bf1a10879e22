import type { ConnectInstance } from '../domain/arn';
import { TransferError } from '../domain/errors';
import { MAX_SCHEDULED_PER_CONTACT, parseScheduleRequest, publicSchedule } from '../domain/schedule';
import type { Schedule, ScheduleListQuery, ScheduleOutcome, SchedulePage, StoredSchedule } from '../domain/schedule';
import type { Origin, SchedulerPort, SchedulesPort } from '../ports';

export interface ScheduledTransfersDependencies {
  readonly instance: ConnectInstance;
  readonly schedules: SchedulesPort;
  readonly scheduler: SchedulerPort;
  readonly now?: () => Date;
  readonly warn?: (message: string, details: Record<string, unknown>) => void;
}

export interface Created {
  readonly schedule: Schedule;
  readonly replayed: boolean;
}

/** What a firing found: its schedule to transfer, or why nothing is transferred. */
export type Firing = { readonly transfer: StoredSchedule } | { readonly skipped: 'CANCELLED' | 'missing' };

/**
 * Scheduled transfers (contract section 12). The state is written before the scheduler is asked, so a process that
 * dies between the two leaves a schedule that cannot fire (nothing waits in the scheduler) and that the caller was
 * never told of; the caller's retry with the same key finds it, creates the scheduler's schedule (whose name is the
 * ScheduleId, so a second create is a no-op) and answers the first answer. The other order would leave a schedule that
 * fires with no state behind it, or a retry whose recomputed AfterSeconds disagrees with what the scheduler holds.
 */
export class ScheduledTransfers {
  private readonly now: () => Date;

  constructor(private readonly deps: ScheduledTransfersDependencies) {
    this.now = deps.now ?? (() => new Date());
  }

  async create(input: unknown, origin: Origin): Promise<Created> {
    const now = this.now();
    const parsed = parseScheduleRequest(input, this.deps.instance, now);
    const schedule: StoredSchedule = {
      ScheduleId: parsed.scheduleId,
      ContactId: parsed.request.ContactId,
      At: parsed.at.toISOString(),
      State: 'SCHEDULED',
      CreatedAt: now.toISOString(),
      Request: parsed.request,
      createdBy: origin.caller,
      payloadHash: parsed.payloadHash,
    };
    const creation = await this.deps.schedules.create(schedule, MAX_SCHEDULED_PER_CONTACT);
    if ('limitReached' in creation) throw TransferError.of('SCHEDULE_LIMIT_REACHED');
    const stored = 'existing' in creation ? creation.existing : schedule;
    if ('existing' in creation && stored.payloadHash !== schedule.payloadHash) throw TransferError.of('CLIENT_TOKEN_REUSED');
    if (stored.State === 'SCHEDULED') await this.deps.scheduler.create(stored.ScheduleId, new Date(stored.At));
    // The first answer again: a schedule that has since fired or been cancelled was SCHEDULED when created.
    return { schedule: { ...publicSchedule(stored), State: 'SCHEDULED' }, replayed: 'existing' in creation };
  }

  async get(scheduleId: string): Promise<Schedule> {
    const schedule = await this.deps.schedules.get(scheduleId);
    if (!schedule) throw TransferError.of('SCHEDULE_NOT_FOUND');
    return publicSchedule(schedule);
  }

  async list(query: ScheduleListQuery): Promise<SchedulePage> {
    const page = await this.deps.schedules.list(query);
    return { Schedules: page.schedules.map(publicSchedule), ...(page.nextToken !== undefined && { NextToken: page.nextToken }) };
  }

  /**
   * Once the state is CANCELLED no firing can transfer (it must move the same state to FIRED first), so the 204 is
   * given on that write; the scheduler's schedule is deleted after it, and one left behind fires into nothing.
   */
  async cancel(scheduleId: string): Promise<void> {
    const moved = await this.deps.schedules.move(scheduleId, 'CANCELLED', this.now());
    if (moved === 'missing') throw TransferError.of('SCHEDULE_NOT_FOUND');
    if (moved === 'FIRED') throw TransferError.of('SCHEDULE_ALREADY_FIRED');
    if (moved === 'CANCELLED') return;
    await this.deps.scheduler.delete(scheduleId).catch((error: unknown) => {
      this.deps.warn?.('The cancelled schedule stays in the scheduler until it fires; its firing will transfer nothing', { scheduleId, error });
    });
  }

  /**
   * SCHEDULED to FIRED before anything is transferred. A schedule already FIRED is a duplicate firing (or a retry of one
   * that failed): its transfer runs again under the same idempotency key, and so is a replay.
   */
  async fire(scheduleId: string): Promise<Firing> {
    const moved = await this.deps.schedules.move(scheduleId, 'FIRED', this.now());
    if (moved === 'missing' || moved === 'CANCELLED') return { skipped: moved };
    const schedule = await this.deps.schedules.get(scheduleId);
    return schedule ? { transfer: schedule } : { skipped: 'missing' };
  }

  settle(scheduleId: string, outcome: ScheduleOutcome): Promise<void> {
    return this.deps.schedules.settle(scheduleId, outcome);
  }
}
