import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeValue, Update } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { ReservationRef, TransferResult } from '../ports';
import { isConditionalCheckFailed } from './conditions';
import { contactInTree, intentOf, LAST_ATTEMPT_AT, ledgerKeys, PENDING_PARTITIONS, PENDING_SLOT, STATUS, TTL } from './ledger-items';
import { failedConditions } from './ledger-table';
import type { LedgerTable } from './ledger-table';

/**
 * A reservation Connect accepted: its slot and intent become TRANSFERRED, its contact leaves flight, and the new
 * contact joins the tree. A completion an earlier attempt already wrote with the same result counts as done.
 */
export async function complete(table: LedgerTable, reservation: ReservationRef, result: TransferResult, at: Date): Promise<void> {
  const expiresAt = table.expiryFrom(at);
  const transferred = {
    ':transferred': { S: STATUS.transferred },
    ':pending': { S: STATUS.pending },
    ':to': { S: result.ContactId },
    ':toArn': { S: result.ContactArn },
    ':at': { S: at.toISOString() },
    ':expires': { N: String(expiresAt) },
  };
  try {
    await table.transact([
      {
        Update: pendingSlotUpdate(
          table,
          reservation,
          'SET #status = :transferred, toContactId = :to, toContactArn = :toArn, #at = :at, #ttl = :expires REMOVE #pendingSlot',
          { '#at': 'at', '#ttl': TTL },
          transferred,
        ),
      },
      {
        Update: {
          TableName: table.tableName,
          Key: marshall(ledgerKeys.intent(reservation.idempotencyKey)),
          UpdateExpression: 'SET #status = :transferred, toContactId = :to, toContactArn = :toArn, #at = :at, #ttl = :expires',
          ConditionExpression: '#status = :pending AND treeId = :tree AND transferNumber = :number',
          ExpressionAttributeNames: { '#status': 'status', '#at': 'at', '#ttl': TTL },
          ExpressionAttributeValues: {
            ...transferred,
            ':tree': { S: reservation.treeId },
            ':number': { N: String(reservation.transferNumber) },
          },
        },
      },
      { Update: contactInTree(table.tableName, reservation, expiresAt, 'complete') },
      {
        // The new contact's item exists already, without a count, when a request on that contact reserved or released
        // before this record landed: the count is added to it. An item with a count is another transfer's: refused.
        Update: {
          TableName: table.tableName,
          Key: marshall(ledgerKeys.contact(result.ContactId)),
          UpdateExpression: 'SET treeId = if_not_exists(treeId, :tree), transferNumber = :number, transfersInTree = :count, #ttl = if_not_exists(#ttl, :expires)',
          ConditionExpression: 'attribute_not_exists(transfersInTree)',
          ExpressionAttributeNames: { '#ttl': TTL },
          ExpressionAttributeValues: {
            ':tree': { S: reservation.treeId },
            ':number': { N: String(reservation.transferNumber) },
            ':count': { N: String(reservation.transfersInTree) },
            ':expires': { N: String(expiresAt) },
          },
        },
      },
    ]);
  } catch (error) {
    // An earlier attempt (this invocation's lost answer, or a concurrent retry) may have recorded it already.
    if (!failedConditions(error)) throw error;
    const [item] = await table.batchGet([ledgerKeys.intent(reservation.idempotencyKey)]);
    const intent = item && intentOf(item, reservation.idempotencyKey);
    if (intent?.status !== STATUS.transferred || intent.result?.ContactId !== result.ContactId) throw error;
  }
}

/** A reservation whose transfer did not happen: its slot and intent become RELEASED and its key and contact free. */
export async function release(table: LedgerTable, reservation: ReservationRef, reason: string, at: Date): Promise<void> {
  const values = {
    ':released': { S: STATUS.released },
    ':pending': { S: STATUS.pending },
    ':reason': { S: reason },
    ':at': { S: at.toISOString() },
  };
  await table.transact([
    { Update: pendingSlotUpdate(table, reservation, 'SET #status = :released, releasedAt = :at, releaseReason = :reason REMOVE #pendingSlot', {}, values) },
    {
      Update: {
        TableName: table.tableName,
        Key: marshall(ledgerKeys.intent(reservation.idempotencyKey)),
        UpdateExpression: 'SET #status = :released, releasedAt = :at, releaseReason = :reason',
        ConditionExpression: '#status = :pending AND treeId = :tree AND transferNumber = :number',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ...values, ':tree': { S: reservation.treeId }, ':number': { N: String(reservation.transferNumber) } },
      },
    },
    { Update: contactInTree(table.tableName, reservation, table.expiryFrom(at), 'release') },
  ]);
}

/** Marks a still PENDING slot as tried at `at`; false when it is settled already. */
export async function markAttempting(table: LedgerTable, reservation: ReservationRef, at: Date): Promise<boolean> {
  try {
    // Also (back) into the sweeper's index: a slot written before it existed, or one set aside, is being tried again.
    await updatePendingSlot(table, reservation, 'SET #attempt = :at, #pendingSlot = :due', { '#attempt': LAST_ATTEMPT_AT }, {
      ':at': { S: at.toISOString() },
      ':due': { S: PENDING_PARTITIONS.due },
    });
    return true;
  } catch (error) {
    if (isConditionalCheckFailed(error)) return false;
    throw error;
  }
}

/** Moves a PENDING slot whose outcome nothing can confirm out of the sweeper's way, into the operator's partition. */
export async function setAside(table: LedgerTable, reservation: ReservationRef): Promise<void> {
  await updatePendingSlot(table, reservation, 'SET #pendingSlot = :unconfirmed', {}, { ':unconfirmed': { S: PENDING_PARTITIONS.unconfirmed } });
}

async function updatePendingSlot(
  table: LedgerTable,
  reservation: ReservationRef,
  update: string,
  names: Record<string, string>,
  values: Record<string, AttributeValue>,
): Promise<void> {
  await table.client.send(new UpdateItemCommand(pendingSlotUpdate(table, reservation, update, names, values)));
}

/** An update of a slot that is still PENDING under this key, and only then. */
function pendingSlotUpdate(
  table: LedgerTable,
  reservation: ReservationRef,
  update: string,
  names: Record<string, string>,
  values: Record<string, AttributeValue>,
): Update {
  return {
    TableName: table.tableName,
    Key: marshall(ledgerKeys.slot(reservation.treeId, reservation.transferNumber)),
    UpdateExpression: update,
    ConditionExpression: '#status = :pending AND idempotencyKey = :key',
    ExpressionAttributeNames: { ...names, '#status': 'status', '#pendingSlot': PENDING_SLOT },
    ExpressionAttributeValues: { ...values, ':pending': { S: STATUS.pending }, ':key': { S: reservation.idempotencyKey } },
  };
}
