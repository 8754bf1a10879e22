import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { LedgerPort, LedgerView, Reservation, ReservationRef, ReserveOutcome, Skip, TransferResult, TreeTally } from '../ports';
import { readLedger, tallyTree } from './ledger-reads';
import { recordSkip, reserve } from './ledger-reservation';
import { complete, markAttempting, release, setAside } from './ledger-settlement';
import { LedgerTable } from './ledger-table';

/**
 * The transfer ledger on DynamoDB. Append-only as written here: every write is part of a transaction whose
 * conditions refuse to overwrite (a slot or contact item is created once; a status moves only from PENDING). The
 * function's role holds no action that deletes, but IAM cannot make its PutItem and UpdateItem conditional, so the
 * conditions are this code's (contract section 7). What the items hold: ledger-items.ts; the reads before a
 * transfer: ledger-reads.ts; taking a key and a slot: ledger-reservation.ts; settling them: ledger-settlement.ts.
 */
export class DynamoDbLedger implements LedgerPort {
  private readonly table: LedgerTable;

  constructor(client: DynamoDBClient, tableName: string, retentionDays: number) {
    this.table = new LedgerTable(client, tableName, retentionDays);
  }

  read(contactId: string, idempotencyKey: string): Promise<LedgerView> {
    return readLedger(this.table, contactId, idempotencyKey);
  }

  tally(treeId: string): Promise<TreeTally> {
    return tallyTree(this.table, treeId);
  }

  reserve(reservation: Reservation): Promise<ReserveOutcome> {
    return reserve(this.table, reservation);
  }

  skip(skip: Skip): Promise<void> {
    return recordSkip(this.table, skip);
  }

  complete(reservation: ReservationRef, result: TransferResult, at: Date): Promise<void> {
    return complete(this.table, reservation, result, at);
  }

  release(reservation: ReservationRef, reason: string, at: Date): Promise<void> {
    return release(this.table, reservation, reason, at);
  }

  attempting(reservation: ReservationRef, at: Date): Promise<boolean> {
    return markAttempting(this.table, reservation, at);
  }

  setAside(reservation: ReservationRef): Promise<void> {
    return setAside(this.table, reservation);
  }
}
