import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import * as Args from '@oclif/core/args';
import { closestName } from '@stratumiops/nickel';
import { describeConfig, loadConfig } from '@stratumiops/shared/config';
import { notFoundError, StratumError, usageError, validationError } from '@stratumiops/shared/errors';
import { renderTable } from '@stratumiops/shared/output';
import { ProvCommand } from '../cli/base.js';
import { setTomlKey } from '../core/toml-edit.js';
import { tool } from '../tool.js';

const ACTIONS = ['get', 'set', 'list', 'validate'];

export default class Config extends ProvCommand<typeof Config> {
  static override summary = 'Show, get, set or validate settings, and where each value came from';
  static override description =
    "'prov config' (or 'config list') shows every effective value and its source: defaults, the user file, the project file (prov.toml), environment variables, flags; secrets are masked. 'config get KEY' prints one value; 'config set KEY VALUE' checks the value against the settings' schema and writes it to the project file atomically, keeping its comments (exit 3 and nothing written when it is wrong); 'config validate' checks the files and the environment.";
  static override examples = [
    '<%= config.bin %> config',
    '<%= config.bin %> config get apply.parallelism',
    '<%= config.bin %> config set apply.retries 5',
    '<%= config.bin %> config validate --json',
  ];
  static override args = {
    key: Args.string({ description: 'get, set, list or validate; or a key (dotted, e.g. log.level) to show' }),
    name: Args.string({ description: 'the key, for get and set' }),
    value: Args.string({ description: 'the value, for set (arrays: comma-separated)' }),
  };

  async run() {
    const first = this.args.key;
    const rows = describeConfig(this.settings);
    if (first === 'get') return this.get(rows);
    if (first === 'set') return this.set(rows);
    if (first === 'validate') return this.validate();
    if (first !== undefined && first !== 'list' && this.args.name !== undefined)
      throw usageError(`unknown config action '${first}'`, { hint: `use one of: ${ACTIONS.join(', ')}` });
    return this.list(rows, first === 'list' ? undefined : first);
  }

  private list(all: ReturnType<typeof describeConfig>, key: string | undefined) {
    let rows = all;
    if (key) {
      rows = rows.filter((r) => r.key === key || r.key.startsWith(`${key}.`));
      if (rows.length === 0) throw this.unknownKey(key, all);
    }
    this.log(renderTable(rows, ['key', 'value', 'source']));
    const env = Object.entries({ ...tool.config.env }).map(([v, k]) => `${v} → ${k}`);
    if (!key && env.length > 0) this.log(`\nenvironment: ${env.join(', ')}`);
    return { settings: rows, files: this.settings.files };
  }

  private get(rows: ReturnType<typeof describeConfig>) {
    const key = this.need('name', 'config get KEY');
    const row = rows.find((r) => r.key === key);
    if (!row) throw this.unknownKey(key, rows);
    if (!this.jsonEnabled()) this.log(Array.isArray(row.value) ? row.value.join(',') : String(row.value));
    return row;
  }

  private set(rows: ReturnType<typeof describeConfig>) {
    const key = this.need('name', 'config set KEY VALUE');
    const raw = this.args.value;
    if (raw === undefined) throw usageError('config set needs a value', { hint: `prov config set ${key} VALUE` });
    const row = rows.find((r) => r.key === key);
    if (!row) throw this.unknownKey(key, rows, validationError);
    const value = coerce(key, raw, row.value);
    const file = this.settings.files.project ?? resolve(tool.config.projectFile);
    const before = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const text = setTomlKey(before, key, value);
    // Checked as the new project file before it replaces the old one: a wrong value writes nothing.
    const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
    writeFileSync(tmp, text, { mode: 0o644 });
    try {
      loadConfig(tool.config, { file: tmp });
    } catch (e) {
      rmSync(tmp, { force: true });
      if (e instanceof StratumError)
        throw validationError(e.message.replace(tmp, file), {
          hint: `'prov config get ${key}' shows the current value`,
        });
      throw e;
    }
    renameSync(tmp, file);
    if (!this.jsonEnabled()) this.log(`${key} = ${JSON.stringify(value)} (written to ${file})`);
    return { key, value, file };
  }

  private validate() {
    // The settings were loaded and checked before this command ran: reaching here means they are valid.
    const files = this.settings.files;
    if (!this.jsonEnabled()) {
      const which = [files.user, files.project].filter(Boolean).join(', ');
      this.log(`ok    ${which || 'defaults only (no prov.toml, no user file)'}`);
    }
    return { valid: true, files };
  }

  private need(arg: 'name', usage: string): string {
    const v = this.args[arg];
    if (!v) throw usageError(`missing the key: prov ${usage}`, { hint: "'prov config' lists the keys" });
    return v;
  }

  private unknownKey(
    key: string,
    rows: ReturnType<typeof describeConfig>,
    make: typeof notFoundError = notFoundError,
  ): StratumError {
    const close = closestName(
      key,
      rows.map((r) => r.key),
    );
    return make(`no setting '${key}'${close ? ` (did you mean '${close}'?)` : ''}`, {
      hint: "run 'prov config' to list them",
    });
  }
}

/** The text of a value as the type the setting has (its current value's type); the schema checks the rest. */
function coerce(key: string, raw: string, current: unknown): unknown {
  if (typeof current === 'number') {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) throw validationError(`'${key}' takes a number, got '${raw}'`);
    return n;
  }
  if (typeof current === 'boolean') {
    if (raw !== 'true' && raw !== 'false') throw validationError(`'${key}' takes true or false, got '${raw}'`);
    return raw === 'true';
  }
  if (Array.isArray(current))
    return raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  return raw;
}
