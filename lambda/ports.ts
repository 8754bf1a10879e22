/**
 * The gateway's view of the systems it talks to. The use case depends on these shapes only; adapters map Connect's
 * and DynamoDB's answers into them. Connect's answers are the domain's facts (domain/facts.ts), which the rules read
 * without knowing of any port.
 */
import type { TransferError } from './domain/errors';
import type { ContactFacts, FlowFacts, QueueFacts, UserFacts } from './domain/facts';
import type { TransferRequest } from './domain/request';
import type { ScheduleListQuery, ScheduleOutcome, ScheduleState, StoredSchedule } from './domain/schedule';
import type { FailedCondition } from './domain/transfer-conditions';

export interface TransferResult {
  readonly ContactId: string;
  readonly ContactArn: string;
}

/**
 * What `transferContact` throws when it sent Connect nothing (no pacing slot came in time): the transfer certainly did
 * not happen, so its reservation can be given back at once. `failure` is what the caller hears.
 */
export class TransferNotSent extends Error {
  constructor(readonly failure: TransferError) {
    super(failure.message, { cause: failure });
    this.name = 'TransferNotSent';
  }
}

/** Judges the contact as described right before TransferContact: a refusal means the transfer is not sent. */
export type Precondition = (contact: ContactFacts | undefined) => TransferError | undefined;

/** Reads answer "not found" as data, so the rules (not the order of concurrent calls) decide which reason wins. */
export interface ConnectPort {
  describeContact(contactId: string): Promise<ContactFacts | undefined>;
  describeFlow(flowId: string): Promise<FlowFacts>;
  describeQueue(queueId: string): Promise<QueueFacts>;
  describeUser(userId: string): Promise<UserFacts>;
  /**
   * Throws `TransferNotSent` when it sent nothing. With `precondition`, the contact is described once more right before
   * the call (after any pacing wait) and nothing is sent when the precondition refuses what it shows.
   */
  transferContact(request: TransferRequest, clientToken: string, precondition?: Precondition): Promise<TransferResult>;
}

/** Who asked, and through which door (contract section 7). */
export interface Origin {
  readonly door: 'https' | 'eventbridge' | 'invoke';
  readonly caller: string;
  readonly correlationId: string;
}

/**
 * A transfer's place in its tree, taken before Connect is asked (rule 14 cannot be exceeded whatever the ledger's
 * health), together with the intent that lets a retry finish what a lost invocation started (contract section 6).
 */
export interface Reservation {
  readonly treeId: string;
  /** The slot in the tree: the attempt's number, never reused, so a refused attempt stays on record. */
  readonly transferNumber: number;
  /**
   * The tree's transfers with this one, released attempts not counted (rule 14): what the contact it makes records, so
   * that the next transfer's count is read with that contact. Pending slots count (fail closed).
   */
  readonly transfersInTree: number;
  readonly fromContactId: string;
  readonly request: TransferRequest;
  readonly origin: Origin;
  readonly idempotencyKey: string;
  readonly payloadHash: string;
  readonly at: Date;
}

/**
 * What the ledger needs to find a reservation again (the intent's key, the tree slot it holds, the contact it moves)
 * and to complete it.
 */
export type ReservationRef = Pick<Reservation, 'treeId' | 'transferNumber' | 'transfersInTree' | 'fromContactId' | 'idempotencyKey'>;

export type IntentStatus = 'PENDING' | 'TRANSFERRED' | 'RELEASED';

/** The write-ahead intent stored under an idempotency key. */
export interface Intent extends ReservationRef {
  readonly status: IntentStatus;
  readonly payloadHash: string;
  /** When the intent was written: Connect's memory of the ClientToken is counted from about then. */
  readonly intendedAt: Date;
  /** What Connect returned, once the transfer is recorded. */
  readonly result?: TransferResult;
}

/** What the ledger knows before a transfer, read in one request keyed by what the request itself names. */
export interface LedgerView {
  /**
   * Made by a gateway transfer: the tree, the transfers it had with that one (released attempts not counted; a later
   * transfer ends this contact, so this is all of them) and the highest slot number then, after which the next slot follows.
   */
  readonly transfersInTree?: { readonly treeId: string; readonly count: number; readonly lastNumber: number };
  readonly intent?: Intent;
  /** A failed condition recorded under the key: the answer to the same request while it lasts. */
  readonly skip?: RecordedSkip;
}

/**
 * A request whose conditions did not hold (contract section 11), recorded under its idempotency key: it answers a
 * retry with the same key the same way until `answeredUntil`, and its record becomes the Contact Transfer Skipped event.
 */
export interface Skip {
  readonly idempotencyKey: string;
  readonly payloadHash: string;
  readonly request: TransferRequest;
  readonly origin: Origin;
  readonly failed: FailedCondition;
  readonly at: Date;
  readonly answeredUntil: Date;
}

export type RecordedSkip = Pick<Skip, 'payloadHash' | 'failed' | 'answeredUntil'>;

/** The tree's slots: how many hold or held a transfer (rule 14), and the highest number taken (the next slot follows it). */
export interface TreeTally {
  readonly counted: number;
  readonly lastNumber: number;
}

/** `contact-busy`: another key's transfer of the same contact is reserved and not yet settled (contract section 6). */
export type ReserveOutcome = 'reserved' | 'slot-taken' | 'key-taken' | 'contact-busy';

export interface LedgerPort {
  read(contactId: string, idempotencyKey: string): Promise<LedgerView>;
  /** Fallback when the named contact was not made by the gateway, or its slot was taken meanwhile. */
  tally(treeId: string): Promise<TreeTally>;
  /**
   * Writes the intent and the tree slot together, refusing to overwrite either, and marks the contact as having a
   * transfer in flight, refusing while another key's is (until that one is completed or released).
   */
  reserve(reservation: Reservation): Promise<ReserveOutcome>;
  /** Turns the slot and the intent into the transfer record, and records the new contact's tree, all or nothing. */
  complete(reservation: ReservationRef, result: TransferResult, at: Date): Promise<void>;
  /** Connect refused, or was never asked: the slot and the intent stay on record as released, and the key can be used again. */
  release(reservation: ReservationRef, reason: string, at: Date): Promise<void>;
  /**
   * Before an earlier attempt's pending transfer is sent again: marks when this attempt began, so the sweeper leaves
   * the slot alone until no invocation can still be in it. False when the slot is no longer PENDING under this key.
   */
  attempting(reservation: ReservationRef, at: Date): Promise<boolean>;
  /** Records a failed condition under the request's key; a key still answering (a concurrent twin's skip) is left as it is. */
  skip(skip: Skip): Promise<void>;
  /** The sweeper alerted on a slot it cannot settle: takes it out of the sweep, left PENDING for an operator. */
  setAside(reservation: ReservationRef): Promise<void>;
}

/**
 * What `work` returns to leave the idempotency lock without storing anything: the key is free again, as after a
 * rejection, and `once` answers with it. A `work` that never leaves this way has none (`Left` is `never`).
 */
export type Unstored<Left> = [Left] extends [never] ? never : { readonly left: Left };

export const unstored = <Left>(left: Left): Unstored<Left> => ({ left }) as Unstored<Left>;

/** Runs `work` at most once per key; a stored success is returned again with `replayed`. */
export interface IdempotencyPort {
  once<Left = never>(key: IdempotencyKey, work: () => Promise<TransferResult | Unstored<Left>>): Promise<IdempotencyOutcome | Unstored<Left>>;
}

export interface IdempotencyKey {
  readonly idempotencyKey: string;
  readonly payloadHash: string;
}

/**
 * Connect's TransferContact quota, shared by every container and door (adapters/pacing.ts). Taken only by a request
 * about to call TransferContact. Never rejects: pacing fails open, since Connect's own quota still holds.
 */
export interface PacingPort {
  /** When this request's TransferContact may go (ms since the epoch), or undefined when no slot comes by `deadline`. */
  slot(deadline: number): Promise<number | undefined>;
  /** Gives back a slot taken for a call that will not be made. */
  giveBack(sendAt: number): Promise<void>;
  /** Connect throttled a paced call (another caller used the quota): every container waits longer. */
  throttled(): Promise<void>;
}

/** No pacing: every call may go at once (a use case built without a pacer, as in unit tests). */
export const UNPACED: PacingPort = {
  slot: async () => Date.now(),
  giveBack: async () => undefined,
  throttled: async () => undefined,
};

export interface IdempotencyOutcome {
  readonly result: TransferResult;
  readonly replayed: boolean;
  /** Set when `work` succeeded but its result could not be stored: the next attempt with the key runs `work` again. */
  readonly storeFailure?: unknown;
}

/** What creating a schedule's state found: a new one, the one its idempotency key already names, or the contact's limit. */
export type ScheduleCreation = { readonly created: true } | { readonly existing: StoredSchedule } | { readonly limitReached: true };

/**
 * What moving a schedule out of SCHEDULED found, with the schedule as the move wrote it or, when it had left SCHEDULED
 * already, as it found it. Both moves are conditional writes on the same item, so of a cancel and a fire racing exactly
 * one wins, and the other sees the state the winner wrote.
 */
export type ScheduleMove =
  | { readonly outcome: 'moved' | Exclude<ScheduleState, 'SCHEDULED'>; readonly schedule: StoredSchedule }
  | { readonly outcome: 'missing' };

/** A schedule whose create has not recorded that the scheduler holds it, as the unarmed index lists it. */
export interface UnarmedSchedule {
  readonly scheduleId: string;
  readonly contactId: string;
  readonly unarmedSince: string;
}

/** Scheduled transfers' state (contract section 12), apart from the append-only ledger. */
export interface SchedulesPort {
  /** Writes the schedule unless its id exists, counting it against its contact's SCHEDULED limit in the same write. */
  create(schedule: StoredSchedule, limit: number): Promise<ScheduleCreation>;
  get(scheduleId: string): Promise<StoredSchedule | undefined>;
  list(query: ScheduleListQuery): Promise<{ readonly schedules: readonly StoredSchedule[]; readonly nextToken?: string }>;
  /**
   * SCHEDULED to `to` (freeing its place under the contact's limit), or what it found instead. With `createdAt`, only
   * the state of that write moves: another write's is answered as missing.
   */
  move(scheduleId: string, to: 'CANCELLED' | 'FIRED', at: Date, createdAt?: string): Promise<ScheduleMove>;
  /** Records a fired schedule's outcome. */
  settle(scheduleId: string, outcome: ScheduleOutcome): Promise<void>;
  /**
   * Records that the scheduler holds this schedule (its `unarmedSince` goes); false when the state it names (by its
   * CreatedAt) is no longer there: taken back, or written again since.
   */
  arm(schedule: StoredSchedule): Promise<boolean>;
  /** At most `limit` schedules unarmed since before `before`, longest first. */
  unarmedBefore(before: Date, limit: number): Promise<readonly UnarmedSchedule[]>;
  /**
   * Deletes the schedule and frees its place under its contact's limit, in one write, if it is still SCHEDULED and
   * unarmed since the same time; false (nothing written) when it is not.
   */
  takeBack(orphan: UnarmedSchedule): Promise<boolean>;
}

/** The scheduler that waits (EventBridge Scheduler): one one-time schedule per write of a schedule's state. */
export interface SchedulerPort {
  /** Creates the schedule for this write of the state unless it exists (a retried create). */
  create(schedule: StoredSchedule): Promise<void>;
  /** Deletes it; one already gone is fine. */
  delete(schedule: StoredSchedule): Promise<void>;
}
