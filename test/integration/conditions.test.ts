import { randomUUID } from 'node:crypto';
import { describe, expect } from 'vitest';
import { MAX_QUEUED_FOR_SECONDS } from '../../lambda/domain/transfer-conditions';
import { startTransferEvents } from '../../local/event-pipes';
import type { PublishedEvent } from '../../local/event-pipes';
import type { SeedContact } from '../../simulator/seed';
import { answerOf, DOORS, eventFor, invokeThrough, settle } from '../support/doors';
import { HISTORY_RESOURCE } from '../../lambda/domain/history';
import { apiGatewayProxyEvent } from '../../local/lambda-events';
import { asHttp, lambdaContext } from '../support/gateway-harness';
import { gatewayTest } from '../support/gateway-test';

/** Contract section 11 (conditional transfers), its events (section 9) and `Note` (section 2), through every door. */
const it = gatewayTest()
  .extend('events', { scope: 'file' }, async ({ harness }, { onCleanup }) => {
    // Read on demand (flush), never on a timer: each test reads the stream up to its own writes.
    const events = startTransferEvents(harness.dynamodbClient(), harness.config.ledgerTable, 'contact-transfer-gateway', 3_600_000);
    onCleanup(() => events.stop());
    return events;
  })
  .extend('publishedFor', { scope: 'file' }, ({ events }) => async (detailType: string, contactId: string): Promise<PublishedEvent[]> => {
    await events.flush();
    return events.published.filter((event) => {
      const detail = event.detail as { ContactId?: string; FromContactId?: string };
      return event['detail-type'] === detailType && (detail.ContactId ?? detail.FromContactId) === contactId;
    });
  })
  /** An active task as DescribeContact will show it: its queue and how long it has waited, an agent, paused, scheduled. */
  .extend('taskIn', { scope: 'file' }, ({ harness }) => (shape: Omit<SeedContact, 'Id' | 'Channel'> = {}): string =>
    harness.connect.addContact({ Id: randomUUID(), Channel: 'TASK', InitiationMethod: 'API', ...shape }).Id,
  )
  .extend('transferCallsOf', { scope: 'file' }, ({ harness }) => (contactId: string) =>
    harness.connect.calls('TransferContact').filter((call) => call.input.ContactId === contactId).length,
  );

const ago = (seconds: number): string => new Date(Date.now() - seconds * 1000).toISOString();

describe('a condition that does not hold, on every door (contract section 11)', () => {
  it.for(DOORS)('%s: CONDITION_NOT_MET, nothing sent to Connect, one Skipped event, and a retry gets the same answer', async (door, { harness, gateway, fx, taskIn, transferCallsOf, publishedFor }) => {
    const contactId = taskIn({ QueueId: fx.queues.enabled, EnqueueTimestamp: ago(600), AgentId: fx.users.agent, ConnectedToAgentTimestamp: ago(30) });
    const request = { ContactId: contactId, ContactFlowId: fx.flows.inbound, QueueId: fx.queues.disabled, ClientToken: randomUUID(), Note: 'waited too long in Billing', Conditions: { InQueue: fx.queues.enabled } };
    const event = eventFor(door, request);

    const first = answerOf(door, await settle(invokeThrough(gateway, door, event, lambdaContext())));
    // The buffered door answers only with records to retry: a final answer deletes the record.
    expect(first).toMatchObject(door === 'buffered' ? { ok: true } : { ok: false, reason: 'CONDITION_NOT_MET' });
    const retry = answerOf(door, await settle(invokeThrough(harness.newContainer(), door, event, lambdaContext())));
    expect(retry).toEqual(first);

    expect(transferCallsOf(contactId)).toBe(0);
    const skipped = await publishedFor('Contact Transfer Skipped', contactId);
    expect(skipped).toHaveLength(1);
    expect(skipped[0]?.detail).toMatchObject({
      ReasonCode: 'CONDITION_NOT_MET',
      Type: 'ConditionalOperationFailedException',
      Condition: 'InQueue',
      Expected: fx.queues.enabled,
      Contact: { QueueId: fx.queues.enabled, AgentId: fx.users.agent },
      ClientToken: request.ClientToken,
      Note: request.Note,
      Door: door === 'https' ? 'https' : door === 'direct' ? 'invoke' : 'eventbridge',
    });
    expect(JSON.parse((skipped[0]?.detail as { Request: string }).Request)).toMatchObject({ ContactId: contactId, Conditions: { InQueue: fx.queues.enabled } });
    expect(await publishedFor('Contact Transfer Failed', contactId)).toEqual([]);
  });

  it('answers HTTPS 409 ConditionalOperationFailedException, naming the condition and what the contact showed', async ({ fx, post, taskIn }) => {
    const contactId = taskIn({ QueueId: fx.queues.enabled, AgentId: fx.users.agent, ConnectedToAgentTimestamp: ago(30) });
    const answer = await post({ ContactId: contactId, ContactFlowId: fx.flows.inbound, Conditions: { NotWithAgent: true } });
    expect(answer.status).toBe(409);
    expect(answer.headers['x-amzn-ErrorType']).toBe('ConditionalOperationFailedException');
    expect(answer.body).toMatchObject({ Type: 'ConditionalOperationFailedException', ReasonCode: 'CONDITION_NOT_MET' });
    expect(answer.body.Message).toMatch(/NotWithAgent/);
    expect(answer.body.Message).toContain(`agent ${fx.users.agent}`);
  });

  it('throws a named error from the direct door, so a state machine can Catch it', async ({ gateway, fx, taskIn }) => {
    const contactId = taskIn({ QueueId: fx.queues.enabled, EnqueueTimestamp: ago(5) });
    const outcome = await settle(gateway.direct({ ContactId: contactId, ContactFlowId: fx.flows.inbound, Conditions: { QueuedForSeconds: 1800 } }, lambdaContext()));
    expect(outcome.error?.name).toBe('ConditionalOperationFailedException');
    expect(outcome.error?.message).toMatch(/^CONDITION_NOT_MET: Condition QueuedForSeconds \(1800\) did not hold: the contact has waited \d s/);
  });

  it('refuses the same key with other conditions after a skip (CLIENT_TOKEN_REUSED), and a new key runs the rules again', async ({ harness, fx, post, taskIn }) => {
    const contactId = taskIn({ QueueId: fx.queues.enabled, AgentId: fx.users.agent, ConnectedToAgentTimestamp: ago(30) });
    const request = { ContactId: contactId, ContactFlowId: fx.flows.inbound, ClientToken: randomUUID(), Conditions: { NotWithAgent: true as const } };
    expect((await post(request)).status).toBe(409);
    expect((await post({ ...request, Conditions: { InQueue: fx.queues.enabled } })).body).toMatchObject({ ReasonCode: 'CLIENT_TOKEN_REUSED' });
    harness.connect.assignAgent(contactId, undefined);
    // The same key still answers as it did: a skip is final for its request.
    expect((await post(request)).body).toMatchObject({ ReasonCode: 'CONDITION_NOT_MET' });
    expect((await post({ ...request, ClientToken: randomUUID() })).status).toBe(200);
  });
});

describe('each condition holds and fails as the contact shows it', () => {
  const rows: [string, (fx: { queues: { enabled: string; disabled: string }; users: { agent: string } }, arn: string) => [Omit<SeedContact, 'Id' | 'Channel'>, Record<string, unknown>], boolean][] = [
    ['InQueue by id, waiting, no agent', (fx) => [{ QueueId: fx.queues.enabled }, { InQueue: fx.queues.enabled }], true],
    ['InQueue by ARN', (fx, arn) => [{ QueueId: fx.queues.enabled }, { InQueue: `${arn}/queue/${fx.queues.enabled}` }], true],
    ['InQueue, offered to an agent who has not accepted', (fx) => [{ QueueId: fx.queues.enabled, AgentId: fx.users.agent }, { InQueue: fx.queues.enabled }], true],
    ['InQueue, in another queue', (fx) => [{ QueueId: fx.queues.disabled }, { InQueue: fx.queues.enabled }], false],
    ['InQueue, in no queue', (fx) => [{}, { InQueue: fx.queues.enabled }], false],
    ['InQueue, accepted by an agent', (fx) => [{ QueueId: fx.queues.enabled, AgentId: fx.users.agent, ConnectedToAgentTimestamp: ago(10) }, { InQueue: fx.queues.enabled }], false],
    ['NotWithAgent, no agent', () => [{}, { NotWithAgent: true }], true],
    ['NotWithAgent, accepted by an agent', (fx) => [{ AgentId: fx.users.agent, ConnectedToAgentTimestamp: ago(10) }, { NotWithAgent: true }], false],
    ['QueuedForSeconds, waited long enough', (fx) => [{ QueueId: fx.queues.enabled, EnqueueTimestamp: ago(120) }, { QueuedForSeconds: 60 }], true],
    ['QueuedForSeconds, not yet', (fx) => [{ QueueId: fx.queues.enabled, EnqueueTimestamp: ago(10) }, { QueuedForSeconds: 60 }], false],
    ['all three hold', (fx) => [{ QueueId: fx.queues.enabled, EnqueueTimestamp: ago(120) }, { InQueue: fx.queues.enabled, NotWithAgent: true, QueuedForSeconds: 60 }], true],
    ['all must hold: one of three fails', (fx) => [{ QueueId: fx.queues.enabled, EnqueueTimestamp: ago(10) }, { InQueue: fx.queues.enabled, NotWithAgent: true, QueuedForSeconds: 60 }], false],
  ];

  it.for(rows)('%s', async ([_name, shape, holds], { harness, fx, post, taskIn, transferCallsOf }) => {
    const [contact, Conditions] = shape(fx, harness.connect.instanceArn);
    const contactId = taskIn(contact);
    const answer = await post({ ContactId: contactId, ContactFlowId: fx.flows.inbound, Conditions });
    expect(answer.status).toBe(holds ? 200 : 409);
    expect(transferCallsOf(contactId)).toBe(holds ? 1 : 0);
  });
});

describe('contact states Connect added since the rules were written', () => {
  it('a paused task can still be transferred, as agents may transfer it, but it waits in no queue', async ({ fx, post, taskIn }) => {
    const paused = { QueueId: fx.queues.enabled, EnqueueTimestamp: ago(3600), LastPausedTimestamp: ago(60) };
    expect((await post({ ContactId: taskIn(paused), ContactFlowId: fx.flows.inbound, QueueId: fx.queues.enabled })).status).toBe(200);
    const inQueue = await post({ ContactId: taskIn(paused), ContactFlowId: fx.flows.inbound, Conditions: { InQueue: fx.queues.enabled } });
    expect(inQueue.body).toMatchObject({ ReasonCode: 'CONDITION_NOT_MET', Message: expect.stringContaining('paused') as unknown });
    const waited = await post({ ContactId: taskIn(paused), ContactFlowId: fx.flows.inbound, Conditions: { QueuedForSeconds: 60 } });
    expect(waited.body).toMatchObject({ ReasonCode: 'CONDITION_NOT_MET' });
  });

  it('a resumed task is back in its queue', async ({ fx, post, taskIn }) => {
    const resumed = taskIn({ QueueId: fx.queues.enabled, LastPausedTimestamp: ago(120), LastResumedTimestamp: ago(60) });
    expect((await post({ ContactId: resumed, ContactFlowId: fx.flows.inbound, Conditions: { InQueue: fx.queues.enabled } })).status).toBe(200);
  });

  it('a task scheduled for later is active (transferable) but not yet queued', async ({ fx, post, taskIn }) => {
    const later = { ScheduledTimestamp: new Date(Date.now() + 86_400_000).toISOString() };
    expect((await post({ ContactId: taskIn(later), ContactFlowId: fx.flows.inbound, QueueId: fx.queues.enabled })).status).toBe(200);
    const inQueue = await post({ ContactId: taskIn(later), ContactFlowId: fx.flows.inbound, Conditions: { InQueue: fx.queues.enabled } });
    expect(inQueue.body).toMatchObject({ ReasonCode: 'CONDITION_NOT_MET', Message: expect.stringContaining('scheduled') as unknown });
    expect((await post({ ContactId: taskIn(later), ContactFlowId: fx.flows.inbound, Conditions: { NotWithAgent: true } })).status).toBe(200);
  });
});

describe('rule 7a comes after rule 7 and before rule 8', () => {
  it('an ended contact is CONTACT_NOT_ACTIVE whatever its conditions', async ({ fx, post }) => {
    const answer = await post({ ContactId: fx.contact('TASK', true), ContactFlowId: fx.flows.inbound, Conditions: { InQueue: fx.queues.enabled } });
    expect(answer.body).toMatchObject({ ReasonCode: 'CONTACT_NOT_ACTIVE' });
  });

  it('a failed condition wins over an unknown flow', async ({ fx, post, taskIn }) => {
    const answer = await post({ ContactId: taskIn(), ContactFlowId: fx.unknownId(), Conditions: { InQueue: fx.queues.enabled } });
    expect(answer.body).toMatchObject({ ReasonCode: 'CONDITION_NOT_MET' });
  });
});

describe('bad shapes are 400 VALIDATION_FAILED naming the field (rule 1)', () => {
  const rows: [string, unknown, string][] = [
    ['empty Conditions', {}, 'Conditions'],
    ['Conditions not an object', 'InQueue', 'Conditions'],
    ['unknown condition', { InQueu: 'q' }, 'Conditions.InQueu'],
    ['NotWithAgent false', { NotWithAgent: false }, 'Conditions.NotWithAgent'],
    ['NotWithAgent as text', { NotWithAgent: 'true' }, 'Conditions.NotWithAgent'],
    ['QueuedForSeconds 0', { QueuedForSeconds: 0 }, 'Conditions.QueuedForSeconds'],
    ['QueuedForSeconds over 30 days', { QueuedForSeconds: MAX_QUEUED_FOR_SECONDS + 1 }, 'Conditions.QueuedForSeconds'],
    ['QueuedForSeconds fractional', { QueuedForSeconds: 1.5 }, 'Conditions.QueuedForSeconds'],
    ['QueuedForSeconds as text', { QueuedForSeconds: '60' }, 'Conditions.QueuedForSeconds'],
    ['InQueue empty', { InQueue: '' }, 'Conditions.InQueue'],
    ['InQueue a malformed ARN', { InQueue: 'arn:aws:connect:us-east-1:1:instance/x' }, 'Conditions.InQueue'],
  ];

  it.for(rows)('%s', async ([_name, Conditions, field], { fx, post, transfers }) => {
    const before = transfers();
    const answer = await post({ ContactId: fx.contact(), ContactFlowId: fx.flows.inbound, Conditions });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ ReasonCode: 'VALIDATION_FAILED', Fields: [expect.objectContaining({ Field: field })] });
    expect(transfers()).toBe(before);
  });

  it.for<[string, unknown]>([
    ['empty', ''],
    ['257 characters', 'n'.repeat(257)],
    ['a line break', 'first line\nforged line'],
    ['a number', 42],
  ])('Note: %s', async ([_name, Note], { fx, post }) => {
    const answer = await post({ ContactId: fx.contact(), ContactFlowId: fx.flows.inbound, Note });
    expect(answer.body).toMatchObject({ ReasonCode: 'VALIDATION_FAILED', Fields: [expect.objectContaining({ Field: 'Note' })] });
  });

  it('an InQueue ARN of another instance is INSTANCE_NOT_ALLOWED (rule 3)', async ({ fx, post }) => {
    const answer = await post({ ContactId: fx.contact(), ContactFlowId: fx.flows.inbound, Conditions: { InQueue: 'arn:aws:connect:us-east-1:111122223333:instance/other/queue/q' } });
    expect(answer.status).toBe(403);
    expect(answer.body.Message).toContain('Conditions.InQueue');
  });
});

describe('Note (contract sections 2, 7, 9, 10)', () => {
  it('is kept with the transfer: in its Contact Transferred event and in the history', async ({ gateway, fx, post, publishedFor }) => {
    const contactId = fx.contact();
    const Note = 'Escalated: customer waited 3 days — “urgent”';
    expect((await post({ ContactId: contactId, ContactFlowId: fx.flows.inbound, QueueId: fx.queues.enabled, Note })).status).toBe(200);
    const [transferred] = await publishedFor('Contact Transferred', contactId);
    expect(transferred?.detail).toMatchObject({ Note });
    const history = asHttp(
      await gateway(
        apiGatewayProxyEvent({
          body: null,
          route: { method: 'GET', resource: HISTORY_RESOURCE, path: `/contact/transfers/${contactId}`, pathParameters: { ContactId: contactId }, query: {} },
        }),
        lambdaContext(),
      ),
    );
    expect(history.body).toMatchObject({ Transfers: [{ FromContactId: contactId, Note }] });
  });

  it('is carried by the Contact Transfer Failed event of a rejected event-door request', async ({ gateway, fx, publishedFor }) => {
    const contactId = fx.contact('VOICE');
    const event = eventFor('buffered', { ContactId: contactId, ContactFlowId: fx.flows.inbound, Note: 'voice cannot move' });
    await gateway(event, lambdaContext());
    const [failed] = await publishedFor('Contact Transfer Failed', contactId);
    expect(failed?.detail).toMatchObject({ ReasonCode: 'CHANNEL_NOT_SUPPORTED', Note: 'voice cannot move' });
  });
});
