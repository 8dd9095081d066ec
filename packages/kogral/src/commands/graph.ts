import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as Flags from '@oclif/core/flags';
import { notFoundError, unavailableError, usageError } from '@stratumiops/shared/errors';
import { KogralCommand, typeFlag } from '../cli/base.js';
import { toDot } from '../core/graph.js';

export default class GraphCmd extends KogralCommand<typeof GraphCmd> {
  static override summary = 'Draw the graph as DOT, or SVG/PNG with graphviz';
  static override flags = {
    format: Flags.string({
      description: 'output format (svg and png need graphviz installed)',
      options: ['dot', 'svg', 'png'],
      default: 'dot',
    }),
    output: Flags.string({ description: 'write to this file instead of stdout', char: 'o', helpValue: '<file>' }),
    type: typeFlag(),
    root: Flags.string({ description: 'only nodes near this one', helpValue: '<id>' }),
    depth: Flags.integer({ description: 'with --root: how many relations away', default: 2, min: 1 }),
  };
  static override examples = [
    '<%= config.bin %> graph > kg.dot',
    '<%= config.bin %> graph --format svg --root use-cilium-3f2a1b -o decision.svg',
  ];

  async run() {
    const app = await this.app();
    const g = app.kg.graph();
    this.reportProblems(g.problems);
    let only: Set<string> | undefined;
    if (this.flags.root) {
      const r = g.resolve(this.flags.root);
      if (!r) throw notFoundError(`no node '${this.flags.root}'`);
      only = g.neighbourhood(r.node.id, this.flags.depth);
    }
    if (this.flags.type) {
      const ofType = new Set(g.nodes.filter((s) => s.node.type === this.flags.type).map((s) => s.node.id));
      only = only ? new Set([...only].filter((id) => ofType.has(id))) : ofType;
    }
    const dot = toDot(g, only);
    const nodes = only ? only.size : g.size;
    const format = this.flags.format;
    if (format === 'dot') {
      if (this.flags.output) writeFileSync(this.flags.output, dot);
      else if (!this.jsonEnabled()) process.stdout.write(dot);
      return { format, nodes, ...(this.flags.output ? { output: this.flags.output } : { dot }) };
    }
    if (!this.flags.output && process.stdout.isTTY && format === 'png')
      throw usageError('a PNG on a terminal is unreadable', { hint: 'pass -o graph.png or redirect stdout' });
    const r = spawnSync('dot', [`-T${format}`], { input: dot, maxBuffer: 256 * 1024 * 1024 });
    if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT')
      throw unavailableError(`--format ${format} needs graphviz's 'dot', which is not installed`, {
        hint: "install graphviz (apt-get install graphviz), or use '--format dot'",
      });
    if (r.status !== 0) throw unavailableError(`dot failed: ${String(r.stderr).trim().split('\n')[0]}`);
    if (this.flags.output) writeFileSync(this.flags.output, r.stdout);
    else if (!this.jsonEnabled()) process.stdout.write(r.stdout);
    return { format, nodes, bytes: r.stdout.length, ...(this.flags.output ? { output: this.flags.output } : {}) };
  }
}
