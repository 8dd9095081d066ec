import { renderTable } from '@stratumiops/shared/output';
import { ClientCommand } from '../../cli/base.js';

export default class AuditList extends ClientCommand<typeof AuditList> {
  static override summary = 'List enabled audit devices';
  static override description =
    "Shows each device's options and where its hash chain stands (seq, head): `audit verify` " +
    'reports the same head for a complete file.';
  static override examples = ['<%= config.bin %> audit list', '<%= config.bin %> audit list --json'];

  async run() {
    const devices = await this.client().auditList();
    if (!this.jsonEnabled()) {
      const rows = Object.entries(devices).map(([path, d]) => ({
        path,
        type: d.type,
        file: (d.options as Record<string, string> | undefined)?.file_path ?? '',
        seq: d.seq ?? '',
        description: d.description ?? '',
      }));
      this.log(rows.length ? renderTable(rows, ['path', 'type', 'file', 'seq', 'description']) : 'No audit devices.');
    }
    return devices;
  }
}
