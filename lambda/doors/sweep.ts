import type { Context, ScheduledEvent } from 'aws-lambda';
import type { PendingSlot } from '../adapters/pending-slots';
import { logger } from '../observability';
import type { Origin } from '../ports';
import type { TransferRequest } from '../domain/request';
import type { OrphanReport, ScheduledTransfers } from '../usecase/scheduled-transfers';
import type { Settlement } from '../usecase/sweep-settle';
import type { TransferContactUseCase } from '../usecase/transfer-contact';
import { isRecord, slotDeadlineOf } from './door';

/**
 * The sweeper's door: the stack's schedule rule invokes the function with EventBridge's own scheduled event. Trusted
 * by what only that rule sets: `source` aws.events (no one can put an aws.* event), the stack's account, and the
 * rule's ARN as the one resource, as the other doors trust their buffer's or API's. A sweep starts no transfer,
 * so even a forged one could only settle what is already due.
 */
export function isSweepEvent(event: unknown, ruleArn: string | undefined, account: string): event is ScheduledEvent {
  return (
    ruleArn !== undefined &&
    isRecord(event) &&
    event.source === 'aws.events' &&
    event['detail-type'] === 'Scheduled Event' &&
    event.account === account &&
    Array.isArray(event.resources) &&
    event.resources.length === 1 &&
    event.resources[0] === ruleArn
  );
}

export type SweepReport = { readonly outcome: 'swept'; readonly due: number; readonly failed: number; readonly orphans?: OrphanReport } & Readonly<Record<Settlement, number>>;

export interface SweepDependencies {
  readonly pendingSlots: { attemptedBefore(before: Date, limit: number): Promise<PendingSlot[]> };
  readonly settle: (request: TransferRequest, origin: Origin) => Promise<Settlement>;
  /** Takes a slot out of the sweep, left PENDING for an operator; throws when the slot is no longer PENDING under its key. */
  readonly setAside: (slot: PendingSlot) => Promise<void>;
  /** A slot attempted less than this ago may still belong to a running invocation (the function's timeout plus a margin). */
  readonly afterMs: number;
  readonly remainingMs: () => number;
  readonly onFailure: (slot: PendingSlot, error: unknown) => void;
  /** A PENDING slot its own request does not settle, set aside: an operator must record or release it by hand. */
  readonly onSetAside: (slot: PendingSlot) => void;
  readonly now?: () => Date;
}

/** Slots one sweep looks at, at most: one Query page, and far more than a healthy gateway ever leaves behind. */
export const SWEEP_BATCH = 100;
/** A slot is begun only while this much of the invocation is left (a paced TransferContact and two ledger writes). */
const PER_SLOT_MS = 4000;
/** An orphaned schedule is taken back only while this much is left (one transaction). */
const PER_ORPHAN_MS = 1000;

/**
 * Every PENDING slot last attempted more than `afterMs` ago, longest first, one at a time: each may re-send one paced
 * TransferContact. What is not reached, or fails, stays PENDING and is swept again by the next run; what is set aside
 * leaves the index. A slot still PENDING whose request finds no PENDING intent of its own is set aside too: every
 * later sweep would find the same, and such slots at the front of the index would keep the sweep from the rest.
 */
export async function sweepPendingIntents(deps: SweepDependencies): Promise<SweepReport> {
  const now = deps.now?.() ?? new Date();
  const due = await deps.pendingSlots.attemptedBefore(new Date(now.getTime() - deps.afterMs), SWEEP_BATCH);
  const counts: Record<Settlement | 'failed', number> = { transferred: 0, released: 0, 'not-pending': 0, 'in-progress': 0, 'set-aside': 0, failed: 0 };
  for (const slot of due) {
    if (deps.remainingMs() < PER_SLOT_MS) break;
    try {
      const settlement = await deps.settle(slot.request, slot.origin);
      if (settlement === 'not-pending') {
        await deps.setAside(slot);
        deps.onSetAside(slot);
        counts['set-aside'] += 1;
      } else {
        counts[settlement] += 1;
      }
    } catch (error) {
      counts.failed += 1;
      deps.onFailure(slot, error);
    }
  }
  return { outcome: 'swept', due: due.length, ...counts };
}

export interface SweepEntryDependencies {
  readonly pendingSlots: SweepDependencies['pendingSlots'];
  readonly useCase: Pick<TransferContactUseCase, 'settle'>;
  readonly setAside: SweepDependencies['setAside'];
  readonly afterMs: number;
  /** Scheduled transfers, when the gateway has them: their orphans are due after the same wait as a slot. */
  readonly schedules?: Pick<ScheduledTransfers, 'takeBackOrphans'>;
}

/**
 * The schedule's entry: every due PENDING intent settled through the use case, each re-send paced; then, in what is
 * left of the invocation, every schedule whose create stopped before the scheduler held it taken back.
 */
export function sweepEntry(deps: SweepEntryDependencies): (event: ScheduledEvent, context: Context) => Promise<SweepReport> {
  return async (_event, context) => {
    const report = await sweepPendingIntents({
      pendingSlots: deps.pendingSlots,
      settle: (request, origin) => deps.useCase.settle(request, origin, slotDeadlineOf(context)),
      setAside: deps.setAside,
      afterMs: deps.afterMs,
      remainingMs: () => context.getRemainingTimeInMillis(),
      onFailure: (slot, error) => logger.warn('A pending intent could not be settled; the next sweep tries again', { correlationId: slot.origin.correlationId, error }),
      onSetAside: (slot) =>
        logger.error(
          'A PENDING transfer slot whose request finds no PENDING intent of its own was set aside: it counts toward maxTransfers and keeps its contact marked in flight until it is recorded or released by hand',
          { ...slot.reservation, correlationId: slot.origin.correlationId, door: slot.origin.door, requestedBy: slot.origin.caller },
        ),
    });
    const timeForOrphans = () => context.getRemainingTimeInMillis() >= PER_ORPHAN_MS;
    // Not even the search when the slots took the time: a Query cut off by the timeout would fail the whole sweep.
    const orphans = !timeForOrphans()
      ? undefined
      : await deps.schedules
          ?.takeBackOrphans(deps.afterMs, SWEEP_BATCH, timeForOrphans)
          .catch((error: unknown) => void logger.warn('The sweep could not look for orphaned schedules; the next sweep looks again', { error }));
    const swept = { ...report, ...(orphans && { orphans }) };
    logger.info('sweep', { ...swept });
    return swept;
  };
}
