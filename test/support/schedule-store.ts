import { vi } from 'vitest';
import type { ScheduleListQuery, ScheduleOutcome, StoredSchedule } from '../../lambda/domain/schedule';
import { schedulerNameOf } from '../../lambda/adapters/scheduler';
import type { ScheduleCreation, ScheduleMove, SchedulerPort, SchedulesPort, UnarmedSchedule } from '../../lambda/ports';

/**
 * The schedules table as the DynamoDB adapter keeps it, in memory: a create counts against the contact's SCHEDULED
 * limit, a move leaves SCHEDULED once, stamps its time and ends the unarmed mark, a listing pages by `pageSize`, and a
 * take-back deletes only a state still SCHEDULED and unarmed since the same time.
 */
export class InMemorySchedules implements SchedulesPort {
  readonly items = new Map<string, StoredSchedule>();

  async create(schedule: StoredSchedule, limit: number): Promise<ScheduleCreation> {
    const existing = this.items.get(schedule.ScheduleId);
    if (existing) return { existing };
    const scheduled = [...this.items.values()].filter((item) => item.ContactId === schedule.ContactId && item.State === 'SCHEDULED');
    if (scheduled.length >= limit) return { limitReached: true };
    this.items.set(schedule.ScheduleId, schedule);
    return { created: true };
  }

  async get(scheduleId: string): Promise<StoredSchedule | undefined> {
    return this.items.get(scheduleId);
  }

  async list(query: ScheduleListQuery): Promise<{ readonly schedules: readonly StoredSchedule[]; readonly nextToken?: string }> {
    const all = [...this.items.values()].filter((item) => item.ContactId === query.ContactId);
    const start = query.nextToken === undefined ? 0 : Number(query.nextToken);
    const schedules = all.slice(start, start + query.maxResults);
    const next = start + query.maxResults;
    return { schedules, ...(next < all.length && { nextToken: String(next) }) };
  }

  async move(scheduleId: string, to: 'CANCELLED' | 'FIRED', at: Date, createdAt?: string): Promise<ScheduleMove> {
    const schedule = this.items.get(scheduleId);
    if (!schedule || (createdAt !== undefined && schedule.CreatedAt !== createdAt)) return { outcome: 'missing' };
    if (schedule.State !== 'SCHEDULED') return { outcome: schedule.State, schedule };
    const stamp = to === 'FIRED' ? { FiredAt: at.toISOString() } : { CancelledAt: at.toISOString() };
    const { unarmedSince: _ended, ...rest } = schedule;
    const moved = { ...rest, State: to, ...stamp };
    this.items.set(scheduleId, moved);
    return { outcome: 'moved', schedule: moved };
  }

  async settle(scheduleId: string, outcome: ScheduleOutcome): Promise<void> {
    const schedule = this.items.get(scheduleId);
    if (schedule?.State !== 'FIRED') throw new Error(`settle of ${scheduleId}, which has not fired`);
    this.items.set(scheduleId, { ...schedule, Outcome: outcome });
  }

  async arm(schedule: StoredSchedule): Promise<boolean> {
    const stored = this.items.get(schedule.ScheduleId);
    if (stored?.CreatedAt !== schedule.CreatedAt) return false;
    const { unarmedSince: _ended, ...armed } = stored;
    this.items.set(schedule.ScheduleId, armed);
    return true;
  }

  async unarmedBefore(before: Date, limit: number): Promise<readonly UnarmedSchedule[]> {
    return [...this.items.values()]
      .flatMap(({ ScheduleId, ContactId, unarmedSince }) => (unarmedSince !== undefined && unarmedSince < before.toISOString() ? [{ scheduleId: ScheduleId, contactId: ContactId, unarmedSince }] : []))
      .sort((a, b) => a.unarmedSince.localeCompare(b.unarmedSince))
      .slice(0, limit);
  }

  async takeBack(orphan: UnarmedSchedule): Promise<boolean> {
    const stored = this.items.get(orphan.scheduleId);
    if (stored?.State !== 'SCHEDULED' || stored.unarmedSince !== orphan.unarmedSince || stored.ContactId !== orphan.contactId) return false;
    this.items.delete(orphan.scheduleId);
    return true;
  }
}

/** EventBridge Scheduler as a test sees it: the one-time schedules it holds, by name (one per write of a state). */
export function fakeScheduler() {
  const waiting = new Map<string, { readonly scheduleId: string; readonly at: Date; readonly createdAt: string }>();
  const scheduler = {
    create: vi.fn<SchedulerPort['create']>(async (schedule) => {
      const name = schedulerNameOf(schedule);
      if (!waiting.has(name)) waiting.set(name, { scheduleId: schedule.ScheduleId, at: new Date(schedule.At), createdAt: schedule.CreatedAt });
    }),
    delete: vi.fn<SchedulerPort['delete']>(async (schedule) => {
      waiting.delete(schedulerNameOf(schedule));
    }),
  } satisfies SchedulerPort;
  return { waiting, ...scheduler };
}
