import * as Args from '@oclif/core/args';
import { ClientCommand, show } from '../../../cli/base.js';
import { mountFlag } from '../encrypt.js';

/** A key read as KEY/VALUE rows: its settings, then each version with its public key or creation time. */
export function keyRows(data: Record<string, unknown>): Record<string, unknown> {
  const { keys, ...settings } = data;
  const rows: Record<string, unknown> = Object.fromEntries(Object.entries(settings).map(([k, v]) => [k, show(v)]));
  for (const [v, info] of Object.entries((keys ?? {}) as Record<string, unknown>)) {
    const pub = typeof info === 'object' && info ? (info as { public_key?: string }).public_key : undefined;
    rows[`version ${v}`] = pub ? shortKey(pub) : `created ${new Date(Number(info) * 1000).toISOString()}`;
  }
  return rows;
}

/** Post-quantum public keys are kilobytes long: the table shows their start and size (--json has all). */
function shortKey(pub: string): string {
  const b64 = pub.replace(/-----[A-Z ]+-----|\s+/g, '');
  if (b64.length <= 100) return b64;
  return `${b64.slice(0, 40)}... (${Buffer.from(b64, 'base64').length} bytes)`;
}

export default class TransitKeyRead extends ClientCommand<typeof TransitKeyRead> {
  static override summary = "Show a key's type, versions, version limits and public keys";
  static override description = 'Never shows secret key material.';
  static override aliases = ['transit:keys:read'];
  static override args = { name: Args.string({ description: 'key name', required: true }) };
  static override flags = {
    mount: mountFlag,
  };
  static override examples = [
    '<%= config.bin %> transit key read payments',
    '<%= config.bin %> transit key read signer --json',
  ];

  async run() {
    const r = await this.client().read(`${this.flags.mount}/keys/${this.args.name}`);
    if (!this.jsonEnabled()) this.table(keyRows(r?.data ?? {}));
    return r;
  }
}
