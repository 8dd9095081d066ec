import { readFileSync } from 'node:fs';
import * as Flags from '@oclif/core/flags';
import { ProvCommand } from '../cli/base.js';
import { collectEvents, EVENTS_FILE, eventKey, parseEventLines, sinceSpec } from '../core/observe.js';

export default class Events extends ProvCommand<typeof Events> {
  static override summary = 'Show what happened, in time order: runs, state changes, drift, certificates';
  static override description =
    "One stream merged from the state store and the workspace: each run's start and end (apply, destroy, service, cert), every change it made to state (a task finishing: created, updated, deleted, failed, rolled back), drift found by plan or apply on refresh, and certificates recorded. -f keeps following (checks every --interval seconds) until Ctrl-C; with --json it prints one JSON object per line, else one document {events}.";
  static override flags = {
    since: Flags.string({ description: 'only newer events, e.g. 30m, 24h, 7d', helpValue: '<duration>' }),
    follow: Flags.boolean({ description: 'keep printing new events', char: 'f' }),
    kind: Flags.string({ description: 'only this kind', options: ['run', 'task', 'drift', 'cert'] }),
    limit: Flags.integer({ description: 'runs to read (newest first)', default: 200, min: 1 }),
    interval: Flags.integer({ description: 'seconds between checks with -f', default: 2, min: 1 }),
  };
  static override examples = [
    '<%= config.bin %> events',
    '<%= config.bin %> events --since 24h --kind drift',
    '<%= config.bin %> events -f --json',
  ];

  async run() {
    let from = '';
    if (this.flags.since) {
      const secs = Number(/^(\d+)/.exec(sinceSpec(this.flags.since))?.[1]);
      from = new Date(Date.now() - secs * 1000).toISOString();
    }
    const read = async () => {
      let extra: ReturnType<typeof parseEventLines> = [];
      try {
        extra = parseEventLines(readFileSync(EVENTS_FILE, 'utf8'));
      } catch {
        // No drift recorded yet.
      }
      const store = await this.openStore();
      try {
        return (await collectEvents(store, extra, this.flags.limit)).filter(
          (e) => e.at >= from && (!this.flags.kind || e.kind === this.flags.kind),
        );
      } finally {
        await store.close();
      }
    };
    const show = (e: Awaited<ReturnType<typeof read>>[number]) => {
      if (this.jsonEnabled()) process.stdout.write(`${JSON.stringify(e)}\n`);
      else this.log(`${e.at}  ${e.kind.padEnd(5)}  ${e.message}${e.run ? `  [${e.run}]` : ''}`);
    };
    const seen = new Set<string>();
    const first = await read();
    if (!this.flags.follow) {
      if (this.jsonEnabled()) return { events: first };
      for (const e of first) show(e);
      if (first.length === 0) this.log('No events yet.');
      return undefined;
    }
    for (const e of first) {
      seen.add(eventKey(e));
      show(e);
    }
    for (;;) {
      await new Promise((r) => setTimeout(r, this.flags.interval * 1000));
      for (const e of await read()) {
        const k = eventKey(e);
        if (seen.has(k)) continue;
        seen.add(k);
        show(e);
      }
    }
  }
}
