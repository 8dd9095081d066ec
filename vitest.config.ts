import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    // Integration suites start real servers (PostgreSQL, NATS, etcd, sshd, chromium): give them room.
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Two cores: run files in parallel but not more than the machine has.
    maxWorkers: 2,
    reporters: ['default', './scripts/summary-reporter.ts'],
  },
});
