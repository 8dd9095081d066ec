import * as Flags from '@oclif/core/flags';
import { ClientCommand, parsePairs, show } from '../../cli/base.js';

export default class TokenCreate extends ClientCommand<typeof TokenCreate> {
  static override summary = 'Create a token with policies and a TTL';
  static override description = 'A child of the token in use unless --orphan: revoking the parent revokes it too.';
  static override flags = {
    policy: Flags.string({
      description: 'policy to attach (repeatable)',
      multiple: true,
      multipleNonGreedy: true,
      helpValue: '<name>',
    }),
    ttl: Flags.string({ description: 'time to live, e.g. 1h', helpValue: '<duration>' }),
    'explicit-max-ttl': Flags.string({ description: 'hard limit that renewals cannot pass', helpValue: '<duration>' }),
    orphan: Flags.boolean({ description: 'create it without a parent' }),
    'display-name': Flags.string({ description: 'name shown in lookups and the audit log' }),
    metadata: Flags.string({
      description: 'KEY=VALUE metadata (repeatable)',
      multiple: true,
      multipleNonGreedy: true,
      helpValue: '<key=value>',
    }),
    'use-limit': Flags.integer({ description: 'number of uses before the token is revoked (0: unlimited)', min: 0 }),
    'no-default-policy': Flags.boolean({ description: 'do not attach the default policy' }),
  };
  static override examples = [
    '<%= config.bin %> token create --policy app-read --ttl 1h',
    '<%= config.bin %> token create --orphan --policy ci --ttl 24h',
  ];

  async run() {
    const f = this.flags;
    const body: Record<string, unknown> = {
      ...(f.policy ? { policies: f.policy } : {}),
      ...(f.ttl ? { ttl: f.ttl } : {}),
      ...(f['explicit-max-ttl'] ? { explicit_max_ttl: f['explicit-max-ttl'] } : {}),
      ...(f['display-name'] ? { display_name: f['display-name'] } : {}),
      ...(f.metadata ? { meta: parsePairs(f.metadata.filter((p) => p !== '-')) } : {}),
      ...(f['use-limit'] !== undefined ? { num_uses: f['use-limit'] } : {}),
      ...(f['no-default-policy'] ? { no_default_policy: true } : {}),
    };
    const r = await this.client().tokenCreate(body, f.orphan);
    if (!this.jsonEnabled()) {
      const a = (r.auth ?? {}) as Record<string, unknown>;
      this.table({
        token: a.client_token,
        token_accessor: a.accessor,
        token_duration: a.lease_duration === 0 ? '∞' : `${a.lease_duration}s`,
        token_renewable: a.renewable,
        token_policies: show(a.policies),
        orphan: a.orphan,
      });
    }
    return r;
  }
}
