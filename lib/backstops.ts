/**
 * The two backstops of the event door and the ledger, as plain data shared by the stack (lib/transfer-backstops.ts),
 * local mode and the tests, so neither can drift from what is deployed.
 *
 * The dead-letter door: an event source mapping on the dead-letter queue, so a request dead-lettered without its
 * failure record (the function died on the last receive, or EventBridge could not deliver it) still gets its one
 * `Contact Transfer Failed` event (contract section 9).
 * - Batches of 10, at most 2 invocations (the least AWS accepts): dead letters are rare and cost one ledger read and
 *   at most one write each.
 * - Visibility timeout 300 s, the sweep's interval: a record returned because its intent is still PENDING is looked at
 *   again once the sweeper had its chance, not every 30 s. More than the function's timeout, as Lambda requires of a
 *   queue it reads.
 */
export const DEAD_LETTER_DOOR = {
  batchSize: 10,
  maxConcurrency: 2,
  visibilityTimeoutSeconds: 300,
} as const;

/**
 * The sweeper: an EventBridge schedule rule invokes the function every 5 minutes; it settles the PENDING intents
 * last attempted more than the function's timeout plus 60 s ago (no invocation can still be sending one; the
 * idempotency lock guards the rest), and takes back the scheduled transfers whose create stopped that long ago before
 * EventBridge Scheduler held them (no create can still be running). 5 minutes keeps a slot left by a lost request
 * out of maxTransfers for minutes, not forever, at 288 invocations a day that each cost one Query (two with scheduled
 * transfers) when nothing is due.
 */
export const SWEEP = {
  everyMinutes: 5,
  marginSeconds: 60,
} as const;

/**
 * The longest a dead letter the door answers in the normal course waits in the dead-letter queue: its intent, at
 * worst just attempted, comes due after the function's timeout plus the margin, is settled by the next sweep, and the
 * dead letter is answered on its next receive. Longer means it is stuck (docs/operations.md, "Dead letters").
 */
export function deadLetterSettleSeconds(functionTimeoutSeconds: number): number {
  return functionTimeoutSeconds + SWEEP.marginSeconds + SWEEP.everyMinutes * 60 + DEAD_LETTER_DOOR.visibilityTimeoutSeconds;
}
