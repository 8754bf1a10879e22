import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { Reservation, ReserveOutcome, Skip } from '../ports';
import { isConditionalCheckFailed } from './conditions';
import { contactInTree, KEY_IS_FREE, keyIsFreeValues, LAST_ATTEMPT_AT, ledgerKeys, observedAttribute, PENDING_PARTITIONS, PENDING_SLOT, PK, requestExtras, SKIPPED, STATUS, TTL } from './ledger-items';
import { failedConditions, isConflictOn } from './ledger-table';
import type { LedgerTable } from './ledger-table';

/** The order of a reservation's actions, by which its cancellation reasons are read. */
const RESERVATION = { intent: 0, contact: 1, slot: 2 } as const;

/**
 * The write-ahead intent under the request's key, the contact's in-flight mark and the tree's numbered slot, in one
 * transaction: each condition names which of them another request holds.
 */
export async function reserve(table: LedgerTable, reservation: Reservation): Promise<ReserveOutcome> {
  const { request, origin } = reservation;
  const at = reservation.at.toISOString();
  const expiresAt = table.expiryFrom(reservation.at);
  const common = {
    treeId: reservation.treeId,
    transferNumber: reservation.transferNumber,
    transfersInTree: reservation.transfersInTree,
    fromContactId: reservation.fromContactId,
  };
  const intent = {
    ...ledgerKeys.intent(reservation.idempotencyKey),
    ...common,
    status: STATUS.pending,
    payloadHash: reservation.payloadHash,
    intendedAt: at,
    [TTL]: expiresAt,
  };
  const slot = {
    ...ledgerKeys.slot(reservation.treeId, reservation.transferNumber),
    ...common,
    status: STATUS.pending,
    contactFlowId: request.ContactFlowId,
    queueId: request.QueueId,
    userId: request.UserId,
    ...requestExtras(request),
    door: origin.door,
    requestedBy: origin.caller,
    correlationId: origin.correlationId,
    idempotencyKey: reservation.idempotencyKey,
    clientToken: request.ClientToken,
    reservedAt: at,
    [LAST_ATTEMPT_AT]: at,
    [PENDING_SLOT]: PENDING_PARTITIONS.due,
    [TTL]: expiresAt,
  };
  try {
    await table.transact([
      {
        // A released intent gives its key back (contract section 6: a rejection releases the key).
        Put: {
          TableName: table.tableName,
          Item: marshall(intent, { removeUndefinedValues: true }),
          ConditionExpression: KEY_IS_FREE,
          ExpressionAttributeNames: { '#pk': PK, '#status': 'status' },
          ExpressionAttributeValues: keyIsFreeValues(reservation.at),
        },
      },
      { Update: contactInTree(table.tableName, reservation, expiresAt, 'mark') },
      {
        Put: {
          TableName: table.tableName,
          Item: marshall(slot, { removeUndefinedValues: true }),
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PK },
        },
      },
    ]);
    return 'reserved';
  } catch (error) {
    const failed = failedConditions(error);
    if (failed?.[RESERVATION.intent]) return 'key-taken';
    if (failed?.[RESERVATION.contact] || isConflictOn(error, RESERVATION.contact)) return 'contact-busy';
    if (failed?.[RESERVATION.slot]) return 'slot-taken';
    throw error;
  }
}

/**
 * A failed condition, recorded under the request's key in place of an intent (it holds no tree slot). A key another
 * request holds already is left as it is: that request's own record answers.
 */
export async function recordSkip(table: LedgerTable, { idempotencyKey, payloadHash, request, origin, failed, at, answeredUntil }: Skip): Promise<void> {
  const item = {
    ...ledgerKeys.intent(idempotencyKey),
    status: SKIPPED,
    payloadHash,
    answeredUntil: answeredUntil.toISOString(),
    fromContactId: request.ContactId,
    contactFlowId: request.ContactFlowId,
    queueId: request.QueueId,
    userId: request.UserId,
    ...requestExtras(request),
    clientToken: request.ClientToken,
    condition: failed.condition,
    expected: failed.expected,
    message: failed.message,
    // The request as the gateway understood it, for the event: ids resolved, InstanceId consumed.
    request: JSON.stringify(request),
    ...Object.fromEntries(Object.entries(failed.observed).map(([member, value]) => [observedAttribute(member), value])),
    door: origin.door,
    requestedBy: origin.caller,
    correlationId: origin.correlationId,
    at: at.toISOString(),
    [TTL]: table.expiryFrom(at),
  };
  try {
    await table.client.send(
      new PutItemCommand({
        TableName: table.tableName,
        Item: marshall(item, { removeUndefinedValues: true }),
        ConditionExpression: KEY_IS_FREE,
        ExpressionAttributeNames: { '#pk': PK, '#status': 'status' },
        ExpressionAttributeValues: keyIsFreeValues(at),
      }),
    );
  } catch (error) {
    if (!isConditionalCheckFailed(error)) throw error;
  }
}
