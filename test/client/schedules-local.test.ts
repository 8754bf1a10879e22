import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EXIT } from '../../client/cli';
import type { CliIo } from '../../client/cli';
import { createTransferClient } from '../../client/index';
import type { TransferClient, TransferContactError } from '../../client/index';
import { cancelScheduleMain, getScheduleMain, listSchedulesMain, scheduleMain } from '../../client/schedule-cli';
import { startLocalGateway } from '../../local/local-gateway';
import type { LocalGateway } from '../../local/local-gateway';
import { connectFixtures } from '../support/fixtures';
import type { ConnectFixtures } from '../support/fixtures';
import { TestClock } from '../support/schedules';
import { firedScheduleOf } from '../../lambda/adapters/scheduler';

/**
 * The schedule methods and commands against local mode (contract section 12), the local scheduler on the test's
 * clock. Schedules that must not fire are made at least ten minutes ahead; the one test that fires moves the clock
 * two minutes.
 */
const credentials = { accessKeyId: 'AKIDSCHEDULELOCAL', secretAccessKey: 'schedule-local-secret' };
const clock = new TestClock();
const LATER = 3600;

let local: LocalGateway;
let fx: ConnectFixtures;
let client: TransferClient;

beforeAll(async () => {
  local = await startLocalGateway({ port: 0, schedulerClock: clock, env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT' } });
  fx = connectFixtures(local.connect!);
  client = createTransferClient({ endpoint: local.url, region: 'eu-west-2', credentials, baseDelayMs: 1 });
});
afterAll(() => local?.close());

const escalation = (ContactId = fx.contact()) => ({ ContactId, ContactFlowId: fx.flows.inbound, QueueId: fx.queues.enabled });
const rejection = (promise: Promise<unknown>) => promise.then(() => expect.fail('resolved'), (error: unknown) => error as TransferContactError);
const inSeconds = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString().replace(/\.\d+Z$/, 'Z');

describe('the client against local mode', () => {
  it('schedules with At, reads it back as SCHEDULED, and a retry of the same request is a replay of the same schedule', async () => {
    const request = { ...escalation(), Conditions: { NotWithAgent: true as const }, Note: 'still waiting', At: inSeconds(LATER) };
    const created = await client.scheduleContactTransfer(request);
    expect(created).toMatchObject({ ScheduleId: expect.stringMatching(/^sch-[0-9a-f]{32}$/) as unknown, ContactId: request.ContactId, State: 'SCHEDULED', replayed: false });
    expect(Date.parse(created.At)).toBe(Date.parse(request.At));
    expect(await client.scheduleContactTransfer(request)).toEqual({ ...created, replayed: true });

    const read = await client.getContactTransferSchedule({ ScheduleId: created.ScheduleId });
    expect(read).toMatchObject({ ScheduleId: created.ScheduleId, State: 'SCHEDULED', At: created.At, Request: { ContactId: request.ContactId, Note: 'still waiting', Conditions: { NotWithAgent: true } } });
    expect(read.Outcome).toBeUndefined();
  });

  it("lists a contact's schedules oldest first, page by page, and an unknown contact's as none", async () => {
    const contactId = fx.contact();
    const made: string[] = [];
    for (const seconds of [LATER, LATER + 60, LATER + 120]) made.push((await client.scheduleContactTransfer({ ...escalation(contactId), AfterSeconds: seconds, ClientToken: `list-${contactId}-${seconds}` })).ScheduleId);
    const pages: string[][] = [];
    for await (const page of client.paginateContactTransferSchedules({ ContactId: contactId, MaxResults: 2 })) pages.push(page.Schedules.map((schedule) => schedule.ScheduleId));
    expect(pages).toEqual([made.slice(0, 2), made.slice(2)]);
    expect(await client.listContactTransferSchedules({ ContactId: fx.unknownId() })).toEqual({ Schedules: [] });
  });

  it('cancels, twice without harm, and the cancelled schedule never fires', async () => {
    const { ScheduleId } = await client.scheduleContactTransfer({ ...escalation(), AfterSeconds: LATER });
    await client.cancelContactTransferSchedule({ ScheduleId });
    await client.cancelContactTransferSchedule({ ScheduleId });
    expect(await client.getContactTransferSchedule({ ScheduleId })).toMatchObject({ State: 'CANCELLED', CancelledAt: expect.any(String) as unknown });
  });

  it.each([
    ['in the past', { At: '2020-01-01T00:00:00Z' }, 'At'],
    ['under a minute ahead', { AfterSeconds: 59 }, 'AfterSeconds'],
    ['over 30 days ahead', { AfterSeconds: 2_592_001 }, 'AfterSeconds'],
    ['both At and AfterSeconds', { At: inSeconds(LATER), AfterSeconds: LATER }, 'AfterSeconds'],
    ['neither', {}, 'At'],
  ])('refuses a time %s as 400 VALIDATION_FAILED naming the member', async (_case, time, field) => {
    const error = await rejection(client.scheduleContactTransfer({ ...escalation(), ...time } as Parameters<TransferClient['scheduleContactTransfer']>[0]));
    expect(error).toMatchObject({ reason: 'VALIDATION_FAILED', status: 400, retryable: false, attempts: 1 });
    expect(error.fields?.map((item) => item.Field)).toContain(field);
  });

  it('answers an unknown or malformed id with 404 SCHEDULE_NOT_FOUND, for a read and for a cancel', async () => {
    for (const ScheduleId of ['sch-00000000000000000000000000000000', 'not-a-schedule']) {
      expect(await rejection(client.getContactTransferSchedule({ ScheduleId }))).toMatchObject({ reason: 'SCHEDULE_NOT_FOUND', status: 404, type: 'ResourceNotFoundException' });
      expect(await rejection(client.cancelContactTransferSchedule({ ScheduleId }))).toMatchObject({ reason: 'SCHEDULE_NOT_FOUND', status: 404 });
    }
  });

  it('refuses an eleventh waiting schedule of one contact with 409 SCHEDULE_LIMIT_REACHED', async () => {
    const contactId = fx.contact();
    // Each its own ClientToken: without one, the same contact, flow and queue again would be the first schedule's key.
    const nth = (n: number) => client.scheduleContactTransfer({ ...escalation(contactId), AfterSeconds: LATER + n, ClientToken: `limit-${contactId}-${n}` });
    for (let n = 0; n < 10; n += 1) await nth(n);
    const error = await rejection(nth(10));
    expect(error).toMatchObject({ reason: 'SCHEDULE_LIMIT_REACHED', status: 409, type: 'ResourceConflictException', retryable: false });
  });

  it('shows a fired schedule with its outcome, and refuses to cancel it with 409 SCHEDULE_ALREADY_FIRED', async () => {
    const contactId = fx.contact();
    const { ScheduleId } = await client.scheduleContactTransfer({ ...escalation(contactId), AfterSeconds: 60 });
    clock.setAhead(120_000);
    expect(local.scheduler.fireDue().map((fired) => firedScheduleOf(fired.input)?.scheduleId)).toContain(ScheduleId);
    // The fired schedule travels through the local event buffer, which drains on its own.
    const fired = await vi.waitFor(
      async () => {
        const schedule = await client.getContactTransferSchedule({ ScheduleId });
        if (schedule.Outcome === undefined) throw new Error(`${ScheduleId} has no outcome yet`);
        return schedule;
      },
      { timeout: 10_000, interval: 50 },
    );
    expect(fired).toMatchObject({ State: 'FIRED', Outcome: { Result: 'TRANSFERRED', ContactId: expect.any(String) as unknown } });
    expect(await rejection(client.cancelContactTransferSchedule({ ScheduleId }))).toMatchObject({ reason: 'SCHEDULE_ALREADY_FIRED', status: 409 });
    const { Transfers } = await client.listContactTransfers({ ContactId: contactId });
    expect(Transfers).toEqual([expect.objectContaining({ FromContactId: contactId, ScheduleId })]);
  });
});

describe('the commands against local mode', () => {
  async function run(command: (argv: readonly string[], io: CliIo) => Promise<number>, args: readonly string[]) {
    let stdout = '';
    let stderr = '';
    const code = await command(args, { stdout: (text) => void (stdout += text), stderr: (text) => void (stderr += text), env: { TRANSFER_GATEWAY_ENDPOINT: local.url } });
    return { code, stdout, stderr, json: () => JSON.parse(stdout) as Record<string, unknown>, error: () => JSON.parse(stderr) as Record<string, unknown> };
  }
  const flags = () => {
    const { ContactId, ContactFlowId, QueueId } = escalation();
    return ['--contact-id', ContactId, '--contact-flow-id', ContactFlowId, '--queue-id', QueueId];
  };

  it('schedule, get, list and cancel as a developer runs them', async () => {
    const request = flags();
    const made = await run(scheduleMain, [...request, '--after-seconds', String(LATER), '--in-queue', fx.queues.enabled]);
    expect(made.code).toBe(EXIT.OK);
    const { ScheduleId, ContactId } = made.json() as { ScheduleId: string; ContactId: string };
    expect(made.stderr).toContain('idempotency key: payload');

    const got = await run(getScheduleMain, ['--schedule-id', ScheduleId]);
    expect(got.json()).toMatchObject({ ScheduleId, State: 'SCHEDULED', Request: { Conditions: { InQueue: fx.queues.enabled } } });
    const listed = await run(listSchedulesMain, ['--contact-id', ContactId]);
    expect(listed.json()).toEqual({ Schedules: [got.json()] });

    const cancelled = await run(cancelScheduleMain, ['--schedule-id', ScheduleId]);
    expect(cancelled).toMatchObject({ code: EXIT.OK, stdout: '' });
    expect((await run(getScheduleMain, ['--schedule-id', ScheduleId])).json()).toMatchObject({ State: 'CANCELLED' });
  });

  it('exits 3 with the typed error on stderr for a refused time and an unknown schedule', async () => {
    const refused = await run(scheduleMain, [...flags(), '--at', '2020-01-01T00:00:00Z']);
    expect(refused.code).toBe(EXIT.CLIENT_ERROR);
    expect(refused.error()).toMatchObject({ ReasonCode: 'VALIDATION_FAILED', Status: 400, Fields: [expect.objectContaining({ Field: 'At' })] });
    const unknown = await run(cancelScheduleMain, ['--schedule-id', 'sch-00000000000000000000000000000000']);
    expect(unknown.code).toBe(EXIT.CLIENT_ERROR);
    expect(unknown.error()).toMatchObject({ Type: 'ResourceNotFoundException', ReasonCode: 'SCHEDULE_NOT_FOUND', Status: 404 });
  });
});
