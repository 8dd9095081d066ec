import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { validationError } from '@stratumiops/shared/errors';
import { renderTable } from '@stratumiops/shared/output';
import { KogralCommand } from '../cli/base.js';
import { IMPORT_FORMATS, type ImportFormat } from '../core/importers/common.js';
import { applyImport, planImport, summarize } from '../core/importers/plan.js';
import { NODE_TYPES, type NodeType } from '../core/model.js';

export default class Import extends KogralCommand<typeof Import> {
  static override summary = 'Import a Logseq, Obsidian, markdown or ADR folder, or a kogral export';
  static override description =
    'Each imported node records where it came from (source: its path relative to the import root). Importing the same folder again updates what changed and creates no duplicates. Files that cannot be read (binary, invalid UTF-8, too big, broken frontmatter) are listed and skipped; the source is never modified.';
  static override args = { path: Args.string({ description: 'folder, or a .json/.yaml export file', required: true }) };
  static override flags = {
    from: Flags.string({ description: 'source format (default: detected)', options: [...IMPORT_FORMATS] }),
    type: Flags.string({
      description: 'node type for plain markdown files',
      options: [...NODE_TYPES],
      default: 'note',
    }),
    'dry-run': Flags.boolean({ description: 'show what would be imported, change nothing' }),
  };
  static override examples = [
    '<%= config.bin %> import ~/logseq-graph --from logseq',
    '<%= config.bin %> import docs/adr --from adr --dry-run',
    '<%= config.bin %> import ./postmortems --from markdown --type execution',
    '<%= config.bin %> import backup.json',
  ];

  async run() {
    const app = await this.app();
    const plan = planImport(app.kg, this.args.path, {
      ...(this.flags.from ? { from: this.flags.from as ImportFormat } : {}),
      type: this.flags.type as NodeType,
      maxBytes: this.config_.import.max_bytes,
    });
    const dry = this.flags['dry-run'];
    const sum = dry ? summarize(plan) : await applyImport(app.kg, plan);
    for (const s of plan.skipped) this.warnLine(`skipped ${s.source}${s.line ? `:${s.line}` : ''}: ${s.reason}`);
    if (plan.nodes.length === 0 && plan.skipped.length > 0)
      throw validationError(
        `nothing in ${this.rel(plan.root)} could be imported (${plan.skipped.length} file(s) skipped)`,
        {
          hint: 'the reasons are above',
          details: { skipped: plan.skipped },
        },
      );
    if (dry) {
      const rows = plan.nodes
        .filter((n) => n.action !== 'unchanged')
        .map((n) => ({ action: n.action, type: n.node.type, id: n.node.id, source: n.node.source ?? '' }));
      if (rows.length > 0) this.log(renderTable(rows));
    }
    this.log(
      `${dry ? 'would import' : 'imported'} ${plan.format} from ${this.rel(plan.root)}: ${sum.created} new, ${sum.updated} updated, ${sum.unchanged} unchanged, ${sum.skipped} skipped` +
        (plan.ignored.length ? `, ${plan.ignored.length} non-markdown file(s) ignored` : '') +
        (plan.unresolved.length ? `, ${plan.unresolved.length} link(s) to pages not imported kept as text` : ''),
    );
    return {
      format: plan.format,
      root: plan.root,
      source_root: plan.rootName,
      dry_run: dry,
      ...sum,
      nodes: plan.nodes.map((n) => ({
        action: n.action,
        id: n.node.id,
        type: n.node.type,
        title: n.node.title,
        ...(n.node.source ? { source: n.node.source } : {}),
      })),
      skipped_files: plan.skipped,
      ignored: plan.ignored,
      unresolved: plan.unresolved,
    };
  }
}
