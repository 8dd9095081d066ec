import { StratumError } from '@stratumiops/shared/errors';

/**
 * Resolves a secret reference, for the tools that keep references in their config instead of secrets (prov's
 * sudo and provider credentials, kogral's sync password): `env://VAR`, or `svault://<mount>/data/<path>#field` (also `svault://<mount>/<path>#field`)
 * through svault's typed client (SVAULT_ADDR, SVAULT_TOKEN). Values are only ever held in memory.
 */
export async function resolveSecret(ref: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (ref.startsWith('env://')) {
    const v = env[ref.slice(6)];
    if (v === undefined) throw new StratumError('notFound', `secret ${ref}: variable not set`);
    return v;
  }
  const [mount, path, field] = parseSvaultRef(ref);
  // The client, loaded only when a secret is referenced (keeps the callers' start-up lean).
  const { SvaultClient } = await import('./index.js');
  const client = new SvaultClient({
    addr: env.SVAULT_ADDR ?? 'http://127.0.0.1:8200',
    ...(env.SVAULT_TOKEN ? { token: env.SVAULT_TOKEN } : {}),
  });
  const r = await client.kvGet(mount, path);
  const v = r.data?.data?.[field];
  if (v === undefined || v === null)
    throw new StratumError('notFound', `secret ${mount}/${path} has no field ${field}`);
  return String(v);
}

/** `svault://<mount>/[data/]<path>#<field>` as [mount, path, field]; a usage error (naming no field value) otherwise. */
export function parseSvaultRef(ref: string): [string, string, string] {
  const m = /^svault:\/\/([^/]+)\/(?:data\/)?([^#]+)#(.+)$/.exec(ref);
  if (!m)
    throw new StratumError('usage', `not a secret reference: ${ref.replace(/#.*/, '#...')}`, {
      hint: 'use svault://secret/data/<path>#<field> or env://VAR',
    });
  return [m[1], m[2], m[3]] as [string, string, string];
}
