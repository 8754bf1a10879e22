/**
 * How the event door drains its buffer, chosen with `npm run bench -- --burst 200` (README, Performance). Plain data,
 * so local mode and the benchmark use the stack's numbers without loading the CDK.
 * - Lambda reads an SQS queue with at most `maxConcurrency` concurrent invocations; 2 is the least AWS accepts
 *   (Lambda developer guide, "Configuring maximum concurrency for Amazon SQS event sources"), and enough: the pacer
 *   lets 2 transfers a second through, so one invocation waits for its slot while the other finishes its records.
 * - Batches of 3, no batching window: the pacer sets the pace, a window would only delay the first record of a burst.
 *   Records are served one after another and each waits for its slot, so a batch must fit the 10 s timeout less the
 *   3 s kept after the slot even when HTTPS traffic takes half the rate (3 records at 0.5/s per invocation = 6 s).
 * - Visibility timeout 120 s: at least six times the function's timeout, as the Lambda developer guide asks for SQS
 *   event sources ("Configuring an Amazon SQS queue to use with Lambda"), and the wait before a failed record returns.
 * - 31 receives: 30 waits of 120 s between the first attempt and the last, an hour of retries before SQS moves the
 *   message to the dead-letter queue (maxReceiveCount, SQS developer guide, "Using dead-letter queues").
 */
export const EVENT_BUFFER = {
  batchSize: 3,
  maxConcurrency: 2,
  visibilityTimeoutSeconds: 120,
  maxReceiveCount: 31,
  /** Longer than the retry window, so waiting never costs a message (SQS default: 4 days). */
  retentionDays: 4,
} as const;
