import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as Flags from '@oclif/core/flags';
import { loadConfig } from '@stratumiops/shared/config';
import { conflictError, usageError } from '@stratumiops/shared/errors';
import { writeFileAtomic } from '@stratumiops/shared/fs';
import { VaporaCommand } from '../cli/base.js';
import { generateToken } from '../core/auth.js';
import { openStore, sqlitePath } from '../runtime.js';
import { tool, type VaporaConfig } from '../tool.js';

const q = (s: string) => JSON.stringify(s);

export function configText(o: {
  storage: string;
  databaseUrl?: string | undefined;
  natsUrl?: string | undefined;
}): string {
  return `# vapora project configuration (vapora config shows every setting and where it came from)

[storage]
backend = ${q(o.storage)}   # sqlite (vapora.db beside this file) or postgresql
${o.storage === 'postgresql' ? `url = ${q(o.databaseUrl ?? '')}` : '# url = "postgres://vapora@127.0.0.1:5432/vapora"'}

[nats]
${o.natsUrl ? `url = ${q(o.natsUrl)}` : '# url = "nats://127.0.0.1:4222"   # empty: tasks run inside vapora serve'}
# ack_wait_ms = 30000
# max_deliver = 5

[budget]
timezone = "UTC"             # calendar months and ISO weeks are taken here
on_exceeded = "downgrade"    # downgrade | block | approval

# [budgets.security]
# monthly = 5000             # cents
# weekly = 1500

# First matching rule wins; at 80% of a budget the first fallback is used.
# [[routing.rules]]
# pattern = "^security_"
# provider = "anthropic"
# model = "claude-opus-4-5"
# fallback = ["anthropic:claude-sonnet-4-6", "ollama:llama3.1:8b"]

# Prices in USD per 1M tokens; a model without one is refused (local models: 0).
# [[prices]]
# provider = "ollama"
# model = "qwen2.5:14b"
# input = 0
# output = 0

# [providers.anthropic]
# api_key_env = "ANTHROPIC_API_KEY"
`;
}

export default class Init extends VaporaCommand<typeof Init> {
  static override summary = 'Create .vapora/ with vapora.toml and the store (vapora.db, or PostgreSQL)';
  static override flags = {
    storage: Flags.string({ description: 'storage backend', options: ['sqlite', 'postgresql'], default: 'sqlite' }),
    'database-url': Flags.string({ description: 'PostgreSQL connection string (with --storage postgresql)' }),
    'nats-url': Flags.string({ description: 'NATS server with JetStream, e.g. nats://127.0.0.1:4222' }),
    dir: Flags.string({ description: 'project folder (default: the working directory)' }),
    force: Flags.boolean({ description: 'overwrite an existing vapora.toml' }),
  };
  static override examples = [
    '<%= config.bin %> init',
    '<%= config.bin %> init --storage postgresql --database-url postgres://vapora@127.0.0.1/vapora --nats-url nats://127.0.0.1:4222',
  ];

  async run() {
    const f = this.flags;
    if (f.storage === 'postgresql' && !f['database-url']) throw usageError('--storage postgresql needs --database-url');
    const root = resolve(f.dir ?? process.cwd());
    const dir = join(root, '.vapora');
    const file = join(dir, 'vapora.toml');
    if (existsSync(file) && !f.force) {
      throw conflictError(`${file} already exists`, { hint: 'pass --force to overwrite it' });
    }
    mkdirSync(dir, { recursive: true });
    writeFileAtomic(
      file,
      configText({ storage: f.storage, databaseUrl: f['database-url'], natsUrl: f['nats-url'] }),
      0o600,
    );
    const loaded = loadConfig<VaporaConfig>(tool.config, { file });
    const store = await openStore(loaded.values, file);
    // The first admin token, for `vapora serve`'s API: only its hash goes to the store, the token to a 0600 file.
    const admin = generateToken();
    try {
      await store.createToken({
        id: admin.id,
        name: 'admin',
        role: 'admin',
        projects: null,
        createdAt: Date.now(),
        expiresAt: null,
        revokedAt: null,
        secretHash: admin.secretHash,
      });
    } finally {
      await store.close();
    }
    const tokenFile = join(dir, 'token');
    writeFileAtomic(tokenFile, `${admin.token}\n`, 0o600);
    const ignore = join(dir, '.gitignore');
    if (!existsSync(ignore)) writeFileSync(ignore, '# secrets and local state: never commit\ntoken\nvapora.db*\n');
    const where = loaded.values.storage.backend === 'sqlite' ? sqlitePath(loaded.values, file) : 'postgresql';
    this.log(
      `initialized ${dir}\n  config: ${file}\n  store:  ${where}\n  admin token: ${tokenFile} (mode 0600; token id ${admin.id})\n\n` +
        `The REST API (vapora serve) needs a token on every request:\n` +
        `  export VAPORA_TOKEN=$(cat ${tokenFile})\n` +
        `  curl -H "Authorization: Bearer $VAPORA_TOKEN" http://127.0.0.1:8001/tasks\n` +
        `Give others their own: vapora token create --name ci --role operator`,
    );
    return {
      dir,
      config: file,
      storage: loaded.values.storage.backend,
      store: where,
      token_file: tokenFile,
      token_id: admin.id,
    };
  }
}
