import { Flags } from '@oclif/core';
import { renderTable } from '@stratumiops/shared/output';
import { KogralCommand, splitList, tagFlag, typeFlag } from '../cli/base.js';
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
    const g = app.kg.graph();
    this.reportProblems(g.problems);
    const sort = this.flags.sort as 'updated' | 'created' | 'title' | 'id';
    let nodes = g
      .filter({
        ...(this.flags.type ? { type: this.flags.type as NodeType } : {}),
        tags: splitList(this.flags.tag),
        ...(this.flags.status ? { status: this.flags.status } : {}),
      })
      .map((s) => ({
        id: s.node.id,
        type: s.node.type,
        title: s.node.title,
        status: s.node.status,
        tags: s.node.tags,
        created: s.node.created,
        updated: s.node.updated,
        path: s.path,
        ...(s.node.source ? { source: s.node.source } : {}),
      }));
    nodes.sort((a, b) =>
      sort === 'title' || sort === 'id' ? a[sort].localeCompare(b[sort]) : b[sort].localeCompare(a[sort]),
    );
    const total = nodes.length;
    if (this.flags.limit) nodes = nodes.slice(0, this.flags.limit);
    if (nodes.length === 0) this.log('no nodes');
    else
      this.log(
        renderTable(
          nodes.map((n) => ({ ...n, tags: n.tags.join(',') || '-', updated: n.updated.slice(0, 10) })),
          ['id', 'type', 'status', 'updated', 'title', 'tags'],
        ),
      );
    return { count: nodes.length, total, nodes, problems: g.problems };
  }
}
