/**
 * Key schemas of the gateway's DynamoDB tables. The stack, local mode and the tests all create
 * tables from these definitions, so a table that works in a test is shaped like the deployed one.
 * Plain data on purpose: the Lambda bundle imports the attribute names without pulling in CDK.
 */
export interface TableDefinition {
  readonly partitionKey: string;
  readonly sortKey?: string;
  readonly timeToLiveAttribute: string;
}

/** Powertools idempotency records: its default attribute names. */
export const IDEMPOTENCY_TABLE: TableDefinition = {
  partitionKey: 'id',
  timeToLiveAttribute: 'expiration',
};

/**
 * The transfer ledger, one table holding three item kinds. A transfer's items are written in one transaction whose
 * conditions refuse to overwrite, and the function may not delete (contract section 7):
 * - `TREE#<treeId>` / `TRANSFER#<nnnn>`: the transfer's numbered slot, reserved (`status` PENDING) before Connect is
 *   asked, so rule 14 holds whatever happens next; it becomes the transfer record (TRANSFERRED, with the new contact)
 *   or stays on record as RELEASED when Connect refused. Numbers are never reused; one Query on the tree lists them.
 * - `KEY#<idempotencyKey>` / `INTENT`: the write-ahead intent, written with the slot: the payload hash and the slot it
 *   holds, then what Connect returned. A retry whose invocation was lost after the reservation finds it and finishes
 *   the transfer (re-sending the same ClientToken) instead of a second transfer or CONTACT_NOT_ACTIVE.
 * - `CONTACT#<newContactId>` / `TREE`: which tree the new segment belongs to, its transfer's number and the tree's
 *   count of transfers with it (released attempts not counted), so rule 14 reads the count and the next slot with one
 *   GetItem keyed by the request's ContactId, concurrently with DescribeContact.
 */
export const LEDGER_TABLE: TableDefinition = {
  partitionKey: 'pk',
  sortKey: 'sk',
  timeToLiveAttribute: 'expiresAt',
};

/**
 * A sparse global secondary index of the ledger: a transfer slot carries `pendingSlot` only while it is PENDING
 * (`reserve` sets it, `complete` and `release` remove it), so the index holds the slots whose outcome is still open
 * and nothing else. The sweeper (lambda/doors/sweep.ts) reads it with a Query, never a Scan.
 * Sorted by `lastAttemptAt`, the start of the latest attempt that may have sent the slot's TransferContact (set at
 * `reserve`, and again before a retry or a sweep re-sends it): a slot is due only once no invocation can still be
 * in that attempt, however long after the reservation it began. `reservedAt` stays as history shows it.
 * A slot the sweeper cannot settle and has alerted on moves to the partition `unconfirmed`: alerted once, left to an
 * operator, and never in the way of the slots behind it.
 * Projected: part of the request and who asked. The sweeper reads each listed slot's item for the whole request
 * (lambda/adapters/pending-slots.ts), as a deployed index's projection cannot be changed in place.
 */
export const PENDING_SLOTS_INDEX = {
  indexName: 'pending-slots',
  partitionKey: 'pendingSlot',
  sortKey: 'lastAttemptAt',
  partitions: { due: 'PENDING', unconfirmed: 'UNCONFIRMED' },
  projected: ['fromContactId', 'contactFlowId', 'queueId', 'userId', 'clientToken', 'door', 'requestedBy', 'correlationId', 'idempotencyKey'],
} as const;

/**
 * Scheduled transfers (contract section 12): their state, apart from the append-only ledger because it changes
 * (SCHEDULED, then CANCELLED or FIRED, then the outcome). Two item kinds, both keyed by `pk` alone:
 * - `SCHEDULE#<scheduleId>`: the schedule, its accepted request, its state and, once known, its outcome.
 * - `CONTACT#<contactId>`: how many of the contact's schedules are SCHEDULED, changed in the same transaction as the
 *   schedule's state, whose condition holds the limit of section 12 however many creates race.
 */
export const SCHEDULES_TABLE: TableDefinition = {
  partitionKey: 'pk',
  timeToLiveAttribute: 'expiresAt',
};

/** The schedules table's two item kinds, told apart by the start of `pk`. */
export const SCHEDULES_ITEM_PREFIXES = { schedule: 'SCHEDULE#', counter: 'CONTACT#' } as const;

/**
 * The schedules of one contact, oldest first: only schedule items carry `contactId`, so the counters stay out of it.
 * Projects everything, since a listing answers whole schedules.
 */
export const SCHEDULES_CONTACT_INDEX = {
  indexName: 'contact-schedules',
  partitionKey: 'contactId',
  sortKey: 'createdAt',
} as const;

/**
 * A sparse index of the schedules whose create has not yet been told EventBridge Scheduler made their schedule: the
 * write that creates a schedule item sets `unarmed` (always `UNARMED`: one partition, as such items are few and
 * short-lived) and `unarmedSince` (its CreatedAt); the create removes both once CreateSchedule succeeded, and so does
 * any move out of SCHEDULED. An item still in the index long after its create must have lost that create's process,
 * and the sweeper takes it back (lambda/usecase/scheduled-transfers.ts). Projected: what taking it back needs.
 */
export const SCHEDULES_UNARMED_INDEX = {
  indexName: 'unarmed-schedules',
  partitionKey: 'unarmed',
  sortKey: 'unarmedSince',
  partition: 'UNARMED',
  projected: ['scheduleId', SCHEDULES_CONTACT_INDEX.partitionKey],
} as const;
