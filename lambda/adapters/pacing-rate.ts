/**
 * How the shared rate follows Connect's throttles, after the AWS SDK's adaptive retry mode (`DefaultRateLimiter` in
 * @smithy/core's retry: on a throttle the rate drops to `beta` times the rate throttled at, remembered as CUBIC's
 * `W_max`, and grows back along a cubic that probes beyond it). The gateway's calls are paced onto Connect's refills
 * while another caller's arrive at random moments, so when the gateway takes more than its share it is rarely the one
 * Connect throttles: the other caller is. A throttle is therefore a rare signal, and the rate does not climb back by
 * itself: it holds the share it learned for `holdMs`, then probes above it slowly, and a throttle while probing returns
 * it to that share instead of lowering it further.
 */
export interface AdaptiveRate {
  /** The share of the rate kept after a throttle from the configured rate or from a probe (the SDK's `beta`). */
  readonly beta: number;
  /**
   * The share kept after a throttle while the rate holds what it learned: at a share just below what others leave,
   * their calls at random moments still meet an empty bucket now and then, so such a throttle trims the rate gently.
   */
  readonly trim: number;
  /**
   * How long after the calls already queued Connect's bucket is still nearly empty from the throttle: throttles until
   * then belong to the same episode and do not lower the rate again.
   */
  readonly settleMs: number;
  /** How long the rate holds the share it learned from a throttle before probing above it. */
  readonly holdMs: number;
  /** How long a probe takes, after the hold, to regain the rate last throttled at, while no throttle follows. */
  readonly probeMs: number;
  /** The lowest share of the configured rate the gateway slows to, so that it keeps probing for its share. */
  readonly minimumShare: number;
}

export const ADAPTIVE_RATE: AdaptiveRate = { beta: 0.7, trim: 0.95, settleMs: 10_000, holdMs: 60_000, probeMs: 60_000, minimumShare: 0.1 };

/** The last throttle the shared rate learned from. */
export interface Throttle {
  /** When the rate dropped (ms since the epoch). */
  readonly at: number;
  /** The rate in effect when Connect throttled, in calls per second. */
  readonly rate: number;
  /** The share the rate holds after the throttle, in calls per second, before it probes above it. */
  readonly plateau: number;
  /**
   * Until when a throttle belongs to this one's episode (ms since the epoch): calls whose slots were reserved before
   * the rate dropped still go at the old rate, and Connect's bucket takes a while to refill after them.
   */
  readonly echoesUntil: number;
}

/**
 * The rate, in calls per second, `now` after `throttle`: its plateau for `holdMs`, then a cubic probe, flat at first,
 * that regains the rate throttled at `probeMs` later; never above `ceiling` nor below `minimumShare` of it.
 */
export function rateAfter(throttle: Throttle | undefined, now: number, ceiling: number, adaptive: AdaptiveRate): number {
  if (throttle === undefined) return ceiling;
  const probing = Math.max(0, now - throttle.at - adaptive.holdMs) / adaptive.probeMs;
  const rate = throttle.plateau + (throttle.rate - throttle.plateau) * probing ** 3;
  return Math.min(ceiling, Math.max(ceiling * adaptive.minimumShare, rate));
}

/**
 * The throttle Connect answered `now`, at `rate`, after `last`; `queueEnd` is when the calls already reserved have
 * gone. The first throttle, or one while probing above the plateau, says where the share others leave ends: the rate
 * drops to `beta` times the rate, but a probe's throttle never takes it below the plateau it held. A throttle while
 * holding the plateau trims it.
 */
export function throttleAt(now: number, rate: number, last: Throttle | undefined, queueEnd: number, adaptive: AdaptiveRate): Throttle {
  const holding = last !== undefined && now - last.at < adaptive.holdMs;
  const plateau = holding ? adaptive.trim * rate : Math.max(last?.plateau ?? 0, adaptive.beta * rate);
  return { at: now, rate, plateau, echoesUntil: queueEnd + adaptive.settleMs };
}
