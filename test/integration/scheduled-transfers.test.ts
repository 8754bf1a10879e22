import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createGateway, createGatewayClients } from '../../lambda/gateway';
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
    const held = setup.scheduler.list().find((schedule) => schedule.name === answer.body.ScheduleId);
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
    expect(setup.scheduler.list().filter((schedule) => schedule.name === first.body.ScheduleId)).toHaveLength(1);
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
    const message = setup.scheduler.list().find((schedule) => schedule.name === scheduleId)?.input ?? '';
    expect(await call('DELETE', { scheduleId })).toMatchObject({ status: 204 });
    expect(await call('DELETE', { scheduleId })).toMatchObject({ status: 204 });
    expect(setup.scheduler.list().some((schedule) => schedule.name === scheduleId)).toBe(false);
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
    const message = setup.scheduler.list().find((schedule) => schedule.name === scheduleId)?.input ?? '';
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
    const message = (id: string) => setup.scheduler.list().find((schedule) => schedule.name === id)?.input ?? '';
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
    const message = setup.scheduler.list().find((schedule) => schedule.name === scheduleId)?.input ?? '';
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
