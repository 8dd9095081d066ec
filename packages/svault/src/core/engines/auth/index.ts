import { invalid } from '../../errors.js';
import type { BackendFactory } from '../../logical.js';

/** The auth methods `auth enable <type>` can mount (besides the built-in token method). */
const METHODS: Record<string, () => Promise<BackendFactory>> = {
  userpass: async () => (await import('./userpass.js')).userpassFactory,
  approle: async () => (await import('./approle.js')).approleFactory,
  jwt: async () => (await import('./jwt.js')).jwtFactory,
};

export const AUTH_TYPES = Object.keys(METHODS);

export function isAuthType(type: string): boolean {
  return Object.hasOwn(METHODS, type);
}

export function assertAuthType(type: string): void {
  if (!isAuthType(type)) {
    throw invalid(`plugin not found in the catalog: ${type} (available: ${AUTH_TYPES.join(', ')})`);
  }
}

export async function authFactory(type: string): Promise<BackendFactory> {
  assertAuthType(type);
  return (METHODS[type] as () => Promise<BackendFactory>)();
}
