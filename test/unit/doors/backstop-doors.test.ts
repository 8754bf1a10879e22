import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { PendingSlot } from '../../../lambda/adapters/pending-slots';
import { arrivalOf, deadLetterErrorOf } from '../../../lambda/doors/dead-letters';
import { isSweepEvent, SWEEP_BATCH, sweepEntry, sweepPendingIntents } from '../../../lambda/doors/sweep';
import type { Settlement } from '../../../lambda/usecase/sweep-settle';
import { lambdaContext, scheduledEvent } from '../../../local/lambda-events';

const RULE_ARN = 'arn:aws:events:us-east-1:111122223333:rule/Stack-Backstops-1A2B3C4D';
const ACCOUNT = '111122223333';

describe('the sweep door takes only the stack\'s schedule rule', () => {
  it('accepts the scheduled event that names the rule, in the stack\'s account', () => {
    expect(isSweepEvent(scheduledEvent(RULE_ARN, ACCOUNT), RULE_ARN, ACCOUNT)).toBe(true);
  });

  it('refuses another rule, another account, another source, more resources, or a gateway without a sweep', () => {
    const event = scheduledEvent(RULE_ARN, ACCOUNT);
    expect(isSweepEvent(scheduledEvent(`${RULE_ARN}x`, ACCOUNT), RULE_ARN, ACCOUNT)).toBe(false);
    expect(isSweepEvent(scheduledEvent(RULE_ARN, '444455556666'), RULE_ARN, ACCOUNT)).toBe(false);
    expect(isSweepEvent({ ...event, source: 'internal.contact-transfer' }, RULE_ARN, ACCOUNT)).toBe(false);
    expect(isSweepEvent({ ...event, resources: [RULE_ARN, RULE_ARN] }, RULE_ARN, ACCOUNT)).toBe(false);
    expect(isSweepEvent(event, undefined, ACCOUNT)).toBe(false);
    expect(isSweepEvent({ ...event, 'detail-type': 'TransferContact' }, RULE_ARN, ACCOUNT)).toBe(false);
    expect(isSweepEvent(null, RULE_ARN, ACCOUNT)).toBe(false);
  });
});

describe('a sweep', () => {
  const slot = (contactId: string): PendingSlot => ({
    request: { ContactId: contactId, ContactFlowId: 'flow' },
    origin: { door: 'https', caller: 'caller', correlationId: contactId },
    lastAttemptAt: new Date(0),
    reservation: { treeId: contactId, transferNumber: 1, transfersInTree: 1, fromContactId: contactId, idempotencyKey: `token:${contactId}` },
  });
  const quiet = { setAside: async () => undefined, onSetAside: () => undefined };

  it('asks only for slots last attempted longer ago than the wait, settles each in order, and counts what a failure left for the next sweep', async () => {
    const asked: Date[] = [];
    const settled: string[] = [];
    const failed: string[] = [];
    const outcomes: Record<string, Settlement | Error> = { a: 'transferred', b: 'released', c: new Error('Connect unreachable'), d: 'in-progress', e: 'set-aside' };
    const report = await sweepPendingIntents({
      pendingSlots: {
        attemptedBefore: async (before) => {
          asked.push(before);
          return ['a', 'b', 'c', 'd', 'e'].map(slot);
        },
      },
      settle: async (request) => {
        settled.push(request.ContactId);
        const outcome = outcomes[request.ContactId];
        if (outcome instanceof Error) throw outcome;
        return outcome ?? 'not-pending';
      },
      afterMs: 70_000,
      remainingMs: () => 10_000,
      onFailure: (failedSlot) => failed.push(failedSlot.request.ContactId),
      ...quiet,
      now: () => new Date(1_000_000),
    });
    expect(asked).toEqual([new Date(1_000_000 - 70_000)]);
    expect(settled).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(failed).toEqual(['c']);
    expect(report).toEqual({ outcome: 'swept', due: 5, transferred: 1, released: 1, 'not-pending': 0, 'in-progress': 1, 'set-aside': 1, failed: 1 });
  });

  it('begins no slot once too little of the invocation is left for a paced transfer; the rest waits for the next sweep', async () => {
    let remaining = 9000;
    const settled: string[] = [];
    const report = await sweepPendingIntents({
      pendingSlots: { attemptedBefore: async () => ['a', 'b', 'c'].map(slot) },
      settle: async (request) => {
        settled.push(request.ContactId);
        remaining -= 3000;
        return 'transferred';
      },
      afterMs: 0,
      remainingMs: () => remaining,
      onFailure: () => undefined,
      ...quiet,
    });
    expect(settled).toEqual(['a', 'b']);
    expect(report).toMatchObject({ due: 3, transferred: 2 });
  });

  it('begins a slot while exactly the time one needs (4 s) is left', async () => {
    const settled: string[] = [];
    await sweepPendingIntents({
      pendingSlots: { attemptedBefore: async () => ['a'].map(slot) },
      settle: async (request) => (settled.push(request.ContactId), 'transferred'),
      afterMs: 0,
      remainingMs: () => 4000,
      onFailure: () => undefined,
      ...quiet,
    });
    expect(settled).toEqual(['a']);
  });

  it('sets aside, with an alert, a slot still PENDING whose request finds no PENDING intent, so it never holds the front of the index; one settled meanwhile is left as it is', async () => {
    const setAside: string[] = [];
    const alerted: string[] = [];
    const failed: string[] = [];
    const report = await sweepPendingIntents({
      pendingSlots: { attemptedBefore: async () => ['stray', 'settled-meanwhile', 'ok'].map(slot) },
      settle: async (request) => (request.ContactId === 'ok' ? 'transferred' : 'not-pending'),
      setAside: async ({ reservation }) => {
        if (reservation.fromContactId === 'settled-meanwhile') throw new Error('ConditionalCheckFailed');
        setAside.push(reservation.idempotencyKey);
      },
      onSetAside: (aside) => alerted.push(aside.request.ContactId),
      afterMs: 0,
      remainingMs: () => 10_000,
      onFailure: (failedSlot) => failed.push(failedSlot.request.ContactId),
    });
    expect(setAside).toEqual(['token:stray']);
    expect(alerted).toEqual(['stray']);
    expect(failed).toEqual(['settled-meanwhile']);
    expect(report).toMatchObject({ due: 3, transferred: 1, 'not-pending': 0, 'set-aside': 1, failed: 1 });
  });
});

describe('a sweep of a gateway with scheduled transfers', () => {
  const RULE = scheduledEvent(RULE_ARN, ACCOUNT);
  const noSlots = { pendingSlots: { attemptedBefore: async () => [] }, useCase: { settle: async () => 'released' as const }, setAside: async () => undefined };

  it('also takes back orphaned schedules after the same wait, one Query page at most, while at least a second of the invocation is left', async () => {
    const asked: [number, number, boolean, boolean][] = [];
    let remainingMs = 1000;
    const sweep = sweepEntry({
      ...noSlots,
      afterMs: 70_000,
      schedules: {
        takeBackOrphans: async (olderThanMs, limit, continueWhile) => {
          const first = continueWhile();
          remainingMs = 999;
          asked.push([olderThanMs, limit, first, continueWhile()]);
          return { found: 2, takenBack: 1, failed: 1 };
        },
      },
    });
    const context = { ...lambdaContext(), getRemainingTimeInMillis: () => remainingMs };
    expect(await sweep(RULE, context)).toMatchObject({ outcome: 'swept', due: 0, orphans: { found: 2, takenBack: 1, failed: 1 } });
    expect(asked).toEqual([[70_000, SWEEP_BATCH, true, false]]);
  });

  it('reports no orphans in a gateway without scheduled transfers', async () => {
    expect(await sweepEntry({ ...noSlots, afterMs: 0 })(RULE, lambdaContext())).not.toHaveProperty('orphans');
  });

  it('still reports the slots it settled when the orphans cannot be looked for, and leaves them to the next sweep', async () => {
    const sweep = sweepEntry({ ...noSlots, afterMs: 0, schedules: { takeBackOrphans: async () => Promise.reject(new Error('index unreachable')) } });
    const report = await sweep(RULE, lambdaContext());
    expect(report).toMatchObject({ outcome: 'swept', due: 0, failed: 0 });
    expect(report).not.toHaveProperty('orphans');
  });
});

describe('why a request was dead-lettered', () => {
  const record = (messageAttributes: SQSRecord['messageAttributes']): SQSRecord =>
    ({ messageId: 'm', body: '{}', messageAttributes, attributes: {}, eventSource: 'aws:sqs' }) as unknown as SQSRecord;

  it('names EventBridge\'s error when the rule target could not deliver it', () => {
    const error = deadLetterErrorOf(record({ ERROR_CODE: { stringValue: 'NO_PERMISSIONS', dataType: 'String' }, ERROR_MESSAGE: { stringValue: 'Access denied', dataType: 'String' } }));
    expect(error).toEqual({ type: 'InternalServiceException', reason: 'INTERNAL_ERROR', message: expect.stringContaining('(NO_PERMISSIONS: Access denied)') });
  });

  it('says the gateway did not finish when the buffer redrove it', () => {
    expect(deadLetterErrorOf(record({})).message).toMatch(/^The gateway did not finish the request/);
  });
});

describe('which dead letters the door answers', () => {
  const BUFFER = 'arn:aws:sqs:us-east-1:111122223333:event-buffer';
  const text = (stringValue: string) => ({ stringValue, dataType: 'String' });
  const RULE = 'arn:aws:events:us-east-1:111122223333:rule/r';
  const sources = { bufferQueueArn: BUFFER, transferRuleArn: RULE };
  const fromTheRule = { RULE_ARN: text(RULE), TARGET_ARN: text(BUFFER), ERROR_CODE: text('CONNECTION_FAILURE') };
  const record = (attributes: Record<string, string>, messageAttributes: SQSRecord['messageAttributes'] = {}): SQSRecord =>
    ({ messageId: 'm', body: '{}', messageAttributes, attributes: { ApproximateReceiveCount: '1', SenderId: 'AIDA', ...attributes }, eventSource: 'aws:sqs' }) as unknown as SQSRecord;

  it.each<[string, SQSRecord, string | undefined]>([
    ["SQS's redrive from the buffer", record({ DeadLetterQueueSourceArn: BUFFER }), 'redriven'],
    ["the rule's delivery failure naming the buffer as its target", record({}, fromTheRule), 'undelivered'],
    ['a message sent by anyone, with nothing of either', record({}), undefined],
    ["a redrive from another queue (one whose redrive policy names this queue)", record({ DeadLetterQueueSourceArn: `${BUFFER}-other` }), undefined],
    ["the rule's attributes naming another target", record({}, { ...fromTheRule, TARGET_ARN: text(`${BUFFER}-other`) }), undefined],
    ["the rule's attributes without an error code", record({}, { RULE_ARN: fromTheRule.RULE_ARN, TARGET_ARN: fromTheRule.TARGET_ARN }), undefined],
    ["the rule's attributes on a redrive from another queue", record({ DeadLetterQueueSourceArn: `${BUFFER}-other` }, fromTheRule), undefined],
    ["another rule's attributes naming the buffer (any sender can write message attributes)", record({}, { ...fromTheRule, RULE_ARN: text(`${RULE}-other`) }), undefined],
  ])('%s', (_, deadLetter, arrival) => {
    expect(arrivalOf(deadLetter, sources)).toBe(arrival);
  });

  it('answers nothing in a gateway without an event buffer, and no delivery failure where the rule is not named', () => {
    expect(arrivalOf(record({ DeadLetterQueueSourceArn: BUFFER }), { ...sources, bufferQueueArn: undefined })).toBeUndefined();
    expect(arrivalOf(record({}, fromTheRule), { ...sources, transferRuleArn: undefined })).toBeUndefined();
    expect(arrivalOf(record({ DeadLetterQueueSourceArn: BUFFER }), { ...sources, transferRuleArn: undefined })).toBe('redriven');
  });
});
