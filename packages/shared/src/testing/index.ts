/**
 * Throwaway real servers for integration tests (ARCHITECTURE.md, "Tests"): each start helper makes a temp dir,
 * picks a free loopback port, waits until the server really answers, and returns connection info plus stop().
 * They never touch a service already running on the machine. Usage in a vitest file:
 *
 *   describe.skipIf(skipUnless('postgres'))('...', () => {
 *     let pg: PostgresServer;
 *     beforeAll(async () => { pg = await startPostgres(); });
 *     afterAll(async () => { await pg?.stop(); });
 *   });
 *
 * Missing binary: skipped with a one-line install hint, except under CI (CI set), where the suite runs and fails
 * naming the missing binary. Not imported by the tools' runtime; playwright-core is loaded lazily by chromium.ts.
 */
export * from './availability.js';
export * from './chromium.js';
export * from './etcd.js';
export * from './nats.js';
export * from './patroni.js';
export * from './ports.js';
export * from './postgres.js';
export * from './process.js';
export * from './prometheus.js';
export * from './sshd.js';
