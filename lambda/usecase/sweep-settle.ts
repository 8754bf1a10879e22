import { TransferError } from '../domain/errors';
import { idempotencyKeysOf } from '../domain/idempotency-keys';
import type { TransferRequest } from '../domain/request';
import { unstored } from '../ports';
import type { IdempotencyOutcome, Origin, TransferResult, Unstored } from '../ports';
import { outsideTokenWindow } from './earlier-attempt';
import { send } from './send-transfer';
import { attemptUntil, failClosed } from './transfer-context';
import type { TransferContext } from './transfer-context';
import { ledgerHoldsTransfer } from './transfer-recording';

/**
 * What the sweeper did with one PENDING intent: recorded the transfer Connect confirmed, released a slot whose
 * transfer never happened, found it no longer PENDING, left it to the request that holds its key right now, or set
 * it aside for an operator after alerting (its outcome can no longer be confirmed).
 */
export type Settlement = 'transferred' | 'released' | 'not-pending' | 'in-progress' | 'set-aside';

/** The release reason the sweeper records on a slot whose contact was still active, so never transferred. */
export const SWEPT_UNTRANSFERRED = 'ABANDONED_CONTACT_ACTIVE';

/**
 * The sweeper's backstop for a PENDING intent whose request stopped (its caller never retried, or the function died):
 * under the idempotency lock, as a retry with the same key would run, so a concurrent retry and the sweeper never
 * both act. It never starts a transfer: a contact still active was not transferred (a transfer ends the contact),
 * so its slot is released and the key given back; an ended contact's transfer is re-sent with the same ClientToken,
 * so Connect's original answer completes the ledger (and its Contact Transferred event) and a refusal releases the
 * slot, as `resume` does. An intent that is no longer PENDING is left as it is. Failures a later sweep can fix throw.
 */
export async function settle(ctx: TransferContext, request: TransferRequest, origin: Origin, slotDeadline?: number): Promise<Settlement> {
  const { deps, now } = ctx;
  const keys = idempotencyKeysOf(request, deps.instance.id);
  const attempt = attemptUntil(slotDeadline);
  let outcome: IdempotencyOutcome | Unstored<Settlement>;
  try {
    outcome = await deps.idempotency.once(keys, async (): Promise<TransferResult | Unstored<Settlement>> => {
      attempt.ran = true;
      const { ledger, connect } = deps;
      const [view, contact] = await failClosed(() => Promise.all([ledger.read(request.ContactId, keys.idempotencyKey), connect.describeContact(request.ContactId)]));
      const intent = view.intent;
      if (intent?.status !== 'PENDING' || intent.payloadHash !== keys.payloadHash) return unstored('not-pending');
      if (contact !== undefined && !contact.disconnected) {
        // Not through `release`, which alerts: a release that fails here is simply tried again by the next sweep.
        await ledger.release(intent, SWEPT_UNTRANSFERRED, now());
        return unstored('released');
      }
      if (outsideTokenWindow(ctx, request, origin, keys, intent)) {
        // Alerted: every later sweep would alert again and spend a place in its batch on it.
        await ledger.setAside(intent);
        return unstored('set-aside');
      }
      try {
        return await send(ctx, request, origin, keys, intent, attempt, 'answering-earlier-attempt');
      } catch (error) {
        // Connect refused the re-sent transfer: `send` released the slot.
        if (error instanceof TransferError && error.reason === 'CONNECT_REJECTED') return unstored('released');
        throw error;
      }
    });
  } catch (error) {
    if (error instanceof TransferError && error.reason === 'REQUEST_IN_PROGRESS') return 'in-progress';
    throw error;
  }
  if ('left' in outcome) return outcome.left;
  if (!(await ledgerHoldsTransfer(ctx, request, origin, keys, outcome, attempt))) throw new Error('The transfer was confirmed but the ledger did not record it; the next sweep tries again.');
  return 'transferred';
}
