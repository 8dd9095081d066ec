import { VaporaCommand } from '../../cli/base.js';

export default class TokenList extends VaporaCommand<typeof TokenList> {
  static override summary = 'List API tokens (never their secrets)';
  static override examples = ['<%= config.bin %> token list', '<%= config.bin %> token list --json'];

  async run() {
    const tokens = await (await this.api()).listTokens();
    const now = Date.now();
    const iso = (t: number | null) => (t === null ? '-' : new Date(t).toISOString().slice(0, 16).replace('T', ' '));
    this.table(
      tokens.map((t) => ({
        id: t.id,
        name: t.name,
        role: t.role,
        projects: t.projects ? t.projects.join(',') : '(all)',
        created: iso(t.createdAt),
        expires: iso(t.expiresAt),
        state: t.revokedAt !== null ? 'revoked' : t.expiresAt !== null && t.expiresAt <= now ? 'expired' : 'active',
      })),
      undefined,
      'no tokens (vapora token create --name <who> --role <role>)',
    );
    return { tokens };
  }
}
