import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Vitest leaves one of the two cores idle by default; most suites here wait on simulated latency, quotas and
    // child processes rather than compute, so two workers halve the wall time without starving either.
    maxWorkers: 2,
    // Logs and EMF metrics would bury the test report; tests that check them capture them on purpose.
    env: {
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
    },
  },
});
