import { TransferError } from '../domain/errors';
import { CONNECT_CLIENT_TOKEN_VALIDITY_MS } from '../domain/idempotency-keys';
import type { IdempotencyKeys } from '../domain/idempotency-keys';
import type { TransferRequest } from '../domain/request';
import { firstFailingRule } from '../domain/rules';
import type { Intent, Origin, TransferResult } from '../ports';
import type { Gathered } from './look-ups';
import { send } from './send-transfer';
import { details } from './transfer-context';
import type { Attempt, TransferContext } from './transfer-context';

/**
 * Why a retry whose earlier attempt is unsettled is answered retryably although a rule fails now: that attempt may
 * still transfer the contact, and a caller told of the rule would take the request as refused.
 */
const EARLIER_ATTEMPT_UNSETTLED = (failing: string): string =>
  `An earlier attempt with this idempotency key may still reach Amazon Connect, so its outcome is not settled yet (the request now fails ${failing}); retry later.`;

/**
 * A pending intent means an earlier invocation reserved this transfer and its outcome was lost. A transfer ends the
 * contact it moves, so a contact that still looks active was not transferred yet: check the rules again (the slot
 * already holds rule 14's place) and send it. An ended contact may have been transferred by that attempt: re-send
 * the same request with the same ClientToken, and Connect answers with the original result, or refuses if it never
 * happened.
 */
export async function resume(
  ctx: TransferContext,
  request: TransferRequest,
  origin: Origin,
  keys: IdempotencyKeys,
  intent: Intent,
  gathered: Gathered,
  attempt: Attempt,
): Promise<TransferResult> {
  if (!gathered.facts.contact?.disconnected) {
    const failing = firstFailingRule({ ...gathered.facts, transfersInTree: 0 }, ctx.deps.policy);
    // Never released on what the contact looks like now: the earlier attempt's TransferContact may still be on its
    // way to Connect (or accepted, with the contact not showing it yet). The intent stays PENDING until a retry sees
    // the contact end and hears Connect's answer, or the sweeper, once no attempt can be in flight, settles it.
    if (failing) throw TransferError.of('REQUEST_IN_PROGRESS', { message: EARLIER_ATTEMPT_UNSETTLED(failing) });
    return send(ctx, request, origin, keys, intent, attempt, 'resuming');
  }
  return resumeEnded(ctx, request, origin, keys, intent, attempt);
}

/** The contact of a pending intent has ended: only Connect's answer to the same ClientToken tells what happened. */
async function resumeEnded(ctx: TransferContext, request: TransferRequest, origin: Origin, keys: IdempotencyKeys, intent: Intent, attempt: Attempt): Promise<TransferResult> {
  if (outsideTokenWindow(ctx, request, origin, keys, intent)) {
    throw TransferError.of('INTERNAL_ERROR', { message: 'The outcome of an earlier attempt with this idempotency key cannot be confirmed.' });
  }
  return send(ctx, request, origin, keys, intent, attempt, 'answering-earlier-attempt');
}

/** Connect no longer remembers the intent's ClientToken, so nothing can confirm its outcome: alerts, once per call. */
export function outsideTokenWindow({ deps, now }: TransferContext, request: TransferRequest, origin: Origin, keys: IdempotencyKeys, intent: Intent): boolean {
  if (now().getTime() - intent.intendedAt.getTime() <= CONNECT_CLIENT_TOKEN_VALIDITY_MS) return false;
  deps.alert(
    "A pending transfer intent is older than Connect's ClientToken window and its contact has ended: whether Connect transferred it is unknown; check the contact in Connect and record or release it by hand",
    details(request, origin, keys, intent),
  );
  return true;
}
