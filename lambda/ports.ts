/**
 * The gateway's view of the systems it talks to. The use case and the rules depend on these shapes only;
 * adapters map Connect's and DynamoDB's answers into them.
 */
import type { TransferRequest } from './domain/request';

export type Channel = 'VOICE' | 'CHAT' | 'TASK' | 'EMAIL' | (string & {});

export interface ContactFacts {
  readonly id: string;
  readonly channel: Channel;
  /** Connect's InitialContactId: the first contact of the tree that transfers build. */
  readonly initialContactId?: string;
  readonly disconnected: boolean;
}

export type FlowFacts =
  | { readonly found: false }
  /** Connect answers ContactFlowNotPublishedException without describing the flow. */
  | { readonly found: true; readonly published: false }
  | { readonly found: true; readonly published: true; readonly type: string; readonly state: string };

export interface QueueFacts {
  readonly found: boolean;
  readonly enabled: boolean;
}

export interface UserFacts {
  readonly found: boolean;
}

export interface TransferResult {
  readonly ContactId: string;
  readonly ContactArn: string;
}

/** Reads answer "not found" as data, so the rules (not the order of concurrent calls) decide which reason wins. */
export interface ConnectPort {
  describeContact(contactId: string): Promise<ContactFacts | undefined>;
  describeFlow(flowId: string): Promise<FlowFacts>;
  describeQueue(queueId: string): Promise<QueueFacts>;
  describeUser(userId: string): Promise<UserFacts>;
  transferContact(request: TransferRequest, clientToken: string): Promise<TransferResult>;
}

/** Who asked, and through which door (contract section 7). */
export interface Origin {
  readonly door: 'https' | 'eventbridge' | 'invoke';
  readonly caller: string;
  readonly correlationId: string;
}

export interface TransferRecord {
  readonly treeId: string;
  /** How many gateway transfers the tree has including this one. */
  readonly transferNumber: number;
  readonly fromContactId: string;
  readonly result: TransferResult;
  readonly request: TransferRequest;
  readonly origin: Origin;
  readonly idempotencyKey: string;
  readonly payloadHash: string;
  readonly at: Date;
}

/** What the ledger knows before a transfer, read in one request keyed by what the request itself names. */
export interface LedgerView {
  /** Gateway transfers in the tree up to the named contact, when the gateway made that contact. */
  readonly transfersInTree?: { readonly treeId: string; readonly count: number };
  /** The result already recorded under this idempotency key. */
  readonly recorded?: { readonly result: TransferResult; readonly payloadHash: string };
}

export interface LedgerPort {
  read(contactId: string, idempotencyKey: string): Promise<LedgerView>;
  /** Fallback when the named contact was not made by the gateway but belongs to a longer tree. */
  countTransfers(treeId: string): Promise<number>;
  record(record: TransferRecord): Promise<void>;
}

/** Runs `work` at most once per key; a stored success is returned again with `replayed`. */
export interface IdempotencyPort {
  once(
    key: { readonly idempotencyKey: string; readonly payloadHash: string },
    work: () => Promise<TransferResult>,
  ): Promise<{ readonly result: TransferResult; readonly replayed: boolean }>;
}
