import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { untilTime } from '../../../lambda/usecase/transfer-context';

/** Whether the promise has settled once every pending callback has run, without moving the clock. */
async function settledNow(promise: Promise<void>): Promise<boolean> {
  let settled = false;
  void promise.then(() => (settled = true));
  for (let turn = 0; turn < 5; turn++) await Promise.resolve();
  return settled;
}

describe('untilTime: a paced transfer waits for its slot', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout'] });
    vi.setSystemTime(new Date('2030-01-01T10:00:00Z'));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends no earlier than the slot, and as soon as it has come', async () => {
    const waiting = untilTime(Date.now() + 1000);
    await vi.advanceTimersByTimeAsync(999);
    expect(await settledNow(waiting)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await settledNow(waiting)).toBe(true);
  });

  it('sends at once when the slot is now or has passed, without waiting for a timer', async () => {
    expect(await settledNow(untilTime(Date.now()))).toBe(true);
    expect(await settledNow(untilTime(Date.now() - 5000))).toBe(true);
  });
});
