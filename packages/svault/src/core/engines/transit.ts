import { VaultError } from '../errors.js';
import type { BackendFactory } from '../logical.js';

// Placeholder until the transit engine lands (issue 5).
export const transitFactory: BackendFactory = () => {
  throw new VaultError('invalid', 'the transit engine is not built yet');
};
