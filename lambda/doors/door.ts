import type { Context } from 'aws-lambda';
import type { TransferError } from '../domain/errors';
import type { Origin } from '../ports';
import type { TransferOutcome } from '../usecase/transfer-contact';

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
