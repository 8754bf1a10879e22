/**
 * `npm run bench -- --pacer-model [--seeds N] [--beta B] [--trim T] [--backoff MS]`: the shared pacer's adaptive rate
 * against Connect's bucket in virtual time, over many seeds of a caller outside the gateway. A burst run with the real
 * bundle (`--burst N --outside R`) takes a minute and sees one draw of the outside caller's random moments; this
 * model sees three hundred (--seeds, default 300) in a few seconds, which is what tuning the adaptive rate needs. It runs the pacer's own code
 * (lambda/adapters/transfer-pacer.ts over the in-memory budget) against the simulator's token bucket:
 * - the event door's containers (EVENT_BUFFER.maxConcurrency), each sending one record at a time: it reserves a slot,
 *   waits for it, and calls Connect up to 30 ms later (round trip and clock skew); a throttled call slows the pacer
 *   down by CONNECT_THROTTLE_BACKOFF_MS and is sent again in a later slot, up to THROTTLED_SENDS sends, after which the
 *   record goes back to the buffer for its backoff (lambda/usecase/send-transfer.ts, lambda/event-buffer.ts);
 * - the outside caller calls at random moments (exponential gaps) at R per second, once each;
 * - Connect's TransferContact bucket, the simulator's, starts full.
 * It leaves out what the real run adds: cold starts, look-ups and SQS's polling (about 0.01 x the floor for 40 events
 * on an idle machine). With --beta, --trim or --backoff it prints the configured settings and the variant side by side.
 * It prints numbers and asserts nothing.
 */
import { parseArgs } from 'node:util';
import { CONNECT_THROTTLE_BACKOFF_MS } from '../lambda/adapters/pacing';
import { ADAPTIVE_RATE } from '../lambda/adapters/pacing-rate';
import type { AdaptiveRate } from '../lambda/adapters/pacing-rate';
import { InMemoryPacer } from '../lambda/adapters/transfer-pacer';
import { EVENT_BUFFER, returnDelaySeconds } from '../lambda/event-buffer';
import { THROTTLED_SENDS } from '../lambda/usecase/send-transfer';
import { transferBurst, transferRatePerSecond } from '../lambda/settings';
import { TokenBucket } from '../simulator/connect-simulator';
import { median, poissonGapMs, table, times, TRANSFER_QUOTA as QUOTA } from './measure';

const CASES: readonly (readonly [events: number, outsidePerSecond: number])[] = [
  [40, 0],
  [200, 0],
  [40, 0.25],
  [200, 0.25],
  [40, 0.5],
  [200, 0.5],
  [40, 1],
  [200, 1],
];
/** The bar a burst beside an outside caller is held to: at most 5 % of the gateway's calls throttled, drain within 1.2 x the floor for the rate left. */
const BAR = { throttledShare: 0.05, drainRatio: 1.2 } as const;
const SEND_JITTER_MS = 30;
/** How often an idle container asks the buffer again (the event source mapping's pollers, roughly). */
const BUFFER_POLL_MS = 100;
/** The pacer as a stack deploys it by default. */
const PACE = { ratePerSecond: transferRatePerSecond.default ?? QUOTA.rate, burst: transferBurst.default ?? 1 };

interface Variant {
  readonly name: string;
  readonly adaptive: AdaptiveRate;
  readonly backoffMs: number;
}

interface Run {
  readonly throttledShare: number;
  /** Records throttled on every send and returned to the buffer. */
  readonly returned: number;
  readonly outsideRefusedShare: number;
  readonly drainRatio: number;
}

export async function pacerModelBenchmark(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: { seeds: { type: 'string', default: '300' }, beta: { type: 'string' }, trim: { type: 'string' }, backoff: { type: 'string' } },
  });
  const seeds = Number(values.seeds);
  const configured: Variant = { name: 'configured', adaptive: ADAPTIVE_RATE, backoffMs: CONNECT_THROTTLE_BACKOFF_MS };
  const overridden = values.beta !== undefined || values.trim !== undefined || values.backoff !== undefined;
  const variant: Variant = {
    name: [values.beta && `beta ${values.beta}`, values.trim && `trim ${values.trim}`, values.backoff && `backoff ${values.backoff} ms`].filter(Boolean).join(', '),
    adaptive: { ...ADAPTIVE_RATE, beta: Number(values.beta ?? ADAPTIVE_RATE.beta), trim: Number(values.trim ?? ADAPTIVE_RATE.trim) },
    backoffMs: Number(values.backoff ?? CONNECT_THROTTLE_BACKOFF_MS),
  };
  const invalid = !Number.isInteger(seeds) || seeds < 1 || !(variant.adaptive.beta > 0 && variant.adaptive.beta < 1) || !(variant.adaptive.trim > 0 && variant.adaptive.trim <= 1) || !(variant.backoffMs >= 0);
  if (invalid) {
    console.error('usage: npm run bench -- --pacer-model [--seeds N (whole, >= 1)] [--beta B (0 to 1)] [--trim T (0 to 1)] [--backoff MS (>= 0)]');
    process.exitCode = 2;
    return;
  }
  console.log(
    `The shared pacer in virtual time: ${seeds} seeds per row, ${EVENT_BUFFER.maxConcurrency} containers, pacer ${PACE.ratePerSecond}/s burst ${PACE.burst}, ` +
      `Connect ${QUOTA.rate}/s burst ${QUOTA.burst}; configured: beta ${ADAPTIVE_RATE.beta}, trim ${ADAPTIVE_RATE.trim}, backoff ${CONNECT_THROTTLE_BACKOFF_MS} ms`,
  );
  for (const chosen of overridden ? [configured, variant] : [configured]) {
    console.log(`\n${chosen.name}`);
    const rows: string[][] = [
      ['events, outside', 'gateway throttled (median, p90)', 'outside refused (median)', 'drain / floor for the rate left (median, p90)', 'runs within the bar', 'records back to the buffer'],
    ];
    for (const [events, outside] of CASES) {
      const runs: Run[] = [];
      for (let seed = 1; seed <= seeds; seed += 1) runs.push(await modelRun(events, outside, seed, chosen));
      const within = runs.filter((run) => run.throttledShare <= BAR.throttledShare && run.drainRatio <= BAR.drainRatio).length;
      rows.push([
        `${events}, ${outside}/s`,
        `${percent(median(runs.map((run) => run.throttledShare)))}, ${percent(quantile(runs.map((run) => run.throttledShare), 0.9))}`,
        outside > 0 ? percent(median(runs.map((run) => run.outsideRefusedShare))) : '',
        `${times(median(runs.map((run) => run.drainRatio)))}, ${times(quantile(runs.map((run) => run.drainRatio), 0.9))}`,
        `${within} of ${seeds}`,
        `${runs.reduce((sum, run) => sum + run.returned, 0)} in ${runs.filter((run) => run.returned > 0).length} runs`,
      ]);
    }
    table(rows);
  }
}

const percent = (share: number): string => `${(100 * share).toFixed(1)} %`;

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

/** mulberry32: a small seeded generator, so that the same seed gives every variant the same outside caller. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A clock that moves only from one timer to the next, once every promise that can settle has settled. */
class VirtualTime {
  now = 1_800_000_000_000;
  private readonly timers: { at: number; order: number; fire: () => void }[] = [];
  private order = 0;

  at(at: number, fire: () => void): void {
    this.timers.push({ at: Math.max(at, this.now), order: (this.order += 1), fire });
  }

  sleep = (ms: number): Promise<void> => new Promise((resolve) => this.at(this.now + ms, resolve));

  async runUntil(done: () => boolean): Promise<void> {
    for (;;) {
      // setImmediate runs after every pending promise job, the pacer's in-memory writes included.
      await new Promise((resolve) => setImmediate(resolve));
      if (done()) return;
      this.timers.sort((a, b) => a.at - b.at || a.order - b.order);
      const next = this.timers.shift();
      if (!next) throw new Error('The model stalled: nothing is pending and the burst has not drained');
      this.now = next.at;
      next.fire();
    }
  }
}

async function modelRun(events: number, outsidePerSecond: number, seed: number, variant: Variant): Promise<Run> {
  // Separate streams, so that the outside caller's moments do not shift with how many calls the gateway made.
  const outsideRandom = seeded(seed);
  const gatewayRandom = seeded(seed + 0x9e3779b9);
  const time = new VirtualTime();
  const start = time.now;
  const pacer = new InMemoryPacer(PACE, { now: () => time.now, sleep: time.sleep, adaptive: variant.adaptive });
  const connect = new TokenBucket(QUOTA, start);
  /** The buffer: each record's receive count, in the order the containers get them. */
  const buffered: number[] = Array.from({ length: events }, () => 1);
  let drained = 0;
  let lastTransferAt = start;
  const gateway = { calls: 0, throttled: 0, returned: 0 };
  const outside = { calls: 0, refused: 0 };

  /** One record: up to THROTTLED_SENDS sends in the pacer's slots, each throttle slowing it down; false when all were throttled. */
  const send = async (): Promise<boolean> => {
    for (let sends = 1; sends <= THROTTLED_SENDS; sends += 1) {
      const sendAt = await pacer.reserve(time.now + 60_000);
      if (sendAt === undefined) throw new Error('A slot a minute ahead was refused: the model is not draining');
      await time.sleep(sendAt - time.now + gatewayRandom() * SEND_JITTER_MS);
      gateway.calls += 1;
      if (connect.take(time.now)) return true;
      gateway.throttled += 1;
      await pacer.slowDown(variant.backoffMs);
    }
    return false;
  };
  const container = async (): Promise<void> => {
    while (drained < events) {
      const receiveCount = buffered.shift();
      if (receiveCount === undefined) {
        await time.sleep(BUFFER_POLL_MS);
        continue;
      }
      if (await send()) {
        drained += 1;
        lastTransferAt = time.now;
      } else {
        // Throttled on every send: the record goes back to the buffer with its backoff (lambda/event-buffer.ts).
        gateway.returned += 1;
        time.at(time.now + returnDelaySeconds(receiveCount, gatewayRandom()) * 1000, () => buffered.push(receiveCount + 1));
      }
    }
  };
  const outsideCall = (): void => {
    if (drained === events) return;
    outside.calls += 1;
    if (!connect.take(time.now)) outside.refused += 1;
    time.at(time.now + poissonGapMs(outsidePerSecond, outsideRandom()), outsideCall);
  };
  if (outsidePerSecond > 0) time.at(start + poissonGapMs(outsidePerSecond, outsideRandom()), outsideCall);
  let failure: unknown;
  // Containers still polling an empty buffer when the burst has drained are left waiting: their clock has stopped.
  void Promise.all(Array.from({ length: EVENT_BUFFER.maxConcurrency }, container)).catch((error: unknown) => (failure = error));
  await time.runUntil(() => drained === events || failure !== undefined);
  if (failure !== undefined) throw failure;
  const floorMs = ((events - QUOTA.burst) / (QUOTA.rate - outsidePerSecond)) * 1000;
  return {
    throttledShare: gateway.throttled / gateway.calls,
    returned: gateway.returned,
    outsideRefusedShare: outside.calls === 0 ? 0 : outside.refused / outside.calls,
    drainRatio: (lastTransferAt - start) / floorMs,
  };
}
