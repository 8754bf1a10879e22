import { createHash } from 'node:crypto';
import type { TransferRequest } from './request';

export interface IdempotencyKeys {
  /** The caller's ClientToken, or the intent itself when there is none (contract section 6). */
  readonly idempotencyKey: string;
  /** What a key is bound to: the same key with another payload is CLIENT_TOKEN_REUSED. */
  readonly payloadHash: string;
  /** Sent to Connect, so Connect's own idempotency also holds across Lambda's retries. */
  readonly connectClientToken: string;
}

const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');

/**
 * A contact ends when it is transferred, so two token-less requests with the same target are the same intent.
 * Ids are already resolved from ARNs, so an id and its ARN give the same key.
 */
export function idempotencyKeysOf(request: TransferRequest, instanceId: string): IdempotencyKeys {
  const payloadHash = sha256(JSON.stringify([request.ContactId, request.ContactFlowId, request.QueueId ?? null, request.UserId ?? null]));
  const idempotencyKey = request.ClientToken === undefined ? `intent:${payloadHash}` : `token:${sha256(request.ClientToken)}`;
  return { idempotencyKey, payloadHash, connectClientToken: sha256(`${instanceId}\n${idempotencyKey}`) };
}

/**
 * How long Connect is documented to answer a repeated ClientToken with the original result. TransferContact's own
 * reference says only that the token ensures the request's idempotency; Connect's contact-starting APIs
 * (StartChatContact, StartTaskContact, StartOutboundChatContact, ...) say "The token is valid for 7 days after
 * creation. If a contact is already started, the contact ID is returned." We rely on no more than that: an intent
 * older than this is not re-sent to learn its outcome. (Re-sending could never transfer twice, since a transfer ends
 * the contact it moves; it could only mistake a forgotten token for a refusal.)
 */
export const CONNECT_CLIENT_TOKEN_VALIDITY_MS = 7 * 24 * 60 * 60 * 1000;
