import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StratumError } from '@stratumiops/shared/errors';
import type { KnowledgeHit, KnowledgeSearch } from '../core/assist.js';

export interface KnowledgeSettings {
  kogral_dir: string;
  kogral_command: string[];
}

/** kogral's MCP server as installed beside prov (a workspace or node_modules), else `kogral` on PATH. */
function kogralCommand(s: KnowledgeSettings): { command: string; args: string[] } {
  if (s.kogral_command.length) return { command: s.kogral_command[0] as string, args: s.kogral_command.slice(1) };
  try {
    const pkg = createRequire(import.meta.url).resolve('@stratumiops/kogral/package.json');
    const bin = join(dirname(pkg), 'bin', 'run.js');
    if (existsSync(bin)) return { command: process.execPath, args: [bin, 'serve'] };
  } catch {}
  return { command: 'kogral', args: ['serve'] };
}

/**
 * The team's runbooks, ADRs and postmortems, searched through kogral's MCP server (its public interface, so prov
 * never reads kogral's files or index). Undefined when no graph is configured.
 */
export function kogralSearch(s: KnowledgeSettings): KnowledgeSearch | undefined {
  if (!s.kogral_dir) return undefined;
  const dir = resolve(s.kogral_dir);
  return async (query, limit) => {
    const { command, args } = kogralCommand(s);
    const client = new Client({ name: 'prov', version: '1.0.0' });
    try {
      await client.connect(
        new StdioClientTransport({
          command,
          args,
          cwd: dir,
          env: { ...process.env, NO_COLOR: '1' } as Record<string, string>,
          stderr: 'ignore',
        }),
      );
    } catch (e) {
      throw new StratumError('unavailable', `cannot start kogral's MCP server for ${dir}: ${(e as Error).message}`, {
        hint: 'check knowledge.kogral_dir (a folder with .kogral/) and that kogral is installed',
      });
    }
    try {
      const r = await client.callTool({ name: 'search', arguments: { query, limit } });
      if (r.isError) {
        const text = (r.content as { text?: string }[])[0]?.text ?? 'search failed';
        throw new StratumError('failure', `kogral search: ${text}`);
      }
      const hits = ((r.structuredContent as { hits?: KnowledgeHit[] } | undefined)?.hits ?? []).slice(0, limit);
      return hits.map((h) => ({ id: h.id, title: h.title, type: h.type, snippet: h.snippet ?? '' }));
    } finally {
      await client.close().catch(() => {});
    }
  };
}
