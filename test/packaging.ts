/** Installing a packed package of this repository into a fresh project, offline, as the package tests do. */

export interface LockEntry {
  readonly version?: string;
  readonly dependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
  readonly peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  readonly [key: string]: unknown;
}

/**
 * The lockfile entries the named packages need, taken from this repository's lockfile and resolved as Node and npm
 * resolve them: nearest node_modules first. `npm ci` refuses a lockfile whose versions a package's ranges do not
 * admit, so installing from it checks the package's ranges too.
 */
export function closure(lock: Record<string, LockEntry>, names: readonly string[], { peers = true } = {}): Record<string, LockEntry> {
  const picked: Record<string, LockEntry> = {};
  const visit = (name: string, from: string, optional: boolean): void => {
    for (let base = from; ; base = base.includes('/node_modules/') ? base.slice(0, base.lastIndexOf('/node_modules/')) : '') {
      const location = `${base ? `${base}/` : ''}node_modules/${name}`;
      const entry = lock[location];
      if (entry) {
        if (picked[location]) return;
        const { dev: _dev, devOptional: _devOptional, peer: _peer, optional: _optional, ...kept } = entry;
        picked[location] = kept;
        const optionalPeers = Object.entries(entry.peerDependenciesMeta ?? {}).filter(([, meta]) => meta.optional).map(([peer]) => peer);
        Object.keys(entry.dependencies ?? {}).forEach((dependency) => visit(dependency, location, false));
        Object.keys(entry.optionalDependencies ?? {}).forEach((dependency) => visit(dependency, location, true));
        if (peers) Object.keys(entry.peerDependencies ?? {}).forEach((peer) => visit(peer, location, optionalPeers.includes(peer)));
        return;
      }
      if (!base) {
        if (!optional) throw new Error(`${name} (needed by ${from || 'the app'}) is not in package-lock.json`);
        return;
      }
    }
  };
  names.forEach((name) => visit(name, '', false));
  return picked;
}
