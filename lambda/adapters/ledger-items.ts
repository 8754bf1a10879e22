import type { AttributeValue, Update } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { conditionsText } from '../domain/idempotency-keys';
import type { TransferRequest } from '../domain/request';
import type { ConditionName, ContactSnapshot } from '../domain/transfer-conditions';
import type { Intent, IntentStatus, RecordedSkip, ReservationRef } from '../ports';
import { LEDGER_TABLE, PENDING_SLOTS_INDEX } from '../tables';

export const { partitionKey: PK, sortKey: SK = 'sk', timeToLiveAttribute: TTL } = LEDGER_TABLE;
/** Present on a slot only while it is PENDING: what puts it in the sweeper's sparse index. */
export const { partitionKey: PENDING_SLOT, sortKey: LAST_ATTEMPT_AT, partitions: PENDING_PARTITIONS } = PENDING_SLOTS_INDEX;
/**
 * On a contact's CONTACT# item while one transfer of it is reserved and not yet settled: the idempotency key holding
 * it. One transfer of a contact in flight at a time (contract section 6) rests on the reservation's condition on it.
 */
const TRANSFER_IN_FLIGHT = 'transferInFlight';

/** Item keys of the ledger; tables.ts says what each item kind is for. */
export const ledgerKeys = {
  slot: (treeId: string, transferNumber: number) => ({ [PK]: `TREE#${treeId}`, [SK]: `TRANSFER#${String(transferNumber).padStart(4, '0')}` }),
  tree: (treeId: string) => `TREE#${treeId}`,
  contact: (contactId: string) => ({ [PK]: `CONTACT#${contactId}`, [SK]: 'TREE' }),
  intent: (idempotencyKey: string) => ({ [PK]: `KEY#${idempotencyKey}`, [SK]: 'INTENT' }),
};

/** A transfer slot's sort key, as `ledgerKeys.slot` writes it (the old `#<new contact id>` suffix is still read). */
export const TRANSFER_SORT_KEY = /^TRANSFER#\d{4}(#[^#]{1,256})?$/;

export const STATUS = { pending: 'PENDING', transferred: 'TRANSFERRED', released: 'RELEASED' } as const satisfies Record<string, IntentStatus>;
/** An intent item that records a failed condition instead of a transfer: it holds no tree slot. */
export const SKIPPED = 'SKIPPED';

/**
 * A key is free for a new intent when nothing holds it, its attempt was released, or its recorded skip no longer
 * answers (contract section 6: a rejection releases the key; a failed condition does so once its answer window ends).
 */
export const KEY_IS_FREE = 'attribute_not_exists(#pk) OR #status = :released OR (#status = :skipped AND answeredUntil < :now)';

export function keyIsFreeValues(at: Date): Record<string, AttributeValue> {
  return { ':released': { S: STATUS.released }, ':skipped': { S: SKIPPED }, ':now': { S: at.toISOString() } };
}

/** What a transfer's records keep of the request besides its target (contract section 7). */
export function requestExtras(request: TransferRequest): Record<string, string | undefined> {
  return { note: request.Note, conditions: conditionsText(request.Conditions) ?? undefined, scheduleId: request.ScheduleId };
}

/**
 * The moved contact's CONTACT# item, and its in-flight mark: set by a reservation only while no other key holds it;
 * cleared by a release only when it is the reservation's own (or absent); cleared by a completion in any case, as
 * the contact has then been transferred and has ended. The history finds a tree from any of its contacts (contract
 * section 10): a contact the gateway made has this item already, one made outside the gateway gets it here, and
 * `if_not_exists` only ever adds, so an existing item (and its count) is left as it is.
 */
export function contactInTree(tableName: string, reservation: ReservationRef, expiresAt: number, inFlight: 'mark' | 'release' | 'complete'): Update {
  const member = 'treeId = if_not_exists(treeId, :tree), #ttl = if_not_exists(#ttl, :expires)';
  const names = { '#ttl': TTL, '#inFlight': TRANSFER_IN_FLIGHT };
  const values = { ':tree': { S: reservation.treeId }, ':expires': { N: String(expiresAt) } };
  const key = { ':key': { S: reservation.idempotencyKey } };
  const item = { TableName: tableName, Key: marshall(ledgerKeys.contact(reservation.fromContactId)) };
  if (inFlight === 'mark') {
    return {
      ...item,
      UpdateExpression: `SET #inFlight = :key, ${member}`,
      ConditionExpression: 'attribute_not_exists(#inFlight)',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: { ...values, ...key },
    };
  }
  if (inFlight === 'release') {
    return {
      ...item,
      UpdateExpression: `SET ${member} REMOVE #inFlight`,
      ConditionExpression: 'attribute_not_exists(#inFlight) OR #inFlight = :key',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: { ...values, ...key },
    };
  }
  return { ...item, UpdateExpression: `SET ${member} REMOVE #inFlight`, ExpressionAttributeNames: names, ExpressionAttributeValues: values };
}

export function intentOf(item: Record<string, unknown>, idempotencyKey: string): Intent | undefined {
  const { status, payloadHash, treeId, transferNumber, transfersInTree, fromContactId, intendedAt, toContactId, toContactArn } = item;
  if (status !== STATUS.pending && status !== STATUS.transferred && status !== STATUS.released) return undefined;
  if (typeof payloadHash !== 'string' || typeof treeId !== 'string' || typeof transferNumber !== 'number' || typeof fromContactId !== 'string') return undefined;
  return {
    idempotencyKey,
    fromContactId,
    status,
    payloadHash,
    treeId,
    transferNumber,
    // An intent written before the count was kept apart: its slot number, an upper bound of the count.
    transfersInTree: typeof transfersInTree === 'number' ? transfersInTree : transferNumber,
    intendedAt: new Date(typeof intendedAt === 'string' ? intendedAt : 0),
    ...(typeof toContactId === 'string' && typeof toContactArn === 'string' && { result: { ContactId: toContactId, ContactArn: toContactArn } }),
  };
}

const OBSERVED_MEMBERS: readonly (keyof ContactSnapshot)[] = [
  'QueueId',
  'EnqueueTimestamp',
  'AgentId',
  'ConnectedToAgentTimestamp',
  'LastPausedTimestamp',
  'ScheduledTimestamp',
];

/** The attribute a skip record keeps one observed member of the contact in. */
export const observedAttribute = (member: string): string => `observed${member}`;

export function skipOf(item: Record<string, unknown>): RecordedSkip | undefined {
  const { status, payloadHash, answeredUntil, condition, expected, message } = item;
  if (status !== SKIPPED || typeof payloadHash !== 'string' || typeof answeredUntil !== 'string') return undefined;
  if (typeof condition !== 'string' || typeof expected !== 'string' || typeof message !== 'string') return undefined;
  const observed = Object.fromEntries(
    OBSERVED_MEMBERS.flatMap((member) => {
      const value = item[observedAttribute(member)];
      return typeof value === 'string' ? [[member, value]] : [];
    }),
  ) as ContactSnapshot;
  return { payloadHash, answeredUntil: new Date(answeredUntil), failed: { condition: condition as ConditionName, expected, message, observed } };
}
