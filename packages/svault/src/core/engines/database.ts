import { VaultError } from '../errors.js';
import type { BackendFactory } from '../logical.js';

// Placeholder until the database engine lands (issue 5).
export const databaseFactory: BackendFactory = () => {
  throw new VaultError('invalid', 'the database engine is not built yet');
};
