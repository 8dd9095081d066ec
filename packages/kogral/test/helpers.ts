import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { binPath } from '../../../test/run-bin.js';
import { localFiles } from '../src/adapters/local-files.js';
import { SqliteIndex } from '../src/adapters/sqlite-index.js';
import { applyImport, planImport } from '../src/core/importers/plan.js';
import { Kogral } from '../src/core/kogral.js';
import type { NodeType } from '../src/core/model.js';
import { Store } from '../src/core/store.js';

/** The real corpora, read in place (never copied into the repo): ../shared/corpora from the repo root. */
export const corporaDir = join(import.meta.dirname, '..', '..', '..', '..', 'shared', 'corpora');

/**
 * Whether tests that need the corpora can run. Missing corpora skip those tests with a
 * message, except under CI, where they must be there.
 */
export function haveCorpora(): boolean {
  if (existsSync(join(corporaDir, 'SOURCES.json'))) return true;
  if (process.env.CI) throw new Error(`the corpora are missing at ${corporaDir} (required when CI is set)`);
  console.warn(`skipping corpus tests: ${corporaDir} is missing (see ../shared/corpora/SOURCES.json)`);
  return false;
}

export const CORPORA: { dir: string; from: 'markdown' | 'adr' | 'logseq'; type?: NodeType }[] = [
  { dir: 'dfds-postmortems', from: 'markdown', type: 'execution' },
  { dir: 'prometheus-operator-runbooks', from: 'markdown', type: 'note' },
  { dir: 'madr', from: 'adr' },
  { dir: 'log4brains-adr', from: 'adr' },
  { dir: 'opendatahub-adr', from: 'adr' },
  { dir: 'logseq-docs', from: 'logseq' },
];

export function tempGraph(): { root: string; dir: string; kg: Kogral; store: Store } {
  const root = mkdtempSync(join(tmpdir(), 'kogral-test-'));
  const dir = join(root, '.kogral');
  mkdirSync(dir, { recursive: true });
  const store = new Store(dir, { files: localFiles });
  return { root, dir, store, kg: new Kogral(store) };
}

/** Every corpus imported into one graph (what the search-quality and round-trip tests use). */
export async function corpusGraph(): Promise<ReturnType<typeof tempGraph> & { index: SqliteIndex }> {
  const g = tempGraph();
  for (const c of CORPORA) {
    const plan = planImport(g.kg, join(corporaDir, c.dir), { from: c.from, ...(c.type ? { type: c.type } : {}) });
    await applyImport(g.kg, plan);
  }
  const index = new SqliteIndex(g.store);
  index.refresh();
  return { ...g, index };
}

/** The official SDK client talking to `kogral serve` over stdio in `cwd`, as an assistant would. */
export async function mcpClient(
  cwd: string,
  env: NodeJS.ProcessEnv,
  onStderr?: (text: string) => void,
): Promise<Client> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [binPath('kogral'), 'serve'],
    cwd,
    env: env as Record<string, string>,
    stderr: 'pipe',
  });
  if (onStderr) transport.stderr?.on('data', (d: Buffer) => onStderr(d.toString()));
  const client = new Client({ name: 'kogral-test', version: '1.0.0' });
  await client.connect(transport);
  return client;
}
