import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PendingSlot } from '../../../lambda/adapters/pending-slots';
import { sweepEntry } from '../../../lambda/doors/sweep';
import { logger } from '../../../lambda/observability';
import type { Settlement } from '../../../lambda/usecase/sweep-settle';
import { lambdaContext, scheduledEvent } from '../../../local/lambda-events';

/** The sweep's entry as lambda/gateway.ts wires it: what it hands the use case, and what an operator reads in its log. */
const RULE = scheduledEvent('arn:aws:events:us-east-1:111122223333:rule/Stack-Backstops-1A2B3C4D', '111122223333');
const NOW = new Date('2030-01-01T10:00:00Z');

const slot = (contactId: string): PendingSlot => ({
  request: { ContactId: contactId, ContactFlowId: 'flow' },
  origin: { door: 'eventbridge', caller: 'arn:aws:iam::111122223333:role/publisher', correlationId: `corr-${contactId}` },
  lastAttemptAt: new Date(0),
  reservation: { treeId: `tree-${contactId}`, transferNumber: 2, transfersInTree: 2, fromContactId: contactId, idempotencyKey: `key-${contactId}` },
});

function sweepOf(slots: PendingSlot[], settle: (contactId: string) => Promise<Settlement>) {
  const settleCalls = vi.fn(async (request: PendingSlot['request'], _origin: PendingSlot['origin'], _deadline?: number) => settle(request.ContactId));
  const setAside = vi.fn(async () => undefined);
  const sweep = sweepEntry({ pendingSlots: { attemptedBefore: async () => slots }, useCase: { settle: settleCalls }, setAside, afterMs: 70_000 });
  return { sweep, settleCalls, setAside };
}

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('the sweep entry', () => {
  it('settles each due slot with the latest pacing slot the invocation leaves time for, and logs what it swept', async () => {
    vi.useFakeTimers({ now: NOW, toFake: ['Date'] });
    const info = vi.spyOn(logger, 'info');
    const { sweep, settleCalls } = sweepOf([slot('c-1'), slot('c-2')], async (contactId) => (contactId === 'c-1' ? 'transferred' : 'released'));
    const report = await sweep(RULE, lambdaContext(60_000));
    expect(report).toMatchObject({ due: 2, transferred: 1, released: 1, failed: 0 });
    // 60 s left, of which the last 3 s are kept for TransferContact's own retries and the records after it.
    expect(settleCalls).toHaveBeenNthCalledWith(1, slot('c-1').request, slot('c-1').origin, NOW.getTime() + 57_000);
    expect(info).toHaveBeenCalledWith('sweep', expect.objectContaining({ outcome: 'swept', due: 2, transferred: 1, released: 1 }));
  });

  it('begins no slot when the invocation has too little time left for a paced transfer', async () => {
    const { sweep, settleCalls } = sweepOf([slot('c-1')], async () => 'transferred');
    expect(await sweep(RULE, lambdaContext(3_999))).toMatchObject({ due: 1, transferred: 0 });
    expect(settleCalls).not.toHaveBeenCalled();
  });

  it('warns with the request\'s correlation id when a slot cannot be settled, and goes on to the next', async () => {
    const warn = vi.spyOn(logger, 'warn');
    const { sweep } = sweepOf([slot('c-1'), slot('c-2')], async (contactId) => {
      if (contactId === 'c-1') throw new Error('ledger unreachable');
      return 'released';
    });
    expect(await sweep(RULE, lambdaContext(60_000))).toMatchObject({ failed: 1, released: 1 });
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('could not be settled'), expect.objectContaining({ correlationId: 'corr-c-1', error: expect.any(Error) }));
  });

  it('alerts at error level, with the slot and who asked, when it sets a slot aside for an operator', async () => {
    const error = vi.spyOn(logger, 'error');
    const { sweep, setAside } = sweepOf([slot('c-1')], async () => 'not-pending');
    expect(await sweep(RULE, lambdaContext(60_000))).toMatchObject({ 'set-aside': 1 });
    expect(setAside).toHaveBeenCalledWith(slot('c-1'));
    expect(error).toHaveBeenCalledWith(
      expect.stringContaining('set aside'),
      expect.objectContaining({ treeId: 'tree-c-1', transferNumber: 2, idempotencyKey: 'key-c-1', correlationId: 'corr-c-1', door: 'eventbridge', requestedBy: 'arn:aws:iam::111122223333:role/publisher' }),
    );
  });

  it('does not look for orphaned schedules once the slots have left less than a second', async () => {
    const takeBackOrphans = vi.fn(async () => ({ found: 0, takenBack: 0, failed: 0 }));
    const sweep = sweepEntry({ pendingSlots: { attemptedBefore: async () => [] }, useCase: { settle: async () => 'released' }, setAside: async () => undefined, afterMs: 0, schedules: { takeBackOrphans } });
    expect(await sweep(RULE, lambdaContext(999))).not.toHaveProperty('orphans');
    expect(takeBackOrphans).not.toHaveBeenCalled();
  });

  it('warns when it cannot look for orphaned schedules', async () => {
    const warn = vi.spyOn(logger, 'warn');
    const sweep = sweepEntry({
      pendingSlots: { attemptedBefore: async () => [] },
      useCase: { settle: async () => 'released' },
      setAside: async () => undefined,
      afterMs: 0,
      schedules: { takeBackOrphans: async () => Promise.reject(new Error('index unreachable')) },
    });
    await sweep(RULE, lambdaContext());
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('orphaned schedules'), expect.objectContaining({ error: expect.any(Error) }));
  });
});
