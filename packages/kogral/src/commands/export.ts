import { writeFileSync } from 'node:fs';
import * as Flags from '@oclif/core/flags';
import { usageError } from '@stratumiops/shared/errors';
import { KogralCommand, splitList, tagFlag, typeFlag } from '../cli/base.js';
import { EXPORT_FORMATS, exportDocument, selectNodes, toJson, toMarkdownFolder, toYaml } from '../core/exporters.js';
import type { NodeType } from '../core/model.js';

export default class Export extends KogralCommand<typeof Export> {
  static override summary = 'Export the graph as markdown, JSON or YAML';
  static override description =
    "Markdown writes one file a node (<type>s/<id>.md, the graph's own format) into an empty folder. 'kogral import' reads all three back into the same graph.";
  static override flags = {
    format: Flags.string({ description: 'output format', options: [...EXPORT_FORMATS], default: 'markdown' }),
    output: Flags.string({
      description: 'file (json, yaml) or folder (markdown); json and yaml default to stdout',
      char: 'o',
      aliases: ['out'],
      helpValue: '<path>',
    }),
    type: typeFlag(),
    tag: tagFlag(),
    status: Flags.string({ description: 'only this status' }),
  };
  static override examples = [
    '<%= config.bin %> export --format markdown -o /docs/ops-knowledge/',
    '<%= config.bin %> export --format json --type decision > adrs.json',
  ];

  async run() {
    const app = await this.app();
    const g = app.kg.graph();
    this.reportProblems(g.problems);
    const nodes = selectNodes(g, {
      ...(this.flags.type ? { type: this.flags.type as NodeType } : {}),
      tags: splitList(this.flags.tag),
      ...(this.flags.status ? { status: this.flags.status } : {}),
    });
    const { format, output } = this.flags;
    if (format === 'markdown') {
      if (!output) throw usageError('--format markdown writes a folder', { hint: 'pass --output <folder>' });
      const files = toMarkdownFolder(app.store.files, output, nodes);
      this.log(`exported ${nodes.length} node(s) to ${output}/`);
      return { format, count: nodes.length, output, files: files.length };
    }
    const text = format === 'json' ? toJson(app.name, nodes) : toYaml(app.name, nodes);
    if (output) {
      writeFileSync(output, text);
      this.log(`exported ${nodes.length} node(s) to ${output}`);
      return { format, count: nodes.length, output };
    }
    if (this.jsonEnabled())
      return format === 'json' ? exportDocument(app.name, nodes) : { format, count: nodes.length, content: text };
    process.stdout.write(text);
    return {};
  }
}
