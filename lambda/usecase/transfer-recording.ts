import type { IdempotencyKeys } from '../domain/idempotency-keys';
import type { TransferRequest } from '../domain/request';
import type { IdempotencyOutcome, LedgerView, Origin, TransferResult } from '../ports';
import { details } from './transfer-context';
import type { Attempt, TransferContext } from './transfer-context';

/**
 * Once the lock is left, for an outcome that holds a transfer: true when the ledger holds it. A replay from the
 * idempotency store (this invocation ran nothing) records what its predecessor may have left PENDING, reading the
 * ledger unless `readAlongside` already did; otherwise the answer is this invocation's own writes.
 */
export async function ledgerHoldsTransfer(
  ctx: TransferContext,
  request: TransferRequest,
  origin: Origin,
  keys: IdempotencyKeys,
  outcome: IdempotencyOutcome,
  attempt: Attempt,
  readAlongside?: Promise<LedgerView>,
): Promise<boolean> {
  const recorded = await reportWrites(ctx, request, origin, keys, outcome, attempt);
  return outcome.replayed && !attempt.ran ? recordReplay(ctx, request, origin, keys, outcome.result, readAlongside) : recorded;
}

/**
 * Alerts for what this invocation's writes left undone. True unless this invocation's own
 * ledger write of an accepted transfer failed.
 */
async function reportWrites(
  { deps }: TransferContext,
  request: TransferRequest,
  origin: Origin,
  keys: IdempotencyKeys,
  outcome: IdempotencyOutcome,
  attempt: Attempt,
): Promise<boolean> {
  if (attempt.recording) {
    const ledgerFailure = await attempt.recording;
    reportRecording(deps.alert, ledgerFailure, outcome.storeFailure, attempt.details ?? {});
    return ledgerFailure === undefined;
  }
  if (outcome.storeFailure) {
    deps.alert('The idempotency record of a transfer the ledger already holds was not completed; the ledger answers a retry', {
      ...details(request, origin, keys),
      error: outcome.storeFailure,
    });
  }
  return true;
}

/**
 * A replay from the idempotency store: if this invocation's predecessor failed to record the transfer, records it
 * now. True when the ledger holds the transfer.
 */
async function recordReplay(
  { deps, now }: TransferContext,
  request: TransferRequest,
  origin: Origin,
  keys: IdempotencyKeys,
  result: TransferResult,
  readAlongside?: Promise<LedgerView>,
): Promise<boolean> {
  // A read that fails says nothing about the ledger: the answer stands, and the next replay looks again.
  const view = await (readAlongside ?? deps.ledger.read(request.ContactId, keys.idempotencyKey)).catch(() => undefined);
  if (view === undefined) return false;
  const intent = view.intent;
  if (intent?.status !== 'PENDING' || intent.payloadHash !== keys.payloadHash) return true;
  try {
    await deps.ledger.complete(intent, result, now());
    return true;
  } catch (error) {
    deps.alert('Connect accepted this transfer earlier and the ledger still holds it as PENDING; a later replay tries again, otherwise record it by hand', {
      ...details(request, origin, keys, intent, result),
      error,
    });
    return false;
  }
}

/** Says only what is true of this invocation's writes, and what a retry with the same key will find. */
function reportRecording(alert: TransferContext['deps']['alert'], ledgerFailure: unknown, storeFailure: unknown, transfer: Record<string, unknown>): void {
  if (ledgerFailure === undefined && storeFailure === undefined) return;
  if (ledgerFailure === undefined) {
    alert('Connect accepted the transfer and the ledger recorded it, but its idempotency record was not completed; the ledger answers a retry', {
      ...transfer,
      error: storeFailure,
    });
  } else if (storeFailure === undefined) {
    alert(
      'Connect accepted the transfer but the ledger did not record it: its slot stays reserved (PENDING) and counts toward maxTransfers; a retry with the same key records it, otherwise record it by hand',
      { ...transfer, error: ledgerFailure },
    );
  } else {
    alert(
      "Connect accepted the transfer but neither the ledger nor the idempotency record holds it: its slot stays reserved (PENDING); a retry with the same key re-sends it with the same ClientToken and records Connect's original answer, otherwise record it by hand",
      { ...transfer, error: ledgerFailure, storeError: storeFailure },
    );
  }
}
