import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assetPath } from '@stratumiops/shared/assets';
import { StratumError } from '@stratumiops/shared/errors';

/** The forms of prov wizard, shipped in templates/wizards/. */
export const wizardForm = (kind: string) =>
  join(
    assetPath(
      new URL('../../templates/wizards', import.meta.url),
      new URL('../../../../templates/wizards', import.meta.url),
    ),
    `${kind}.toml`,
  );

/** typedialog's own binary (its public interface): the installed package, else the one beside prov in this repository. */
function typedialogBin(): string {
  try {
    const require = createRequire(import.meta.url);
    return join(dirname(require.resolve('@stratumiops/typedialog/package.json')), 'bin', 'run.js');
  } catch {
    return fileURLToPath(new URL('../../../typedialog/bin/run.js', import.meta.url));
  }
}

const EXIT_KIND: Record<number, 'usage' | 'validation' | 'notFound' | 'failure'> = {
  2: 'usage',
  3: 'validation',
  4: 'notFound',
};

/**
 * Runs typedialog with this terminal (its TUI draws on it; its prompts go to stderr) and prov's stdout kept
 * for prov (typedialog's stdout goes to stderr). Its exit code becomes prov's error of the same kind.
 */
export function runTypedialog(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const tty = Boolean(process.stdout.isTTY);
    const child = spawn(process.execPath, [typedialogBin(), ...args], {
      stdio: ['inherit', tty ? 'inherit' : process.stderr, 'inherit'],
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) return resolve();
      const kind = EXIT_KIND[code ?? 1] ?? 'failure';
      reject(
        new StratumError(
          kind,
          `typedialog ${args[0]} ${signal ? `was killed (${signal})` : `exited ${code}`}: nothing was written`,
          {
            hint:
              kind === 'usage'
                ? 'without a terminal, pass --answers FILE or --defaults'
                : 'see typedialog’s message above; fix the answers and run the wizard again',
          },
        ),
      );
    });
  });
}
