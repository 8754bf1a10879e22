import type { ConnectInstance } from '../domain/arn';
import { TransferError } from '../domain/errors';
import type { IdempotencyKeys } from '../domain/idempotency-keys';
import type { TransferRequest } from '../domain/request';
import type { TransferPolicy } from '../domain/rules';
import { UNPACED } from '../ports';
import type { ConnectPort, IdempotencyPort, LedgerPort, Origin, PacingPort, ReservationRef, TransferResult } from '../ports';

export interface TransferDependencies {
  readonly instance: ConnectInstance;
  readonly policy: TransferPolicy;
  readonly connect: ConnectPort;
  readonly ledger: LedgerPort;
  readonly idempotency: IdempotencyPort;
  /** Connect's TransferContact quota; none, every call goes at once. */
  readonly pacing?: PacingPort;
  /**
   * Something an operator must act on: a transfer Connect accepted that is not fully recorded, or a reservation
   * that could not be released. One line that says what a retry will find, with everything needed to act by hand.
   */
  readonly alert: (message: string, details: Record<string, unknown>) => void;
  readonly now?: () => Date;
  /**
   * How long a failed condition answers a retry with the same key (the idempotency window of a success): a failed
   * condition is final for the request, and the same request asked again within it gets the same answer.
   */
  readonly skipAnswerMs?: number;
}

/** The dependencies with their defaults filled in: what every step of a transfer works with. */
export interface TransferContext {
  readonly deps: TransferDependencies;
  readonly now: () => Date;
  readonly pacing: PacingPort;
}

export function transferContextOf(deps: TransferDependencies): TransferContext {
  return { deps, now: deps.now ?? (() => new Date()), pacing: deps.pacing ?? UNPACED };
}

/** What one invocation did inside the idempotency lock, for what it reports once the lock is left. */
export interface Attempt {
  ran: boolean;
  replayed: boolean;
  treeId?: string;
  /** The ledger write that records an accepted transfer: resolves to its error, or undefined when it landed. */
  recording?: Promise<unknown>;
  /** The latest a pacing slot may come. */
  readonly slotDeadline: number;
  details?: Record<string, unknown>;
}

export function attemptUntil(slotDeadline = Number.POSITIVE_INFINITY): Attempt {
  return { ran: false, replayed: false, slotDeadline };
}

/** Everything needed to record a transfer by hand: tree, number, contacts, flow, queue or user, caller, key. */
export function details(
  request: TransferRequest,
  origin: Origin,
  keys?: IdempotencyKeys,
  reservation?: ReservationRef,
  result?: TransferResult,
): Record<string, unknown> {
  return {
    treeId: reservation?.treeId,
    transferNumber: reservation?.transferNumber,
    fromContactId: request.ContactId,
    toContactId: result?.ContactId,
    toContactArn: result?.ContactArn,
    contactFlowId: request.ContactFlowId,
    queueId: request.QueueId,
    userId: request.UserId,
    door: origin.door,
    requestedBy: origin.caller,
    correlationId: origin.correlationId,
    idempotencyKey: reservation?.idempotencyKey ?? keys?.idempotencyKey,
  };
}

/** The ledger could not be read or written before the transfer: refuse rather than risk rule 14 (retryable). */
export async function failClosed<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw TransferError.of('INTERNAL_ERROR', { cause: error });
  }
}

/** Resolves at `time` (ms since the epoch), at once when it has passed. */
export function untilTime(time: number): Promise<void> {
  const wait = time - Date.now();
  return wait > 0 ? new Promise((resolve) => setTimeout(resolve, wait)) : Promise.resolve();
}
