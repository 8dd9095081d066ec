import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    // Integration suites start real servers (PostgreSQL, NATS, etcd, sshd, chromium) and spawn the
    // binaries; on a busy machine a step takes many times its quiet duration. Time limits are there
    // to end a hung test, not to measure speed (that is bench/), so they are generous.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    teardownTimeout: 60_000,
    // Test files run in child processes (they start servers and kill them; a crash stays in its
    // fork), one file per core: most of a file's time is its servers and binaries, which need the
    // cores too. At least two, so that one slow server suite does not hold up the rest.
    pool: 'forks',
    maxWorkers: Math.max(2, availableParallelism()),
    reporters: ['default', './scripts/summary-reporter.ts'],
  },
});
