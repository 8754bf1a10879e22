/**
 * A per-container cache with a lifetime and a size bound, so a warm container neither serves stale flow, queue
 * or user descriptions for long nor grows with the number of distinct ids it has seen.
 * It holds promises: concurrent look-ups of one id share a single remote call.
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { readonly value: Promise<V>; readonly expiresAt: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** `keep` decides whether a resolved value may be reused; rejections are never kept. */
  get(key: string, load: () => Promise<V>, keep: (value: V) => boolean = () => true): Promise<V> {
    if (this.ttlMs <= 0) return load();
    const cached = this.entries.get(key);
    if (cached && cached.expiresAt > this.now()) return cached.value;
    this.entries.delete(key);

    const value = load();
    this.entries.set(key, { value, expiresAt: this.now() + this.ttlMs });
    const forget = (): void => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    };
    value.then((resolved) => keep(resolved) || forget(), forget);
    if (this.entries.size > this.maxEntries) {
      // Maps iterate in insertion order, so the first key is the oldest entry.
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    return value;
  }

  get size(): number {
    return this.entries.size;
  }
}
