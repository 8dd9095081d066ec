import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import * as Flags from '@oclif/core/flags';
import { conflictError } from '@stratumiops/shared/errors';
import { KogralCommand } from '../cli/base.js';

export default class Init extends KogralCommand<typeof Init> {
  static override summary = 'Create a .kogral/ graph in this folder';
  static override description =
    'Writes .kogral/config.toml and one markdown file a node from then on. The markdown is the truth; any index under .kogral/ is a cache that can be rebuilt. Works inside an existing git repository without touching other files.';
  static override flags = {
    name: Flags.string({ description: 'graph name (default: the folder name)' }),
    org: Flags.string({
      description: 'org graph to inherit guidelines from: a path or a git URL',
      helpValue: '<path|url>',
    }),
    git: Flags.boolean({ description: 'commit every write (git.auto_commit); runs git init when not in a repository' }),
  };
  static override examples = [
    '<%= config.bin %> init',
    '<%= config.bin %> init --git',
    '<%= config.bin %> init --org git@github.com:acme/guidelines.git',
  ];

  async run() {
    const target = this.config_.dir ? resolve(this.config_.dir) : join(process.cwd(), '.kogral');
    const dir = basename(target) === '.kogral' || !existsSync(target) ? target : join(target, '.kogral');
    const file = join(dir, 'config.toml');
    if (existsSync(file))
      throw conflictError(`a graph already exists: ${this.rel(file)}`, { hint: "see it with 'kogral config'" });
    const name = this.flags.name ?? basename(resolve(dir, '..'));
    mkdirSync(dir, { recursive: true });
    const toml = [
      '# kogral graph: one markdown file a node under <type>s/; index.db is a rebuildable cache.',
      "# 'kogral config' shows every setting and where it comes from.",
      `name = ${JSON.stringify(name)}`,
      this.flags.org
        ? `org = ${JSON.stringify(this.flags.org)}`
        : '# org = "../org-knowledge"   # org graph (folder or git URL) whose guidelines this project inherits',
      '',
      '[git]',
      `auto_commit = ${this.flags.git ? 'true' : 'false'}`,
      '',
      '[search]',
      '# embedder = "ngram"   # ngram (offline) | openai | ollama | transformers (a local model folder)',
      '',
    ].join('\n');
    writeFileSync(file, toml, { flag: 'wx' });
    writeFileSync(join(dir, '.gitignore'), 'index.db\nindex.db-*\n.lock\n.lock.*\n.*.tmp\n');
    let repo = false;
    if (this.flags.git) {
      const { gitInit, isGitRepo } = await import('../adapters/git.js');
      repo = await isGitRepo(dir);
      if (!repo) {
        await gitInit(resolve(dir, '..'));
        repo = true;
      }
    }
    this.log(`created ${this.rel(dir)}/ (graph '${name}')${this.flags.git ? ', committing every write' : ''}`);
    this.log(`next: kogral add note "First note" --body "..."`);
    return { dir, config: file, name, git: { auto_commit: Boolean(this.flags.git), repo } };
  }
}
