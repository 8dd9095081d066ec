/**
 * The graphs one MCP server offers: the project's own and the ones named in `[[graphs]]`, each
 * opened (with its own config) on first use and shared by every session; which one is current is
 * per session (the `switch` tool).
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig } from '@stratumiops/shared/config';
import { notFoundError } from '@stratumiops/shared/errors';
import { App, findGraphDir } from '../runtime.js';
import { type KogralConfig, tool } from '../tool.js';

export interface GraphEntry {
  name: string;
  /** The project's own graph, or one from [[graphs]]. */
  kind: 'project' | 'extra';
  dir: string;
}

export class GraphSet {
  private readonly apps = new Map<string, App>();
  readonly entries: GraphEntry[];

  constructor(readonly home: App) {
    this.apps.set(home.name, home);
    this.entries = [{ name: home.name, kind: 'project', dir: home.dir }];
    for (const g of home.config.graphs ?? []) {
      if (this.entries.some((e) => e.name === g.name)) continue;
      const dir = findGraphDir({ dir: g.path }, home.projectRoot) ?? resolve(home.projectRoot, g.path);
      this.entries.push({ name: g.name, kind: 'extra', dir });
    }
  }

  get homeName(): string {
    return this.home.name;
  }

  /** The graph called `name`; exit 4 with the names there are. */
  get(name: string): App {
    const open = this.apps.get(name);
    if (open) return open;
    const e = this.entries.find((x) => x.name === name);
    if (!e)
      throw notFoundError(`no graph '${name}'`, {
        hint: `graphs here: ${this.entries.map((x) => x.name).join(', ')} (list_graphs)`,
      });
    if (!existsSync(e.dir) || !statSync(e.dir).isDirectory())
      throw notFoundError(`graph '${name}' is configured at ${e.dir}, which is not a kogral graph`, {
        hint: "run 'kogral init' there, or fix [[graphs]] in .kogral/config.toml",
      });
    const file = join(e.dir, 'config.toml');
    const config = loadConfig<KogralConfig>(tool.config, { cwd: e.dir, ...(existsSync(file) ? { file } : {}) }).values;
    const app = new App(e.dir, { config: { ...config, name: config.name || e.name } });
    this.apps.set(name, app);
    return app;
  }

  close(): void {
    for (const [name, app] of this.apps) if (name !== this.home.name) app.close();
  }
}
