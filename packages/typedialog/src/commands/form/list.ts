import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as Args from '@oclif/core/args';
import { StratumError } from '@stratumiops/shared/errors';
import { renderTable } from '@stratumiops/shared/output';
import { parse as parseToml } from 'smol-toml';
import { TypedialogCommand } from '../../cli/base.js';
import { parseForm } from '../../core/form.js';

export default class FormList extends TypedialogCommand<typeof FormList> {
  static override summary = 'List the forms in a folder';
  static override description =
    'Every .toml file with a [form] table, in the folder and its subfolders (two levels), with its id, title, ' +
    'field count and whether it is valid (run validate on one to see its problems).';
  static override args = { dir: Args.string({ description: 'folder to look in', default: '.' }) };
  static override examples = ['<%= config.bin %> form list examples/forms', '<%= config.bin %> form list --json'];

  async run() {
    const dir = this.args.dir;
    let files: string[];
    try {
      files = (readdirSync(dir, { recursive: true }) as string[])
        .filter((f) => f.endsWith('.toml') && f.split('/').length <= 3 && !f.split('/').includes('node_modules'))
        .sort();
    } catch {
      throw new StratumError('notFound', `folder ${dir} does not exist`);
    }
    const forms = [];
    for (const f of files) {
      const path = join(dir, f);
      const text = readFileSync(path, 'utf8');
      let raw: unknown;
      try {
        raw = parseToml(text);
      } catch {
        continue; // not TOML we can read: not a form
      }
      if (!raw || typeof raw !== 'object' || !('form' in raw)) continue;
      try {
        const form = parseForm(text, path);
        forms.push({
          file: path,
          id: form.id,
          version: form.version,
          title: form.title,
          sections: form.sections.length,
          fields: form.fields.length,
          valid: true,
        });
      } catch (e) {
        const issues = ((e as StratumError).details?.issues as unknown[] | undefined)?.length ?? 1;
        // What the [form] table says of itself, where it says it as text: enough to tell the broken form apart.
        const head = (raw as { form: unknown }).form;
        const said = (k: string) => {
          const v = head && typeof head === 'object' ? (head as Record<string, unknown>)[k] : undefined;
          return typeof v === 'string' ? v : '';
        };
        forms.push({
          file: path,
          id: said('id'),
          version: said('version'),
          title: said('title'),
          sections: 0,
          fields: 0,
          valid: false,
          problems: issues,
        });
      }
    }
    if (forms.length === 0) this.log(`no forms in ${dir}`);
    else {
      this.log(
        renderTable(
          forms.map((x) => ({
            ...x,
            status: x.valid
              ? 'ok'
              : `invalid (${x.problems} problem${x.problems === 1 ? '' : 's'}: typedialog validate FILE)`,
          })),
          ['file', 'id', 'version', 'title', 'fields', 'status'],
        ),
      );
    }
    return { dir, forms };
  }
}
