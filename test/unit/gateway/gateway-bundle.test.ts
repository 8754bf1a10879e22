import { describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import type { Plugin } from 'esbuild';
import { search } from '@aws-lambda-powertools/jmespath';
import { IDEMPOTENCY_JMESPATHS } from '../../../lambda/adapters/idempotency';
import { clientVersionOnly, inlineConstantKeys, mapLruCache, memberOnlyJmesPath, nativeHashesOnly, pureSchemaKeys, withoutEventStreams } from '../../../lib/gateway-bundle';

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


describe('the plugins that make room for the Scheduler client', () => {
  it('clientVersionOnly: a client still reads its version for the User-Agent, and nothing else of its package.json is bundled', async () => {
    const contents = "import info from '@aws-sdk/client-scheduler/package.json'; export const version = info.version; export const keys = Object.keys(info);";
    const { exports } = await loadBundled(contents, [clientVersionOnly]);
    expect(exports).toEqual({ version: expect.stringMatching(/^\d+\.\d+\.\d+$/), keys: ['version'] });
  });

  it("mapLruCache: DynamoDB's endpoint cache works on the stand-in as on mnemonist's cache", async () => {
    const contents = "import { EndpointCache } from '@aws-sdk/endpoint-cache'; export { EndpointCache };";
    const { exports, text } = await loadBundled(contents, [mapLruCache]);
    expect(text).not.toContain('obliterator');
    const cache = new (exports.EndpointCache as new (capacity: number) => { set(key: string, endpoints: object[]): void; getEndpoint(key: string): string | undefined; has(key: string): boolean })(1);
    cache.set('a', [{ Address: 'a.example', CachePeriodInMinutes: 1 }]);
    expect(cache.getEndpoint('a')).toBe('a.example');
    cache.set('b', [{ Address: 'b.example', CachePeriodInMinutes: 1 }]);
    expect([cache.has('a'), cache.getEndpoint('b')]).toEqual([false, 'b.example']);
  });

  it('nativeHashesOnly: the Node hash classes still hash, and the pure-JavaScript ones fail loudly if ever made', async () => {
    const contents = "export { Sha256, Md5, Sha256Js, Md5Js } from '@smithy/core/checksum';";
    const { exports } = await loadBundled(contents, [nativeHashesOnly]);
    const Sha256 = exports.Sha256 as new () => { update(data: Uint8Array): void; digest(): Promise<Uint8Array> };
    const hash = new Sha256();
    hash.update(new TextEncoder().encode('abc'));
    expect(Buffer.from(await hash.digest()).toString('hex')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(() => new (exports.Sha256Js as new () => unknown)()).toThrow('Sha256Js is not bundled');
    expect(() => new (exports.Md5Js as new () => unknown)()).toThrow('Md5Js is not bundled');
  });
});
