import type { ConnectInstance } from '../domain/arn';
import { TransferError } from '../domain/errors';
import { MAX_SCHEDULED_PER_CONTACT, parseScheduleRequest, publicSchedule } from '../domain/schedule';
import type { FiredSchedule, Schedule, ScheduleListQuery, ScheduleOutcome, SchedulePage, StoredSchedule } from '../domain/schedule';
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

/** A sweep's take-back of schedules whose create stopped before the scheduler held them (see `takeBackOrphans`). */
export interface OrphanReport {
  readonly found: number;
  readonly takenBack: number;
  readonly failed: number;
}

/**
 * How often one create writes its state again after finding it taken back between its writes: once is the race with a
 * sweep; more means something else deletes it, and the caller is told to retry.
 */
const CREATE_ATTEMPTS = 3;

/**
 * Scheduled transfers (contract section 12). The state is written before the scheduler is asked, marked unarmed, and
 * the mark is removed once CreateSchedule succeeded; so a process that dies between the two leaves a marked state that
 * cannot fire (nothing waits in the scheduler) and that the caller was never told of. One that dies after
 * CreateSchedule leaves a schedule that fires at the time asked unless the sweeper took its state back first (a 5xx
 * leaves the outcome open, as for any request): a schedule fires only into the write of the state it was made for.
 * The caller's retry with the same
 * key finds it, creates the scheduler's schedule (named for that write of the state, so a second create is a no-op) and
 * answers the first answer; without a retry, the sweeper takes it back once it is older than any running create. The
 * other order would leave a schedule that fires with no state behind it, or a retry whose recomputed AfterSeconds
 * disagrees with what the scheduler holds.
 */
export class ScheduledTransfers {
  private readonly now: () => Date;

  constructor(private readonly deps: ScheduledTransfersDependencies) {
    this.now = deps.now ?? (() => new Date());
  }

  async create(input: unknown, origin: Origin): Promise<Created> {
    const now = this.now();
    const parsed = parseScheduleRequest(input, this.deps.instance, now);
    let schedule: StoredSchedule = {
      ScheduleId: parsed.scheduleId,
      ContactId: parsed.request.ContactId,
      At: parsed.at.toISOString(),
      State: 'SCHEDULED',
      CreatedAt: now.toISOString(),
      Request: parsed.request,
      createdBy: origin.caller,
      payloadHash: parsed.payloadHash,
      unarmedSince: now.toISOString(),
    };
    for (let attempt = 1; ; attempt += 1) {
      const creation = await this.deps.schedules.create(schedule, MAX_SCHEDULED_PER_CONTACT);
      if ('limitReached' in creation) throw TransferError.of('SCHEDULE_LIMIT_REACHED');
      const stored = 'existing' in creation ? creation.existing : schedule;
      if ('existing' in creation && stored.payloadHash !== schedule.payloadHash) throw TransferError.of('CLIENT_TOKEN_REUSED');
      if (await this.armed(stored)) {
        // The first answer again: a schedule that has since fired or been cancelled was SCHEDULED when created.
        return { schedule: { ...publicSchedule(stored), State: 'SCHEDULED' }, replayed: 'existing' in creation };
      }
      if (attempt >= CREATE_ATTEMPTS) throw TransferError.of('INTERNAL_ERROR', { message: 'The schedule could not be written; retry later.' });
      // Taken back by a sweep while this create armed it: the state is written again, at the time this create answers,
      // and gets a schedule of its own; the one just made names the write taken back, and fires into nothing.
      const again = this.now().toISOString();
      schedule = { ...schedule, At: stored.At, CreatedAt: again, unarmedSince: again };
    }
  }

  /**
   * Has the scheduler hold a SCHEDULED state, then ends its mark. A replay asks the scheduler again even for a state
   * without a mark: one written by a version that set no mark may never have reached it. False when the state was
   * taken back meanwhile; one that has fired or been cancelled needs nothing.
   */
  private async armed(stored: StoredSchedule): Promise<boolean> {
    if (stored.State !== 'SCHEDULED') return true;
    await this.deps.scheduler.create(stored);
    return stored.unarmedSince === undefined || this.deps.schedules.arm(stored);
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
    if (moved.outcome === 'missing') throw TransferError.of('SCHEDULE_NOT_FOUND');
    if (moved.outcome === 'FIRED') throw TransferError.of('SCHEDULE_ALREADY_FIRED');
    if (moved.outcome === 'CANCELLED') return;
    await this.deps.scheduler.delete(moved.schedule).catch((error: unknown) => {
      this.deps.warn?.('The cancelled schedule stays in the scheduler until it fires; its firing will transfer nothing', { scheduleId, error });
    });
  }

  /**
   * SCHEDULED to FIRED before anything is transferred. A schedule already FIRED is a duplicate firing (or a retry of one
   * that failed): its transfer runs again under the same idempotency key, and so is a replay.
   */
  async fire({ scheduleId, createdAt }: FiredSchedule): Promise<Firing> {
    // A schedule made for a write of the state since taken back (and perhaps written again) finds no state of its own.
    const moved = await this.deps.schedules.move(scheduleId, 'FIRED', this.now(), createdAt);
    if (moved.outcome === 'missing' || moved.outcome === 'CANCELLED') return { skipped: moved.outcome };
    return { transfer: moved.schedule };
  }

  settle(scheduleId: string, outcome: ScheduleOutcome): Promise<void> {
    return this.deps.schedules.settle(scheduleId, outcome);
  }

  /**
   * Takes back the SCHEDULED states whose create stopped between writing them and the scheduler holding them: each is
   * deleted and frees its place under its contact's limit, in one write that holds only while it is still SCHEDULED
   * and unarmed. `olderThanMs` must exceed the longest a create can run, so no running create loses its state; one
   * that still does writes it again. The scheduler is not asked: a schedule it holds after all names the write taken
   * back, and its firing finds no state of its own.
   */
  async takeBackOrphans(olderThanMs: number, limit: number, continueWhile: () => boolean): Promise<OrphanReport> {
    const orphans = await this.deps.schedules.unarmedBefore(new Date(this.now().getTime() - olderThanMs), limit);
    const counts = { found: orphans.length, takenBack: 0, failed: 0 };
    for (const orphan of orphans) {
      if (!continueWhile()) break;
      const details = { scheduleId: orphan.scheduleId, contactId: orphan.contactId, unarmedSince: orphan.unarmedSince };
      try {
        if (!(await this.deps.schedules.takeBack(orphan))) continue;
        counts.takenBack += 1;
        this.deps.warn?.('A schedule whose create stopped before EventBridge Scheduler held it was taken back; its caller never had a 201 for it', details);
      } catch (error) {
        counts.failed += 1;
        this.deps.warn?.('A schedule whose create stopped could not be taken back; the next sweep tries again', { ...details, error });
      }
    }
    return counts;
  }
}
