import { TransferError } from '../domain/errors';
import type { IdempotencyKeys } from '../domain/idempotency-keys';
import type { TransferRequest } from '../domain/request';
import type { ContactFacts } from '../domain/facts';
import { failedCondition } from '../domain/transfer-conditions';
import type { FailedCondition } from '../domain/transfer-conditions';
import { TransferNotSent } from '../ports';
import type { Origin, Precondition, ReservationRef, TransferResult } from '../ports';
import { conditionNotMet, skip } from './skipped-condition';
import { details, failClosed, untilTime } from './transfer-context';
import type { Attempt, TransferContext } from './transfer-context';

/**
 * Whose reservation a TransferContact call serves: one this invocation just made, a pending one of an earlier attempt
 * whose contact still looks active, or one whose contact ended (the call asks Connect for the earlier attempt's answer).
 */
export type Sending = 'reserved-now' | 'resuming' | 'answering-earlier-attempt';

/** Sends of one TransferContact that Connect may throttle before the request answers THROTTLED: the SDK's usual attempts. */
export const THROTTLED_SENDS = 3;

/**
 * TransferContact for a reservation, in a pacing slot: releases the reservation when nothing was transferred, and
 * starts the ledger's record of an accepted transfer (the attempt holds it, for what is reported once the lock is left).
 */
export async function send(
  ctx: TransferContext,
  request: TransferRequest,
  origin: Origin,
  keys: IdempotencyKeys,
  reservation: ReservationRef,
  attempt: Attempt,
  sending: Sending,
  reservedSlot?: Promise<number | undefined>,
): Promise<TransferResult> {
  const { deps, now, pacing } = ctx;
  const slot = reservedSlot ?? pacing.slot(attempt.slotDeadline);
  if (sending !== 'reserved-now') {
    // This attempt may reach Connect until the invocation ends, whatever the contact looked like: the sweeper counts
    // from now, not from the reservation, before it takes an active contact for one never transferred.
    const stillPending = await failClosed(() => deps.ledger.attempting(reservation, now())).catch(async (error: unknown) => {
      await giveBack(ctx, slot);
      throw error;
    });
    if (!stillPending) {
      await giveBack(ctx, slot);
      throw TransferError.of('REQUEST_IN_PROGRESS', { message: 'An earlier attempt with this idempotency key was settled meanwhile; retry to hear its outcome.' });
    }
  }
  const sendAt = await slot;
  if (sendAt === undefined) {
    // Never sent (paced out): this invocation transferred nothing. Only a reservation it made itself is known to hold
    // no transfer; a resumed one belongs to an earlier attempt that may have reached Connect (a contact that still
    // looks active may not show its disconnect yet), so it stays for a retry to re-send.
    const pacedOut = TransferError.pacedOut();
    if (sending === 'reserved-now') await release(ctx, reservation, pacedOut.reason, request, origin);
    throw pacedOut;
  }
  await untilTime(sendAt);
  let result: TransferResult;
  // Conditions are judged again on a DescribeContact made right before the call: the window in which an agent can take
  // the contact shrinks from this attempt's look-ups, reservation and pacing wait to one round trip. Only for a
  // reservation made now: a resumed one must reach Connect to learn what an earlier attempt did.
  let failedOnRecheck: FailedCondition | undefined;
  const conditions = sending === 'reserved-now' ? request.Conditions : undefined;
  const precondition = conditions && ((contact: ContactFacts | undefined) => {
    if (!contact || contact.disconnected) return TransferError.of('CONTACT_NOT_ACTIVE');
    failedOnRecheck = failedCondition(conditions, contact, now());
    return failedOnRecheck && conditionNotMet(failedOnRecheck);
  });
  try {
    result = await transferInSlots(ctx, request, keys, attempt, precondition);
  } catch (error) {
    // Never sent (a condition no longer held on the second look, or that look failed): this invocation transferred
    // nothing, and only a reservation it made itself is sent with a precondition, so that one is given back.
    if (error instanceof TransferNotSent) {
      if (sending === 'reserved-now') await release(ctx, reservation, error.failure.reason, request, origin);
      if (failedOnRecheck) await skip(ctx, request, origin, keys, failedOnRecheck);
      throw error.failure;
    }
    // Connect answered and refused: nothing was transferred. Anything else (throttled after retries, 5xx, no
    // answer) may hide an attempt Connect accepted, so the intent stays for a retry to re-send.
    if (error instanceof TransferError && error.reason === 'CONNECT_REJECTED') await release(ctx, reservation, error.type, request, origin);
    throw error;
  }
  attempt.replayed = sending === 'answering-earlier-attempt';
  attempt.details = details(request, origin, keys, reservation, result);
  attempt.recording = deps.ledger.complete(reservation, result, now()).then(
    () => undefined,
    (error: unknown) => error ?? new Error('The ledger write failed'),
  );
  return result;
}

/** A pacing slot taken for a call that will not be made goes back to the pacer. */
export async function giveBack({ pacing }: TransferContext, slot: Promise<number | undefined>): Promise<void> {
  const sendAt = await slot;
  if (sendAt !== undefined) await pacing.giveBack(sendAt);
}

/**
 * TransferContact, sent again in a later slot of the shared pacer while Connect throttles it (the SDK leaves a
 * throttle to the pacer: lambda/clients.ts), up to the SDK's usual three sends. Each throttle slows the shared pacer
 * before the next slot is taken, so the re-send queues behind the slots other requests hold. The ClientToken is the
 * same on every send, so Connect transfers at most once.
 */
async function transferInSlots(
  { deps, pacing }: TransferContext,
  request: TransferRequest,
  keys: IdempotencyKeys,
  attempt: Attempt,
  precondition?: Precondition,
): Promise<TransferResult> {
  for (let sends = 1; ; sends += 1) {
    try {
      return await (precondition
        ? deps.connect.transferContact(request, keys.connectClientToken, precondition)
        : deps.connect.transferContact(request, keys.connectClientToken));
    } catch (error) {
      if (!(error instanceof TransferError && error.reason === 'THROTTLED')) throw error;
      await pacing.throttled();
      const next = sends < THROTTLED_SENDS ? await pacing.slot(attempt.slotDeadline) : undefined;
      if (next === undefined) throw error;
      await untilTime(next);
    }
  }
}

async function release({ deps, now }: TransferContext, reservation: ReservationRef, reason: string, request: TransferRequest, origin: Origin): Promise<void> {
  try {
    await deps.ledger.release(reservation, reason, now());
  } catch (error) {
    deps.alert(
      'A reservation whose transfer did not happen could not be released: it counts toward maxTransfers (fail closed) until a retry with the same key releases it',
      { ...details(request, origin, undefined, reservation), reason, error },
    );
  }
}
