import { describe, expect, it, vi } from 'vitest';
import { SharedPacing } from '../../../lambda/adapters/pacing';
import type { TransferPacer } from '../../../lambda/adapters/transfer-pacer';

/** The use case's view of the pacer: what a throttle costs every container, and that pacing fails open. */
function pacerThat(overrides: Partial<TransferPacer> = {}): TransferPacer & { slowDown: ReturnType<typeof vi.fn> } {
  return {
    acquire: vi.fn(async () => true),
    reserve: vi.fn(async () => 1_000),
    release: vi.fn(async () => undefined),
    slowDown: vi.fn(async () => undefined),
    ...overrides,
  } as TransferPacer & { slowDown: ReturnType<typeof vi.fn> };
}

describe('pacing through the shared pacer', () => {
  it('answers a Connect throttle by making every container wait half a second more: one token of Connect\'s default 2/s', async () => {
    const pacer = pacerThat();
    await new SharedPacing(pacer, vi.fn()).throttled();
    expect(pacer.slowDown).toHaveBeenCalledWith(500);
  });

  it('calls Connect unpaced, with a warning, when the pacer cannot be reached', async () => {
    const warn = vi.fn();
    const before = Date.now();
    const slot = await new SharedPacing(pacerThat({ reserve: vi.fn(async () => Promise.reject(new Error('table unreachable'))) }), warn).slot(before + 60_000);
    expect(slot).toBeGreaterThanOrEqual(before);
    expect(slot).toBeLessThanOrEqual(Date.now());
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('unpaced'), expect.objectContaining({ error: expect.any(Error) }));
  });

  it('goes on when a throttle cannot be recorded or a slot given back, with a warning each', async () => {
    const warn = vi.fn();
    const pacing = new SharedPacing(pacerThat({ slowDown: vi.fn(async () => Promise.reject(new Error('x'))), release: vi.fn(async () => Promise.reject(new Error('y'))) }), warn);
    await expect(pacing.throttled()).resolves.toBeUndefined();
    await expect(pacing.giveBack(2_000)).resolves.toBeUndefined();
    expect(warn).toHaveBeenCalledTimes(2);
  });
});
