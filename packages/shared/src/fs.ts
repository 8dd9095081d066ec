import { readFileSync } from 'node:fs';

/**
 * True while a process with this pid exists on this machine and is not a zombie (a killed process whose parent
 * never reaped it, as happens without an init in containers, is dead for every purpose here).
 * EPERM means it exists but belongs to another user.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}
