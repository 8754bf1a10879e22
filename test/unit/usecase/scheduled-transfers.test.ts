import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseInstanceArn } from '../../../lambda/domain/arn';
import type { ConnectInstance } from '../../../lambda/domain/arn';
import { TransferError } from '../../../lambda/domain/errors';
import type { Origin } from '../../../lambda/ports';
import { ScheduledTransfers } from '../../../lambda/usecase/scheduled-transfers';
import type { ScheduledTransfersDependencies } from '../../../lambda/usecase/scheduled-transfers';
import { fakeScheduler, InMemorySchedules } from '../../support/schedule-store';

const instance = parseInstanceArn('arn:aws:connect:eu-west-1:123456789012:instance/11111111-1111-4111-8111-111111111111') as ConnectInstance;
const origin: Origin = { door: 'https', caller: 'arn:aws:sts::123456789012:assumed-role/escalations/app', correlationId: 'req-1' };
const NOW = new Date('2030-01-01T10:00:00.250Z');
const LATER = new Date('2030-01-01T10:05:00.000Z');
const toQueue = { ContactId: 'c-1', ContactFlowId: 'f-1', QueueId: 'q-1' };

function setUp(overrides: Partial<ScheduledTransfersDependencies> = {}) {
  const schedules = new InMemorySchedules();
  const scheduler = fakeScheduler();
  const warn = vi.fn<NonNullable<ScheduledTransfersDependencies['warn']>>();
  let clock = NOW;
  const useCase = new ScheduledTransfers({ instance, schedules, scheduler, now: () => clock, warn, ...overrides });
  return { useCase, schedules, scheduler, warn, setClock: (to: Date) => (clock = to) };
}

async function reasonOf(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
  } catch (error) {
    return error instanceof TransferError ? error.reason : String(error);
  }
  return 'accepted';
}

afterEach(() => {
  vi.useRealTimers();
});

describe('ScheduledTransfers: creating a schedule', () => {
  it('answers the schedule as the API shows it, stores who created it, and has the scheduler wait for its time', async () => {
    const { useCase, schedules, scheduler } = setUp();
    const { schedule, replayed } = await useCase.create({ ...toQueue, AfterSeconds: 120 }, origin);
    expect(replayed).toBe(false);
    expect(schedule).toStrictEqual({
      ScheduleId: expect.stringMatching(/^sch-[0-9a-f]{32}$/),
      ContactId: 'c-1',
      At: '2030-01-01T10:02:01.000Z',
      State: 'SCHEDULED',
      CreatedAt: '2030-01-01T10:00:00.250Z',
      Request: toQueue,
    });
    expect(schedules.items.get(schedule.ScheduleId)).toStrictEqual({
      ...schedule,
      createdBy: origin.caller,
      payloadHash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect([...scheduler.waiting.values()]).toEqual([{ scheduleId: schedule.ScheduleId, at: new Date('2030-01-01T10:02:01.000Z'), createdAt: schedule.CreatedAt }]);
  });

  it('refuses a request without a time as VALIDATION_FAILED and stores nothing', async () => {
    const { useCase, schedules, scheduler } = setUp();
    expect(await reasonOf(() => useCase.create(toQueue, origin))).toBe('VALIDATION_FAILED');
    expect(schedules.items.size).toBe(0);
    expect(scheduler.create).not.toHaveBeenCalled();
  });

  it('answers a retry with the first answer as a replay, and has the scheduler wait when the first create died before asking it', async () => {
    const { useCase, scheduler, schedules, setClock } = setUp();
    const arm = vi.spyOn(schedules, 'arm');
    const first = await useCase.create({ ...toQueue, ClientToken: 'escalate-1', AfterSeconds: 120 }, origin);
    scheduler.waiting.clear();
    setClock(LATER);
    const retry = await useCase.create({ ...toQueue, ClientToken: 'escalate-1', AfterSeconds: 120 }, origin);
    expect(retry).toStrictEqual({ schedule: first.schedule, replayed: true });
    // The replay's state is the first attempt's write, and armed: the scheduler's schedule for that write, no mark to end.
    expect([...scheduler.waiting.values()]).toEqual([{ scheduleId: first.schedule.ScheduleId, at: new Date(first.schedule.At), createdAt: first.schedule.CreatedAt }]);
    expect(arm).toHaveBeenCalledTimes(1);
  });

  it('answers a retry of a schedule that has since fired with the first answer, and schedules nothing again', async () => {
    const { useCase, scheduler, setClock } = setUp();
    const first = await useCase.create({ ...toQueue, ClientToken: 'escalate-1', AfterSeconds: 120 }, origin);
    setClock(LATER);
    await useCase.fire({ scheduleId: first.schedule.ScheduleId });
    scheduler.waiting.clear();
    const retry = await useCase.create({ ...toQueue, ClientToken: 'escalate-1', AfterSeconds: 120 }, origin);
    expect(retry).toMatchObject({ schedule: first.schedule, replayed: true });
    expect(scheduler.waiting.size).toBe(0);
    expect(scheduler.create).toHaveBeenCalledTimes(1);
  });

  it('refuses the same ClientToken with another request as CLIENT_TOKEN_REUSED, leaving the first schedule as it was', async () => {
    const { useCase, schedules, scheduler } = setUp();
    const first = await useCase.create({ ...toQueue, ClientToken: 'escalate-1', AfterSeconds: 120 }, origin);
    const stored = schedules.items.get(first.schedule.ScheduleId);
    expect(await reasonOf(() => useCase.create({ ...toQueue, ClientToken: 'escalate-1', AfterSeconds: 180 }, origin))).toBe('CLIENT_TOKEN_REUSED');
    expect(schedules.items.get(first.schedule.ScheduleId)).toStrictEqual(stored);
    expect(scheduler.create).toHaveBeenCalledTimes(1);
  });

  it('refuses an eleventh SCHEDULED schedule for one contact as SCHEDULE_LIMIT_REACHED, and takes one again once another is cancelled', async () => {
    const { useCase, schedules, scheduler } = setUp();
    const created = [];
    for (let n = 1; n <= 10; n++) created.push(await useCase.create({ ...toQueue, ClientToken: `t-${n}`, AfterSeconds: 120 }, origin));
    expect(await reasonOf(() => useCase.create({ ...toQueue, ClientToken: 't-11', AfterSeconds: 120 }, origin))).toBe('SCHEDULE_LIMIT_REACHED');
    expect(schedules.items.size).toBe(10);
    expect(scheduler.waiting.size).toBe(10);
    expect(await reasonOf(() => useCase.create({ ...toQueue, ContactId: 'c-2', ClientToken: 't-12', AfterSeconds: 120 }, origin))).toBe('accepted');
    await useCase.cancel(created[0]!.schedule.ScheduleId);
    expect(await reasonOf(() => useCase.create({ ...toQueue, ClientToken: 't-11', AfterSeconds: 120 }, origin))).toBe('accepted');
  });

  it('stamps CreatedAt by the wall clock when no clock is given', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(NOW);
    const { useCase } = setUp({ now: undefined });
    const { schedule } = await useCase.create({ ...toQueue, AfterSeconds: 120 }, origin);
    expect(schedule.CreatedAt).toBe('2030-01-01T10:00:00.250Z');
  });
});

describe('ScheduledTransfers: reading schedules', () => {
  it('answers one schedule without who created it or its key binding, and SCHEDULE_NOT_FOUND for an unknown id', async () => {
    const { useCase } = setUp();
    const { schedule } = await useCase.create({ ...toQueue, AfterSeconds: 120 }, origin);
    expect(await useCase.get(schedule.ScheduleId)).toStrictEqual(schedule);
    expect(await reasonOf(() => useCase.get('sch-0123456789abcdef0123456789abcdef'))).toBe('SCHEDULE_NOT_FOUND');
  });

  it('lists a contact\'s schedules page by page, with a NextToken only while more remain', async () => {
    const { useCase } = setUp();
    const created = [];
    for (let n = 1; n <= 3; n++) created.push((await useCase.create({ ...toQueue, ClientToken: `t-${n}`, AfterSeconds: 120 }, origin)).schedule);
    const first = await useCase.list({ ContactId: 'c-1', maxResults: 2 });
    expect(first).toStrictEqual({ Schedules: created.slice(0, 2), NextToken: expect.any(String) });
    const last = await useCase.list({ ContactId: 'c-1', maxResults: 2, nextToken: first.NextToken });
    expect(last).toStrictEqual({ Schedules: created.slice(2) });
  });
});

describe('ScheduledTransfers: cancelling', () => {
  it('marks the schedule CANCELLED at the time of the cancel and removes it from the scheduler', async () => {
    const { useCase, scheduler, setClock } = setUp();
    const { schedule } = await useCase.create({ ...toQueue, AfterSeconds: 120 }, origin);
    setClock(LATER);
    await useCase.cancel(schedule.ScheduleId);
    expect(await useCase.get(schedule.ScheduleId)).toStrictEqual({ ...schedule, State: 'CANCELLED', CancelledAt: LATER.toISOString() });
    expect(scheduler.delete).toHaveBeenCalledWith(expect.objectContaining({ ScheduleId: schedule.ScheduleId, CreatedAt: schedule.CreatedAt }));
    expect(scheduler.waiting.size).toBe(0);
  });

  it('answers a second cancel quietly without asking the scheduler again', async () => {
    const { useCase, scheduler } = setUp();
    const { schedule } = await useCase.create({ ...toQueue, AfterSeconds: 120 }, origin);
    await useCase.cancel(schedule.ScheduleId);
    expect(await reasonOf(() => useCase.cancel(schedule.ScheduleId))).toBe('accepted');
    expect(scheduler.delete).toHaveBeenCalledTimes(1);
  });

  it('refuses a schedule that has fired as SCHEDULE_ALREADY_FIRED and an unknown one as SCHEDULE_NOT_FOUND, deleting nothing', async () => {
    const { useCase, scheduler } = setUp();
    const { schedule } = await useCase.create({ ...toQueue, AfterSeconds: 120 }, origin);
    await useCase.fire({ scheduleId: schedule.ScheduleId });
    expect(await reasonOf(() => useCase.cancel(schedule.ScheduleId))).toBe('SCHEDULE_ALREADY_FIRED');
    expect(await reasonOf(() => useCase.cancel('sch-0123456789abcdef0123456789abcdef'))).toBe('SCHEDULE_NOT_FOUND');
    expect(scheduler.delete).not.toHaveBeenCalled();
  });

  it('still cancels when the scheduler cannot delete, and warns that its firing will transfer nothing', async () => {
    const { useCase, scheduler, warn } = setUp();
    const { schedule } = await useCase.create({ ...toQueue, AfterSeconds: 120 }, origin);
    const error = new Error('Scheduler unreachable');
    scheduler.delete.mockRejectedValueOnce(error);
    expect(await reasonOf(() => useCase.cancel(schedule.ScheduleId))).toBe('accepted');
    expect((await useCase.get(schedule.ScheduleId)).State).toBe('CANCELLED');
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('scheduler'), { scheduleId: schedule.ScheduleId, error });
    expect(await useCase.fire({ scheduleId: schedule.ScheduleId })).toEqual({ skipped: 'CANCELLED' });
  });

  it('still cancels when the scheduler cannot delete and nobody listens for warnings', async () => {
    const { useCase, scheduler } = setUp({ warn: undefined });
    const { schedule } = await useCase.create({ ...toQueue, AfterSeconds: 120 }, origin);
    scheduler.delete.mockRejectedValueOnce(new Error('Scheduler unreachable'));
    expect(await reasonOf(() => useCase.cancel(schedule.ScheduleId))).toBe('accepted');
  });
});

describe('ScheduledTransfers: firing and settling', () => {
  it('moves the schedule to FIRED at the firing\'s time and hands over its request to transfer', async () => {
    const { useCase, schedules, setClock } = setUp();
    const { schedule } = await useCase.create({ ...toQueue, AfterSeconds: 120 }, origin);
    setClock(LATER);
    const firing = await useCase.fire({ scheduleId: schedule.ScheduleId });
    expect(firing).toStrictEqual({ transfer: schedules.items.get(schedule.ScheduleId) });
    expect(firing).toMatchObject({ transfer: { State: 'FIRED', FiredAt: LATER.toISOString(), Request: toQueue, createdBy: origin.caller } });
  });

  it('hands a duplicate firing the same schedule again, so its transfer replays under the same key', async () => {
    const { useCase } = setUp();
    const { schedule } = await useCase.create({ ...toQueue, AfterSeconds: 120 }, origin);
    const first = await useCase.fire({ scheduleId: schedule.ScheduleId });
    expect(await useCase.fire({ scheduleId: schedule.ScheduleId })).toStrictEqual(first);
  });

  it('transfers nothing for a cancelled schedule or an unknown one', async () => {
    const { useCase } = setUp();
    const { schedule } = await useCase.create({ ...toQueue, AfterSeconds: 120 }, origin);
    await useCase.cancel(schedule.ScheduleId);
    expect(await useCase.fire({ scheduleId: schedule.ScheduleId })).toStrictEqual({ skipped: 'CANCELLED' });
    expect(await useCase.fire({ scheduleId: 'sch-0123456789abcdef0123456789abcdef' })).toStrictEqual({ skipped: 'missing' });
  });

  it('hands over the schedule its move wrote, reading it no second time', async () => {
    const schedules = new InMemorySchedules();
    const { useCase } = setUp({ schedules });
    const { schedule } = await useCase.create({ ...toQueue, AfterSeconds: 120 }, origin);
    const get = vi.spyOn(schedules, 'get');
    expect(await useCase.fire({ scheduleId: schedule.ScheduleId })).toMatchObject({ transfer: { ScheduleId: schedule.ScheduleId, State: 'FIRED' } });
    expect(get).not.toHaveBeenCalled();
  });

  it('transfers nothing when the move found no schedule, even one written since: only a schedule moved to FIRED is transferred', async () => {
    const schedules = new InMemorySchedules();
    const { useCase } = setUp({ schedules });
    const { schedule } = await useCase.create({ ...toQueue, AfterSeconds: 120 }, origin);
    vi.spyOn(schedules, 'move').mockResolvedValueOnce({ outcome: 'missing' });
    expect(await useCase.fire({ scheduleId: schedule.ScheduleId })).toStrictEqual({ skipped: 'missing' });
  });

  it('records a fired schedule\'s outcome, which reading it then shows', async () => {
    const { useCase } = setUp();
    const { schedule } = await useCase.create({ ...toQueue, AfterSeconds: 120 }, origin);
    await useCase.fire({ scheduleId: schedule.ScheduleId });
    const outcome = { Result: 'TRANSFERRED', ContactId: 'c-new', ContactArn: `${instance.arn}/contact/c-new` } as const;
    await useCase.settle(schedule.ScheduleId, outcome);
    expect((await useCase.get(schedule.ScheduleId)).Outcome).toStrictEqual(outcome);
  });
});

describe('ScheduledTransfers: a create that stopped before the scheduler held its schedule', () => {
  const GRACE_MS = 70_000;
  const always = () => true;
  /** A create whose CreateSchedule failed, as a process that died between the two writes leaves it. */
  async function stoppedCreate(setup: ReturnType<typeof setUp>, token = 'escalate-1', contactId = 'c-1') {
    setup.scheduler.create.mockRejectedValueOnce(new Error('killed'));
    expect(await reasonOf(() => setup.useCase.create({ ...toQueue, ContactId: contactId, ClientToken: token, AfterSeconds: 120 }, origin))).toBe('Error: killed');
    const [stored] = [...setup.schedules.items.values()].filter((item) => item.ContactId === contactId && item.unarmedSince !== undefined);
    return stored!;
  }

  it('leaves its state marked unarmed since its creation; a create that reached the scheduler leaves none', async () => {
    const setup = setUp();
    const stopped = await stoppedCreate(setup);
    expect(stopped).toMatchObject({ State: 'SCHEDULED', unarmedSince: stopped.CreatedAt });
    const { schedule } = await setup.useCase.create({ ...toQueue, ClientToken: 'escalate-2', AfterSeconds: 120 }, origin);
    expect(setup.schedules.items.get(schedule.ScheduleId)).not.toHaveProperty('unarmedSince');
  });

  it('a sweep after the wait takes it back: gone, its contact\'s place free again, a warning naming it; before the wait it stays', async () => {
    const setup = setUp();
    for (let n = 1; n <= 9; n++) await setup.useCase.create({ ...toQueue, ClientToken: `t-${n}`, AfterSeconds: 120 }, origin);
    const stopped = await stoppedCreate(setup);
    expect(await reasonOf(() => setup.useCase.create({ ...toQueue, ClientToken: 't-11', AfterSeconds: 120 }, origin))).toBe('SCHEDULE_LIMIT_REACHED');

    setup.setClock(new Date(NOW.getTime() + GRACE_MS - 1000));
    expect(await setup.useCase.takeBackOrphans(GRACE_MS, 100, always)).toStrictEqual({ found: 0, takenBack: 0, failed: 0 });
    expect((await setup.useCase.get(stopped.ScheduleId)).State).toBe('SCHEDULED');

    setup.setClock(new Date(NOW.getTime() + GRACE_MS + 1000));
    expect(await setup.useCase.takeBackOrphans(GRACE_MS, 100, always)).toStrictEqual({ found: 1, takenBack: 1, failed: 0 });
    expect(await reasonOf(() => setup.useCase.get(stopped.ScheduleId))).toBe('SCHEDULE_NOT_FOUND');
    expect((await setup.useCase.list({ ContactId: 'c-1', maxResults: 20 })).Schedules).toHaveLength(9);
    expect(setup.warn).toHaveBeenCalledWith(expect.stringContaining('taken back'), { scheduleId: stopped.ScheduleId, contactId: 'c-1', unarmedSince: stopped.CreatedAt });
    expect(await reasonOf(() => setup.useCase.create({ ...toQueue, ClientToken: 't-11', AfterSeconds: 120 }, origin))).toBe('accepted');
  });

  it('takes back only while the invocation has time, and counts what failed for the next sweep', async () => {
    const setup = setUp();
    const first = await stoppedCreate(setup, 'a', 'c-1');
    await stoppedCreate(setup, 'b', 'c-2');
    setup.setClock(LATER);
    vi.spyOn(setup.schedules, 'takeBack').mockRejectedValueOnce(new Error('throttled'));
    let budget = 1;
    expect(await setup.useCase.takeBackOrphans(GRACE_MS, 100, () => budget-- > 0)).toStrictEqual({ found: 2, takenBack: 0, failed: 1 });
    expect(setup.warn).toHaveBeenCalledWith(expect.stringContaining('could not be taken back'), expect.objectContaining({ scheduleId: first.ScheduleId, contactId: 'c-1' }));
    expect(await setup.useCase.takeBackOrphans(GRACE_MS, 1, always)).toStrictEqual({ found: 1, takenBack: 1, failed: 0 });
    expect(await setup.useCase.takeBackOrphans(GRACE_MS, 100, always)).toStrictEqual({ found: 1, takenBack: 1, failed: 0 });
    expect(setup.schedules.items.size).toBe(0);
  });

  it('a retry after the take-back creates it anew, and the scheduler holds it', async () => {
    const setup = setUp();
    const stopped = await stoppedCreate(setup);
    setup.setClock(LATER);
    await setup.useCase.takeBackOrphans(GRACE_MS, 100, always);
    const retry = await setup.useCase.create({ ...toQueue, ClientToken: 'escalate-1', AfterSeconds: 120 }, origin);
    expect(retry).toMatchObject({ replayed: false, schedule: { ScheduleId: stopped.ScheduleId, State: 'SCHEDULED', CreatedAt: LATER.toISOString() } });
    expect([...setup.scheduler.waiting.values()]).toEqual([{ scheduleId: stopped.ScheduleId, at: new Date(retry.schedule.At), createdAt: LATER.toISOString() }]);
    expect(setup.schedules.items.get(stopped.ScheduleId)).not.toHaveProperty('unarmedSince');
  });

  it('a retry after the take-back of an attempt the scheduler held after all gets a schedule of its own, and the earlier one fires into nothing', async () => {
    const setup = setUp();
    // Killed after CreateSchedule, before the write that ends the mark.
    vi.spyOn(setup.schedules, 'arm').mockRejectedValueOnce(new Error('killed'));
    expect(await reasonOf(() => setup.useCase.create({ ...toQueue, ClientToken: 'escalate-1', AfterSeconds: 120 }, origin))).toBe('Error: killed');
    const [stopped] = [...setup.schedules.items.values()];
    setup.setClock(LATER);
    await setup.useCase.takeBackOrphans(GRACE_MS, 100, always);
    const retry = await setup.useCase.create({ ...toQueue, ClientToken: 'escalate-1', AfterSeconds: 120 }, origin);
    expect(retry.schedule.At).toBe('2030-01-01T10:07:00.000Z');
    expect([...setup.scheduler.waiting.values()]).toEqual([
      { scheduleId: stopped!.ScheduleId, at: new Date(stopped!.At), createdAt: stopped!.CreatedAt },
      { scheduleId: stopped!.ScheduleId, at: new Date('2030-01-01T10:07:00.000Z'), createdAt: LATER.toISOString() },
    ]);
    // The stopped attempt's schedule fires first, at its own time, and finds no state of its write: nothing moves.
    expect(await setup.useCase.fire({ scheduleId: stopped!.ScheduleId, createdAt: stopped!.CreatedAt })).toStrictEqual({ skipped: 'missing' });
    expect(setup.schedules.items.get(stopped!.ScheduleId)).toMatchObject({ State: 'SCHEDULED', At: '2030-01-01T10:07:00.000Z' });
    expect(await setup.useCase.fire({ scheduleId: stopped!.ScheduleId, createdAt: LATER.toISOString() })).toMatchObject({ transfer: { State: 'FIRED' } });
  });

  it('a retry whose state is taken back while it arms it writes the state again for the time the scheduler holds, and arms that', async () => {
    const setup = setUp();
    const stopped = await stoppedCreate(setup);
    setup.setClock(LATER);
    // The sweep runs between the retry's CreateSchedule and its write that ends the mark.
    setup.scheduler.create.mockImplementationOnce(async (schedule) => {
      setup.scheduler.waiting.set('taken back meanwhile', { scheduleId: schedule.ScheduleId, at: new Date(schedule.At), createdAt: schedule.CreatedAt });
      expect(await setup.useCase.takeBackOrphans(GRACE_MS, 100, always)).toMatchObject({ takenBack: 1 });
    });
    const retry = await setup.useCase.create({ ...toQueue, ClientToken: 'escalate-1', AfterSeconds: 120 }, origin);
    expect(retry.schedule).toMatchObject({ ScheduleId: stopped.ScheduleId, State: 'SCHEDULED', At: stopped.At, CreatedAt: LATER.toISOString() });
    expect(setup.schedules.items.get(stopped.ScheduleId)).toMatchObject({ State: 'SCHEDULED', At: stopped.At });
    expect(setup.schedules.items.get(stopped.ScheduleId)).not.toHaveProperty('unarmedSince');
    // The schedule made for the write taken back stays, and fires into nothing; the state written again has its own.
    expect([...setup.scheduler.waiting.values()]).toEqual([
      { scheduleId: stopped.ScheduleId, at: new Date(stopped.At), createdAt: stopped.CreatedAt },
      { scheduleId: stopped.ScheduleId, at: new Date(stopped.At), createdAt: LATER.toISOString() },
    ]);
    expect(await setup.useCase.fire({ scheduleId: stopped.ScheduleId, createdAt: stopped.CreatedAt })).toStrictEqual({ skipped: 'missing' });
  });

  it('a cancel after a take-back and retry deletes the schedule of the state written again; the earlier write\'s fires into nothing', async () => {
    const setup = setUp();
    vi.spyOn(setup.schedules, 'arm').mockRejectedValueOnce(new Error('killed'));
    await reasonOf(() => setup.useCase.create({ ...toQueue, ClientToken: 'escalate-1', AfterSeconds: 120 }, origin));
    const [stopped] = [...setup.schedules.items.values()];
    setup.setClock(LATER);
    await setup.useCase.takeBackOrphans(GRACE_MS, 100, always);
    await setup.useCase.create({ ...toQueue, ClientToken: 'escalate-1', AfterSeconds: 120 }, origin);
    await setup.useCase.cancel(stopped!.ScheduleId);
    expect([...setup.scheduler.waiting.values()]).toEqual([{ scheduleId: stopped!.ScheduleId, at: new Date(stopped!.At), createdAt: stopped!.CreatedAt }]);
    expect(await setup.useCase.fire({ scheduleId: stopped!.ScheduleId, createdAt: stopped!.CreatedAt })).toStrictEqual({ skipped: 'missing' });
  });

  it('answers a retryable INTERNAL_ERROR when its state keeps vanishing, rather than a 201 for a state that is not there', async () => {
    const setup = setUp();
    vi.spyOn(setup.schedules, 'arm').mockResolvedValue(false);
    await expect(setup.useCase.create({ ...toQueue, AfterSeconds: 120 }, origin)).rejects.toMatchObject({ reason: 'INTERNAL_ERROR', status: 500, message: expect.stringContaining('retry later') });
    expect(setup.schedules.arm).toHaveBeenCalledTimes(3);
  });

  it('takes back orphans quietly when nobody listens for warnings', async () => {
    const setup = setUp({ warn: undefined });
    await stoppedCreate(setup, 'a', 'c-1');
    await stoppedCreate(setup, 'b', 'c-2');
    setup.setClock(LATER);
    vi.spyOn(setup.schedules, 'takeBack').mockRejectedValueOnce(new Error('throttled'));
    expect(await setup.useCase.takeBackOrphans(GRACE_MS, 100, always)).toStrictEqual({ found: 2, takenBack: 1, failed: 1 });
  });
});
