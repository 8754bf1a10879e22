import type { Context } from 'aws-lambda';
import type { ConnectInstance } from '../domain/arn';
import { TransferError } from '../domain/errors';
import { parseTransferRequest } from '../domain/request';
import { logger, metrics, reportOutcome } from '../observability';
import type { Origin } from '../ports';
import type { TransferContactUseCase, TransferOutcome } from '../usecase/transfer-contact';

/**
 * A primary adapter: turns one kind of Lambda event into the request input and renders the outcome back
 * in the form its caller expects.
 */
export interface Door<Event, Response> {
  origin(event: Event, context: Context): Origin;
  /** The raw request, before rules 1-3; throws TransferError when the envelope itself is unusable. */
  input(event: Event): unknown;
  succeeded(outcome: TransferOutcome, origin: Origin): Response;
  /** Returns what the caller should receive, or throws when the caller must see a failed invocation. */
  failed(error: TransferError, origin: Origin): Response;
}

/** What every door that transfers is wired with (lambda/gateway.ts). */
export interface TransferDoorDependencies {
  readonly instance: ConnectInstance;
  readonly useCase: Pick<TransferContactUseCase, 'execute'>;
}

/**
 * Kept free after the pacer's slot for TransferContact itself (the SDK retries a network error or a 5xx for up to
 * ~2 s) and the records that follow; a slot, a throttled call's re-send included, later than the invocation's end less
 * this is not taken.
 */
const AFTER_SLOT_MS = 3000;

/** The latest a pacing slot may come in an invocation: its end less what TransferContact and the rest need. */
export const slotDeadlineOf = (context: Context): number => Date.now() + context.getRemainingTimeInMillis() - AFTER_SLOT_MS;

/**
 * One request through one door: rules 1-3 on what the door hands over, the use case, one outcome line and metric,
 * and the door's answer. Every failure reaches the door as the TransferError it is.
 */
export async function transferThrough<Event, Response>(
  door: Door<Event, Response>,
  deps: TransferDoorDependencies,
  event: Event,
  context: Context,
  options: { readonly lockBeforeLookups?: boolean } = {},
): Promise<Response> {
  const startedAt = Date.now();
  const origin = door.origin(event, context);
  logger.appendKeys({ correlationId: origin.correlationId });
  let contactId: string | undefined;
  try {
    const request = parseTransferRequest(door.input(event), deps.instance);
    contactId = request.ContactId;
    const outcome = await deps.useCase.execute(request, origin, { ...options, slotDeadline: slotDeadlineOf(context) });
    reportOutcome({ origin, contactId, startedAt, outcome });
    return door.succeeded(outcome, origin);
  } catch (caught) {
    const error = asTransferError(caught);
    reportOutcome({ origin, contactId, startedAt, error });
    return door.failed(error, origin);
  } finally {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  }
}

/** Anything the gateway did not name itself is an internal error, its cause kept for the log. */
export function asTransferError(caught: unknown): TransferError {
  return caught instanceof TransferError ? caught : TransferError.of('INTERNAL_ERROR', { cause: caught });
}

/**
 * Lambda reports a thrown error's `name` as its errorType, so Step Functions can Catch on
 * `ResourceNotFoundException` and read the reason first in the message.
 */
export function namedFailure(error: TransferError): Error {
  const failure = new Error(`${error.reason}: ${error.message}`);
  failure.name = error.type;
  return failure;
}

/** A JSON object: what every event shape check starts from. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
