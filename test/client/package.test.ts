import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** The client folder is installed on its own by internal apps: it must carry everything it imports, at our pins. */
const root = join(__dirname, '..', '..');
const clientDir = join(root, 'client');
interface PackageJson {
  readonly dependencies: Record<string, string>;
  readonly devDependencies?: Record<string, string>;
  readonly files: string[];
  readonly bin: Record<string, string>;
  readonly main: string;
}
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as PackageJson;
const clientPackage = readJson(join(clientDir, 'package.json'));
const rootPackage = readJson(join(root, 'package.json'));
const sources = readdirSync(clientDir).filter((file) => /\.(ts|js)$/.test(file));
const importsOf = (file: string) =>
  [...readFileSync(join(clientDir, file), 'utf8').matchAll(/(?:from |require\()\s*'([^']+)'/g)].map((match) => match[1] ?? '');

describe('the client package', () => {
  it('ships every source file, its entry point and its command', () => {
    expect([...clientPackage.files].sort()).toEqual([...sources].sort());
    expect(clientPackage.files).toContain(clientPackage.main);
    expect(clientPackage.files).toEqual(expect.arrayContaining(Object.values(clientPackage.bin)));
  });

  it('imports only Node built-ins, its own files and its declared dependencies, pinned as the gateway pins them', () => {
    const packageOf = (specifier: string) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
    const external = new Set(
      sources.flatMap(importsOf).filter((specifier) => !specifier.startsWith('node:') && !specifier.startsWith('.')).map(packageOf),
    );
    expect([...external].sort()).toEqual(Object.keys(clientPackage.dependencies).sort());
    const rootPins = { ...rootPackage.dependencies, ...rootPackage.devDependencies };
    for (const [name, version] of Object.entries(clientPackage.dependencies)) expect(`${name}@${version}`).toBe(`${name}@${rootPins[name]}`);
  });
});
