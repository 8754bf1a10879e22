import { TransferError } from '../domain/errors';
import { idempotencyKeysOf } from '../domain/idempotency-keys';
import type { IdempotencyKeys } from '../domain/idempotency-keys';
import type { TransferRequest } from '../domain/request';
import type { Origin, TransferResult } from '../ports';
import { resume } from './earlier-attempt';
import { transferFresh } from './fresh-transfer';
import { lookUp } from './look-ups';
import type { Gathered, LookUps } from './look-ups';
import { conditionNotMet } from './skipped-condition';
import { settle } from './sweep-settle';
import type { Settlement } from './sweep-settle';
import { attemptUntil, transferContextOf } from './transfer-context';
import type { Attempt, TransferContext, TransferDependencies } from './transfer-context';
import { ledgerHoldsTransfer } from './transfer-recording';

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

export interface ExecuteOptions {
  /**
   * Take the idempotency lock before the Describe calls and the ledger read, so that a duplicate or a replay costs
   * no Connect call (the event door). Without it the lock and the look-ups run at once, one round trip fewer (HTTPS).
   */
  readonly lockBeforeLookups?: boolean;
  /** The latest a pacing slot may come (ms since the epoch): the invocation's end less what the call and records need. */
  readonly slotDeadline?: number;
}

/**
 * Rules 4-15 for a request that passed 1-3. A new transfer takes four sequential stages of remote work: the
 * idempotency lock with the Describe calls and the ledger read (look-ups.ts); the reservation (the write-ahead intent
 * and the tree slot, together: fresh-transfer.ts); TransferContact (send-transfer.ts); the idempotency record with the
 * ledger record (transfer-recording.ts). A retry that finds its intent pending re-sends TransferContact with the same
 * ClientToken instead of reserving again (earlier-attempt.ts; contract sections 6-7). The sweeper settles a pending
 * intent whose request stopped (sweep-settle.ts).
 */
export class TransferContactUseCase {
  private readonly ctx: TransferContext;

  constructor(deps: TransferDependencies) {
    this.ctx = transferContextOf(deps);
  }

  async execute(request: TransferRequest, origin: Origin, options: ExecuteOptions = {}): Promise<TransferOutcome> {
    const ctx = this.ctx;
    const keys = idempotencyKeysOf(request, ctx.deps.instance.id);
    let started: LookUps | undefined;
    const lookUps = (): LookUps => (started ??= lookUp(ctx, request, keys.idempotencyKey));
    if (!options.lockBeforeLookups) lookUps();

    const attempt = attemptUntil(options.slotDeadline);
    const outcome = await ctx.deps.idempotency.once(keys, async () => {
      attempt.ran = true;
      return transferOnce(ctx, request, origin, keys, await lookUps().gathered, attempt);
    });

    const unrecorded = !(await ledgerHoldsTransfer(ctx, request, origin, keys, outcome, attempt, started?.ledger));
    const treeId = attempt.treeId;
    return {
      result: outcome.result,
      replayed: outcome.replayed || attempt.replayed,
      ...(treeId !== undefined && { treeId }),
      ...(unrecorded && { unrecorded: true as const }),
    };
  }

  /** The sweeper's backstop for one PENDING intent whose request stopped: sweep-settle.ts. */
  settle(request: TransferRequest, origin: Origin, slotDeadline?: number): Promise<Settlement> {
    return settle(this.ctx, request, origin, slotDeadline);
  }
}

/** Inside the idempotency lock: what the ledger holds under the key decides between its answer, a resume and a new transfer. */
async function transferOnce(ctx: TransferContext, request: TransferRequest, origin: Origin, keys: IdempotencyKeys, gathered: Gathered, attempt: Attempt): Promise<TransferResult> {
  if (gathered.treeId !== undefined) attempt.treeId = gathered.treeId;
  const skip = gathered.view.skip;
  if (skip && skip.answeredUntil > ctx.now()) {
    if (skip.payloadHash !== keys.payloadHash) throw TransferError.of('CLIENT_TOKEN_REUSED');
    throw conditionNotMet(skip.failed);
  }
  const intent = gathered.view.intent;
  if (intent && intent.status !== 'RELEASED') {
    if (intent.payloadHash !== keys.payloadHash) throw TransferError.of('CLIENT_TOKEN_REUSED');
    if (intent.status === 'PENDING') return resume(ctx, request, origin, keys, intent, gathered, attempt);
    // Connect accepted this key before and the ledger holds it, but the idempotency record was lost.
    if (!intent.result) throw TransferError.of('INTERNAL_ERROR');
    attempt.replayed = true;
    return intent.result;
  }
  return transferFresh(ctx, request, origin, keys, gathered, attempt);
}
