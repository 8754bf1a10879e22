import { defineConfig } from 'vitest/config';
import mutate from './vitest.mutate.config.mjs';

/**
 * The tests the mutation gate (`npm run mutate:gate`) runs against its mutants: the unit tests of the domain, the use
 * cases and the doors, and the pacer's own. The other adapters' and the composition root's unit tests are left out:
 * they exercise the domain only through adapters that the gate does not mutate, and each static mutant (in a
 * module-level table, run against every test file that imports the module) would pay for them.
 */
export default defineConfig({
  ...mutate,
  test: {
    ...mutate.test,
    include: ['test/unit/domain/**/*.test.ts', 'test/unit/usecase/**/*.test.ts', 'test/unit/doors/**/*.test.ts', 'test/unit/adapters/transfer-pacer.test.ts'],
  },
});
