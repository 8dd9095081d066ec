import { resolve } from 'node:path';
import type { StateStore } from '../../core/state.js';

/** Opens the state named by the `state` setting: a postgres:// URL, or a SQLite file path. */
export async function openStateStore(location: string, cwd = process.cwd()): Promise<StateStore> {
  if (/^postgres(ql)?:\/\//.test(location)) {
    const { PostgresStateStore } = await import('./postgres.js');
    return PostgresStateStore.open(location);
  }
  const { SqliteStateStore } = await import('./sqlite.js');
  return new SqliteStateStore(resolve(cwd, location));
}
