import { configDefaults, defineConfig } from 'vitest/config';
import base from './vitest.config.mjs';

/**
 * The tests `npm run mutate` runs against each mutant: the unit tests, which call the mutated code in-process. Left
 * out are the ones that cannot see a mutant: the bundle test builds the function with esbuild (seconds per run) and
 * judges the bundle, and the local-mode queue model's tests time real milliseconds that a busy mutation run stretches.
 * Spread rather than mergeConfig, which would add these patterns to the whole suite's instead of replacing them.
 */
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['test/unit/**/*.test.ts'],
    exclude: [...configDefaults.exclude, 'test/unit/gateway/gateway-bundle.test.ts', 'test/unit/local/**'],
  },
});
