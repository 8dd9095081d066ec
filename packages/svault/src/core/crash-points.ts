/**
 * Crash points for the crash tests: with `SVAULT_TEST_CRASH_AT=<name>` in the environment of a
 * process that vitest started (`VITEST` set too), the process kills itself (SIGKILL, no cleanup)
 * when it reaches the point of that name. Outside the tests neither variable is set and every
 * point is a no-op. Points: `rekey-before-commit` (new keys made, nothing stored yet),
 * `rekey-after-commit` (keyring and seal configuration stored, no answer sent yet).
 */
export function crashPoint(name: string): void {
  if (process.env.SVAULT_TEST_CRASH_AT === name && process.env.VITEST) process.kill(process.pid, 'SIGKILL');
}
