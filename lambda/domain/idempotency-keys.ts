import { createHash } from 'node:crypto';
import type { TransferRequest } from './request';
import type { TransferConditions } from './transfer-conditions';

export interface IdempotencyKeys {
  /** The caller's ClientToken, or the intent itself when there is none (contract section 6). */
  readonly idempotencyKey: string;
  /** What a key is bound to: the same key with another payload is CLIENT_TOKEN_REUSED. */
  readonly payloadHash: string;
  /** Sent to Connect, so Connect's own idempotency also holds across Lambda's retries. */
  readonly connectClientToken: string;
}

/** Hex SHA-256, the hash of every key and payload binding the gateway derives. */
export const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');

/**
 * A contact ends when it is transferred, so two token-less requests with the same target are the same intent.
 * Ids are already resolved from ARNs, so an id and its ARN give the same key.
 */
export function idempotencyKeysOf(request: TransferRequest, instanceId: string): IdempotencyKeys {
  const target = [request.ContactId, request.ContactFlowId, request.QueueId ?? null, request.UserId ?? null];
  // Appended only when given, so a request without them keeps the hash (and the key) it always had.
  const additions = request.Note === undefined && request.Conditions === undefined ? [] : [request.Note ?? null, conditionsText(request.Conditions)];
  const payloadHash = sha256(JSON.stringify([...target, ...additions]));
  const idempotencyKey = request.ClientToken === undefined ? `intent:${payloadHash}` : `token:${sha256(request.ClientToken)}`;
  return { idempotencyKey, payloadHash, connectClientToken: sha256(`${instanceId}\n${idempotencyKey}`) };
}

/** In a fixed member order, so the same conditions always hash alike. */
export function conditionsText(conditions: TransferConditions | undefined): string | null {
  if (!conditions) return null;
  return JSON.stringify({ InQueue: conditions.InQueue, NotWithAgent: conditions.NotWithAgent, QueuedForSeconds: conditions.QueuedForSeconds });
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
