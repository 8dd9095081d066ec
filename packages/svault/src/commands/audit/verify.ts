import { readFileSync } from 'node:fs';
import * as Args from '@oclif/core/args';
import { StratumCommand } from '@stratumiops/shared/cli/command';
import { StratumError, usageError } from '@stratumiops/shared/errors';
import { verifyAuditLog } from '../../core/audit.js';
import { tool } from '../../tool.js';

export default class AuditVerify extends StratumCommand<typeof AuditVerify> {
  static override tool = tool;
  static override summary = 'Check an audit log for changed, removed or reordered lines';
  static override description = [
    'Follows the hash chain through the file(s), in the order given (rotated files first:',
    '`audit.log.* audit.log`), and reports the first line that breaks it, with exit code 3.',
    'Needs no server. A file whose first line continues an earlier chain (rotated away) is checked',
    'from there on; compare the head it prints with `svault audit list` to detect lost last lines.',
  ].join(' ');
  static override strict = false;
  static override args = { file: Args.string({ description: 'audit log file (several allowed)', required: true }) };
  static override examples = [
    '<%= config.bin %> audit verify ./audit.log',
    '<%= config.bin %> audit verify /var/log/svault/audit.log.* /var/log/svault/audit.log --json',
  ];

  async run() {
    const files = this.positionals.map((name) => {
      try {
        return { name, lines: readFileSync(name, 'utf8').split('\n') };
      } catch (e) {
        throw usageError(`cannot read ${name}: ${(e as Error).message}`);
      }
    });
    const r = verifyAuditLog(files);
    if (!r.ok && r.broken) {
      const b = r.broken;
      throw new StratumError('validation', `${b.file}:${b.line}: ${b.reason}`, {
        details: { ...r },
        hint: `${r.lines} line(s) before it verified`,
      });
    }
    if (!this.jsonEnabled()) {
      this.log(
        r.lines === 0
          ? 'OK: no audit lines'
          : `OK: ${r.lines} line(s), seq ${r.first_seq}..${r.last_seq}` +
              `${r.anchored ? ' (continues an earlier file)' : ''}, head ${r.head}`,
      );
    }
    return r;
  }
}
