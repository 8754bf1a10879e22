import type { ConnectInstance } from '../domain/arn';
import { TransferError } from '../domain/errors';
import { idempotencyKeysOf } from '../domain/idempotency-keys';
import type { IdempotencyKeys } from '../domain/idempotency-keys';
import type { TransferRequest } from '../domain/request';
import { firstFailingRule, treeIdOf } from '../domain/rules';
import type { TransferFacts, TransferPolicy } from '../domain/rules';
import type { ConnectPort, IdempotencyPort, LedgerPort, LedgerView, Origin, TransferResult } from '../ports';

export interface TransferOutcome {
  readonly result: TransferResult;
  readonly replayed: boolean;
  /** Known when this invocation looked at the contact; a replay answers without looking. */
  readonly treeId?: string;
}

export interface TransferDependencies {
  readonly instance: ConnectInstance;
  readonly policy: TransferPolicy;
  readonly connect: ConnectPort;
  readonly ledger: LedgerPort;
  readonly idempotency: IdempotencyPort;
  /** A transfer that happened but could not be written to the ledger must still reach an operator. */
  readonly onLedgerFailure: (error: unknown, context: { readonly contactId: string; readonly result: TransferResult }) => void;
}

interface Gathered {
  readonly facts: TransferFacts;
  readonly ledger: LedgerView;
  readonly treeId?: string;
}

/**
 * Rules 4-15 for a request that passed 1-3. Remote work runs in three stages: the idempotency lock together with
 * the Describe calls and the ledger read; TransferContact; the idempotency record together with the ledger write.
 */
export class TransferContactUseCase {
  constructor(private readonly deps: TransferDependencies) {}

  async execute(request: TransferRequest, origin: Origin): Promise<TransferOutcome> {
    const keys = idempotencyKeysOf(request, this.deps.instance.id);
    const gathering = this.gather(request, keys.idempotencyKey);
    // When the lock answers first (replay, in progress, store down) nobody awaits the look-ups.
    gathering.catch(() => undefined);

    let treeId: string | undefined;
    let ledgerWrite: Promise<void> | undefined;
    let answeredFromLedger = false;
    const { result, replayed } = await this.deps.idempotency.once(keys, async () => {
      const gathered = await gathering;
      treeId = gathered.treeId;
      const recorded = gathered.ledger.recorded;
      if (recorded) {
        // Connect accepted this key before but its idempotency record was lost: answer as the first time did.
        if (recorded.payloadHash !== keys.payloadHash) throw TransferError.of('CLIENT_TOKEN_REUSED');
        answeredFromLedger = true;
        return recorded.result;
      }
      const failing = firstFailingRule(gathered.facts, this.deps.policy);
      if (failing) throw TransferError.of(failing);

      const transferred = await this.deps.connect.transferContact(request, keys.connectClientToken);
      ledgerWrite = this.record(request, origin, keys, gathered, transferred);
      return transferred;
    });
    await ledgerWrite;
    return { result, replayed: replayed || answeredFromLedger, ...(treeId !== undefined && { treeId }) };
  }

  private async gather(request: TransferRequest, idempotencyKey: string): Promise<Gathered> {
    const { connect, ledger } = this.deps;
    const [contact, flow, queue, user, ledgerView] = await Promise.all([
      connect.describeContact(request.ContactId),
      connect.describeFlow(request.ContactFlowId),
      request.QueueId === undefined ? undefined : connect.describeQueue(request.QueueId),
      request.UserId === undefined ? undefined : connect.describeUser(request.UserId),
      ledger.read(request.ContactId, idempotencyKey),
    ]);
    const treeId = contact && treeIdOf(contact);
    const facts: TransferFacts = {
      contact,
      flow,
      ...(queue && { queue }),
      ...(user && { user }),
      transfersInTree: contact ? await this.transfersInTree(contact.id, treeId ?? contact.id, ledgerView) : 0,
    };
    return { facts, ledger: ledgerView, ...(treeId !== undefined && { treeId }) };
  }

  /**
   * The ledger knows the count of any contact the gateway made; a tree's first contact has none before it.
   * Only a contact made by a transfer outside the gateway needs the tree counted (an extra, rare round trip).
   */
  private async transfersInTree(contactId: string, treeId: string, view: LedgerView): Promise<number> {
    if (view.transfersInTree) return view.transfersInTree.count;
    if (treeId === contactId) return 0;
    return this.deps.ledger.countTransfers(treeId);
  }

  /** Never rejects: the transfer happened, so a ledger failure is reported, not returned to the caller. */
  private async record(request: TransferRequest, origin: Origin, keys: IdempotencyKeys, gathered: Gathered, result: TransferResult): Promise<void> {
    try {
      await this.deps.ledger.record({
        treeId: gathered.treeId ?? request.ContactId,
        transferNumber: gathered.facts.transfersInTree + 1,
        fromContactId: request.ContactId,
        result,
        request,
        origin,
        idempotencyKey: keys.idempotencyKey,
        payloadHash: keys.payloadHash,
        at: new Date(),
      });
    } catch (error) {
      this.deps.onLedgerFailure(error, { contactId: request.ContactId, result });
    }
  }
}
