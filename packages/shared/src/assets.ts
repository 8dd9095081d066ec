import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * A folder of the repository's shared assets (schemas/, templates/): inside the installed package, where
 * packing copies it (`<package>/<name>`, see scripts/pack-assets.mjs), else at the repository's root (a
 * checkout). Both URLs are relative to the calling module, so they hold in dist/ and in the bundles.
 */
export function assetPath(inPackage: URL, inRepository: URL): string {
  const packaged = fileURLToPath(inPackage);
  return existsSync(packaged) ? packaged : fileURLToPath(inRepository);
}
