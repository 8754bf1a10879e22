import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalGateway } from '../../local/local-gateway';
import type { LocalGateway } from '../../local/local-gateway';
import type { PublishedEvent } from '../../local/event-pipes';
import { loadSeed } from '../../simulator/seed';
import { TestClock } from '../support/schedules';
import { firedScheduleOf } from '../../lambda/adapters/scheduler';

/**
 * Local mode's scheduled transfers as a developer sees them over HTTP, with the local scheduler's clock in the test's
 * hand: a schedule made a minute ahead fires when the clock passes its time (no waiting), and a cancelled one never
 * transfers. What the scheduler fires drains through the local event buffer into the gateway, as in AWS.
 */
const seed = loadSeed();
const flow = seed.flows.find((candidate) => candidate.Type === 'QUEUE_TRANSFER' && candidate.Status === 'PUBLISHED' && candidate.State === 'ACTIVE')!;
const queue = seed.queues.find((candidate) => candidate.Status === 'ENABLED')!;
const [escalated, cancelled] = seed.contacts.filter((contact) => contact.Channel === 'TASK' && !contact.DisconnectTimestamp && !contact.AgentId);

const clock = new TestClock();
let local: LocalGateway;
const published: PublishedEvent[] = [];

beforeAll(async () => {
  local = await startLocalGateway({ port: 0, seed, schedulerClock: clock, onPublished: (event) => published.push(event), env: { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' } });
});
afterAll(() => local.close());

const schedules = () => `${local.url}/contact/transfer/schedules`;
async function json(path: string, init?: RequestInit): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(path, init);
  const text = await response.text();
  return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}
const schedule = (contactId: string | undefined, extra: Record<string, unknown>) =>
  json(schedules(), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ ContactId: contactId, ContactFlowId: flow.Id, QueueId: queue.Id, ...extra }) });

/** Waits for what the buffer delivers to be served: the local event source mapping drains on its own. */
async function until<T>(read: () => Promise<T | undefined>): Promise<T> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const value = await read();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('Not served in 10 s');
}

describe('local mode: scheduled transfers', () => {
  it('a schedule a minute ahead fires when its time comes and transfers; a cancelled one never does', async () => {
    const made = await schedule(escalated?.Id, { Note: 'escalation', Conditions: { NotWithAgent: true }, AfterSeconds: 60 });
    const withdrawn = await schedule(cancelled?.Id, { AfterSeconds: 60 });
    expect([made.status, withdrawn.status]).toEqual([201, 201]);
    const scheduleId = made.body.ScheduleId as string;
    expect((await json(`${schedules()}/${withdrawn.body.ScheduleId as string}`, { method: 'DELETE' })).status).toBe(204);

    clock.setAhead(30_000);
    expect(local.scheduler.fireDue()).toEqual([]);
    clock.setAhead(61_000);
    expect(local.scheduler.fireDue().map((fired) => firedScheduleOf(fired.input)?.scheduleId)).toEqual([scheduleId]);

    const fired = await until(async () => {
      const read = await json(`${schedules()}/${scheduleId}`);
      return read.body.Outcome === undefined ? undefined : read.body;
    });
    expect(fired).toMatchObject({ State: 'FIRED', Outcome: { Result: 'TRANSFERRED', ContactId: expect.any(String) } });
    const history = await json(`${local.url}/contact/transfers/${escalated?.Id ?? ''}`);
    expect(history.body.Transfers).toEqual([expect.objectContaining({ ScheduleId: scheduleId, Note: 'escalation', Door: 'eventbridge' })]);
    const event = await until(async () => published.find((candidate) => candidate['detail-type'] === 'Contact Transferred' && (candidate.detail as { FromContactId?: string }).FromContactId === escalated?.Id));
    expect(event.detail).toMatchObject({ RequestedBy: expect.stringContaining(`schedule/${scheduleId}`) });

    const other = await json(`${schedules()}/${withdrawn.body.ScheduleId as string}`);
    expect(other.body).toMatchObject({ State: 'CANCELLED' });
    expect(other.body).not.toHaveProperty('Outcome');
    expect((await json(`${local.url}/contact/transfers/${cancelled?.Id ?? ''}`)).body).toEqual({ Transfers: [] });
  });

  it('refuses bad times with 400 VALIDATION_FAILED and an unknown id with 404 SCHEDULE_NOT_FOUND', async () => {
    const past = await schedule(escalated?.Id, { At: '2020-01-01T00:00:00Z' });
    expect(past).toMatchObject({ status: 400, body: { ReasonCode: 'VALIDATION_FAILED', Fields: [{ Field: 'At' }] } });
    expect(await json(`${schedules()}/sch-00000000000000000000000000000000`)).toMatchObject({ status: 404, body: { ReasonCode: 'SCHEDULE_NOT_FOUND' } });
  });
});
