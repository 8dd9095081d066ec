import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { usageError } from '@stratumiops/shared/errors';
import { KogralCommand } from '../cli/base.js';
import type { EditOp } from '../core/edit.js';

export default class Edit extends KogralCommand<typeof Edit> {
  static override summary = 'Edit a node: append, prepend, find-replace or replace a section';
  static override description =
    'One edit per run, atomic under the graph lock (and one git commit with git.auto_commit). An edit that cannot apply exactly (text not found, found more often than --count, no such section) changes nothing and exits non-zero.';
  static override args = { id: Args.string({ description: 'node id (or title or alias)', required: true }) };
  static override flags = {
    append: Flags.boolean({ description: 'add --body at the end' }),
    prepend: Flags.boolean({ description: 'add --body at the start (after the title heading)' }),
    'replace-section': Flags.string({
      description: 'replace the content under this heading with --body',
      helpValue: '<heading>',
    }),
    find: Flags.string({ description: 'text to replace with --replace', helpValue: '<text>' }),
    replace: Flags.string({ description: 'replacement for --find (may be empty)', helpValue: '<text>' }),
    count: Flags.integer({ description: 'with --find: how many times the text must occur (default 1)', min: 1 }),
    body: Flags.string({ description: 'the markdown text, or - for stdin' }),
    'body-file': Flags.string({ description: 'read the markdown text from this file', helpValue: '<file>' }),
    'if-updated': Flags.string({
      description: "refuse (exit 6) unless the node's updated time is still this",
      helpValue: '<iso-time>',
    }),
  };
  static override examples = [
    '<%= config.bin %> edit nginx-502-1a2b3c --append --body "Also check keepalive_timeout."',
    '<%= config.bin %> edit pg-pool-exhaustion-9f8e7d --replace-section "Root Cause" --body-file rc.md',
    '<%= config.bin %> edit nginx-502-1a2b3c --find "proxy_read_timeout 30s" --replace "proxy_read_timeout 60s"',
  ];

  async run() {
    const f = this.flags;
    const modes = [
      f.append && '--append',
      f.prepend && '--prepend',
      f['replace-section'] !== undefined && '--replace-section',
      f.find !== undefined && '--find',
    ].filter(Boolean);
    if (modes.length !== 1)
      throw usageError(
        modes.length === 0
          ? 'say how to edit: --append, --prepend, --replace-section <heading> or --find <text> --replace <text>'
          : `pass one of ${modes.join(', ')}, not several`,
      );
    const text = this.readBody(f.body, f['body-file']);
    let op: EditOp;
    if (f.find !== undefined) {
      if (f.replace === undefined) throw usageError('--find needs --replace <text> (which may be empty)');
      if (text !== undefined) throw usageError('--find takes --replace, not --body');
      op = { op: 'find_replace', find: f.find, replace: f.replace, ...(f.count ? { expected: f.count } : {}) };
    } else {
      if (f.replace !== undefined || f.count !== undefined) throw usageError('--replace and --count go with --find');
      if (text === undefined) throw usageError('pass the text with --body, --body-file or --body - (stdin)');
      op =
        f['replace-section'] !== undefined
          ? { op: 'replace_section', section: f['replace-section'], text }
          : { op: f.append ? 'append' : 'prepend', text };
    }
    const app = await this.app();
    const r = await app.kg.edit(this.args.id, op, f['if-updated'] ? { ifUpdated: f['if-updated'] } : {});
    this.log(r.changed ? `edited ${r.node.type} ${r.node.id} (${this.rel(r.path)})` : `${r.node.id} unchanged`);
    return {
      id: r.node.id,
      type: r.node.type,
      path: r.path,
      operation: op.op,
      changed: r.changed,
      updated: r.node.updated,
    };
  }
}
