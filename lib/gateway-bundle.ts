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

/** Properties of the settings table (lambda/settings.ts) that only people, CDK context parsing and the README read. */
export const SETTING_DOC_PROPERTIES = ['context', 'meaning', 'absent', 'setBy', 'example', 'propType'] as const;

/**
 * The settings table describes every knob for people and for the CDK (its context key, meaning, what leaving it out
 * means, an example), and the function reads only variable names, parsers, defaults and expectations. The rest, about
 * 3.5 KB, is left out of the bundle: each such property is one line of lambda/settings.ts, and a property written over
 * several lines fails the build rather than slipping through.
 */
export const withoutSettingDocs: Plugin = {
  name: 'without-setting-docs',
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /[\\/]lambda[\\/]settings\.ts$/ }, async ({ path: file }) => {
      const source = await readFile(file, 'utf8');
      const property = new RegExp(`^\\s*(?:${SETTING_DOC_PROPERTIES.join('|')}):`);
      const lines = source.split('\n');
      const unfinished = lines.find((line) => property.test(line) && !line.trimEnd().endsWith(','));
      if (unfinished !== undefined) throw new Error(`lambda/settings.ts: write each description on one line ending in a comma: ${unfinished.trim()}`);
      return { contents: lines.filter((line) => !property.test(line)).join('\n'), loader: 'ts' };
    });
  },
};

/**
 * A small LRU on a Map in place of mnemonist's (7 KB with its iterator library). The DynamoDB client builds an
 * endpoint-discovery cache of 1,000 entries when it is created, with typed arrays allocated up front, and reads it only
 * when endpoint discovery is enabled, which DynamoDB does not need and the gateway never enables. It keeps the
 * interface and the eviction, so enabling discovery would still work. CommonJS, as mnemonist is, for either import style.
 */
const MAP_LRU_CACHE = `module.exports = class LRUCache {
  constructor(capacity) { this.capacity = capacity; this.items = new Map(); }
  get size() { return this.items.size; }
  has(key) { return this.items.has(key); }
  peek(key) { return this.items.get(key); }
  get(key) {
    if (!this.items.has(key)) return undefined;
    const value = this.items.get(key);
    this.items.delete(key);
    this.items.set(key, value);
    return value;
  }
  set(key, value) {
    this.items.delete(key);
    this.items.set(key, value);
    if (this.items.size > this.capacity) this.items.delete(this.items.keys().next().value);
    return this;
  }
  clear() { this.items.clear(); }
}`;

/**
 * Stand-ins for code Lambda never runs: the endpoint-discovery cache above, and the SDK's pure-JavaScript SHA-256
 * (3 KB), which it picks only when `node:crypto` has no sha256, as no Node that Lambda runs does.
 */
export const withoutUnusedFallbacks: Plugin = {
  name: 'without-unused-sdk-fallbacks',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^mnemonist\/lru-cache$/ }, () => ({ path: 'map-lru-cache', namespace: 'stand-in' }));
    pluginBuild.onResolve({ filter: /^\.\/Sha256Js$/ }, ({ importer }) =>
      /[\\/]@smithy[\\/]core[\\/].*[\\/]sha256[\\/]/.test(importer) ? { path: 'sha256-js', namespace: 'stand-in' } : undefined,
    );
    pluginBuild.onLoad({ filter: /.*/, namespace: 'stand-in' }, ({ path: name }) => ({
      contents:
        name === 'map-lru-cache'
          ? MAP_LRU_CACHE
          : 'export class Sha256Js { constructor() { throw new Error("The pure-JavaScript SHA-256 is not bundled: node:crypto provides sha256"); } }',
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
 * The SDK clients import their whole package.json (2 KB each, its scripts and dependencies) to read one field, the
 * version their user agent names. The stand-in module holds that version alone.
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
 * The function's esbuild options, in one place so that the stack, the benchmark and its alternatives build the
 * same thing. Chosen with `npm run bench` (README, Performance): the SDK bundled (the versions the tests ran
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
  external: LAMBDA_UNUSED_CREDENTIAL_PROVIDERS,
  plugins: [pureSchemaKeys, withoutEventStreams, withoutUnusedFallbacks, withoutSettingDocs, memberOnlyJmesPath, clientVersionOnly],
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
