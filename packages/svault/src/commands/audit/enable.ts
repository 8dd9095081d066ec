import { isAbsolute, resolve } from 'node:path';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { usageError } from '@stratumiops/shared/errors';
import { ClientCommand, parsePairs } from '../../cli/base.js';
import { parseDuration } from '../../core/fields.js';

export default class AuditEnable extends ClientCommand<typeof AuditEnable> {
  static override summary = 'Enable a file audit device';
  static override description = [
    "One JSON line per request and response, secret values and tokens HMAC-SHA256'd with the device's",
    'own key, each line hash-chained to the one before (check it with `svault audit verify`). While a',
    'device is enabled a request fails if no device can write its line. Options: file_path (or path)',
    '= the log file, relative to the current directory; retention_days; timeout_ms.',
  ].join(' ');
  static override strict = false;
  static override args = {
    type: Args.string({ description: 'device type: file (a log file path is accepted too)', required: true }),
    options: Args.string({ description: 'KEY=VALUE options, e.g. path=./audit.log (several allowed)' }),
  };
  static override flags = {
    path: Flags.string({ description: 'where to mount the device (default: <type>/)', helpValue: '<path>' }),
    description: Flags.string({ description: 'a note shown by audit list' }),
    retention: Flags.string({
      description: 'how long rotated files are kept, e.g. 61320h (7 years)',
      helpValue: '<duration>',
    }),
  };
  static override examples = [
    '<%= config.bin %> audit enable file path=./audit.log',
    '<%= config.bin %> audit enable file file_path=/var/log/svault/audit.log --path file2/ --retention 720h',
  ];

  async run() {
    let type = this.args.type;
    const options: Record<string, string> = {};
    for (const [k, v] of Object.entries(parsePairs(this.rest(1).filter((p) => p !== '-')))) {
      options[k] = String(v);
    }
    // `svault audit enable ./audit.log` (the file itself) means a file device.
    if (type !== 'file' && /[/.]/.test(type)) {
      options.file_path = type;
      type = 'file';
    }
    if (options.path !== undefined && options.file_path === undefined) {
      options.file_path = options.path;
      delete options.path;
    }
    if (type === 'file') {
      if (!options.file_path) throw usageError('a file device needs its file', { hint: 'add path=./audit.log' });
      if (!isAbsolute(options.file_path)) options.file_path = resolve(options.file_path);
    }
    if (this.flags.retention) {
      const secs = parseDuration(this.flags.retention);
      if (secs === undefined) throw usageError(`--retention: invalid duration '${this.flags.retention}'`);
      options.retention_days = String(Math.ceil(secs / 86400));
    }
    const path = (this.flags.path ?? type).replace(/^\/+|\/+$/g, '');
    await this.client().auditEnable(path, type, options, this.flags.description ?? '');
    if (!this.jsonEnabled()) this.log(`Success! Enabled the ${type} audit device at: ${path}/`);
    return { path: `${path}/`, type, options };
  }
}
