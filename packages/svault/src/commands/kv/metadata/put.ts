import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { usageError } from '@stratumiops/shared/errors';
import { ClientCommand, parsePairs, splitMount } from '../../../cli/base.js';

export default class KvMetadataPut extends ClientCommand<typeof KvMetadataPut> {
  static override summary = "Set a secret's metadata: max_versions, check-and-set, custom metadata";
  static override args = { path: Args.string({ description: 'secret path, e.g. secret/db', required: true }) };
  static override flags = {
    'max-versions': Flags.integer({ description: 'versions to keep (default for the mount: 10)', min: 0 }),
    'cas-required': Flags.boolean({ description: 'require --cas on every write', allowNo: true }),
    'delete-version-after': Flags.string({
      description: 'soft-delete versions this long after they are written, e.g. 720h',
      helpValue: '<duration>',
    }),
    custom: Flags.string({
      description: 'custom metadata KEY=VALUE (repeatable)',
      multiple: true,
      multipleNonGreedy: true,
      helpValue: '<key=value>',
    }),
    mount: Flags.string({ description: 'the mount, when it has more than one segment', helpValue: '<path>' }),
  };
  static override examples = [
    '<%= config.bin %> kv metadata put secret/db --max-versions 5',
    '<%= config.bin %> kv metadata put secret/db --custom owner=platform',
  ];

  async run() {
    const { mount, path } = splitMount(this.args.path, this.flags.mount);
    const f = this.flags;
    const body: Record<string, unknown> = {
      ...(f['max-versions'] !== undefined ? { max_versions: f['max-versions'] } : {}),
      ...(f['cas-required'] !== undefined ? { cas_required: f['cas-required'] } : {}),
      ...(f['delete-version-after'] !== undefined ? { delete_version_after: f['delete-version-after'] } : {}),
      ...(f.custom ? { custom_metadata: parsePairs(f.custom.filter((p) => p !== '-')) } : {}),
    };
    if (Object.keys(body).length === 0)
      throw usageError('nothing to set', {
        hint: 'pass --max-versions, --cas-required, --delete-version-after or --custom',
      });
    await this.client().kvMetadataPut(mount, path, body);
    if (!this.jsonEnabled()) this.log(`Metadata of ${this.args.path} updated`);
    return { path: this.args.path, ...body };
  }
}
