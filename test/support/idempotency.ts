import type { IdempotencyOutcome, TransferResult, Unstored } from '../../lambda/ports';

/** What a store that has never seen the key answers: `work`'s result as stored, or what it left unstored as it is. */
export async function ranOnce<Left>(work: () => Promise<TransferResult | Unstored<Left>>, extra: Partial<IdempotencyOutcome> = {}): Promise<IdempotencyOutcome | Unstored<Left>> {
  const done = await work();
  return 'left' in done ? done : { result: done, replayed: false, ...extra };
}
