import { TransferError } from '../domain/errors';
import type { IdempotencyKeys } from '../domain/idempotency-keys';
import type { TransferRequest } from '../domain/request';
import type { firstFailingRule, TransferFacts } from '../domain/rules';
import type { FailedCondition } from '../domain/transfer-conditions';
import type { Origin } from '../ports';
import { failClosed } from './transfer-context';
import type { TransferContext } from './transfer-context';

/** The idempotency window of a success when none is configured (contract section 6: at least an hour). */
const DEFAULT_SKIP_ANSWER_MS = 60 * 60 * 1000;

/**
 * A failed condition is final (contract section 11): recorded under the key before it is answered, so a retry gets
 * the same answer and the record's one Contact Transfer Skipped event follows. A record that cannot be written fails
 * the request (retryable) rather than answer without the event.
 */
export async function skip({ deps, now }: TransferContext, request: TransferRequest, origin: Origin, keys: IdempotencyKeys, failed: FailedCondition): Promise<void> {
  const at = now();
  const answeredUntil = new Date(at.getTime() + (deps.skipAnswerMs ?? DEFAULT_SKIP_ANSWER_MS));
  await failClosed(() => deps.ledger.skip({ idempotencyKey: keys.idempotencyKey, payloadHash: keys.payloadHash, request, origin, failed, at, answeredUntil }));
}

/** The caller's answer for a failing rule: a failed condition names itself and what the contact showed. */
export function rejection(failing: Exclude<ReturnType<typeof firstFailingRule>, undefined>, facts: TransferFacts): TransferError {
  return failing === 'CONDITION_NOT_MET' && facts.failedCondition ? conditionNotMet(facts.failedCondition) : TransferError.of(failing);
}

export function conditionNotMet(failed: FailedCondition): TransferError {
  return TransferError.of('CONDITION_NOT_MET', { message: failed.message });
}
