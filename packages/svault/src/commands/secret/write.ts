import * as Args from '@oclif/core/args';
import { ClientCommand, parsePairs, responseRows } from '../../cli/base.js';

export default class SecretWrite extends ClientCommand<typeof SecretWrite> {
  static override summary = 'Write data to a path';
  static override aliases = ['write'];
  static override description =
    "Any API path under /v1, like `vault write`: the pairs are the request body. The path's declaration checks them (`svault path-help PATH` lists its fields): a value of the wrong type is refused, a field it does not declare is ignored with a warning.";
  static override strict = false;
  static override args = {
    path: Args.string({ description: 'path, e.g. kv/myapp or sys/mounts/team', required: true }),
    data: Args.string({
      description:
        'KEY=VALUE pairs, several allowed; KEY=@file reads the value from a file, - reads a JSON object from stdin',
    }),
  };
  static override examples = [
    '<%= config.bin %> secret write kv/myapp key=value',
    '<%= config.bin %> secret write kv/tls cert=@server.pem',
    '<%= config.bin %> secret write sys/mounts/kv type=kv',
    '<%= config.bin %> write transit/encrypt/payments plaintext=$(base64 <<< hello)',
    '<%= config.bin %> write auth/userpass/login/alice password=@password.txt',
  ];

  async run() {
    const body = parsePairs(this.rest(1));
    const r = await this.client().write(this.args.path.replace(/^\/+/, ''), body);
    for (const w of r?.warnings ?? []) this.warn(w);
    if (!this.jsonEnabled()) {
      if (r?.data || r?.lease_id || r?.auth) this.table(responseRows(r));
      else this.log(`Success! Data written to: ${this.args.path}`);
    }
    return r ?? { path: this.args.path, written: true };
  }
}
