import type { PacingPort } from '../ports';
import type { TransferPacer } from './transfer-pacer';

/**
 * A throttle from Connect despite the pacing means another caller used the quota: every container waits this much more,
 * one token's refill at Connect's default 2/s. The wait comes after the calls already queued and the burst tolerance
 * (lambda/adapters/transfer-pacer.ts), which let the bucket refill already; a longer one only delays a short burst.
 */
export const CONNECT_THROTTLE_BACKOFF_MS = 500;

/**
 * The use case's pacing through the shared pacer. Pacing fails open: when the pacer's table cannot be reached the
 * call goes now, since Connect's own quota still holds and the idempotency record already guards the transfer.
 */
export class SharedPacing implements PacingPort {
  constructor(
    private readonly pacer: TransferPacer,
    private readonly warn: (message: string, details: Record<string, unknown>) => void,
  ) {}

  async slot(deadline: number): Promise<number | undefined> {
    try {
      return await this.pacer.reserve(deadline);
    } catch (error) {
      this.warn('The shared pacer could not be reached; calling Connect unpaced', { error });
      return Date.now();
    }
  }

  async giveBack(sendAt: number): Promise<void> {
    try {
      await this.pacer.release(sendAt);
    } catch (error) {
      this.warn('Could not give an unused pacing slot back', { error });
    }
  }

  async throttled(): Promise<void> {
    try {
      await this.pacer.slowDown(CONNECT_THROTTLE_BACKOFF_MS);
    } catch (error) {
      this.warn('Could not slow the shared pacer down', { error });
    }
  }
}
