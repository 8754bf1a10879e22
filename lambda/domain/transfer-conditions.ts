import type { ContactFacts } from './facts';

/**
 * Contract section 11: a transfer only while the contact is still where the caller believes it is, judged on the
 * DescribeContact the rules read anyway. All given conditions must hold.
 */
export interface TransferConditions {
  /** A queue id (an ARN is resolved to its id by rule 3): the contact waits in this queue and no agent has it. */
  readonly InQueue?: string;
  readonly NotWithAgent?: true;
  /** The contact has waited in its current queue at least this long. */
  readonly QueuedForSeconds?: number;
}

export type ConditionName = keyof TransferConditions;

/** The longest wait a condition may ask for: 30 days, longer than any contact lives. */
export const MAX_QUEUED_FOR_SECONDS = 2_592_000;

/** Where the contact was when the condition was judged, in DescribeContact's own member names. */
export interface ContactSnapshot {
  readonly QueueId?: string;
  readonly EnqueueTimestamp?: string;
  readonly AgentId?: string;
  readonly ConnectedToAgentTimestamp?: string;
  readonly LastPausedTimestamp?: string;
  readonly ScheduledTimestamp?: string;
}

export interface FailedCondition {
  readonly condition: ConditionName;
  /** What the request asked for, as text: the queue id, `true`, or the seconds. */
  readonly expected: string;
  readonly observed: ContactSnapshot;
  /** One sentence naming the condition and what the contact showed. */
  readonly message: string;
}

/** Judged in a fixed order, so the same contact always fails the same condition. */
const ORDER: readonly ConditionName[] = ['InQueue', 'NotWithAgent', 'QueuedForSeconds'];

/** The first condition that does not hold, or undefined when all hold (or none were given). */
export function failedCondition(conditions: TransferConditions | undefined, contact: ContactFacts, now: Date): FailedCondition | undefined {
  if (!conditions) return undefined;
  const observed = snapshotOf(contact);
  for (const condition of ORDER) {
    const expected = conditions[condition];
    if (expected === undefined) continue;
    const shown = whyNot(condition, expected, contact, now);
    if (shown !== undefined) {
      return { condition, expected: String(expected), observed, message: `Condition ${condition} (${String(expected)}) did not hold: ${shown}.` };
    }
  }
  return undefined;
}

/** What the contact showed that breaks the condition, or undefined when it holds. */
function whyNot(condition: ConditionName, expected: string | number | true, contact: ContactFacts, now: Date): string | undefined {
  const withAgent = agentConnected(contact);
  switch (condition) {
    case 'InQueue': {
      const waiting = waitingIn(contact);
      if (waiting !== undefined) return waiting;
      if (contact.queue?.id !== expected) return `the contact is in queue ${contact.queue?.id ?? '(none)'}`;
      return withAgent;
    }
    case 'NotWithAgent':
      return withAgent;
    case 'QueuedForSeconds': {
      const waiting = waitingIn(contact);
      if (waiting !== undefined) return waiting;
      const since = contact.queue?.enqueuedAt;
      if (!contact.queue || !since) return 'the contact is in no queue';
      const waited = Math.floor((now.getTime() - since.getTime()) / 1000);
      return waited >= Number(expected) ? undefined : `the contact has waited ${waited} s in queue ${contact.queue.id} (since ${since.toISOString()})`;
    }
  }
}

/** Paused and scheduled tasks wait in no queue, whatever QueueInfo still says. */
function waitingIn(contact: ContactFacts): string | undefined {
  if (contact.pausedAt) return `the task is paused (since ${contact.pausedAt.toISOString()}), so it waits in no queue`;
  if (contact.scheduledFor) return `the task is scheduled for ${contact.scheduledFor.toISOString()} and not yet queued`;
  return undefined;
}

/** An agent has the contact once it accepted it (ConnectedToAgentTimestamp); one merely offered it does not yet. */
function agentConnected(contact: ContactFacts): string | undefined {
  const { agent } = contact;
  if (!agent?.connectedAt) return undefined;
  return `agent ${agent.id} has had the contact since ${agent.connectedAt.toISOString()}`;
}

function snapshotOf(contact: ContactFacts): ContactSnapshot {
  return {
    ...(contact.queue && { QueueId: contact.queue.id }),
    ...(contact.queue?.enqueuedAt && { EnqueueTimestamp: contact.queue.enqueuedAt.toISOString() }),
    ...(contact.agent && { AgentId: contact.agent.id }),
    ...(contact.agent?.connectedAt && { ConnectedToAgentTimestamp: contact.agent.connectedAt.toISOString() }),
    ...(contact.pausedAt && { LastPausedTimestamp: contact.pausedAt.toISOString() }),
    ...(contact.scheduledFor && { ScheduledTimestamp: contact.scheduledFor.toISOString() }),
  };
}
