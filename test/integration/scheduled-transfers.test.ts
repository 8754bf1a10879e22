import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbSchedules } from '../../lambda/adapters/schedules';
import type { Schedule } from '../../lambda/domain/schedule';
import type { SweepReport } from '../../lambda/doors/sweep';
import { createGateway, createGatewayClients } from '../../lambda/gateway';
import { scheduledEvent } from '../../local/lambda-events';
import { sdkSettingsFrom } from '../../local/sdk-settings';
import { connectFixtures } from '../support/fixtures';
import type { ConnectFixtures } from '../support/fixtures';
import { asHttp, httpEvent, ledgerItems } from '../support/gateway-harness';
import type { GatewayContainer } from '../support/gateway-harness';
import { asScheduleAnswer, bufferRecord, context, scheduleEvent, startScheduleHarness } from '../support/schedules';
import type { ScheduleHarness } from '../support/schedules';

/**
 * Scheduled transfers end to end inside one process: the API door and the buffered door of real containers, the
 * schedules' table in the embedded DynamoDB, the local model of EventBridge Scheduler reached by the function's own
 * Scheduler client over HTTP, the Connect simulator. Time is the test's clock: the scheduler fires when it is moved.
 */
let setup: ScheduleHarness;
let gateway: GatewayContainer;
let fx: ConnectFixtures;

beforeAll(async () => {
  setup = await startScheduleHarness();
  gateway = setup.harness.newContainer();
  fx = connectFixtures(setup.harness.connect);
});
afterAll(() => setup.close());

const call = async (...args: Parameters<typeof scheduleEvent>) => asScheduleAnswer(await gateway(scheduleEvent(...args), context()));
const transfers = (): number => setup.harness.connect.transfersPerformed();
const escalation = (contactId = fx.contact()) => ({ ContactId: contactId, ContactFlowId: fx.flows.inbound, QueueId: fx.queues.enabled });

/** Sets the scheduler's clock `ms` ahead of now and delivers what it fires to the buffered door. */
async function fireDue(ms: number, container: GatewayContainer = gateway): Promise<void> {
  setup.clock.setAhead(ms);
  const start = setup.fired.length;
  setup.scheduler.fireDue();
  for (const body of setup.fired.slice(start)) await container(bufferRecord(body), context());
}

describe('creating a schedule (contract section 12)', () => {
  it('answers 201 SCHEDULED with a ScheduleId, and the scheduler holds a one-time schedule for that time', async () => {
    const answer = await call('POST', { body: { ...escalation(), AfterSeconds: 1800 } });
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ ScheduleId: expect.stringMatching(/^sch-[0-9a-f]{32}$/), State: 'SCHEDULED' });
    const at = Date.parse(answer.body.At as string);
    expect(at - Date.now()).toBeGreaterThan(1790_000);
    expect(at - Date.now()).toBeLessThanOrEqual(1801_000);
    const held = setup.scheduler.list().find((schedule) => schedule.name.startsWith(`${answer.body.ScheduleId}-`));
    expect(held).toMatchObject({ group: 'contact-transfer-gateway', at });
    const read = await call('GET', { scheduleId: answer.body.ScheduleId as string });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ ScheduleId: answer.body.ScheduleId, State: 'SCHEDULED', At: answer.body.At, Request: { QueueId: fx.queues.enabled } });
    expect(read.body).not.toHaveProperty('Outcome');
  });

  const soon = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString();
  it.each([
    ['in the past', { At: soon(-60) }, 'At'],
    ['both At and AfterSeconds', { At: soon(600), AfterSeconds: 600 }, 'AfterSeconds'],
    ['neither', {}, 'At'],
    ['under 60 s ahead', { At: soon(30) }, 'At'],
    ['AfterSeconds under 60', { AfterSeconds: 59 }, 'AfterSeconds'],
    ['over 30 days ahead', { At: soon(2_592_000 + 120) }, 'At'],
    ['AfterSeconds over 30 days', { AfterSeconds: 2_592_001 }, 'AfterSeconds'],
    ['At not a UTC time', { At: '2030-01-01 10:00' }, 'At'],
  ])('refuses a time %s: 400 VALIDATION_FAILED naming the field, nothing scheduled', async (_case, timing, field) => {
    const before = setup.scheduler.list().length;
    const answer = await call('POST', { body: { ...escalation(), ...timing } });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ ReasonCode: 'VALIDATION_FAILED', Type: 'InvalidRequestException', Fields: [expect.objectContaining({ Field: field })] });
    expect(setup.scheduler.list()).toHaveLength(before);
  });

  it('checks rules 1-3 at once, listing a bad time with the request\'s own problems', async () => {
    const answer = await call('POST', { body: { ContactId: fx.contact(), QueueID: 'typo', AfterSeconds: 10 } });
    expect(answer.status).toBe(400);
    expect((answer.body.Fields as { Field: string }[]).map((field) => field.Field)).toEqual(expect.arrayContaining(['AfterSeconds', 'QueueID', 'ContactFlowId']));
  });

  it('is idempotent by Idempotency-Key: a replay answers the same 201 marked replayed, another payload is CLIENT_TOKEN_REUSED', async () => {
    const body = { ...escalation(), AfterSeconds: 600 };
    const headers = { 'Idempotency-Key': `escalate-${fx.unknownId()}` };
    const first = await call('POST', { body, headers });
    const again = await call('POST', { body, headers });
    expect(again.status).toBe(201);
    expect(again.headers['Idempotent-Replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(setup.scheduler.list().filter((schedule) => schedule.name.startsWith(`${first.body.ScheduleId}-`))).toHaveLength(1);
    const other = await call('POST', { body: { ...body, AfterSeconds: 900 }, headers });
    expect(other).toMatchObject({ status: 409, body: { ReasonCode: 'CLIENT_TOKEN_REUSED' } });
  });

  it('holds at most 10 SCHEDULED per contact however many creates race, and a cancel frees a place', async () => {
    const contactId = fx.contact();
    const answers = await Promise.all(
      Array.from({ length: 13 }, (_, index) => call('POST', { body: { ...escalation(contactId), ClientToken: `race-${index}`, AfterSeconds: 600 + index } })),
    );
    const created = answers.filter((answer) => answer.status === 201);
    expect(created).toHaveLength(10);
    expect(answers.filter((answer) => answer.status === 409).map((answer) => answer.body.ReasonCode)).toEqual(Array(3).fill('SCHEDULE_LIMIT_REACHED'));
    expect(await call('DELETE', { scheduleId: created[0]?.body.ScheduleId as string })).toMatchObject({ status: 204 });
    expect((await call('POST', { body: { ...escalation(contactId), ClientToken: 'after-cancel', AfterSeconds: 700 } })).status).toBe(201);
    const listed = await call('GET', { query: { ContactId: contactId, MaxResults: '7' } });
    expect(listed.body.Schedules).toHaveLength(7);
    const rest = await call('GET', { query: { ContactId: contactId, NextToken: listed.body.NextToken as string } });
    const all = [...(listed.body.Schedules as { CreatedAt: string }[]), ...(rest.body.Schedules as { CreatedAt: string }[])];
    expect(all).toHaveLength(11);
    expect(all.map((schedule) => schedule.CreatedAt)).toEqual(all.map((schedule) => schedule.CreatedAt).sort());
  });

  it('a create whose scheduler call failed leaves nothing to fire, and its retry with the same key converges on one schedule', async () => {
    const body = { ...escalation(), ClientToken: `outage-${fx.unknownId()}`, AfterSeconds: 120 };
    setup.scheduler.failNext(10);
    const failed = await call('POST', { body });
    expect(failed.status).toBe(500);
    const stateWithoutSchedule = setup.scheduler.list().length;
    setup.scheduler.failNext(0);
    const retried = await call('POST', { body });
    expect(retried.status).toBe(201);
    expect(setup.scheduler.list()).toHaveLength(stateWithoutSchedule + 1);
    const before = transfers();
    await fireDue(121_000);
    expect(transfers()).toBe(before + 1);
    expect((await call('GET', { scheduleId: retried.body.ScheduleId as string })).body).toMatchObject({ State: 'FIRED', Outcome: { Result: 'TRANSFERRED' } });
  });
});

describe('reading and cancelling', () => {
  it.each(['sch-0123456789abcdef0123456789abcdef', 'not-a-schedule', 'sch-../../x'])('answers 404 SCHEDULE_NOT_FOUND for an unknown id %s, on GET and DELETE', async (scheduleId) => {
    for (const method of ['GET', 'DELETE']) {
      const answer = await call(method, { scheduleId });
      expect(answer).toMatchObject({ status: 404, body: { ReasonCode: 'SCHEDULE_NOT_FOUND', Type: 'ResourceNotFoundException' } });
    }
  });

  it('lists nothing for a contact without schedules, and wants a ContactId', async () => {
    expect(await call('GET', { query: { ContactId: fx.contact() } })).toMatchObject({ status: 200, body: { Schedules: [] } });
    expect(await call('GET', {})).toMatchObject({ status: 400, body: { ReasonCode: 'VALIDATION_FAILED', Fields: [{ Field: 'ContactId' }] } });
  });

  it('a cancelled schedule never transfers: 204 (again 204), gone from the scheduler, and a firing of it does nothing', async () => {
    const created = await call('POST', { body: { ...escalation(), AfterSeconds: 60 } });
    const scheduleId = created.body.ScheduleId as string;
    const message = setup.scheduler.list().find((schedule) => schedule.name.startsWith(`${scheduleId}-`))?.input ?? '';
    expect(await call('DELETE', { scheduleId })).toMatchObject({ status: 204 });
    expect(await call('DELETE', { scheduleId })).toMatchObject({ status: 204 });
    expect(setup.scheduler.list().some((schedule) => schedule.name.startsWith(`${scheduleId}-`))).toBe(false);
    const before = transfers();
    // A firing already on its way when the cancel came.
    await gateway(bufferRecord(message), context());
    expect(transfers()).toBe(before);
    expect((await call('GET', { scheduleId })).body).toMatchObject({ State: 'CANCELLED', CancelledAt: expect.any(String) });
  });
});

describe('firing', () => {
  it('transfers when the time comes: FIRED with the outcome, the history names the schedule, a duplicate firing is a replay', async () => {
    const contactId = fx.contact();
    const created = await call('POST', { body: { ...escalation(contactId), Note: 'still waiting in Billing', AfterSeconds: 60 } });
    const scheduleId = created.body.ScheduleId as string;
    const message = setup.scheduler.list().find((schedule) => schedule.name.startsWith(`${scheduleId}-`))?.input ?? '';
    const before = transfers();
    await fireDue(59_000);
    expect(transfers()).toBe(before);
    await fireDue(61_000);
    expect(transfers()).toBe(before + 1);
    const read = await call('GET', { scheduleId });
    expect(read.body).toMatchObject({ State: 'FIRED', FiredAt: expect.any(String), Outcome: { Result: 'TRANSFERRED', ContactId: expect.any(String) } });
    await gateway(bufferRecord(message), context());
    expect(transfers()).toBe(before + 1);
    const history = asHttp(await gateway(historyEvent(contactId), context()));
    expect(history.body.Transfers).toEqual([
      expect.objectContaining({ ScheduleId: scheduleId, Note: 'still waiting in Billing', Door: 'eventbridge', RequestedBy: expect.stringContaining(`schedule/${scheduleId}`) }),
    ]);
    expect(await call('DELETE', { scheduleId })).toMatchObject({ status: 409, body: { ReasonCode: 'SCHEDULE_ALREADY_FIRED', Type: 'ResourceConflictException' } });
  });

  it('records SKIPPED when its condition no longer holds, and FAILED when the contact has ended, transferring nothing', async () => {
    const taken = fx.contact();
    const skipped = await call('POST', { body: { ...escalation(taken), Conditions: { NotWithAgent: true }, AfterSeconds: 60 } });
    const ending = fx.contact();
    const failed = await call('POST', { body: { ...escalation(ending), AfterSeconds: 60 } });
    setup.harness.connect.assignAgent(taken, fx.users.agent);
    endContact(ending);
    const before = transfers();
    await fireDue(61_000);
    expect(transfers()).toBe(before);
    expect((await call('GET', { scheduleId: skipped.body.ScheduleId as string })).body).toMatchObject({ State: 'FIRED', Outcome: { Result: 'SKIPPED', ReasonCode: 'CONDITION_NOT_MET' } });
    expect((await call('GET', { scheduleId: failed.body.ScheduleId as string })).body).toMatchObject({
      State: 'FIRED',
      Outcome: { Result: 'FAILED', ReasonCode: 'CONTACT_NOT_ACTIVE', Type: 'InvalidRequestException' },
    });
  });
});

describe('a fired schedule the buffer dead-lettered after its last receive', () => {
  it('records FAILED with its Contact Transfer Failed when nothing was transferred, and leaves a transferred one as it was', async () => {
    const lost = await call('POST', { body: { ...escalation(), AfterSeconds: 60 } });
    const lostId = lost.body.ScheduleId as string;
    const message = (id: string) => setup.scheduler.list().find((schedule) => schedule.name.startsWith(`${id}-`))?.input ?? '';
    const before = transfers();
    await gateway(bufferRecord(message(lostId), { deadLettered: true }), context());
    expect(transfers()).toBe(before);
    expect((await call('GET', { scheduleId: lostId })).body).toMatchObject({ State: 'FIRED', Outcome: { Result: 'FAILED', ReasonCode: 'INTERNAL_ERROR' } });
    const [failure] = await ledgerItems(setup.harness, `FAILURE#${lostId}`);
    expect(failure).toMatchObject({ status: 'DEAD_LETTERED', scheduleId: lostId, requestedBy: expect.stringContaining(`schedule/${lostId}`) });

    const done = await call('POST', { body: { ...escalation(), AfterSeconds: 60 } });
    const doneId = done.body.ScheduleId as string;
    const doneMessage = message(doneId);
    await gateway(bufferRecord(doneMessage), context());
    await gateway(bufferRecord(doneMessage, { deadLettered: true }), context());
    expect((await call('GET', { scheduleId: doneId })).body).toMatchObject({ Outcome: { Result: 'TRANSFERRED' } });
    expect(await ledgerItems(setup.harness, `FAILURE#${doneId}`)).toEqual([]);
  });
});

describe('a cancel at the moment the schedule fires', () => {
  /**
   * Two containers, each with its own DynamoDB client; each one's first TransactWriteItems (the move out of
   * SCHEDULED) waits until both have read the schedule as SCHEDULED, and the loser's until the winner's is written.
   */
  function racingContainers(): { readonly cancelling: GatewayContainer; readonly firing: GatewayContainer; race(winner: 'cancel' | 'fire'): void } {
    let reads = 0;
    let bothRead: () => void = () => undefined;
    const bothHaveRead = new Promise<void>((resolve) => (bothRead = resolve));
    let winnerWrote: () => void = () => undefined;
    const winnerHasWritten = new Promise<void>((resolve) => (winnerWrote = resolve));
    let winner: 'cancel' | 'fire' = 'cancel';
    const container = (role: 'cancel' | 'fire'): GatewayContainer => {
      const config = setup.harness.config;
      const clients = createGatewayClients(config, sdkSettingsFrom(setup.harness.env));
      gate(clients.dynamodb, {
        afterRead: () => {
          reads += 1;
          if (reads === 2) bothRead();
        },
        beforeMove: async () => {
          await bothHaveRead;
          if (role !== winner) await winnerHasWritten;
        },
        afterMove: () => {
          if (role === winner) winnerWrote();
        },
      });
      const { service, direct } = createGateway(config, clients);
      return Object.assign(service, { direct });
    };
    return { cancelling: container('cancel'), firing: container('fire'), race: (first) => void (winner = first) };
  }

  it.each(['cancel', 'fire'] as const)('when the %s writes first, a 204 means no transfer and a transfer means 409', async (first) => {
    const created = await call('POST', { body: { ...escalation(), AfterSeconds: 60 } });
    const scheduleId = created.body.ScheduleId as string;
    const message = setup.scheduler.list().find((schedule) => schedule.name.startsWith(`${scheduleId}-`))?.input ?? '';
    const { cancelling, firing, race } = racingContainers();
    race(first);
    const before = transfers();
    const [cancelled] = await Promise.all([cancelling(scheduleEvent('DELETE', { scheduleId }), context()).then(asScheduleAnswer), firing(bufferRecord(message), context())]);
    if (first === 'cancel') {
      expect(cancelled.status).toBe(204);
      expect(transfers()).toBe(before);
      expect((await call('GET', { scheduleId })).body).toMatchObject({ State: 'CANCELLED' });
    } else {
      expect(cancelled).toMatchObject({ status: 409, body: { ReasonCode: 'SCHEDULE_ALREADY_FIRED' } });
      expect(transfers()).toBe(before + 1);
      expect((await call('GET', { scheduleId })).body).toMatchObject({ State: 'FIRED', Outcome: { Result: 'TRANSFERRED' } });
    }
  });
});

/** Holds a client's first schedule move (its first TransactWriteItems) at the hooks the race needs. */
function gate(client: DynamoDBClient, hooks: { afterRead(): void; beforeMove(): Promise<void>; afterMove(): void }): void {
  let read = false;
  let moved = false;
  client.middlewareStack.add(
    (next, { commandName }) =>
      async (args) => {
        const isMove = commandName === 'TransactWriteItemsCommand' && !moved;
        if (isMove) {
          moved = true;
          await hooks.beforeMove();
        }
        const output = await next(args);
        if (commandName === 'GetItemCommand' && !read) {
          read = true;
          hooks.afterRead();
        }
        if (isMove) hooks.afterMove();
        return output;
      },
    { step: 'initialize', name: 'scheduleRaceGate' },
  );
}

function historyEvent(contactId: string) {
  const event = httpEvent(null);
  return { ...event, httpMethod: 'GET', resource: '/contact/transfers/{ContactId}', path: `/contact/transfers/${contactId}`, pathParameters: { ContactId: contactId }, body: null };
}

function endContact(contactId: string): void {
  const contact = setup.harness.connect.contact(contactId);
  if (!contact) throw new Error(`No contact ${contactId}`);
  // The simulator keeps times in epoch seconds, as Connect's JSON answers carry them.
  contact.DisconnectTimestamp = Date.now() / 1000;
}

describe('a create that stopped before the scheduler held its schedule', () => {
  const SWEEP_RULE_ARN = 'arn:aws:events:us-east-1:111122223333:rule/schedule-sweep';
  /** A container of the service function that the sweep rule invokes, treating as orphans states unarmed `afterSeconds` ago. */
  const sweep = async (afterSeconds: number): Promise<SweepReport> =>
    (await setup.harness.newContainer({ SWEEP_RULE_ARN, SWEEP_AFTER_SECONDS: String(afterSeconds) })(scheduledEvent(SWEEP_RULE_ARN), context())) as SweepReport;
  const store = () => new DynamoDbSchedules(setup.harness.dynamodbClient(), setup.harness.config.schedules?.table ?? '', 1);
  const held = (scheduleId: string) => setup.scheduler.list().filter((schedule) => schedule.name.startsWith(`${scheduleId}-`));

  /** A create whose CreateSchedule failed after its state was written: what a process killed between the two leaves. */
  async function killedCreate(body: Record<string, unknown>): Promise<string> {
    const before = new Set(setup.scheduler.list().map((schedule) => schedule.name));
    setup.scheduler.failNext(10);
    const answer = await call('POST', { body });
    setup.scheduler.failNext(0);
    expect(answer.status).toBe(500);
    const listed = await call('GET', { query: { ContactId: body.ContactId as string, MaxResults: '100' } });
    const orphan = (listed.body.Schedules as Schedule[]).find((schedule) => schedule.Request.ClientToken === body.ClientToken && !before.has(schedule.ScheduleId));
    expect(orphan).toMatchObject({ State: 'SCHEDULED' });
    return orphan?.ScheduleId ?? '';
  }

  /** The contact's transfers as its history lists them: other tests' schedules may fire in the same move of the clock. */
  const transfersOf = async (contactId: string) => asHttp(await gateway(historyEvent(contactId), context())).body.Transfers;

  async function scheduledCount(contactId: string): Promise<number> {
    const { Item } = await setup.harness.dynamodbClient().send(
      new GetItemCommand({ TableName: setup.harness.config.schedules?.table, Key: { pk: { S: `CONTACT#${contactId}` } }, ConsistentRead: true }),
    );
    return Number(Item?.scheduled?.N ?? 0);
  }

  it('is taken back by a sweep after the wait: 404, its place under the limit free again; a sweep before the wait leaves it', async () => {
    const contactId = fx.contact();
    for (let n = 0; n < 9; n++) expect((await call('POST', { body: { ...escalation(contactId), ClientToken: `full-${n}`, AfterSeconds: 600 } })).status).toBe(201);
    const orphanId = await killedCreate({ ...escalation(contactId), ClientToken: 'killed', AfterSeconds: 600 });
    const eleventh = { ...escalation(contactId), ClientToken: 'eleventh', AfterSeconds: 600 };
    expect(await call('POST', { body: eleventh })).toMatchObject({ status: 409, body: { ReasonCode: 'SCHEDULE_LIMIT_REACHED' } });

    const early = await sweep(3600);
    expect(early.orphans).toMatchObject({ takenBack: 0, failed: 0 });
    expect(await call('GET', { scheduleId: orphanId })).toMatchObject({ status: 200, body: { State: 'SCHEDULED' } });
    expect(await scheduledCount(contactId)).toBe(10);

    const late = await sweep(0);
    expect(late.orphans?.takenBack).toBeGreaterThanOrEqual(1);
    expect(await call('GET', { scheduleId: orphanId })).toMatchObject({ status: 404, body: { ReasonCode: 'SCHEDULE_NOT_FOUND' } });
    expect((await call('GET', { query: { ContactId: contactId, MaxResults: '100' } })).body.Schedules).toHaveLength(9);
    expect(await scheduledCount(contactId)).toBe(9);
    expect((await call('POST', { body: eleventh })).status).toBe(201);
    expect(await scheduledCount(contactId)).toBe(10);
  });

  it('a retry after the take-back creates the schedule anew, and it fires and transfers once', async () => {
    const contactId = fx.contact();
    const body = { ...escalation(contactId), ClientToken: `late-${fx.unknownId()}`, AfterSeconds: 120 };
    const orphanId = await killedCreate(body);
    await sweep(0);
    expect((await call('GET', { scheduleId: orphanId })).status).toBe(404);
    const retried = await call('POST', { body });
    expect(retried).toMatchObject({ status: 201, body: { ScheduleId: orphanId, State: 'SCHEDULED' } });
    expect(held(orphanId)).toEqual([expect.objectContaining({ at: Date.parse(retried.body.At as string) })]);
    await fireDue(121_000);
    expect((await call('GET', { scheduleId: orphanId })).body).toMatchObject({ State: 'FIRED', Outcome: { Result: 'TRANSFERRED' } });
    expect(await transfersOf(contactId)).toEqual([expect.objectContaining({ ScheduleId: orphanId })]);
  });

  it('a retry after the take-back of an attempt killed after CreateSchedule gets a schedule for its own time; the stopped attempt\'s fires into nothing', async () => {
    const contactId = fx.contact();
    const body = { ...escalation(contactId), ClientToken: `held-${fx.unknownId()}`, AfterSeconds: 120 };
    // The write that ends the mark fails: the scheduler holds the schedule, the state stays marked, the caller gets a 500.
    setup.harness.dynamodb.failNext('UpdateItem', 10, 'internal');
    const failed = await call('POST', { body });
    setup.harness.dynamodb.clearFaults();
    expect(failed.status).toBe(500);
    const [stopped] = (await call('GET', { query: { ContactId: contactId } })).body.Schedules as Schedule[];
    const scheduleId = stopped?.ScheduleId ?? '';
    expect(held(scheduleId)).toEqual([expect.objectContaining({ at: Date.parse(stopped?.At ?? '') })]);
    await sweep(0);
    expect((await call('GET', { scheduleId })).status).toBe(404);

    // The retry comes 30 s later, so its AfterSeconds names a later time than the first attempt's.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 30_000);
    const retried = await call('POST', { body }).finally(() => vi.useRealTimers());
    expect(retried).toMatchObject({ status: 201, body: { ScheduleId: scheduleId } });
    expect(Date.parse(retried.body.At as string) - Date.parse(stopped?.At ?? '')).toBeGreaterThanOrEqual(29_000);
    expect(held(scheduleId).map((schedule) => schedule.at)).toEqual([Date.parse(stopped?.At ?? ''), Date.parse(retried.body.At as string)]);
    await fireDue(121_000);
    expect((await call('GET', { scheduleId })).body).toMatchObject({ State: 'SCHEDULED' });
    await fireDue(151_000);
    expect((await call('GET', { scheduleId })).body).toMatchObject({ State: 'FIRED', Outcome: { Result: 'TRANSFERRED' } });
    expect(await transfersOf(contactId)).toEqual([expect.objectContaining({ ScheduleId: scheduleId })]);
  });

  it('a retry whose state a sweep takes back while it arms it writes its state again, with a schedule of its own, and transfers once', async () => {
    const contactId = fx.contact();
    const body = { ...escalation(contactId), ClientToken: `racing-${fx.unknownId()}`, AfterSeconds: 240 };
    const orphanId = await killedCreate(body);
    // The retry's container holds its first UpdateItem (the write that ends the mark, after CreateSchedule) until the sweep is done.
    let atArm: () => void = () => undefined;
    const armReached = new Promise<void>((resolve) => (atArm = resolve));
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    const clients = createGatewayClients(setup.harness.config, sdkSettingsFrom(setup.harness.env));
    holdFirst(clients.dynamodb, 'UpdateItemCommand', async () => {
      atArm();
      await released;
    });
    const retrying = createGateway(setup.harness.config, clients).service;
    const retried = retrying(scheduleEvent('POST', { body }), context()).then(asScheduleAnswer);
    await armReached;
    expect(held(orphanId)).toHaveLength(1);
    expect((await sweep(0)).orphans?.takenBack).toBeGreaterThanOrEqual(1);
    expect((await call('GET', { scheduleId: orphanId })).status).toBe(404);
    release();

    const answer = await retried;
    expect(answer).toMatchObject({ status: 201, body: { ScheduleId: orphanId, State: 'SCHEDULED' } });
    // The schedule made for the write taken back stays beside the one for the state written again; it fires into nothing.
    expect(held(orphanId).map((schedule) => schedule.at)).toEqual([Date.parse(answer.body.At as string), Date.parse(answer.body.At as string)]);
    expect((await call('GET', { scheduleId: orphanId })).body).toMatchObject({ State: 'SCHEDULED', At: answer.body.At });
    expect(await scheduledCount(contactId)).toBe(1);
    expect((await sweep(0)).orphans).toMatchObject({ takenBack: 0 });
    await fireDue(241_000);
    expect((await call('GET', { scheduleId: orphanId })).body).toMatchObject({ State: 'FIRED', Outcome: { Result: 'TRANSFERRED' } });
    expect(await transfersOf(contactId)).toEqual([expect.objectContaining({ ScheduleId: orphanId })]);
  });

  it('never takes back a schedule armed by a retry, fired or cancelled after the sweep listed it', async () => {
    const orphans: { body: ReturnType<typeof escalation> & { ClientToken: string; AfterSeconds: number }; scheduleId: string }[] = [];
    for (const name of ['armed', 'fired', 'cancelled']) {
      const body = { ...escalation(), ClientToken: `${name}-${fx.unknownId()}`, AfterSeconds: 600 };
      orphans.push({ body, scheduleId: await killedCreate(body) });
    }
    const [armed, fired, cancelled] = orphans;
    const schedules = store();
    const ours = new Set([armed, fired, cancelled].map((orphan) => orphan?.scheduleId));
    const listed = (await schedules.unarmedBefore(new Date(Date.now() + 1000), 100)).filter((orphan) => ours.has(orphan.scheduleId));
    expect(listed).toHaveLength(3);
    expect((await call('POST', { body: armed?.body })).status).toBe(201);
    expect(await schedules.move(fired?.scheduleId ?? '', 'FIRED', new Date())).toMatchObject({ outcome: 'moved' });
    expect((await call('DELETE', { scheduleId: cancelled?.scheduleId ?? '' })).status).toBe(204);
    expect(await Promise.all(listed.map((orphan) => schedules.takeBack(orphan)))).toEqual([false, false, false]);
    const counts = await Promise.all([armed, fired, cancelled].map((orphan) => scheduledCount(orphan?.body.ContactId ?? '')));
    expect(counts).toEqual([1, 0, 0]);
    expect((await schedules.unarmedBefore(new Date(Date.now() + 1000), 100)).filter((orphan) => ours.has(orphan.scheduleId))).toEqual([]);
  });
});

describe('what a create and a firing cost in DynamoDB requests', () => {
  it('a create writes its state and ends its mark (two requests); a firing reads the schedule once and moves it (two)', async () => {
    const schedules = new DynamoDbSchedules(setup.harness.dynamodbClient(), setup.harness.config.schedules?.table ?? '', 1);
    setup.harness.dynamodb.resetCounts();
    const created = await call('POST', { body: { ...escalation(), AfterSeconds: 600 } });
    expect([setup.harness.dynamodb.requestCount('TransactWriteItems'), setup.harness.dynamodb.requestCount('UpdateItem'), setup.harness.dynamodb.requestCount()]).toEqual([1, 1, 2]);
    setup.harness.dynamodb.resetCounts();
    const moved = await schedules.move(created.body.ScheduleId as string, 'FIRED', new Date());
    expect(moved).toMatchObject({ outcome: 'moved', schedule: { ScheduleId: created.body.ScheduleId, State: 'FIRED', Request: { QueueId: fx.queues.enabled } } });
    expect([setup.harness.dynamodb.requestCount('GetItem'), setup.harness.dynamodb.requestCount('TransactWriteItems'), setup.harness.dynamodb.requestCount()]).toEqual([1, 1, 2]);
    expect(moved).toEqual({ outcome: 'moved', schedule: await schedules.get(created.body.ScheduleId as string) });
  });
});

/** Holds a client's first command of one kind at `hold` before sending it. */
function holdFirst(client: DynamoDBClient, command: string, hold: () => Promise<void>): void {
  let held = false;
  client.middlewareStack.add(
    (next, { commandName }) =>
      async (args) => {
        if (commandName === command && !held) {
          held = true;
          await hold();
        }
        return next(args);
      },
    { step: 'initialize', name: 'holdFirstCommand' },
  );
}
