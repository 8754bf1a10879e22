import { describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { inlineConstantKeys, withoutEventStreams } from '../../../lib/gateway-bundle';

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
