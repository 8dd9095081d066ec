import * as Flags from '@oclif/core/flags';
import { renderTable } from '@stratumiops/shared/output';
import { KogralCommand, splitList, tagFlag, typeFlag } from '../cli/base.js';
import type { EntrySort } from '../core/catalog.js';
import type { NodeType } from '../core/model.js';

export default class List extends KogralCommand<typeof List> {
  static override summary = 'List nodes, filtered by type, tag or status';
  static override flags = {
    type: typeFlag(),
    tag: tagFlag(),
    status: Flags.string({ description: 'only this status, e.g. accepted' }),
    limit: Flags.integer({ description: 'at most this many', min: 1 }),
    sort: Flags.string({ description: 'order', options: ['updated', 'created', 'title', 'id'], default: 'updated' }),
  };
  static override examples = [
    '<%= config.bin %> list --type decision --status accepted',
    '<%= config.bin %> list --type execution --tag incident --json',
  ];

  async run() {
    const app = await this.app();
    const g = await app.lookup();
    const problems = g.problems;
    this.reportProblems(problems);
    // Sorted and cut by the lookup: from the index, only the rows shown are read in full.
    const { entries, total } = g.entries({
      ...(this.flags.type ? { type: this.flags.type as NodeType } : {}),
      tags: splitList(this.flags.tag),
      ...(this.flags.status ? { status: this.flags.status } : {}),
      sort: this.flags.sort as EntrySort,
      ...(this.flags.limit ? { limit: this.flags.limit } : {}),
    });
    const nodes = entries.map((e) => ({
      id: e.id,
      type: e.type,
      title: e.title,
      status: e.status,
      tags: e.tags,
      created: e.created,
      updated: e.updated,
      path: e.path,
      ...(e.source ? { source: e.source } : {}),
    }));
    if (nodes.length === 0) this.log('no nodes');
    else
      this.log(
        renderTable(
          nodes.map((n) => ({ ...n, tags: n.tags.join(',') || '-', updated: n.updated.slice(0, 10) })),
          ['id', 'type', 'status', 'updated', 'title', 'tags'],
        ),
      );
    return { count: nodes.length, total, nodes, problems };
  }
}
