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
import { TransferNotSent, UNPACED, unstored } from '../ports';
import type {
  ConnectPort,
  Precondition,
  IdempotencyOutcome,
  IdempotencyPort,
  Intent,
  LedgerPort,
  LedgerView,
  Origin,
  PacingPort,
  Reservation,
  ReservationRef,
  TransferResult,
  TreeTally,
  Unstored,
} from '../ports';

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

/**
 * Why a retry whose earlier attempt is unsettled is answered retryably although a rule fails now: that attempt may
 * still transfer the contact, and a caller told of the rule would take the request as refused.
 */
const EARLIER_ATTEMPT_UNSETTLED = (failing: string): string =>
  `An earlier attempt with this idempotency key may still reach Amazon Connect, so its outcome is not settled yet (the request now fails ${failing}); retry later.`;

/** The release reason the sweeper records on a slot whose contact was still active, so never transferred. */
export const SWEPT_UNTRANSFERRED = 'ABANDONED_CONTACT_ACTIVE';

export interface ExecuteOptions {
  /**
   * Take the idempotency lock before the Describe calls and the ledger read, so that a duplicate or a replay costs
   * no Connect call (the event door). Without it the lock and the look-ups run at once, one round trip fewer (HTTPS).
   */
  readonly lockBeforeLookups?: boolean;
  /** The latest a pacing slot may come (ms since the epoch): the invocation's end less what the call and records need. */
  readonly slotDeadline?: number;
}

export interface TransferDependencies {
  readonly instance: ConnectInstance;
  readonly policy: TransferPolicy;
  readonly connect: ConnectPort;
  readonly ledger: LedgerPort;
  readonly idempotency: IdempotencyPort;
  /** Connect's TransferContact quota; none, every call goes at once. */
  readonly pacing?: PacingPort;
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
/** Sends of one TransferContact that Connect may throttle before the request answers THROTTLED: the SDK's usual attempts. */
const THROTTLED_SENDS = 3;

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
  /** The latest a pacing slot may come. */
  readonly slotDeadline: number;
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
  private readonly pacing: PacingPort;

  constructor(private readonly deps: TransferDependencies) {
    this.now = deps.now ?? (() => new Date());
    this.pacing = deps.pacing ?? UNPACED;
  }

  async execute(request: TransferRequest, origin: Origin, options: ExecuteOptions = {}): Promise<TransferOutcome> {
    const keys = idempotencyKeysOf(request, this.deps.instance.id);
    let started: LookUps | undefined;
    const lookUps = (): LookUps => (started ??= this.lookUp(request, keys.idempotencyKey));
    if (!options.lockBeforeLookups) lookUps();

    const attempt: Attempt = { ran: false, replayed: false, slotDeadline: options.slotDeadline ?? Number.POSITIVE_INFINITY };
    const outcome = await this.deps.idempotency.once(keys, async () => {
      attempt.ran = true;
      return this.transferOnce(request, origin, keys, await lookUps().gathered, attempt);
    });

    const recorded = await this.reportWrites(request, origin, keys, outcome, attempt);
    const unrecorded = outcome.replayed && !attempt.ran ? !(await this.recordReplay(request, origin, keys, outcome.result, started?.ledger)) : !recorded;
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
  async settle(request: TransferRequest, origin: Origin, slotDeadline = Number.POSITIVE_INFINITY): Promise<Settlement> {
    const keys = idempotencyKeysOf(request, this.deps.instance.id);
    const attempt: Attempt = { ran: false, replayed: false, slotDeadline };
    let outcome: IdempotencyOutcome | Unstored<Settlement>;
    try {
      outcome = await this.deps.idempotency.once(keys, async (): Promise<TransferResult | Unstored<Settlement>> => {
        attempt.ran = true;
        const { ledger, connect } = this.deps;
        const [view, contact] = await failClosed(() => Promise.all([ledger.read(request.ContactId, keys.idempotencyKey), connect.describeContact(request.ContactId)]));
        const intent = view.intent;
        if (intent?.status !== 'PENDING' || intent.payloadHash !== keys.payloadHash) return unstored('not-pending');
        if (contact !== undefined && !contact.disconnected) {
          // Not through `release`, which alerts: a release that fails here is simply tried again by the next sweep.
          await ledger.release(intent, SWEPT_UNTRANSFERRED, this.now());
          return unstored('released');
        }
        if (this.outsideTokenWindow(request, origin, keys, intent)) {
          // Alerted: every later sweep would alert again and spend a place in its batch on it.
          await ledger.setAside(intent);
          return unstored('set-aside');
        }
        try {
          return await this.send(request, origin, keys, intent, attempt, 'answering-earlier-attempt');
        } catch (error) {
          // Connect refused the re-sent transfer: `send` released the slot.
          if (error instanceof TransferError && error.reason === 'CONNECT_REJECTED') return unstored('released');
          throw error;
        }
      });
    } catch (error) {
      if (error instanceof TransferError && error.reason === 'REQUEST_IN_PROGRESS') return 'in-progress';
      throw error;
    }
    if ('left' in outcome) return outcome.left;
    const recorded = await this.reportWrites(request, origin, keys, outcome, attempt);
    const ledgerHolds = outcome.replayed && !attempt.ran ? await this.recordReplay(request, origin, keys, outcome.result) : recorded;
    if (!ledgerHolds) throw new Error('The transfer was confirmed but the ledger did not record it; the next sweep tries again.');
    return 'transferred';
  }

  /**
   * Once the lock is left: alerts for what this invocation's writes left undone. True unless this invocation's own
   * ledger write of an accepted transfer failed.
   */
  private async reportWrites(request: TransferRequest, origin: Origin, keys: IdempotencyKeys, outcome: IdempotencyOutcome, attempt: Attempt): Promise<boolean> {
    if (attempt.recording) {
      const ledgerFailure = await attempt.recording;
      this.reportRecording(ledgerFailure, outcome.storeFailure, attempt.details ?? {});
      return ledgerFailure === undefined;
    }
    if (outcome.storeFailure) {
      this.deps.alert('The idempotency record of a transfer the ledger already holds was not completed; the ledger answers a retry', {
        ...this.details(request, origin, keys),
        error: outcome.storeFailure,
      });
    }
    return true;
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
    // Only a request about to call TransferContact takes a pacing slot, beside its reservation: no stage of its own.
    const slot = this.pacing.slot(attempt.slotDeadline);
    let reservation: Reservation;
    try {
      reservation = await this.reserve(request, origin, keys, gathered.treeId ?? request.ContactId, gathered.tally);
    } catch (error) {
      await this.giveBack(slot);
      throw error;
    }
    return this.send(request, origin, keys, reservation, attempt, 'reserved-now', slot);
  }

  private async giveBack(slot: Promise<number | undefined>): Promise<void> {
    const sendAt = await slot;
    if (sendAt !== undefined) await this.pacing.giveBack(sendAt);
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
      if (outcome === 'contact-busy') throw TransferError.of('TRANSFER_IN_PROGRESS');
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
   * contact it moves, so a contact that still looks active was not transferred yet: check the rules again (the slot
   * already holds rule 14's place) and send it. An ended contact may have been transferred by that attempt: re-send
   * the same request with the same ClientToken, and Connect answers with the original result, or refuses if it never
   * happened.
   */
  private async resume(request: TransferRequest, origin: Origin, keys: IdempotencyKeys, intent: Intent, gathered: Gathered, attempt: Attempt): Promise<TransferResult> {
    if (!gathered.facts.contact?.disconnected) {
      const failing = firstFailingRule({ ...gathered.facts, transfersInTree: 0 }, this.deps.policy);
      // Never released on what the contact looks like now: the earlier attempt's TransferContact may still be on its
      // way to Connect (or accepted, with the contact not showing it yet). The intent stays PENDING until a retry sees
      // the contact end and hears Connect's answer, or the sweeper, once no attempt can be in flight, settles it.
      if (failing) throw TransferError.of('REQUEST_IN_PROGRESS', { message: EARLIER_ATTEMPT_UNSETTLED(failing) });
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
    reservedSlot?: Promise<number | undefined>,
  ): Promise<TransferResult> {
    const slot = reservedSlot ?? this.pacing.slot(attempt.slotDeadline);
    if (sending !== 'reserved-now') {
      // This attempt may reach Connect until the invocation ends, whatever the contact looked like: the sweeper counts
      // from now, not from the reservation, before it takes an active contact for one never transferred.
      const stillPending = await failClosed(() => this.deps.ledger.attempting(reservation, this.now())).catch(async (error: unknown) => {
        await this.giveBack(slot);
        throw error;
      });
      if (!stillPending) {
        await this.giveBack(slot);
        throw TransferError.of('REQUEST_IN_PROGRESS', { message: 'An earlier attempt with this idempotency key was settled meanwhile; retry to hear its outcome.' });
      }
    }
    const sendAt = await slot;
    if (sendAt === undefined) {
      // Never sent (paced out): this invocation transferred nothing. Only a reservation it made itself is known to hold
      // no transfer; a resumed one belongs to an earlier attempt that may have reached Connect (a contact that still
      // looks active may not show its disconnect yet), so it stays for a retry to re-send.
      const pacedOut = TransferError.pacedOut();
      if (sending === 'reserved-now') await this.release(reservation, pacedOut.reason, request, origin);
      throw pacedOut;
    }
    await untilTime(sendAt);
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
      result = await this.transferInSlots(request, keys, attempt, precondition);
    } catch (error) {
      // Never sent (a condition no longer held on the second look, or that look failed): this invocation transferred
      // nothing, and only a reservation it made itself is sent with a precondition, so that one is given back.
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

  /**
   * TransferContact, sent again in a later slot of the shared pacer while Connect throttles it (the SDK leaves a
   * throttle to the pacer: lambda/clients.ts), up to the SDK's usual three sends. Each throttle slows the shared pacer
   * before the next slot is taken, so the re-send queues behind the slots other requests hold. The ClientToken is the
   * same on every send, so Connect transfers at most once.
   */
  private async transferInSlots(request: TransferRequest, keys: IdempotencyKeys, attempt: Attempt, precondition?: Precondition): Promise<TransferResult> {
    for (let sends = 1; ; sends += 1) {
      try {
        return await (precondition
          ? this.deps.connect.transferContact(request, keys.connectClientToken, precondition)
          : this.deps.connect.transferContact(request, keys.connectClientToken));
      } catch (error) {
        if (!(error instanceof TransferError && error.reason === 'THROTTLED')) throw error;
        await this.pacing.throttled();
        const next = sends < THROTTLED_SENDS ? await this.pacing.slot(attempt.slotDeadline) : undefined;
        if (next === undefined) throw error;
        await untilTime(next);
      }
    }
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

  /**
   * A replay from the idempotency store: if this invocation's predecessor failed to record the transfer, records it
   * now. True when the ledger holds the transfer.
   */
  private async recordReplay(
    request: TransferRequest,
    origin: Origin,
    keys: IdempotencyKeys,
    result: TransferResult,
    readAlongside?: Promise<LedgerView>,
  ): Promise<boolean> {
    // A read that fails says nothing about the ledger: the answer stands, and the next replay looks again.
    const view = await (readAlongside ?? this.deps.ledger.read(request.ContactId, keys.idempotencyKey)).catch(() => undefined);
    if (view === undefined) return false;
    const intent = view.intent;
    if (intent?.status !== 'PENDING' || intent.payloadHash !== keys.payloadHash) return true;
    try {
      await this.deps.ledger.complete(intent, result, this.now());
      return true;
    } catch (error) {
      this.deps.alert('Connect accepted this transfer earlier and the ledger still holds it as PENDING; a later replay tries again, otherwise record it by hand', {
        ...this.details(request, origin, keys, intent, result),
        error,
      });
      return false;
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

/** Resolves at `time` (ms since the epoch), at once when it has passed. */
function untilTime(time: number): Promise<void> {
  const wait = time - Date.now();
  return wait > 0 ? new Promise((resolve) => setTimeout(resolve, wait)) : Promise.resolve();
}
