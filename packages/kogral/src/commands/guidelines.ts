import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { paint } from '@stratumiops/shared/output';
import { KogralCommand } from '../cli/base.js';
import { mergeGuidelines } from '../core/guidelines.js';

export default class Guidelines extends KogralCommand<typeof Guidelines> {
  static override summary = "Show guidelines, the org graph's merged with this project's";
  static override description =
    "The org graph is set by org in .kogral/config.toml: a folder or a git URL (cloned into a cache, refreshed hourly). On the same id the project's guideline wins; each one says which graph it came from.";
  static override args = { topic: Args.string({ description: 'only guidelines about this topic' }) };
  static override flags = {
    'project-only': Flags.boolean({ description: "leave out the org graph's guidelines" }),
    limit: Flags.integer({ description: 'at most this many', min: 1 }),
    refresh: Flags.boolean({ description: 'pull the org graph from its git URL now' }),
  };
  static override examples = [
    '<%= config.bin %> guidelines "kubernetes deployment"',
    '<%= config.bin %> guidelines --project-only',
  ];

  async run() {
    const app = await this.app();
    const g = app.kg.graph();
    this.reportProblems(g.problems);
    const includeShared = !this.flags['project-only'];
    const org = includeShared ? await app.orgNodes(this.flags.refresh) : undefined;
    const hits = mergeGuidelines(g.nodes, org?.nodes ?? [], this.args.topic ?? '', {
      includeShared,
      ...(this.flags.limit ? { limit: this.flags.limit } : {}),
    });
    if (hits.length === 0) this.log('no guidelines match');
    for (const h of hits) {
      this.log(
        `${paint(h.title, 'bold')}  ${paint(`${h.id} · ${h.graph}${h.overrides ? ' (overrides org)' : ''}`, 'dim')}`,
      );
      if (h.summary) this.log(`  ${h.summary}`);
    }
    return {
      topic: this.args.topic ?? '',
      org: org ? { dir: org.dir, ...(org.url ? { url: org.url } : {}) } : null,
      count: hits.length,
      guidelines: hits.map(({ body: _b, ...h }) => h),
    };
  }
}
