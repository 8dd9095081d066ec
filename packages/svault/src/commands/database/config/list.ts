import * as Flags from '@oclif/core/flags';
import { ClientCommand } from '../../../cli/base.js';

export default class DatabaseConfigList extends ClientCommand<typeof DatabaseConfigList> {
  static override summary = 'List connections';
  static override description = 'Exit code 4 when there is none, as `vault list`.';
  static override flags = {
    mount: Flags.string({ description: 'where the database engine is mounted', default: 'database' }),
  };
  static override examples = ['<%= config.bin %> database config list'];

  async run() {
    const keys = await this.client().list(`${this.flags.mount}/config/`);
    if (!this.jsonEnabled()) for (const k of keys) this.log(k);
    return { keys };
  }
}
