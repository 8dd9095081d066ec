import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { openStateStore } from '../adapters/state/index.js';
import { ProvCommand } from '../cli/base.js';
import { INIT_CONFIG, INIT_TOML, writeAtomic } from '../core/workspace.js';

export default class Init extends ProvCommand<typeof Init> {
  static override summary = 'Create a provisioning workspace: prov.ncl, prov.toml, .prov/ (state, providers)';
  static override description =
    'prov.ncl imports the shipped schemas (import "infrastructure.ncl"), so prov validate works at once. Existing files are kept.';
  static override args = { dir: Args.string({ description: 'folder to create it in', default: '.' }) };
  static override flags = {
    provider: Flags.string({ description: 'first provider to configure', options: ['aws', 'upcloud', 'local'] }),
    state: Flags.string({
      description: 'state location: a SQLite file or a postgres:// URL (default: .prov/state.db)',
      helpValue: '<path|url>',
    }),
  };
  static override examples = ['<%= config.bin %> init', '<%= config.bin %> init infra --provider aws'];

  async run() {
    const dir = resolve(this.args.dir);
    mkdirSync(join(dir, '.prov'), { recursive: true });
    const created: string[] = [];
    const write = (name: string, text: string) => {
      const f = join(dir, name);
      if (existsSync(f)) return;
      writeAtomic(f, text);
      created.push(name);
    };
    const cfg = this.flags.provider
      ? INIT_CONFIG.replace("provider = 'local", `provider = '${this.flags.provider}`)
      : INIT_CONFIG;
    write('prov.ncl', cfg);
    write('prov.toml', this.flags.state ? INIT_TOML.replace('.prov/state.db', this.flags.state) : INIT_TOML);
    write(
      '.prov/providers.json',
      this.flags.provider ? `${JSON.stringify({ [this.flags.provider]: {} }, null, 2)}\n` : '{}\n',
    );
    write('.prov/.gitignore', 'state.db*\nknown_hosts\n');
    const store = await openStateStore(this.flags.state ?? '.prov/state.db', dir);
    const meta = await store.meta();
    await store.close();
    if (!this.jsonEnabled()) {
      this.log(`Workspace ready in ${dir}${created.length ? ` (created ${created.join(', ')})` : ' (nothing new)'}.`);
      this.log(`State: ${store.location} (lineage ${meta.lineage}).`);
      this.log('Next: edit prov.ncl, then prov validate, prov plan, prov apply.');
    }
    return { dir, created, state: store.location, lineage: meta.lineage };
  }
}
