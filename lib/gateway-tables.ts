import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AttributeType, BillingMode, StreamViewType, Table } from 'aws-cdk-lib/aws-dynamodb';
import type { TableProps } from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import { IDEMPOTENCY_TABLE, LEDGER_TABLE } from '../lambda/tables';
import type { TableDefinition } from '../lambda/tables';

export interface GatewayTables {
  readonly idempotencyTable: Table;
  readonly ledgerTable: Table;
}

/**
 * Two tables because their lifecycles differ. Idempotency records are ephemeral (an hour or so, recreated by any retry),
 * so that table is destroyed with the stack and has no backups. The ledger is the durable audit record of every
 * transfer (contract section 7): point-in-time recovery, deletion protection, and it outlives the stack.
 *
 * Built into the gateway's own scope (not a construct of its own), so the tables keep their logical ids: a new id
 * would make CloudFormation replace a retained ledger.
 */
export function gatewayTables(scope: Construct): GatewayTables {
  const idempotencyTable = new Table(scope, 'IdempotencyTable', {
    ...tableKeys(IDEMPOTENCY_TABLE),
    billingMode: BillingMode.PAY_PER_REQUEST,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  Validations.of(idempotencyTable).acknowledge({
    id: 'AwsSolutions-DDB3',
    reason:
      'Idempotency records expire after about an hour and are recreated by any retry. Restoring this table to an earlier ' +
      'point would resurrect released or expired keys and could replay stale results; the durable record is the ledger table, which has PITR.',
  });
  const ledgerTable = new Table(scope, 'LedgerTable', {
    ...tableKeys(LEDGER_TABLE),
    billingMode: BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    deletionProtection: true,
    removalPolicy: RemovalPolicy.RETAIN,
    // The source of the transfer events (contract section 9): a record that is in the table is an event that will be
    // published, whatever happens to the function after writing it. Old images let the pipe see PENDING -> TRANSFERRED.
    stream: StreamViewType.NEW_AND_OLD_IMAGES,
  });
  return { idempotencyTable, ledgerTable };
}

/** Key schema and TTL from the shared definition; every key attribute is a string. */
export function tableKeys(definition: TableDefinition): Pick<TableProps, 'partitionKey' | 'sortKey' | 'timeToLiveAttribute'> {
  return {
    partitionKey: { name: definition.partitionKey, type: AttributeType.STRING },
    ...(definition.sortKey !== undefined && { sortKey: { name: definition.sortKey, type: AttributeType.STRING } }),
    timeToLiveAttribute: definition.timeToLiveAttribute,
  };
}
