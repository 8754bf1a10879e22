/**
 * How the event door drains its buffer, chosen with `npm run bench -- --burst 200` (docs/performance.md). Plain data,
 * so local mode, the benchmark and the function itself use the stack's numbers without loading the CDK.
 * - Lambda reads an SQS queue with at most `maxConcurrency` concurrent invocations; 2 is the least AWS accepts
 *   (Lambda developer guide, "Configuring maximum concurrency for Amazon SQS event sources"), and enough: the pacer
 *   lets 2 transfers a second through, so one invocation waits for its slot while the other finishes its records.
 * - Batches of 3, no batching window: the pacer sets the pace, a window would only delay the first record of a burst.
 *   Records are served one after another and each waits for its slot, so a batch must fit the 10 s timeout less the
 *   3 s kept after the slot even when HTTPS traffic takes half the rate (3 records at 0.5/s per invocation = 6 s).
 * - Visibility timeout 120 s: at least six times the function's timeout, as the Lambda developer guide asks for SQS
 *   event sources ("Configuring an Amazon SQS queue to use with Lambda"). It is how long a record is invisible while
 *   it is served, and when a failed record returns if the backoff below could not be set.
 * - Backoff (`retryBackoff`, `returnDelaySeconds`): with ReportBatchItemFailures the event source mapping only leaves
 *   a failed record undeleted; it returns when its visibility timeout passes (Lambda developer guide, "Handling errors
 *   for an SQS event source in Lambda"). So before the function lists a record as failed it sets that record's
 *   visibility with ChangeMessageVisibility, which counts from the call and lasts for this receive only (SQS API
 *   reference, ChangeMessageVisibility; at most 12 h from the receive). Sources:
 *   https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html and
 *   https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ChangeMessageVisibility.html
 *   - 30 s after the first receive, doubling with every receive: Connect throttled through the SDK's three attempts
 *     and the door's three rounds (several seconds), so it is busy beyond a blip; 30 s is a few times that.
 *   - Capped at 5 minutes: long enough that a Connect busy for an hour costs a dozen retries, not thirty; short enough
 *     that a record is transferred within minutes of the quota freeing up. Far below SQS's 12 h maximum.
 *   - Up to 20 % more at random, never less, so records throttled together come back spread out and the floors
 *     below hold.
 *   - A record the pacer turned away (its slot lay past the invocation's end) is not failing: it comes back after
 *     `pacedOutSeconds`, about the slots one invocation holds (the function's 10 s timeout), not after a backoff.
 * - `maxReceiveCount` is computed, not chosen: the fewest receives whose waits add up to `retryWindowSeconds`, an hour,
 *   even if every ChangeMessageVisibility failed and the record came back after the visibility timeout instead
 *   (each wait is then the shorter of the two). With the backoff set it is about 2.5 hours before SQS moves the
 *   message to the dead-letter queue (SQS developer guide, "Using dead-letter queues").
 */
/** The rule the stack owns matches this detail-type (contract section 3.2); its events fill the buffer. */
export const TRANSFER_DETAIL_TYPE = 'TransferContact';

const retryBackoff = { firstSeconds: 30, factor: 2, capSeconds: 300, jitter: 0.2 } as const;

const visibilityTimeoutSeconds = 120;
/** The contract's retry window (docs/contract.md, section 3.2): at least an hour of retries before the dead-letter queue. */
const retryWindowSeconds = 3600;
/** ChangeMessageVisibility's VisibilityTimeout is 0 to 43,200 s (SQS API reference). */
export const SQS_MAX_VISIBILITY_SECONDS = 43_200;

/**
 * Seconds a record that failed on its `receiveCount`-th receive stays away before SQS delivers it again; `random` in
 * [0, 1) picks the jitter.
 */
export function returnDelaySeconds(receiveCount: number, random: number = Math.random()): number {
  const { firstSeconds, factor, capSeconds, jitter } = retryBackoff;
  const backoff = Math.min(capSeconds, firstSeconds * factor ** Math.max(0, receiveCount - 1));
  return Math.min(SQS_MAX_VISIBILITY_SECONDS, Math.round(backoff * (1 + jitter * random)));
}

/** A paced-out record's first few returns are quick; after them it backs off as a failing one does. */
const pacedOut = { seconds: 10, quickReturns: 3 } as const;

/**
 * Seconds a record returned on its `receiveCount`-th receive stays away: a backoff, or when only the pacer turned it
 * away, its next slot's time for the first few receives. Were every paced-out return quick, a pacer held busy by
 * others (HTTPS at the full rate) would spend all the receives in minutes and dead-letter a record merely because
 * Connect's quota was in use.
 */
export function returnDelayFor(receiveCount: number, { pacedOut: wasPacedOut = false, random = Math.random() } = {}): number {
  return wasPacedOut && receiveCount <= pacedOut.quickReturns ? pacedOut.seconds : returnDelaySeconds(receiveCount, random);
}

/**
 * The fewest receives whose waits reach the retry window in the worst case: every wait the shortest a record can get
 * (paced out, no jitter) and at most the visibility timeout (ChangeMessageVisibility failed).
 */
function receivesForWindow(): number {
  let waited = 0;
  let receives = 1;
  while (waited < retryWindowSeconds) {
    const shortest = Math.min(returnDelayFor(receives, { pacedOut: true, random: 0 }), returnDelayFor(receives, { random: 0 }));
    waited += Math.min(shortest, visibilityTimeoutSeconds);
    receives += 1;
  }
  return receives;
}

export const EVENT_BUFFER = {
  batchSize: 3,
  maxConcurrency: 2,
  visibilityTimeoutSeconds,
  maxReceiveCount: receivesForWindow(),
  retryWindowSeconds,
  pacedOutSeconds: pacedOut.seconds,
  pacedOutQuickReturns: pacedOut.quickReturns,
  /** Longer than the retry window, so waiting never costs a message (SQS default: 4 days). */
  retentionDays: 4,
} as const;
