import * as Flags from '@oclif/core/flags';
import { usageError } from '@stratumiops/shared/errors';
import { VaporaCommand } from '../../cli/base.js';
import { API_ROLES } from '../../core/auth.js';

const UNIT_S = { d: 86_400, h: 3_600, m: 60 } as const;

export default class TokenCreate extends VaporaCommand<typeof TokenCreate> {
  static override summary = 'Create an API token for vapora serve (printed once)';
  static override description =
    'admin: everything (agents, budgets, routing, tokens); operator: projects, tasks, assignment, approvals, LLM calls; viewer: read only. With --project the token sees only those projects (other tasks answer 404). What each role may do is decided by Cedar policies: the built-in set plus policies.cedar beside vapora.toml. Only a hash of the token is stored.';
  static override flags = {
    name: Flags.string({ description: 'who or what uses it, e.g. ci or alice', required: true }),
    role: Flags.string({ description: 'role', options: [...API_ROLES], required: true }),
    project: Flags.string({ description: 'only this project (repeatable)', multiple: true, helpValue: '<id|name>' }),
    ttl: Flags.string({ description: 'expires after, e.g. 30d, 12h (default: never)', helpValue: '<age>' }),
  };
  static override examples = [
    '<%= config.bin %> token create --name ci --role operator --project infra --ttl 90d',
    '<%= config.bin %> token create --name dashboards --role viewer',
  ];

  async run() {
    const f = this.flags;
    let ttl_s: number | undefined;
    if (f.ttl) {
      const m = /^(\d+)([dhm])$/.exec(f.ttl);
      if (!m || Number(m[1]) <= 0) throw usageError(`--ttl '${f.ttl}' is not an age like 30d, 12h or 45m`);
      ttl_s = Number(m[1]) * UNIT_S[m[2] as keyof typeof UNIT_S];
    }
    const api = await this.api();
    const t = await api.createToken({
      name: f.name,
      role: f.role,
      ...(f.project?.length ? { projects: f.project } : {}),
      ...(ttl_s ? { ttl_s } : {}),
    });
    this.log(t.token);
    process.stderr.write(
      `token ${t.id} (${t.name}, ${t.role}${t.projects ? `, projects ${t.projects.join(', ')}` : ''}${t.expiresAt ? `, expires ${new Date(t.expiresAt).toISOString()}` : ''}): shown once, store it now\n`,
    );
    return t;
  }
}
