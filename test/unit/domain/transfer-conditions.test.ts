import { describe, expect, it } from 'vitest';
import type { ContactFacts } from '../../../lambda/domain/facts';
import { failedCondition } from '../../../lambda/domain/transfer-conditions';

const NOW = new Date('2026-12-05T12:00:00Z');
const secondsAgo = (seconds: number): Date => new Date(NOW.getTime() - seconds * 1000);
const waiting: ContactFacts = { id: 'c', channel: 'TASK', disconnected: false, queue: { id: 'billing', enqueuedAt: secondsAgo(600) } };

describe('failedCondition (contract section 11)', () => {
  it('holds when no conditions are given', () => {
    expect(failedCondition(undefined, waiting, NOW)).toBeUndefined();
  });

  it('says which condition failed, what was asked and what the contact showed', () => {
    const accepted: ContactFacts = { ...waiting, agent: { id: 'ana', connectedAt: secondsAgo(30) } };
    expect(failedCondition({ InQueue: 'billing' }, accepted, NOW)).toEqual({
      condition: 'InQueue',
      expected: 'billing',
      observed: { QueueId: 'billing', EnqueueTimestamp: secondsAgo(600).toISOString(), AgentId: 'ana', ConnectedToAgentTimestamp: secondsAgo(30).toISOString() },
      message: `Condition InQueue (billing) did not hold: agent ana has had the contact since ${secondsAgo(30).toISOString()}.`,
    });
  });

  it('counts the wait in whole seconds from EnqueueTimestamp, the boundary included', () => {
    expect(failedCondition({ QueuedForSeconds: 600 }, waiting, NOW)).toBeUndefined();
    expect(failedCondition({ QueuedForSeconds: 601 }, waiting, NOW)?.message).toContain('has waited 600 s in queue billing');
  });

  it('judges in a fixed order, so the same contact always fails the same condition', () => {
    const elsewhere: ContactFacts = { ...waiting, queue: { id: 'other', enqueuedAt: secondsAgo(5) }, agent: { id: 'ana', connectedAt: secondsAgo(1) } };
    expect(failedCondition({ QueuedForSeconds: 60, NotWithAgent: true, InQueue: 'billing' }, elsewhere, NOW)?.condition).toBe('InQueue');
    expect(failedCondition({ QueuedForSeconds: 60, NotWithAgent: true }, elsewhere, NOW)?.condition).toBe('NotWithAgent');
  });

  it('a paused or scheduled task waits in no queue, whatever its QueueInfo still says', () => {
    expect(failedCondition({ InQueue: 'billing' }, { ...waiting, pausedAt: secondsAgo(10) }, NOW)?.observed).toMatchObject({ LastPausedTimestamp: secondsAgo(10).toISOString() });
    expect(failedCondition({ QueuedForSeconds: 1 }, { ...waiting, scheduledFor: new Date(NOW.getTime() + 1000) }, NOW)?.message).toContain('scheduled');
    expect(failedCondition({ NotWithAgent: true }, { ...waiting, pausedAt: secondsAgo(10) }, NOW)).toBeUndefined();
  });
});

describe('failedCondition: what the caller is told the contact showed', () => {
  const inNoQueue: ContactFacts = { id: 'c', channel: 'TASK', disconnected: false };

  it.each<[string, ContactFacts, string]>([
    ['in another queue', { ...waiting, queue: { id: 'sales', enqueuedAt: secondsAgo(5) } }, 'Condition InQueue (billing) did not hold: the contact is in queue sales.'],
    ['in no queue', inNoQueue, 'Condition InQueue (billing) did not hold: the contact is in queue (none).'],
    [
      'a paused task',
      { ...waiting, pausedAt: secondsAgo(10) },
      `Condition InQueue (billing) did not hold: the task is paused (since ${secondsAgo(10).toISOString()}), so it waits in no queue.`,
    ],
  ])('InQueue on a contact %s', (_case, contact, message) => {
    expect(failedCondition({ InQueue: 'billing' }, contact, NOW)?.message).toBe(message);
  });

  it('InQueue holds for the contact waiting in that queue with no agent', () => {
    expect(failedCondition({ InQueue: 'billing', NotWithAgent: true }, waiting, NOW)).toBeUndefined();
  });

  it.each<[string, ContactFacts]>([
    ['in no queue', inNoQueue],
    ['in a queue with no EnqueueTimestamp', { ...inNoQueue, queue: { id: 'billing' } }],
  ])('QueuedForSeconds on a contact %s says it is in no queue', (_case, contact) => {
    expect(failedCondition({ QueuedForSeconds: 1 }, contact, NOW)?.message).toBe('Condition QueuedForSeconds (1) did not hold: the contact is in no queue.');
  });

  it('a scheduled task shows when it is scheduled for', () => {
    const scheduledFor = new Date(NOW.getTime() + 60_000);
    expect(failedCondition({ InQueue: 'billing' }, { ...waiting, scheduledFor }, NOW)).toEqual({
      condition: 'InQueue',
      expected: 'billing',
      observed: { QueueId: 'billing', EnqueueTimestamp: secondsAgo(600).toISOString(), ScheduledTimestamp: scheduledFor.toISOString() },
      message: `Condition InQueue (billing) did not hold: the task is scheduled for ${scheduledFor.toISOString()} and not yet queued.`,
    });
  });

  it('a contact that is neither paused nor scheduled shows neither', () => {
    expect(failedCondition({ QueuedForSeconds: 601 }, waiting, NOW)?.observed).toStrictEqual({ QueueId: 'billing', EnqueueTimestamp: secondsAgo(600).toISOString() });
  });
});
