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
