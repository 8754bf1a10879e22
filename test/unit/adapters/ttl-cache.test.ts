import { describe, expect, it, vi } from 'vitest';
import { TtlCache } from '../../../lambda/adapters/ttl-cache';

const loader = (value = 'v') => vi.fn(() => Promise.resolve(value));

describe('TtlCache', () => {
  it('answers a repeated key from the cache within the TTL', async () => {
    const now = 0;
    const cache = new TtlCache<string>(1000, 10, () => now);
    const load = loader('first');
    await cache.get('k', load);
    await expect(cache.get('k', loader('second'))).resolves.toBe('first');
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('loads again once the TTL has passed', async () => {
    let now = 0;
    const cache = new TtlCache<string>(1000, 10, () => now);
    await cache.get('k', loader('old'));
    now = 999;
    await expect(cache.get('k', loader('new'))).resolves.toBe('old');
    now = 1000;
    await expect(cache.get('k', loader('new'))).resolves.toBe('new');
  });

  it.each([1, 2, 5])('never holds more than maxEntries (%i) however many keys it sees', async (maxEntries) => {
    const cache = new TtlCache<string>(60_000, maxEntries);
    for (let i = 0; i < 50; i += 1) {
      await cache.get(`k${i}`, loader());
      expect(cache.size).toBeLessThanOrEqual(maxEntries);
    }
    expect(cache.size).toBe(maxEntries);
  });

  it('evicts the oldest entry and keeps the newer ones', async () => {
    const cache = new TtlCache<string>(60_000, 2);
    await cache.get('a', loader('a'));
    await cache.get('b', loader('b'));
    await cache.get('c', loader('c'));

    const reloadA = loader('a2');
    await expect(cache.get('a', reloadA)).resolves.toBe('a2');
    expect(reloadA).toHaveBeenCalledTimes(1);
    // 'a' came back and pushed out 'b'; 'c' is still cached.
    const reloadC = loader('c2');
    await expect(cache.get('c', reloadC)).resolves.toBe('c');
    expect(reloadC).not.toHaveBeenCalled();
  });

  it('does not keep a rejected load: the next get tries again', async () => {
    const cache = new TtlCache<string>(60_000, 10);
    await expect(cache.get('k', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(cache.size).toBe(0);
    await expect(cache.get('k', loader('up'))).resolves.toBe('up');
  });

  it('does not keep a value that `keep` refuses', async () => {
    const cache = new TtlCache<{ found: boolean }>(60_000, 10);
    await cache.get('k', () => Promise.resolve({ found: false }), (value) => value.found);
    const again = vi.fn(() => Promise.resolve({ found: true }));
    await expect(cache.get('k', again, (value) => value.found)).resolves.toEqual({ found: true });
    expect(again).toHaveBeenCalledTimes(1);
  });

  it('shares one load between concurrent gets of a key', async () => {
    const cache = new TtlCache<string>(60_000, 10);
    let release: (value: string) => void = () => undefined;
    const load = vi.fn(() => new Promise<string>((resolve) => (release = resolve)));
    const pending = [cache.get('k', load), cache.get('k', load), cache.get('k', load)];
    release('shared');
    await expect(Promise.all(pending)).resolves.toEqual(['shared', 'shared', 'shared']);
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('a TTL of 0 disables caching and holds nothing', async () => {
    const cache = new TtlCache<string>(0, 10);
    const load = loader();
    await cache.get('k', load);
    await cache.get('k', load);
    expect(load).toHaveBeenCalledTimes(2);
    expect(cache.size).toBe(0);
  });
});
