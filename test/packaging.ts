/** Installing a packed package of this repository into a fresh project, offline, as the package tests do. */
import { execFile } from 'node:child_process';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';

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

export interface PackedAppOptions {
  /** The package's folder in this repository (client/, construct/): `npm pack` runs there, which builds it. */
  readonly packageDir: string;
  /** An empty folder: the fresh app. */
  readonly app: string;
  /** Where `npm pack` may write before the tarball moves into the app. */
  readonly scratch: string;
  readonly appName: string;
  /** What the app already depends on besides the package, at the versions this repository locks. */
  readonly otherDependencies?: Record<string, string>;
  /** Install the package's peers from the lockfile too; without, the test links the app's own. @default true */
  readonly peers?: boolean;
  readonly npmFlags?: readonly string[];
}

const run = promisify(execFile);
export const npm = (args: string[], cwd: string) => run('npm', args, { cwd, env: { ...process.env, npm_config_update_notifier: 'false' }, maxBuffer: 16 * 1024 * 1024 });

/**
 * Packs the package, writes the app's manifest and a lockfile taken from this repository's (the package's closure at
 * the versions tested here), and installs with `npm ci --offline` from the npm cache this repository's `npm ci` filled.
 * Returns the packed version.
 */
export async function installPackedApp(options: PackedAppOptions): Promise<string> {
  const { packageDir, app, scratch, appName, otherDependencies = {}, peers = true, npmFlags = [] } = options;
  const { stdout } = await npm(['pack', '--json', '--pack-destination', scratch], packageDir);
  const [packed] = JSON.parse(stdout.slice(stdout.indexOf('['))) as { filename: string; integrity: string; version: string }[];
  if (!packed) throw new Error(`npm pack printed no result: ${stdout}`);
  const tarball = `${basename(packageDir)}.tgz`;
  await rename(join(scratch, packed.filename), join(app, tarball));

  const root = join(packageDir, '..');
  const repoLock = (JSON.parse(await readFile(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> }).packages;
  const pkg = JSON.parse(await readFile(join(packageDir, 'package.json'), 'utf8')) as LockEntry & { name: string; license: string; bin?: Record<string, string> };
  const manifest = { name: appName, version: '1.0.0', private: true, dependencies: { [pkg.name]: `file:${tarball}`, ...otherDependencies } };
  const lockfile = {
    name: manifest.name,
    version: manifest.version,
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': manifest,
      [`node_modules/${pkg.name}`]: {
        version: packed.version,
        resolved: `file:${tarball}`,
        integrity: packed.integrity,
        license: pkg.license,
        dependencies: pkg.dependencies,
        ...(pkg.bin && { bin: pkg.bin }),
        engines: pkg.engines,
      },
      ...closure(repoLock, [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(otherDependencies)], { peers }),
    },
  };
  await writeFile(join(app, 'package.json'), JSON.stringify(manifest, null, 2));
  await writeFile(join(app, 'package-lock.json'), JSON.stringify(lockfile, null, 2));
  const install = (mode: string) => npm(['ci', mode, '--no-audit', '--no-fund', '--ignore-scripts', ...npmFlags], app);
  // A machine whose npm cache was emptied after the repository's own npm ci may fetch what is missing.
  await install('--offline').catch((error: { stderr?: string }) => {
    if (!error.stderr?.includes('ENOTCACHED')) throw error;
    return install('--prefer-offline');
  });
  return packed.version;
}
