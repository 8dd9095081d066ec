import { Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../tool.js';

export default planned(tool, {
  summary: 'Draw the graph as DOT, or SVG/PNG with graphviz',
  spec: 'KG4',
  flags: {
    format: Flags.string({
      description: 'output format (svg and png need graphviz installed)',
      options: ['dot', 'svg', 'png'],
      default: 'dot',
    }),
    output: Flags.string({ description: 'write to this file instead of stdout', char: 'o', helpValue: '<file>' }),
    type: Flags.string({
      description: 'only this node type',
      options: ['note', 'decision', 'guideline', 'pattern', 'journal', 'execution'],
    }),
    root: Flags.string({ description: 'only nodes near this one', helpValue: '<id>' }),
    depth: Flags.integer({ description: 'with --root: how many relations away', default: 2, min: 1 }),
  },
  examples: [
    '<%= config.bin %> graph > graph.dot',
    '<%= config.bin %> graph --format svg --root decision-0012 -o decision.svg',
  ],
});
