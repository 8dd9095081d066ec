import { invalid } from '../errors.js';
import type { BackendFactory } from '../logical.js';

/**
 * The secrets engines `secrets enable <type>` can mount. Loaded on first mount, so a vault
 * that only uses KV never pays for PKI's X.509 stack or the PostgreSQL driver.
 */
const ENGINES: Record<string, () => Promise<BackendFactory>> = {
  kv: async () => (await import('./kv.js')).kvFactory,
  transit: async () => (await import('./transit.js')).transitFactory,
  pki: async () => (await import('./pki.js')).pkiFactory,
  database: async () => (await import('./database.js')).databaseFactory,
};

export const ENGINE_TYPES = Object.keys(ENGINES);

export function isEngineType(type: string): boolean {
  return Object.hasOwn(ENGINES, type);
}

/** What `secrets enable` answers for a type it does not know, as Vault does. */
export function assertEngineType(type: string): void {
  if (!isEngineType(type)) {
    throw invalid(`plugin not found in the catalog: ${type} (available: ${ENGINE_TYPES.join(', ')})`);
  }
}

export async function engineFactory(type: string): Promise<BackendFactory> {
  assertEngineType(type);
  return (ENGINES[type] as () => Promise<BackendFactory>)();
}
