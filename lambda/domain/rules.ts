import type { ContactFacts, FlowFacts, QueueFacts, UserFacts } from './facts';
import type { KnownReason } from './errors';
import type { FailedCondition } from './transfer-conditions';

/** Everything rules 5-14 look at, gathered before any of them runs. */
export interface TransferFacts {
  readonly contact: ContactFacts | undefined;
  readonly flow: FlowFacts;
  /** Present when the request names a queue. */
  readonly queue?: QueueFacts;
  /** Present when the request names a user. */
  readonly user?: UserFacts;
  readonly transfersInTree: number;
  /** The request's first condition the contact does not meet (domain/transfer-conditions.ts). */
  readonly failedCondition?: FailedCondition;
}

export interface TransferPolicy {
  readonly allowedChannels: readonly string[];
  readonly maxTransfers: number;
}

/** Flow types TransferContact accepts: Inbound, Transfer to agent, Transfer to queue. */
export const TRANSFERABLE_FLOW_TYPES: readonly string[] = ['CONTACT_FLOW', 'AGENT_TRANSFER', 'QUEUE_TRANSFER'];

/**
 * Rules 5-14 (with 7a) of contract section 4, in the contract's order: the first failing rule is the reason a caller sees.
 * Returns undefined when the transfer may go to Connect.
 */
export function firstFailingRule(facts: TransferFacts, policy: TransferPolicy): KnownReason | undefined {
  const { contact, flow, queue, user } = facts;
  /* 5 */ if (!contact) return 'CONTACT_NOT_FOUND';
  /* 6 */ if (!policy.allowedChannels.includes(contact.channel)) return 'CHANNEL_NOT_SUPPORTED';
  /* 7 */ if (contact.disconnected) return 'CONTACT_NOT_ACTIVE';
  /* 7a */ if (facts.failedCondition) return 'CONDITION_NOT_MET';
  /* 8 */ if (!flow.found) return 'FLOW_NOT_FOUND';
  /* 9 */ if (flow.published && !TRANSFERABLE_FLOW_TYPES.includes(flow.type)) return 'FLOW_TYPE_NOT_SUPPORTED';
  /* 10 */ if (!flow.published || flow.state !== 'ACTIVE') return 'FLOW_NOT_ACTIVE';
  /* 11 */ if (flow.type === 'AGENT_TRANSFER' && !user) return 'FLOW_TARGET_MISMATCH';
  /* 11 */ if (flow.type === 'QUEUE_TRANSFER' && !queue) return 'FLOW_TARGET_MISMATCH';
  /* 12 */ if (queue && !queue.found) return 'QUEUE_NOT_FOUND';
  /* 12 */ if (queue && !queue.enabled) return 'QUEUE_DISABLED';
  /* 13 */ if (user && !user.found) return 'USER_NOT_FOUND';
  /* 14 */ if (facts.transfersInTree >= policy.maxTransfers) return 'TRANSFER_LIMIT_REACHED';
  return undefined;
}

/** The contact tree is named by Connect's InitialContactId, or by the contact itself when it is the first. */
export function treeIdOf(contact: ContactFacts): string {
  return contact.initialContactId ?? contact.id;
}
