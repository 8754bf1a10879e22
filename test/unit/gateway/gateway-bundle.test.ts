import { describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { join } from 'node:path';
import type { Setting } from '../../../lambda/settings';
import { inlineConstantKeys, SETTING_DOC_PROPERTIES, withoutEventStreams, withoutSettingDocs, withoutUnusedFallbacks } from '../../../lib/gateway-bundle';

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

/** Both module builds the SDK ships: the bundle takes the ES one, and the stand-ins must fit the CommonJS one as well. */
async function bundledWithStandIns(contents: string, mainFields: string[]): Promise<{ text: string; exports: Record<string, unknown> }> {
  const result = await build({ stdin: { contents, resolveDir: __dirname }, bundle: true, format: 'cjs', platform: 'node', write: false, logLevel: 'silent', plugins: [withoutUnusedFallbacks], mainFields });
  const text = result.outputFiles[0]?.text ?? '';
  const loaded: { exports: Record<string, unknown> } = { exports: {} };
  new Function('module', 'exports', 'require', text)(loaded, loaded.exports, require);
  return { text, exports: loaded.exports };
}

describe('withoutUnusedFallbacks (the bundle plugin that swaps code Lambda never runs for stand-ins)', () => {
  it.each([[['module', 'main']], [['main']]])('gives the DynamoDB client an endpoint cache that still stores, expires and evicts, without mnemonist (%j)', async (mainFields) => {
    const { text, exports } = await bundledWithStandIns(
      "import { EndpointCache } from '@aws-sdk/endpoint-cache'; export const make = (size) => new EndpointCache(size);",
      mainFields,
    );
    expect(text).not.toContain('mnemonist');
    type Cache = { set(key: string, endpoints: { Address: string; CachePeriodInMinutes: number }[]): void; getEndpoint(key: string): string | undefined };
    const cache = (exports.make as (size: number) => Cache)(2);
    cache.set('a', [{ Address: 'a.example', CachePeriodInMinutes: 1 }]);
    cache.set('b', [{ Address: 'b.example', CachePeriodInMinutes: 1 }]);
    expect(cache.getEndpoint('a')).toBe('a.example');
    // 'a' was used last, so a third entry evicts 'b'.
    cache.set('c', [{ Address: 'c.example', CachePeriodInMinutes: 1 }]);
    expect([cache.getEndpoint('a'), cache.getEndpoint('b'), cache.getEndpoint('c')]).toEqual(['a.example', undefined, 'c.example']);
    cache.set('d', [{ Address: 'd.example', CachePeriodInMinutes: 0 }]);
    expect(cache.getEndpoint('d')).toBeUndefined();
  });

  it("keeps the SDK's SHA-256 on node:crypto and leaves its pure-JavaScript fallback out", async () => {
    const { text, exports } = await bundledWithStandIns(
      "import { Sha256 } from '@smithy/core/checksum'; export const digest = async (data) => { const hash = new Sha256(); hash.update(data); return Buffer.from(await hash.digest()).toString('hex'); };",
      ['module', 'main'],
    );
    expect(text).not.toContain('MAX_HASHABLE_LENGTH');
    await expect((exports.digest as (data: string) => Promise<string>)('abc')).resolves.toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
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

describe('withoutSettingDocs (the bundle plugin that leaves the settings table\'s descriptions out)', () => {
  it('the function reads the same variables, defaults and bounds without the descriptions', async () => {
    const result = await build({
      stdin: {
        contents: "export { maxTransfers, allowedAccounts } from './lambda/settings';",
        resolveDir: join(__dirname, '..', '..', '..'),
        loader: 'ts',
      },
      bundle: true,
      format: 'cjs',
      platform: 'node',
      write: false,
      logLevel: 'silent',
      plugins: [withoutSettingDocs],
    });
    const text = result.outputFiles[0]?.text ?? '';
    const exported: { exports: Record<string, Setting<unknown>> } = { exports: {} };
    new Function('module', 'exports', 'require', text)(exported, exported.exports, require);
    const { maxTransfers } = exported.exports;
    expect(maxTransfers).toMatchObject({ env: 'MAX_TRANSFERS', default: 11 });
    expect(maxTransfers?.kind.parse('1001')).toBeUndefined();
    expect(maxTransfers?.kind.expectation).toBe('a whole number from 1 to 1000');
    for (const property of SETTING_DOC_PROPERTIES) expect(maxTransfers).not.toHaveProperty(property);
    expect(text).not.toContain('transfers allowed per contact tree');
  });
});
