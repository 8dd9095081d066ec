import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A folder of the repository's shared assets (schemas/, templates/): at the repository's root in a checkout,
 * else inside the installed package, where packing copies it (`<package>/<name>`, see
 * scripts/pack-assets.mjs). The checkout's own folder wins because `npm pack` puts a copy in the package for
 * a moment. `probe` names a file that must be in the repository's folder (so that an unrelated folder of that
 * name beside an installed package is never taken for it). Both URLs are relative to the calling module, so
 * they hold in dist/ and in the bundles.
 */
export function assetPath(inPackage: URL, inRepository: URL, probe = ''): string {
  const repository = fileURLToPath(inRepository);
  return existsSync(join(repository, probe)) ? repository : fileURLToPath(inPackage);
}
