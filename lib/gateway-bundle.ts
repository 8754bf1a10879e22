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
  // the bundle's load time), withoutEventStreams and memberOnlyJmesPath (together 43 KiB). Each rewrites what an SDK or
  // Powertools file is called or imports: should an upgrade rename it, bundleGateway fails the build rather than ship
  // the larger bundle unnoticed.
  plugins: [pureSchemaKeys, withoutEventStreams, memberOnlyJmesPath],
  logLevel: 'warning',
};

/**
 * Builds `index.js` (and its map) into `outdir`; `overrides` build the alternatives the benchmark compares. Fails when a
 * plugin matched no file or import, since a plugin that silently stops matching after an upgrade leaves the bundle as
 * if it were not there.
 */
export async function bundleGateway(outdir: string, overrides: BuildOptions = {}): Promise<Metafile> {
  const options = { ...GATEWAY_BUNDLE, ...overrides };
  const matches = new Map<string, number>();
  const plugins = (options.plugins ?? []).map((plugin) => counting(plugin, matches));
  const result = await build({ ...options, plugins, outfile: path.join(outdir, 'index.js'), metafile: true });
  const idle = [...matches].filter(([, count]) => count === 0).map(([name]) => name);
  if (idle.length > 0) throw new Error(`Bundle plugins that matched nothing (did an upgrade rename what they rewrite?): ${idle.join(', ')}`);
  return result.metafile;
}

/** `plugin` as it is, counting in `matches` how often esbuild called one of its load or resolve callbacks. */
function counting(plugin: Plugin, matches: Map<string, number>): Plugin {
  matches.set(plugin.name, 0);
  const counted =
    <Args extends unknown[], Result>(callback: (...args: Args) => Result) =>
    (...args: Args): Result => {
      matches.set(plugin.name, (matches.get(plugin.name) ?? 0) + 1);
      return callback(...args);
    };
  return {
    name: plugin.name,
    setup: (pluginBuild) =>
      plugin.setup({
        ...pluginBuild,
        onLoad: (options, callback) => pluginBuild.onLoad(options, counted(callback)),
        onResolve: (options, callback) => pluginBuild.onResolve(options, counted(callback)),
      }),
  };
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
