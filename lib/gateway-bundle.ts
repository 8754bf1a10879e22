import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { build } from 'esbuild';
import type { BuildOptions, Metafile, Plugin } from 'esbuild';

const PROJECT_ROOT = path.join(__dirname, '..');

/**
 * Credential providers Lambda never reaches: its credentials are environment variables, which the default chain
 * reads first. They are only ever required lazily, and the Lambda runtime's own SDK copy would answer if one were.
 */
export const LAMBDA_UNUSED_CREDENTIAL_PROVIDERS = [
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-process',
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-web-identity',
  '@aws-sdk/credential-provider-login',
  '@aws-sdk/credential-provider-http',
  '@aws-sdk/nested-clients',
  '@aws-sdk/token-providers',
  '@smithy/credential-provider-imds',
];

/**
 * The SDK clients' schema modules write HTTP bindings as `{ [_h]: [...] }`, `_h` being a module constant. esbuild
 * cannot prove a computed key free of side effects, so it keeps every operation schema, and through them every
 * shape: for Connect, about 170 KB of operations the gateway never calls. Writing the constant's string in place of
 * the computed key changes nothing at run time and lets esbuild drop what is unused.
 */
export const pureSchemaKeys: Plugin = {
  name: 'pure-sdk-schema-keys',
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /[\\/]@aws-sdk[\\/]client-[^\\/]+[\\/]dist-es[\\/]schemas[\\/]schemas_\d+\.js$/ }, async ({ path: file }) => ({
      contents: inlineConstantKeys(await readFile(file, 'utf8')),
      loader: 'js',
    }));
  },
};

/** `{ [_h]: x }` to `{ "http": x }` for every `const _h = "http";` of the module; other computed keys stay. */
export function inlineConstantKeys(source: string): string {
  const constants = new Map([...source.matchAll(/^const (_\w+) = ("[^"\\]*");$/gm)].map(([, name = '', value = '']) => [name, value]));
  return source.replace(/\[(_\w+)\]:/g, (key: string, name: string) => {
    const value = constants.get(name);
    return value === undefined ? key : `${value}:`;
  });
}

/**
 * The SDK's HTTP protocols load their event-stream codec with a dynamic `import()` the first time an operation streams
 * events. esbuild bundles what a dynamic import names, so the codec (about 20 KB) sat in the bundle although neither Connect
 * nor DynamoDB has such an operation. It is replaced by a module that says so if it is ever loaded.
 */
export const withoutEventStreams: Plugin = {
  name: 'without-sdk-event-streams',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^@smithy\/core\/event-streams$/ }, ({ path: specifier }) => ({ path: specifier, namespace: 'not-bundled' }));
    pluginBuild.onLoad({ filter: /.*/, namespace: 'not-bundled' }, ({ path: specifier }) => ({
      contents: `throw new Error(${JSON.stringify(`${specifier} is not bundled: the gateway calls no operation that streams events`)});`,
      loader: 'js',
    }));
  },
};

/**
 * Powertools idempotency reads the key and the payload to validate through JMESPath, and the gateway names each by a
 * bare member (IDEMPOTENCY_JMESPATHS in lambda/adapters/idempotency.ts). For such an expression JMESPath's
 * answer is the member of an object, or null; the lexer, parser, interpreter and function library behind it (23 KB)
 * are left out, and an expression that is more than a member name fails loudly instead of being answered wrongly.
 */
const MEMBER_ONLY_JMESPATH = `const MEMBER_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export function search(expression, data) {
  if (!MEMBER_NAME.test(expression)) throw new Error("JMESPath " + JSON.stringify(expression) + " is not bundled: the gateway's bundle evaluates only a bare member name");
  return Object.prototype.toString.call(data) === "[object Object]" && expression in data ? data[expression] : null;
}
export class PowertoolsFunctions {}`;

export const memberOnlyJmesPath: Plugin = {
  name: 'member-only-jmespath',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^@aws-lambda-powertools\/jmespath(\/functions)?$/ }, () => ({ path: 'jmespath', namespace: 'member-only' }));
    pluginBuild.onLoad({ filter: /.*/, namespace: 'member-only' }, () => ({ contents: MEMBER_ONLY_JMESPATH, loader: 'js' }));
  },
};

/**
 * Each SDK client imports its whole package.json (about 2 KB each) for one member, its version, which the User-Agent
 * header carries. The bundle gets that member alone.
 */
export const clientVersionOnly: Plugin = {
  name: 'sdk-client-version-only',
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /[\\/]@aws-sdk[\\/]client-[^\\/]+[\\/]package\.json$/ }, async ({ path: file }) => {
      const { version } = JSON.parse(await readFile(file, 'utf8')) as { version: string };
      return { contents: JSON.stringify({ version }), loader: 'json' };
    });
  },
};

/**
 * DynamoDB's client builds an endpoint-discovery cache on mnemonist's LRU cache (with obliterator, about 8 KB) even
 * with discovery off, as it is by default and in the gateway: the cache is made and never filled. A Map with the same
 * five methods stands in; the first entry set is the first evicted, which is all a cache that stays empty needs.
 */
const MAP_LRU_CACHE = `export default class LRUCache {
  constructor(capacity) { this.capacity = capacity; this.entries = new Map(); }
  get size() { return this.entries.size; }
  has(key) { return this.entries.has(key); }
  peek(key) { return this.entries.get(key); }
  get(key) { const value = this.entries.get(key); if (value !== undefined) { this.entries.delete(key); this.entries.set(key, value); } return value; }
  set(key, value) { this.entries.delete(key); this.entries.set(key, value); if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value); }
  clear() { this.entries.clear(); }
}`;

export const mapLruCache: Plugin = {
  name: 'map-lru-cache',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^mnemonist\/lru-cache$/ }, () => ({ path: 'lru-cache', namespace: 'map-lru-cache' }));
    pluginBuild.onLoad({ filter: /.*/, namespace: 'map-lru-cache' }, () => ({ contents: MAP_LRU_CACHE, loader: 'js' }));
  },
};

/**
 * @smithy/core carries pure-JavaScript SHA-256 and MD5 (about 5 KB) for runtimes without node:crypto's; its Node
 * classes use them only when `createHash` refuses the algorithm, which Lambda's Node never does. Each is replaced
 * by a class that says so if it is ever constructed.
 */
export const nativeHashesOnly: Plugin = {
  name: 'native-hashes-only',
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /[\\/]@smithy[\\/]core[\\/]dist-es[\\/]submodules[\\/]checksum[\\/](sha256[\\/]Sha256Js|md5[\\/]Md5Js)\.js$/ }, ({ path: file }) => {
      const name = path.basename(file, '.js');
      const message = `${name} is not bundled: node:crypto computes this hash in Lambda`;
      return { contents: `export class ${name} { constructor() { throw new Error(${JSON.stringify(message)}); } }`, loader: 'js' };
    });
  },
};

/**
 * The function's esbuild options, in one place so that the stack, the benchmark and its alternatives build the
 * same thing. Chosen with `npm run bench` (docs/performance.md): the SDK bundled (the versions the tests ran
 * against are the versions deployed, one file to load at cold start), `module` first so that esbuild takes the
 * SDK's ES builds, which tree-shake, CommonJS output, minified, source maps without a copy of the sources.
 */
export const GATEWAY_BUNDLE: BuildOptions = {
  entryPoints: [path.join(PROJECT_ROOT, 'lambda', 'handler.ts')],
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'cjs',
  mainFields: ['module', 'main'],
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  // What esbuild would keep as legal comments are coverage hints (`v8 ignore ... @preserve`), not licences.
  legalComments: 'none',
  external: LAMBDA_UNUSED_CREDENTIAL_PROVIDERS,
  // The plugins that pay, measured at the default memory's CPU share: pureSchemaKeys (about 177 KiB and a third of
  // the bundle's load time), withoutEventStreams and memberOnlyJmesPath (together 43 KiB, which keep the bundle well
  // inside its 400 KiB budget). pureSchemaKeys matches the SDK clients' schema file names: should an upgrade rename
  // them, the budget test on the real bundle (test/e2e/deployed-bundle.test.ts) fails.
  // clientVersionOnly, mapLruCache and nativeHashesOnly (together about 21 KiB) make room for the Scheduler client.
  plugins: [pureSchemaKeys, withoutEventStreams, memberOnlyJmesPath, clientVersionOnly, mapLruCache, nativeHashesOnly],
  logLevel: 'warning',
};

/** Builds `index.js` (and its map) into `outdir`; `overrides` build the alternatives the benchmark compares. */
export async function bundleGateway(outdir: string, overrides: BuildOptions = {}): Promise<Metafile> {
  const result = await build({ ...GATEWAY_BUNDLE, ...overrides, outfile: path.join(outdir, 'index.js'), metafile: true });
  return result.metafile;
}

// The stack's asset bundling is synchronous and esbuild plugins need the asynchronous API, so the construct runs
// this file in a child process: `node --import tsx lib/gateway-bundle.ts <outdir>`.
if (require.main === module) {
  const [outdir] = process.argv.slice(2);
  if (!outdir) {
    console.error('usage: node --import tsx lib/gateway-bundle.ts <outdir>');
    process.exitCode = 2;
  } else {
    bundleGateway(outdir).catch((error: unknown) => {
      // esbuild has already printed what failed and where.
      console.error(error instanceof Error ? error.message : String(error));
      process.exitCode = 1;
    });
  }
}
