import { describe, expect, it } from 'vitest';
import { firstFailingRule, treeIdOf } from '../../../lambda/domain/rules';
import type { TransferFacts, TransferPolicy } from '../../../lambda/domain/rules';
import type { ContactFacts, FlowFacts } from '../../../lambda/domain/facts';

const policy: TransferPolicy = { allowedChannels: ['TASK', 'EMAIL'], maxTransfers: 11 };

const activeTask: ContactFacts = { id: 'c-1', channel: 'TASK', disconnected: false };
const flowOf = (type: string, state = 'ACTIVE'): FlowFacts => ({ found: true, published: true, type, state });
const inbound = flowOf('CONTACT_FLOW');

/** Facts for which every rule passes; each row below breaks one thing. */
const passing: TransferFacts = { contact: activeTask, flow: inbound, transfersInTree: 0 };
const facts = (overrides: Partial<TransferFacts>): TransferFacts => ({ ...passing, ...overrides });

describe('firstFailingRule: one rule at a time (contract section 4, rules 5-14)', () => {
  it('passes a transfer of an active TASK to a published inbound flow', () => {
    expect(firstFailingRule(passing, policy)).toBeUndefined();
  });

  it.each<[string, Partial<TransferFacts>, string]>([
    ['5: the contact does not exist', { contact: undefined }, 'CONTACT_NOT_FOUND'],
    ['6: a VOICE contact', { contact: { ...activeTask, channel: 'VOICE' } }, 'CHANNEL_NOT_SUPPORTED'],
    ['6: a CHAT contact', { contact: { ...activeTask, channel: 'CHAT' } }, 'CHANNEL_NOT_SUPPORTED'],
    ['7: an ended contact', { contact: { ...activeTask, disconnected: true } }, 'CONTACT_NOT_ACTIVE'],
    ['8: the flow does not exist', { flow: { found: false } }, 'FLOW_NOT_FOUND'],
    ['9: a CUSTOMER_QUEUE flow', { flow: flowOf('CUSTOMER_QUEUE') }, 'FLOW_TYPE_NOT_SUPPORTED'],
    ['10: an archived flow', { flow: flowOf('CONTACT_FLOW', 'ARCHIVED') }, 'FLOW_NOT_ACTIVE'],
    ['10: an unpublished flow', { flow: { found: true, published: false } }, 'FLOW_NOT_ACTIVE'],
    ['11: an AGENT_TRANSFER flow without a user', { flow: flowOf('AGENT_TRANSFER') }, 'FLOW_TARGET_MISMATCH'],
    ['11: an AGENT_TRANSFER flow with a queue', { flow: flowOf('AGENT_TRANSFER'), queue: { found: true, enabled: true } }, 'FLOW_TARGET_MISMATCH'],
    ['11: a QUEUE_TRANSFER flow without a queue', { flow: flowOf('QUEUE_TRANSFER') }, 'FLOW_TARGET_MISMATCH'],
    ['11: a QUEUE_TRANSFER flow with a user', { flow: flowOf('QUEUE_TRANSFER'), user: { found: true } }, 'FLOW_TARGET_MISMATCH'],
    ['12: the queue does not exist', { queue: { found: false, enabled: false } }, 'QUEUE_NOT_FOUND'],
    ['12: the queue is disabled', { queue: { found: true, enabled: false } }, 'QUEUE_DISABLED'],
    ['13: the user does not exist', { user: { found: false } }, 'USER_NOT_FOUND'],
    ['14: the tree has had maxTransfers transfers', { transfersInTree: 11 }, 'TRANSFER_LIMIT_REACHED'],
    ['14: the tree has had more than maxTransfers transfers', { transfersInTree: 40 }, 'TRANSFER_LIMIT_REACHED'],
  ])('rule %s -> %s', (_rule, overrides, reason) => {
    expect(firstFailingRule(facts(overrides), policy)).toBe(reason);
  });
});

describe('firstFailingRule: flows', () => {
  it.each<[string, Partial<TransferFacts>]>([
    ['CONTACT_FLOW', {}],
    ['CONTACT_FLOW', { queue: { found: true, enabled: true } }],
    ['CONTACT_FLOW', { user: { found: true } }],
    ['AGENT_TRANSFER', { user: { found: true } }],
    ['QUEUE_TRANSFER', { queue: { found: true, enabled: true } }],
  ])('a published, active %s flow can be transferred to (%o)', (type, target) => {
    expect(firstFailingRule(facts({ flow: flowOf(type), ...target }), policy)).toBeUndefined();
  });

  it.each(['CUSTOMER_QUEUE', 'CUSTOMER_HOLD', 'CUSTOMER_WHISPER', 'AGENT_HOLD', 'AGENT_WHISPER', 'OUTBOUND_WHISPER', 'CAMPAIGN', 'UNKNOWN'])(
    'a %s flow is FLOW_TYPE_NOT_SUPPORTED',
    (type) => {
      expect(firstFailingRule(facts({ flow: flowOf(type) }), policy)).toBe('FLOW_TYPE_NOT_SUPPORTED');
    },
  );

  it.each(['ARCHIVED', 'UNKNOWN'])('a flow in state %s is FLOW_NOT_ACTIVE', (state) => {
    expect(firstFailingRule(facts({ flow: flowOf('QUEUE_TRANSFER', state), queue: { found: true, enabled: true } }), policy)).toBe('FLOW_NOT_ACTIVE');
  });
});

describe('firstFailingRule: allowedChannels is data', () => {
  it.each<[readonly string[], string, boolean]>([
    [['TASK', 'EMAIL'], 'TASK', true],
    [['TASK', 'EMAIL'], 'EMAIL', true],
    [['TASK', 'EMAIL'], 'VOICE', false],
    [['TASK'], 'TASK', true],
    [['TASK'], 'EMAIL', false],
    [['VOICE', 'CHAT'], 'VOICE', true],
    [['VOICE', 'CHAT'], 'TASK', false],
  ])('policy %o, a %s contact: allowed=%s', (allowedChannels, channel, allowed) => {
    const reason = firstFailingRule(facts({ contact: { ...activeTask, channel } }), { ...policy, allowedChannels });
    expect(reason).toBe(allowed ? undefined : 'CHANNEL_NOT_SUPPORTED');
  });
});

describe('firstFailingRule: rule 14 at the boundary', () => {
  it.each<[number, number, string | undefined]>([
    [11, 0, undefined],
    [11, 10, undefined],
    [11, 11, 'TRANSFER_LIMIT_REACHED'],
    [1, 0, undefined],
    [1, 1, 'TRANSFER_LIMIT_REACHED'],
    [3, 2, undefined],
    [3, 3, 'TRANSFER_LIMIT_REACHED'],
  ])('maxTransfers %i with %i transfers already made -> %s', (maxTransfers, transfersInTree, reason) => {
    expect(firstFailingRule(facts({ transfersInTree }), { ...policy, maxTransfers })).toBe(reason);
  });
});

describe('firstFailingRule: several rules fail at once, the lowest number wins', () => {
  const everythingWrong: TransferFacts = {
    contact: { id: 'c-1', channel: 'VOICE', disconnected: true },
    flow: { found: false },
    queue: { found: false, enabled: false },
    user: { found: false },
    transfersInTree: 99,
  };

  it.each<[string, Partial<TransferFacts>, string]>([
    ['5 over everything', { contact: undefined }, 'CONTACT_NOT_FOUND'],
    ['6 over 7-14', {}, 'CHANNEL_NOT_SUPPORTED'],
    ['7 over 8-14', { contact: { ...activeTask, disconnected: true } }, 'CONTACT_NOT_ACTIVE'],
    ['8 over 9-14', { contact: activeTask }, 'FLOW_NOT_FOUND'],
    ['9 over 10-14', { contact: activeTask, flow: flowOf('CUSTOMER_QUEUE', 'ARCHIVED') }, 'FLOW_TYPE_NOT_SUPPORTED'],
    ['10 over 11-14', { contact: activeTask, flow: flowOf('AGENT_TRANSFER', 'ARCHIVED'), user: undefined }, 'FLOW_NOT_ACTIVE'],
    ['11 over 12-14', { contact: activeTask, flow: flowOf('AGENT_TRANSFER'), user: undefined }, 'FLOW_TARGET_MISMATCH'],
    ['12 over 13-14', { contact: activeTask, flow: inbound }, 'QUEUE_NOT_FOUND'],
    ['12 (disabled) over 13-14', { contact: activeTask, flow: inbound, queue: { found: true, enabled: false } }, 'QUEUE_DISABLED'],
    ['13 over 14', { contact: activeTask, flow: inbound, queue: undefined }, 'USER_NOT_FOUND'],
    ['14 alone', { contact: activeTask, flow: inbound, queue: undefined, user: { found: true } }, 'TRANSFER_LIMIT_REACHED'],
  ])('rule %s', (_case, fixed, reason) => {
    const merged: { -readonly [K in keyof TransferFacts]: TransferFacts[K] } = { ...everythingWrong, ...fixed };
    for (const key of ['queue', 'user'] as const) if (key in fixed && fixed[key] === undefined) delete merged[key];
    expect(firstFailingRule(merged, policy)).toBe(reason);
  });
});

describe('treeIdOf', () => {
  it.each<[string, ContactFacts, string]>([
    ['the InitialContactId of a transferred contact', { id: 'c-3', channel: 'TASK', initialContactId: 'c-1', disconnected: false }, 'c-1'],
    ['the contact itself when it is the first of its tree', { id: 'c-1', channel: 'TASK', disconnected: false }, 'c-1'],
    ['the contact itself when InitialContactId names it', { id: 'c-1', channel: 'TASK', initialContactId: 'c-1', disconnected: false }, 'c-1'],
  ])('is %s', (_case, contact, treeId) => {
    expect(treeIdOf(contact)).toBe(treeId);
  });
});
