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
 * The transfer ledger, one table holding three item kinds written together per transfer:
 * - `TREE#<treeId>` / `TRANSFER#<nn>`: the transfer record; one Query on the tree lists a contact's transfers in order.
 * - `CONTACT#<newContactId>` / `TREE`: which tree the new segment belongs to and how many transfers the tree had
 *   when it was made, so rule 14 reads the count with one GetItem keyed by the request's ContactId, concurrently
 *   with DescribeContact instead of after it.
 * - `KEY#<idempotencyKey>` / `RESULT`: what Connect returned, so a retry whose idempotency record was lost after
 *   Connect accepted gets the original result instead of a second transfer or CONTACT_NOT_ACTIVE.
 */
export const LEDGER_TABLE: TableDefinition = {
  partitionKey: 'pk',
  sortKey: 'sk',
  timeToLiveAttribute: 'expiresAt',
};
