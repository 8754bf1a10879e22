import { TransferError } from '../domain/errors';
import type { IdempotencyKeys } from '../domain/idempotency-keys';
import type { TransferRequest } from '../domain/request';
import { firstFailingRule } from '../domain/rules';
import type { Origin, Reservation, TransferResult, TreeTally } from '../ports';
import type { Gathered } from './look-ups';
import { giveBack, send } from './send-transfer';
import { rejection, skip } from './skipped-condition';
import { failClosed } from './transfer-context';
import type { Attempt, TransferContext } from './transfer-context';

/**
 * A request no earlier attempt holds a record for: the rules, then the reservation with a pacing slot beside it, then
 * TransferContact. A failed condition is recorded before it is answered.
 */
export async function transferFresh(ctx: TransferContext, request: TransferRequest, origin: Origin, keys: IdempotencyKeys, gathered: Gathered, attempt: Attempt): Promise<TransferResult> {
  const failing = firstFailingRule(gathered.facts, ctx.deps.policy);
  if (failing === 'CONDITION_NOT_MET' && gathered.facts.failedCondition) await skip(ctx, request, origin, keys, gathered.facts.failedCondition);
  if (failing) throw rejection(failing, gathered.facts);
  // Only a request about to call TransferContact takes a pacing slot, beside its reservation: no stage of its own.
  const slot = ctx.pacing.slot(attempt.slotDeadline);
  let reservation: Reservation;
  try {
    reservation = await reserve(ctx, request, origin, keys, gathered.treeId ?? request.ContactId, gathered.tally);
  } catch (error) {
    await giveBack(ctx, slot);
    throw error;
  }
  return send(ctx, request, origin, keys, reservation, attempt, 'reserved-now', slot);
}

/**
 * Rule 14 whatever the ledger's health: the transfer's numbered slot is taken before Connect is asked, and a slot
 * exists only after every lower one did, so the slots counted before taking one are all there were.
 */
async function reserve({ deps, now }: TransferContext, request: TransferRequest, origin: Origin, keys: IdempotencyKeys, treeId: string, tally: TreeTally): Promise<Reservation> {
  const { ledger, policy } = deps;
  let slots = tally;
  for (let recounted = false; ; recounted = true) {
    const reservation: Reservation = {
      treeId,
      transferNumber: slots.lastNumber + 1,
      transfersInTree: slots.counted + 1,
      fromContactId: request.ContactId,
      request,
      origin,
      idempotencyKey: keys.idempotencyKey,
      payloadHash: keys.payloadHash,
      at: now(),
    };
    const outcome = await failClosed(() => ledger.reserve(reservation));
    if (outcome === 'reserved') return reservation;
    if (outcome === 'key-taken') throw TransferError.of('REQUEST_IN_PROGRESS');
    if (outcome === 'contact-busy') throw TransferError.of('TRANSFER_IN_PROGRESS');
    if (recounted) {
      throw TransferError.of('REQUEST_IN_PROGRESS', { message: "Another transfer of this contact's tree is in progress; retry later." });
    }
    // Someone took the slot after the count was read: count the tree's slots themselves.
    slots = await failClosed(() => ledger.tally(treeId));
    if (slots.counted >= policy.maxTransfers) throw TransferError.of('TRANSFER_LIMIT_REACHED');
  }
}
