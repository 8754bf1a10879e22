import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** The client folder is installed on its own by internal apps: it must declare everything it imports. */
const root = join(__dirname, '..', '..');
const clientDir = join(root, 'client');
interface PackageJson {
  readonly dependencies: Record<string, string>;
  readonly devDependencies?: Record<string, string>;
  readonly files: string[];
  readonly bin: Record<string, string>;
  readonly main: string;
  readonly types: string;
  readonly exports: Record<string, unknown>;
  readonly scripts: Record<string, string>;
}
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as PackageJson;
const clientPackage = readJson(join(clientDir, 'package.json'));
const rootPackage = readJson(join(root, 'package.json'));
const sources = readdirSync(clientDir).filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'));
const importsOf = (file: string) =>
  [...readFileSync(join(clientDir, file), 'utf8').matchAll(/(?:from |require\()\s*'([^']+)'/g)].map((match) => match[1] ?? '');

/** npm's caret rule: `^a.b.c` admits versions from a.b.c up to, not including, the next change of its leftmost non-zero part. */
function caretAdmits(range: string, version: string): boolean {
  const [a = 0, b = 0, c = 0] = range.replace(/^\^/, '').split('.').map(Number);
  const [x = 0, y = 0, z = 0] = version.split('.').map(Number);
  if (a > 0) return x === a && (y > b || (y === b && z >= c));
  if (b > 0) return x === 0 && y === b && z >= c;
  return x === 0 && y === 0 && z === c;
}

describe('the client package', () => {
  it('ships built JavaScript and declarations, for require, import and the command', () => {
    expect(clientPackage.main).toBe('dist/index.js');
    expect(clientPackage.types).toBe('dist/index.d.ts');
    expect(clientPackage.exports['.']).toEqual({ types: './dist/index.d.ts', default: './dist/index.js' });
    expect(clientPackage.bin).toEqual({
      'transfer-contact': 'dist/bin.js',
      'list-contact-transfers': 'dist/list-bin.js',
      'schedule-contact-transfer': 'dist/schedule-bin.js',
      'get-contact-transfer-schedule': 'dist/get-schedule-bin.js',
      'list-contact-transfer-schedules': 'dist/list-schedules-bin.js',
      'cancel-contact-transfer-schedule': 'dist/cancel-schedule-bin.js',
    });
    // Every command is also an npm script of the repository, run from source.
    for (const [command, built] of Object.entries(clientPackage.bin)) {
      expect(rootPackage.scripts[command], command).toBe(`tsx client/${built.replace(/^dist\//, '').replace(/\.js$/, '.ts')}`);
    }
    expect(clientPackage.scripts.prepack).toBeDefined();
    expect(sources.sort()).toEqual([
      'bin.ts',
      'cancel-schedule-bin.ts',
      'cli.ts',
      'get-schedule-bin.ts',
      'index.ts',
      'list-bin.ts',
      'list-cli.ts',
      'list-schedules-bin.ts',
      'schedule-bin.ts',
      'schedule-cli.ts',
      'schedules.ts',
    ]);
  });

  it('imports only Node built-ins, its own files and its declared dependencies; nothing compiles at run time', () => {
    const packageOf = (specifier: string) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
    const external = new Set(
      sources.flatMap(importsOf).filter((specifier) => !specifier.startsWith('node:') && !specifier.startsWith('.')).map(packageOf),
    );
    expect([...external].sort()).toEqual(Object.keys(clientPackage.dependencies).sort());
    expect(Object.keys(clientPackage.dependencies)).not.toContain('tsx');
    expect(Object.keys(clientPackage.dependencies)).not.toContain('esbuild');
  });

  it('takes its dependencies as caret ranges that admit the versions the gateway pins, so an app keeps one copy', () => {
    expect(caretAdmits('^3.972.97', '3.980.0')).toBe(true);
    expect(caretAdmits('^3.972.97', '3.972.96')).toBe(false);
    expect(caretAdmits('^3.972.97', '4.0.0')).toBe(false);
    const rootPins = { ...rootPackage.dependencies, ...rootPackage.devDependencies };
    for (const [name, range] of Object.entries(clientPackage.dependencies)) {
      expect(range, name).toMatch(/^\^\d+\.\d+\.\d+$/);
      expect(caretAdmits(range, rootPins[name] ?? '0.0.0'), `${name} ${range} admits the gateway's ${rootPins[name]}`).toBe(true);
    }
  });
});
