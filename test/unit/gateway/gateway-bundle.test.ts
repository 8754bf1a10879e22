import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import type { Plugin } from 'esbuild';
import { search } from '@aws-lambda-powertools/jmespath';
import { IDEMPOTENCY_JMESPATHS } from '../../../lambda/adapters/idempotency';
import { bundleGateway, inlineConstantKeys, memberOnlyJmesPath, pureSchemaKeys, withoutEventStreams } from '../../../lib/gateway-bundle';

describe('inlineConstantKeys (the bundle plugin that lets esbuild drop unused SDK operations)', () => {
  it('writes a module string constant in place of a computed key that names it', () => {
    const source = ['const _h = "http";', 'export var Op$ = [9, n0, _O, { [_h]: ["GET", "/x", 200] }, () => In$];'].join('\n');
    expect(inlineConstantKeys(source)).toContain('{ "http": ["GET", "/x", 200] }');
  });

  it('leaves computed keys alone when their name is not a plain string constant, and the rest of the module as it was', () => {
    const source = ['let _m = "mutable";', 'const _e = `template`;', 'var a = { [_m]: 1, [_e]: 2, [_u]: 3 };', 'var list = [_h];'].join('\n');
    expect(inlineConstantKeys(source)).toBe(source);
  });
});

/**
 * Bundles `contents` with `plugins` and loads the result as Lambda would, a CommonJS module. The SDK ships two module
 * builds: the function's bundle takes the ES one, and a stand-in must fit the CommonJS one as well.
 */
async function loadBundled(contents: string, plugins: Plugin[], mainFields = ['module', 'main']): Promise<{ text: string; exports: Record<string, unknown> }> {
  const result = await build({ stdin: { contents, resolveDir: __dirname }, bundle: true, format: 'cjs', platform: 'node', write: false, logLevel: 'silent', plugins, mainFields });
  const text = result.outputFiles[0]?.text ?? '';
  const loaded: { exports: Record<string, unknown> } = { exports: {} };
  new Function('module', 'exports', 'require', text)(loaded, loaded.exports, require);
  return { text, exports: loaded.exports };
}

describe('pureSchemaKeys on the SQS client (the function calls ChangeMessageVisibility alone)', () => {
  it('keeps the schema of the operation the bundle calls and drops every other operation\'s', async () => {
    const contents = "import { SQSClient, ChangeMessageVisibilityCommand } from '@aws-sdk/client-sqs'; export const send = (client) => client.send(new ChangeMessageVisibilityCommand({})); export { SQSClient };";
    const bundled = async (plugins: Plugin[]) =>
      (await build({ stdin: { contents, resolveDir: __dirname }, bundle: true, format: 'cjs', platform: 'node', write: false, logLevel: 'silent', plugins, mainFields: ['module', 'main'], minify: true, external: ['@aws-sdk/credential-provider-node'] })).outputFiles[0]?.text ?? '';
    const [pruned, whole] = await Promise.all([bundled([pureSchemaKeys]), bundled([])]);
    expect(pruned.includes('ChangeMessageVisibilityRequest')).toBe(true);
    // Operations whose schemas carry computed keys (SQS's query-compatible names): kept without the plugin.
    for (const unused of ['ReceiveMessageRequest', 'SendMessageBatchRequest', 'SetQueueAttributesRequest']) {
      expect([unused, whole.includes(unused), pruned.includes(unused)]).toEqual([unused, true, false]);
    }
  });
});

describe('memberOnlyJmesPath (the bundle plugin that answers Powertools idempotency\'s member-name JMESPath without the JMESPath engine)', () => {
  type Search = (expression: string, data: unknown) => unknown;

  it('answers the gateway\'s expressions as JMESPath does, on what the adapter passes and on inputs without the member', async () => {
    const { text, exports } = await loadBundled("export { search } from '@aws-lambda-powertools/jmespath'; export { PowertoolsFunctions } from '@aws-lambda-powertools/jmespath/functions';", [memberOnlyJmesPath]);
    expect(text).not.toContain('TreeInterpreter');
    const standIn = exports.search as Search;
    const inputs: unknown[] = [{ idempotencyKey: 'token-1', payloadHash: 'abc' }, { idempotencyKey: { nested: [1, 2] } }, {}, { payloadHash: null }, [], 'idempotencyKey', null, 7];
    for (const expression of Object.values(IDEMPOTENCY_JMESPATHS)) {
      for (const input of inputs) expect(standIn(expression, input)).toEqual(search(expression, input as never));
    }
    expect(new (exports.PowertoolsFunctions as new () => object)()).toBeInstanceOf(exports.PowertoolsFunctions);
  });

  it('fails loudly on an expression that is more than a member name, instead of answering it wrongly', async () => {
    const { exports } = await loadBundled("export { search } from '@aws-lambda-powertools/jmespath';", [memberOnlyJmesPath]);
    expect(() => (exports.search as Search)('body.ClientToken', { body: { ClientToken: 'x' } })).toThrow('is not bundled');
    expect(() => (exports.search as Search)('powertools_json(body)', {})).toThrow('is not bundled');
  });
});

describe('withoutEventStreams (the bundle plugin that leaves out the SDK event-stream codec)', () => {
  it('bundles a dynamic import of the codec as a module that fails with a clear message when loaded', async () => {
    const result = await build({
      stdin: { contents: "export const load = () => import('@smithy/core/event-streams');", resolveDir: __dirname },
      bundle: true,
      format: 'cjs',
      platform: 'node',
      write: false,
      logLevel: 'silent',
      plugins: [withoutEventStreams],
    });
    const text = result.outputFiles[0]?.text ?? '';
    expect(text).not.toContain('EventStreamCodec');
    const exported: { exports: { load?: () => Promise<unknown> } } = { exports: {} };
    new Function('module', 'exports', 'require', text)(exported, exported.exports, require);
    await expect(exported.exports.load?.()).rejects.toThrow('@smithy/core/event-streams is not bundled');
  });
});

describe('bundleGateway', () => {
  it('fails the build, naming the plugin, when a plugin matches nothing (as after an upgrade renames what it rewrites)', async () => {
    const stale: Plugin = {
      name: 'renamed-upstream',
      setup(pluginBuild) {
        pluginBuild.onLoad({ filter: /[\\/]a-file-no-package-has\.js$/ }, () => ({ contents: '', loader: 'js' }));
      },
    };
    const outdir = mkdtempSync(path.join(tmpdir(), 'stale-plugin-'));
    try {
      await expect(bundleGateway(outdir, { plugins: [pureSchemaKeys, stale], sourcemap: false })).rejects.toThrow(/matched nothing.*: renamed-upstream$/);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
