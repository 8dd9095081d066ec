import { readFileSync } from 'node:fs';
import * as Args from '@oclif/core/args';
import { usageError } from '@stratumiops/shared/errors';
import { splitSecretPath, vaultClient } from '../../adapters/vault.js';
import { ProvCommand } from '../../cli/base.js';

export default class VaultStore extends ProvCommand<typeof VaultStore> {
  static override summary = 'Store a secret in svault (KV v2): prov vault store secret/myapp key=value';
  static override description =
    'Writes a new version of the secret with the given fields (the fields given replace the whole secret, as kv put does). A value @FILE is read from that file, and - from stdin, so that secrets need not appear in the shell history. The path starts with the mount (secret/myapp). Prints the version written, never the values.';
  static override strict = false;
  static override args = {
    path: Args.string({ description: 'secret path, mount first: secret/myapp' }),
    data: Args.string({ description: 'KEY=VALUE pairs (VALUE @file or - for stdin), several allowed' }),
  };
  static override flags = {};
  static override examples = [
    '<%= config.bin %> vault store secret/myapp key=value',
    '<%= config.bin %> vault store secret/db password=- < pw.txt',
    '<%= config.bin %> vault store secret/tls key=@server.key',
  ];

  async run() {
    const [path, ...pairs] = this.positional();
    if (!path) throw usageError('no secret path', { hint: 'prov vault store secret/myapp key=value' });
    if (pairs.length === 0)
      throw usageError('no KEY=VALUE to store', { hint: 'prov vault store secret/myapp key=value' });
    const data: Record<string, string> = {};
    for (const p of pairs) {
      const eq = p.indexOf('=');
      if (eq <= 0) throw usageError(`not KEY=VALUE: ${JSON.stringify(p.length > 40 ? `${p.slice(0, 40)}…` : p)}`);
      const key = p.slice(0, eq);
      const raw = p.slice(eq + 1);
      if (key in data) throw usageError(`field ${key} is given twice`);
      data[key] =
        raw === '-' ? readFileSync(0, 'utf8').replace(/\n$/, '') : raw.startsWith('@') ? readFile(raw.slice(1)) : raw;
    }
    const { mount, path: sub } = splitSecretPath(path);
    const client = await vaultClient();
    const r = await client.kvPut(mount, sub, data);
    const version = (r?.data as { version?: number } | null)?.version ?? null;
    const doc = { path: `${mount}/${sub}`, version, fields: Object.keys(data) };
    if (!this.jsonEnabled()) this.log(`Stored ${doc.path} version ${version} (fields: ${doc.fields.join(', ')})`);
    return doc;
  }

  /** The arguments that are not flags nor the values of global flags. */
  private positional(): string[] {
    const withValue = new Set(['--log-level', '--log-format', '--config']);
    return this.argv.filter((a, i, all) => !a.startsWith('--') && !withValue.has(all[i - 1] ?? ''));
  }
}

function readFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw usageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
