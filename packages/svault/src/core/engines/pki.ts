import { VaultError } from '../errors.js';
import type { BackendFactory } from '../logical.js';

// Placeholder until the pki engine lands (issue 5).
export const pkiFactory: BackendFactory = () => {
  throw new VaultError('invalid', 'the pki engine is not built yet');
};
