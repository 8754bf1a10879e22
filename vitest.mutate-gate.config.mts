import { defineConfig } from 'vitest/config';
import mutate from './vitest.mutate.config.mjs';

/**
 * The tests the mutation gate (`npm run mutate:gate`) runs against the domain's, the use cases' and the doors' mutants:
 * the unit tests of those three layers. The adapters' and the composition root's unit tests are left out: they exercise
 * the domain only through adapters that the gate does not mutate, and the pacer's start embedded DynamoDB, which a
 * mutant of a module-level table (a static mutant, run against every test that imports the module) would pay for.
 */
export default defineConfig({
  ...mutate,
  test: {
    ...mutate.test,
    include: ['test/unit/domain/**/*.test.ts', 'test/unit/usecase/**/*.test.ts', 'test/unit/doors/**/*.test.ts'],
  },
});
