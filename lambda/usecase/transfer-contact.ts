import type { ConnectInstance } from '../domain/arn';
import { TransferError } from '../domain/errors';
import { CONNECT_CLIENT_TOKEN_VALIDITY_MS, idempotencyKeysOf } from '../domain/idempotency-keys';
import type { IdempotencyKeys } from '../domain/idempotency-keys';
import type { TransferRequest } from '../domain/request';
import { firstFailingRule, treeIdOf } from '../domain/rules';
import type { TransferFacts, TransferPolicy } from '../domain/rules';
import { failedCondition } from '../domain/transfer-conditions';
import type { FailedCondition } from '../domain/transfer-conditions';
import type { ContactFacts } from '../domain/facts';
import { TransferNotSent } from '../ports';
import type { ConnectPort, IdempotencyOutcome, IdempotencyPort, Intent, LedgerPort, LedgerView, Origin, Reservation, ReservationRef, TransferResult, TreeTally } from '../ports';

export interface TransferOutcome {
  readonly result: TransferResult;
  readonly replayed: boolean;
  /** Known when this invocation looked at the contact; a replay answers without looking. */
  readonly treeId?: string;
  /**
   * Connect accepted, but the ledger does not hold the transfer yet (so neither does its Contact Transferred event):
   * a door whose caller retries by itself (the buffer) should ask for that retry, which records it.
   */
  readonly unrecorded?: true;
}

/**
 * What the sweeper did with one PENDING intent: recorded the transfer Connect confirmed, released a slot whose
 * transfer never happened, found it no longer PENDING, left it to the request that holds its key right now, or set
 * it aside for an operator after alerting (its outcome can no longer be confirmed).
 */
export type Settlement = 'transferred' | 'released' | 'not-pending' | 'in-progress' | 'set-aside';

/** The release reason the sweeper records on a slot whose contact was still active, so never transferred. */
export const SWEPT_UNTRANSFERRED = 'ABANDONED_CONTACT_ACTIVE';

export interface ExecuteOptions {
  /**
   * Take the idempotency lock before the Describe calls and the ledger read, so that a duplicate or a replay costs
   * no Connect call (the event door). Without it the lock and the look-ups run at once, one round trip fewer (HTTPS).
   */
  readonly lockBeforeLookups?: boolean;
}

export interface TransferDependencies {
  readonly instance: ConnectInstance;
  readonly policy: TransferPolicy;
  readonly connect: ConnectPort;
  readonly ledger: LedgerPort;
  readonly idempotency: IdempotencyPort;
  /**
   * Something an operator must act on: a transfer Connect accepted that is not fully recorded, or a reservation
   * that could not be released. One line that says what a retry will find, with everything needed to act by hand.
   */
  readonly alert: (message: string, details: Record<string, unknown>) => void;
  readonly now?: () => Date;
  /**
   * How long a failed condition answers a retry with the same key (the idempotency window of a success): a failed
   * condition is final for the request, and the same request asked again within it gets the same answer.
   */
  readonly skipAnswerMs?: number;
}

/** The idempotency window of a success when none is configured (contract section 6: at least an hour). */
const DEFAULT_SKIP_ANSWER_MS = 60 * 60 * 1000;

interface Gathered {
  readonly facts: TransferFacts;
  readonly view: LedgerView;
  readonly tally: TreeTally;
  readonly treeId?: string;
}

interface LookUps {
  readonly ledger: Promise<LedgerView>;
  readonly gathered: Promise<Gathered>;
}

/**
 * Whose reservation a TransferContact call serves: one this invocation just made, a pending one of an earlier attempt
 * whose contact still looks active, or one whose contact ended (the call asks Connect for the earlier attempt's answer).
 */
type Sending = 'reserved-now' | 'resuming' | 'answering-earlier-attempt';

/** What one invocation did inside the idempotency lock, for what it reports once the lock is left. */
interface Attempt {
  ran: boolean;
  replayed: boolean;
  treeId?: string;
  /** The ledger write that records an accepted transfer: resolves to its error, or undefined when it landed. */
  recording?: Promise<unknown>;
  details?: Record<string, unknown>;
}

/**
 * Rules 4-15 for a request that passed 1-3. A new transfer takes four sequential stages of remote work: the
 * idempotency lock with the Describe calls and the ledger read; the reservation (the write-ahead intent and the tree
 * slot, together); TransferContact; the idempotency record with the ledger record. A retry that finds its intent
 * pending re-sends TransferContact with the same ClientToken instead of reserving again (contract sections 6-7).
 */
export class TransferContactUseCase {
  private readonly now: () => Date;

  constructor(private readonly deps: TransferDependencies) {
    this.now = deps.now ?? (() => new Date());
  }

  async execute(request: TransferRequest, origin: Origin, options: ExecuteOptions = {}): Promise<TransferOutcome> {
    const keys = idempotencyKeysOf(request, this.deps.instance.id);
    let started: LookUps | undefined;
    const lookUps = (): LookUps => (started ??= this.lookUp(request, keys.idempotencyKey));
    if (!options.lockBeforeLookups) lookUps();

    const attempt: Attempt = { ran: false, replayed: false };
    const outcome = await this.deps.idempotency.once(keys, async () => {
      attempt.ran = true;
      return this.transferOnce(request, origin, keys, await lookUps().gathered, attempt);
    });

    const unrecorded = await this.unrecordedAfter(request, origin, keys, outcome, attempt, started?.ledger);
    const treeId = attempt.treeId;
    return {
      result: outcome.result,
      replayed: outcome.replayed || attempt.replayed,
      ...(treeId !== undefined && { treeId }),
      ...(unrecorded && { unrecorded: true as const }),
    };
  }

  /**
   * The sweeper's backstop for a PENDING intent whose request stopped (its caller never retried, or the function died):
   * under the idempotency lock, as a retry with the same key would run, so a concurrent retry and the sweeper never
   * both act. It never starts a transfer: a contact still active was not transferred (a transfer ends the contact),
   * so its slot is released and the key given back; an ended contact's transfer is re-sent with the same ClientToken,
   * so Connect's original answer completes the ledger (and its Contact Transferred event) and a refusal releases the
   * slot, as `resume` does. An intent that is no longer PENDING is left as it is. Failures a later sweep can fix throw.
   */
  async settle(request: TransferRequest, origin: Origin): Promise<Settlement> {
    const keys = idempotencyKeysOf(request, this.deps.instance.id);
    const attempt: Attempt = { ran: false, replayed: false };
    let settled: Settlement | undefined;
    let outcome: IdempotencyOutcome;
    try {
      outcome = await this.deps.idempotency.once(keys, async () => {
        attempt.ran = true;
        const { ledger, connect } = this.deps;
        const [view, contact] = await failClosed(() => Promise.all([ledger.read(request.ContactId, keys.idempotencyKey), connect.describeContact(request.ContactId)]));
        const intent = view.intent;
        if (intent?.status !== 'PENDING' || intent.payloadHash !== keys.payloadHash) {
          settled = 'not-pending';
          throw TransferError.of('INTERNAL_ERROR', { message: 'Nothing to settle.' });
        }
        if (contact !== undefined && !contact.disconnected) {
          // Not through `release`, which alerts: a release that fails here is simply tried again by the next sweep.
          await ledger.release(intent, SWEPT_UNTRANSFERRED, this.now());
          settled = 'released';
          throw TransferError.of('INTERNAL_ERROR', { message: 'Released: the contact is still active, so it was never transferred.' });
        }
        if (this.outsideTokenWindow(request, origin, keys, intent)) {
          // Alerted: every later sweep would alert again and spend a place in its batch on it.
          await ledger.setAside(intent);
          settled = 'set-aside';
          throw TransferError.of('INTERNAL_ERROR', { message: 'Set aside for an operator.' });
        }
        return this.send(request, origin, keys, intent, attempt, 'answering-earlier-attempt');
      });
    } catch (error) {
      if (settled !== undefined) return settled;
      if (error instanceof TransferError && error.reason === 'REQUEST_IN_PROGRESS') return 'in-progress';
      // Connect refused the re-sent transfer: `send` released the slot.
      if (error instanceof TransferError && error.reason === 'CONNECT_REJECTED') return 'released';
      throw error;
    }
    if (await this.unrecordedAfter(request, origin, keys, outcome, attempt)) throw new Error('The transfer was confirmed but the ledger did not record it; the next sweep tries again.');
    return 'transferred';
  }

  /**
   * Once the lock is left: alerts for what this invocation's writes left undone and, when the idempotency store
   * answered from an earlier attempt, records that attempt's transfer in the ledger if it is still PENDING there.
   * True while the ledger does not hold the transfer (so neither does its Contact Transferred event).
   */
  private async unrecordedAfter(
    request: TransferRequest,
    origin: Origin,
    keys: IdempotencyKeys,
    outcome: IdempotencyOutcome,
    attempt: Attempt,
    readAlongside?: Promise<LedgerView>,
  ): Promise<boolean> {
    const ledgerFailure = attempt.recording ? await attempt.recording : undefined;
    if (attempt.recording) {
      this.reportRecording(ledgerFailure, outcome.storeFailure, attempt.details ?? {});
    } else if (outcome.storeFailure) {
      this.deps.alert('The idempotency record of a transfer the ledger already holds was not completed; the ledger answers a retry', {
        ...this.details(request, origin, keys),
        error: outcome.storeFailure,
      });
    }
    if (outcome.replayed && !attempt.ran) return this.finishFromReplay(request, origin, keys, outcome.result, readAlongside);
    return ledgerFailure !== undefined;
  }

  private lookUp(request: TransferRequest, idempotencyKey: string): LookUps {
    const { connect, ledger } = this.deps;
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
      const tally = contact ? await this.tallyOf(contact.id, treeId ?? contact.id, ledgerView) : { counted: 0, lastNumber: 0 };
      const failed = contact && failedCondition(request.Conditions, contact, this.now());
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
  private async tallyOf(contactId: string, treeId: string, view: LedgerView): Promise<TreeTally> {
    if (view.transfersInTree) return { counted: view.transfersInTree.count, lastNumber: view.transfersInTree.lastNumber };
    if (treeId === contactId) return { counted: 0, lastNumber: 0 };
    return this.deps.ledger.tally(treeId);
  }

  private async transferOnce(request: TransferRequest, origin: Origin, keys: IdempotencyKeys, gathered: Gathered, attempt: Attempt): Promise<TransferResult> {
    if (gathered.treeId !== undefined) attempt.treeId = gathered.treeId;
    const skip = gathered.view.skip;
    if (skip && skip.answeredUntil > this.now()) {
      if (skip.payloadHash !== keys.payloadHash) throw TransferError.of('CLIENT_TOKEN_REUSED');
      throw conditionNotMet(skip.failed);
    }
    const intent = gathered.view.intent;
    if (intent && intent.status !== 'RELEASED') {
      if (intent.payloadHash !== keys.payloadHash) throw TransferError.of('CLIENT_TOKEN_REUSED');
      if (intent.status === 'PENDING') return this.resume(request, origin, keys, intent, gathered, attempt);
      // Connect accepted this key before and the ledger holds it, but the idempotency record was lost.
      if (!intent.result) throw TransferError.of('INTERNAL_ERROR');
      attempt.replayed = true;
      return intent.result;
    }

    const failing = firstFailingRule(gathered.facts, this.deps.policy);
    if (failing === 'CONDITION_NOT_MET' && gathered.facts.failedCondition) await this.skip(request, origin, keys, gathered.facts.failedCondition);
    if (failing) throw rejection(failing, gathered.facts);
    const reservation = await this.reserve(request, origin, keys, gathered.treeId ?? request.ContactId, gathered.tally);
    return this.send(request, origin, keys, reservation, attempt, 'reserved-now');
  }

  /**
   * A failed condition is final (contract section 11): recorded under the key before it is answered, so a retry gets
   * the same answer and the record's one Contact Transfer Skipped event follows. A record that cannot be written fails
   * the request (retryable) rather than answer without the event.
   */
  private async skip(request: TransferRequest, origin: Origin, keys: IdempotencyKeys, failed: FailedCondition): Promise<void> {
    const at = this.now();
    const answeredUntil = new Date(at.getTime() + (this.deps.skipAnswerMs ?? DEFAULT_SKIP_ANSWER_MS));
    await failClosed(() => this.deps.ledger.skip({ idempotencyKey: keys.idempotencyKey, payloadHash: keys.payloadHash, request, origin, failed, at, answeredUntil }));
  }

  /**
   * Rule 14 whatever the ledger's health: the transfer's numbered slot is taken before Connect is asked, and a slot
   * exists only after every lower one did, so the slots counted before taking one are all there were.
   */
  private async reserve(request: TransferRequest, origin: Origin, keys: IdempotencyKeys, treeId: string, tally: TreeTally): Promise<Reservation> {
    const { ledger, policy } = this.deps;
    let slots = tally;
    for (let recounted = false; ; recounted = true) {
      const reservation: Reservation = {
        treeId,
        transferNumber: slots.lastNumber + 1,
        transfersInTree: slots.counted + 1,
        fromContactId: request.ContactId,
        request,
        origin,
        idempotencyKey: keys.idempotencyKey,
        payloadHash: keys.payloadHash,
        at: this.now(),
      };
      const outcome = await failClosed(() => ledger.reserve(reservation));
      if (outcome === 'reserved') return reservation;
      if (outcome === 'key-taken') throw TransferError.of('REQUEST_IN_PROGRESS');
      if (recounted) {
        throw TransferError.of('REQUEST_IN_PROGRESS', { message: "Another transfer of this contact's tree is in progress; retry later." });
      }
      // Someone took the slot after the count was read: count the tree's slots themselves.
      slots = await failClosed(() => ledger.tally(treeId));
      if (slots.counted >= policy.maxTransfers) throw TransferError.of('TRANSFER_LIMIT_REACHED');
    }
  }

  /**
   * A pending intent means an earlier invocation reserved this transfer and its outcome was lost. A transfer ends the
   * contact it moves, so an active contact was not transferred: check the rules again (the slot already holds rule
   * 14's place) and send it. An ended contact may have been transferred by that attempt: re-send the same request
   * with the same ClientToken, and Connect answers with the original result, or refuses if it never happened.
   */
  private async resume(request: TransferRequest, origin: Origin, keys: IdempotencyKeys, intent: Intent, gathered: Gathered, attempt: Attempt): Promise<TransferResult> {
    if (!gathered.facts.contact?.disconnected) {
      const failing = firstFailingRule({ ...gathered.facts, transfersInTree: 0 }, this.deps.policy);
      if (failing) {
        await this.release(intent, failing, request, origin);
        throw rejection(failing, gathered.facts);
      }
      return this.send(request, origin, keys, intent, attempt, 'resuming');
    }
    return this.resumeEnded(request, origin, keys, intent, attempt);
  }

  /** The contact of a pending intent has ended: only Connect's answer to the same ClientToken tells what happened. */
  private async resumeEnded(request: TransferRequest, origin: Origin, keys: IdempotencyKeys, intent: Intent, attempt: Attempt): Promise<TransferResult> {
    if (this.outsideTokenWindow(request, origin, keys, intent)) {
      throw TransferError.of('INTERNAL_ERROR', { message: 'The outcome of an earlier attempt with this idempotency key cannot be confirmed.' });
    }
    return this.send(request, origin, keys, intent, attempt, 'answering-earlier-attempt');
  }

  /** Connect no longer remembers the intent's ClientToken, so nothing can confirm its outcome: alerts, once per call. */
  private outsideTokenWindow(request: TransferRequest, origin: Origin, keys: IdempotencyKeys, intent: Intent): boolean {
    if (this.now().getTime() - intent.intendedAt.getTime() <= CONNECT_CLIENT_TOKEN_VALIDITY_MS) return false;
    this.deps.alert(
      "A pending transfer intent is older than Connect's ClientToken window and its contact has ended: whether Connect transferred it is unknown; check the contact in Connect and record or release it by hand",
      this.details(request, origin, keys, intent),
    );
    return true;
  }

  private async send(
    request: TransferRequest,
    origin: Origin,
    keys: IdempotencyKeys,
    reservation: ReservationRef,
    attempt: Attempt,
    sending: Sending,
  ): Promise<TransferResult> {
    if (sending !== 'reserved-now') {
      // This attempt may reach Connect until the invocation ends, whatever the contact looked like: the sweeper counts
      // from now, not from the reservation, before it takes an active contact for one never transferred.
      const stillPending = await failClosed(() => this.deps.ledger.attempting(reservation, this.now()));
      if (!stillPending) throw TransferError.of('REQUEST_IN_PROGRESS', { message: 'An earlier attempt with this idempotency key was settled meanwhile; retry to hear its outcome.' });
    }
    let result: TransferResult;
    // Conditions are judged again on a DescribeContact made right before the call: the window in which an agent can take
    // the contact shrinks from this attempt's look-ups, reservation and pacing wait to one round trip. Only for a
    // reservation made now: a resumed one must reach Connect to learn what an earlier attempt did.
    let failedOnRecheck: FailedCondition | undefined;
    const conditions = sending === 'reserved-now' ? request.Conditions : undefined;
    const precondition = conditions && ((contact: ContactFacts | undefined) => {
      if (!contact || contact.disconnected) return TransferError.of('CONTACT_NOT_ACTIVE');
      failedOnRecheck = failedCondition(conditions, contact, this.now());
      return failedOnRecheck && conditionNotMet(failedOnRecheck);
    });
    try {
      result = await (precondition
        ? this.deps.connect.transferContact(request, keys.connectClientToken, precondition)
        : this.deps.connect.transferContact(request, keys.connectClientToken));
    } catch (error) {
      // Never sent (paced out, or a condition no longer held): this invocation transferred nothing. Only a reservation it
      // made itself is known to hold no transfer; a resumed one belongs to an earlier attempt that may have reached
      // Connect (a contact that still looks active may not show its disconnect yet), so it stays for a retry to re-send.
      if (error instanceof TransferNotSent) {
        if (sending === 'reserved-now') await this.release(reservation, error.failure.reason, request, origin);
        if (failedOnRecheck) await this.skip(request, origin, keys, failedOnRecheck);
        throw error.failure;
      }
      // Connect answered and refused: nothing was transferred. Anything else (throttled after retries, 5xx, no
      // answer) may hide an attempt Connect accepted, so the intent stays for a retry to re-send.
      if (error instanceof TransferError && error.reason === 'CONNECT_REJECTED') await this.release(reservation, error.type, request, origin);
      throw error;
    }
    attempt.replayed = sending === 'answering-earlier-attempt';
    attempt.details = this.details(request, origin, keys, reservation, result);
    const at = this.now();
    attempt.recording = this.deps.ledger.complete(reservation, result, at).then(
      () => undefined,
      (error: unknown) => error ?? new Error('The ledger write failed'),
    );
    return result;
  }

  private async release(reservation: ReservationRef, reason: string, request: TransferRequest, origin: Origin): Promise<void> {
    try {
      await this.deps.ledger.release(reservation, reason, this.now());
    } catch (error) {
      this.deps.alert(
        'A reservation whose transfer did not happen could not be released: it counts toward maxTransfers (fail closed) until a retry with the same key releases it',
        { ...this.details(request, origin, undefined, reservation), reason, error },
      );
    }
  }

  /** A replay from the idempotency store: if this invocation's predecessor failed to record the transfer, record it now. */
  private async finishFromReplay(
    request: TransferRequest,
    origin: Origin,
    keys: IdempotencyKeys,
    result: TransferResult,
    readAlongside: Promise<LedgerView> | undefined,
  ): Promise<boolean> {
    // A read that fails says nothing about the ledger: the answer stands, and the next replay looks again.
    const view = await (readAlongside ?? this.deps.ledger.read(request.ContactId, keys.idempotencyKey)).catch(() => undefined);
    if (view === undefined) return true;
    const intent = view.intent;
    if (intent?.status !== 'PENDING' || intent.payloadHash !== keys.payloadHash) return false;
    try {
      await this.deps.ledger.complete(intent, result, this.now());
      return false;
    } catch (error) {
      this.deps.alert('Connect accepted this transfer earlier and the ledger still holds it as PENDING; a later replay tries again, otherwise record it by hand', {
        ...this.details(request, origin, keys, intent, result),
        error,
      });
      return true;
    }
  }

  /** Says only what is true of this invocation's writes, and what a retry with the same key will find. */
  private reportRecording(ledgerFailure: unknown, storeFailure: unknown, details: Record<string, unknown>): void {
    if (ledgerFailure === undefined && storeFailure === undefined) return;
    if (ledgerFailure === undefined) {
      this.deps.alert('Connect accepted the transfer and the ledger recorded it, but its idempotency record was not completed; the ledger answers a retry', {
        ...details,
        error: storeFailure,
      });
    } else if (storeFailure === undefined) {
      this.deps.alert(
        'Connect accepted the transfer but the ledger did not record it: its slot stays reserved (PENDING) and counts toward maxTransfers; a retry with the same key records it, otherwise record it by hand',
        { ...details, error: ledgerFailure },
      );
    } else {
      this.deps.alert(
        "Connect accepted the transfer but neither the ledger nor the idempotency record holds it: its slot stays reserved (PENDING); a retry with the same key re-sends it with the same ClientToken and records Connect's original answer, otherwise record it by hand",
        { ...details, error: ledgerFailure, storeError: storeFailure },
      );
    }
  }

  /** Everything needed to record a transfer by hand: tree, number, contacts, flow, queue or user, caller, key. */
  private details(
    request: TransferRequest,
    origin: Origin,
    keys?: IdempotencyKeys,
    reservation?: ReservationRef,
    result?: TransferResult,
  ): Record<string, unknown> {
    return {
      treeId: reservation?.treeId,
      transferNumber: reservation?.transferNumber,
      fromContactId: request.ContactId,
      toContactId: result?.ContactId,
      toContactArn: result?.ContactArn,
      contactFlowId: request.ContactFlowId,
      queueId: request.QueueId,
      userId: request.UserId,
      door: origin.door,
      requestedBy: origin.caller,
      correlationId: origin.correlationId,
      idempotencyKey: reservation?.idempotencyKey ?? keys?.idempotencyKey,
    };
  }
}

/** The caller's answer for a failing rule: a failed condition names itself and what the contact showed. */
function rejection(failing: Exclude<ReturnType<typeof firstFailingRule>, undefined>, facts: TransferFacts): TransferError {
  return failing === 'CONDITION_NOT_MET' && facts.failedCondition ? conditionNotMet(facts.failedCondition) : TransferError.of(failing);
}

function conditionNotMet(failed: FailedCondition): TransferError {
  return TransferError.of('CONDITION_NOT_MET', { message: failed.message });
}

/** The ledger could not be read or written before the transfer: refuse rather than risk rule 14 (retryable). */
async function failClosed<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw TransferError.of('INTERNAL_ERROR', { cause: error });
  }
}
