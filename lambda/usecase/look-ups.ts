import type { TransferRequest } from '../domain/request';
import { treeIdOf } from '../domain/rules';
import type { TransferFacts } from '../domain/rules';
import { failedCondition } from '../domain/transfer-conditions';
import type { LedgerPort, LedgerView, TreeTally } from '../ports';
import type { TransferContext } from './transfer-context';

/** What the rules and the reservation need: the Describe calls' facts, the ledger's view and the tree's count. */
export interface Gathered {
  readonly facts: TransferFacts;
  readonly view: LedgerView;
  readonly tally: TreeTally;
  readonly treeId?: string;
}

export interface LookUps {
  readonly ledger: Promise<LedgerView>;
  readonly gathered: Promise<Gathered>;
}

/** The Describe calls and the ledger read, all at once; the ledger's view is also kept apart for a replay's use. */
export function lookUp({ deps, now }: TransferContext, request: TransferRequest, idempotencyKey: string): LookUps {
  const { connect, ledger } = deps;
  const view = ledger.read(request.ContactId, idempotencyKey);
  const gathered = (async (): Promise<Gathered> => {
    const [contact, flow, queue, user, ledgerView] = await Promise.all([
      connect.describeContact(request.ContactId),
      connect.describeFlow(request.ContactFlowId),
      request.QueueId === undefined ? undefined : connect.describeQueue(request.QueueId),
      request.UserId === undefined ? undefined : connect.describeUser(request.UserId),
      view,
    ]);
    const treeId = contact && treeIdOf(contact);
    const tally = contact ? await tallyOf(deps.ledger, contact.id, treeId ?? contact.id, ledgerView) : { counted: 0, lastNumber: 0 };
    const failed = contact && failedCondition(request.Conditions, contact, now());
    const facts: TransferFacts = {
      contact,
      flow,
      ...(queue && { queue }),
      ...(user && { user }),
      transfersInTree: tally.counted,
      ...(failed && { failedCondition: failed }),
    };
    return { facts, view: ledgerView, tally, ...(treeId !== undefined && { treeId }) };
  })();
  // When the lock answers first (replay, in progress, store down) nobody may await these.
  view.catch(() => undefined);
  gathered.catch(() => undefined);
  return { ledger: view, gathered };
}

/**
 * The ledger knows the number of any contact the gateway made; a tree's first contact has none before it. Only a
 * contact made outside the gateway in a longer tree needs the tree's slots counted (an extra, rare round trip).
 */
async function tallyOf(ledger: LedgerPort, contactId: string, treeId: string, view: LedgerView): Promise<TreeTally> {
  if (view.transfersInTree) return { counted: view.transfersInTree.count, lastNumber: view.transfersInTree.lastNumber };
  if (treeId === contactId) return { counted: 0, lastNumber: 0 };
  return ledger.tally(treeId);
}
