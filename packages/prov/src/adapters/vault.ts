import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StratumError, usageError } from '@stratumiops/shared/errors';
import type { SvaultClient } from '@stratumiops/svault/client/index';
import type { IssuedCert } from '../core/certs.js';
import { writeAtomic } from '../core/workspace.js';

/** What `prov vault init` records for the workspace (never a token: that stays in SVAULT_TOKEN). */
export interface VaultSettings {
  addr: string;
  /** KV v2 mount for `prov vault store|read` paths that name none. */
  mount: string;
  /** PKI mount for certificates. */
  pki: string;
  /** PKI role prov cert issues from when given none. */
  role?: string;
}

const settingsFile = (cwd: string) => join(cwd, '.prov', 'vault.json');

export function readVaultSettings(cwd = process.cwd()): Partial<VaultSettings> {
  const f = settingsFile(cwd);
  if (!existsSync(f)) return {};
  try {
    return JSON.parse(readFileSync(f, 'utf8')) as Partial<VaultSettings>;
  } catch (e) {
    throw new StratumError('validation', `${f} is not JSON: ${(e as Error).message}`, {
      hint: 'run prov vault init again',
    });
  }
}

export function writeVaultSettings(s: VaultSettings, cwd = process.cwd()) {
  writeAtomic(settingsFile(cwd), `${JSON.stringify(s, null, 2)}\n`);
}

/** svault's typed client: --addr, else SVAULT_ADDR, else the address prov vault init recorded; SVAULT_TOKEN. */
export async function vaultClient(addr?: string, env: NodeJS.ProcessEnv = process.env): Promise<SvaultClient> {
  const { SvaultClient, DEFAULT_ADDR } = await import('@stratumiops/svault/client/index');
  const token = env.SVAULT_TOKEN;
  if (!token)
    throw new StratumError('denied', 'no svault token', {
      hint: 'export SVAULT_TOKEN (svault login or the token your operator gave you)',
    });
  return new SvaultClient({ addr: addr ?? env.SVAULT_ADDR ?? readVaultSettings().addr ?? DEFAULT_ADDR, token });
}

/** `secret/myapp/db` → mount `secret`, path `myapp/db`. */
export function splitSecretPath(p: string): { mount: string; path: string } {
  const parts = p.split('/').filter(Boolean);
  if (parts.length < 2 || parts.some((x) => x === '.' || x === '..'))
    throw usageError(`not a secret path: ${JSON.stringify(p)}`, { hint: 'give the mount and the path: secret/myapp' });
  return { mount: parts[0] as string, path: parts.slice(1).join('/') };
}

/** Issues a certificate from a PKI role (the key is made by svault and only ever held in memory here). */
export async function issueCert(
  client: SvaultClient,
  pki: string,
  role: string,
  commonName: string,
  opts: { ttl?: string; altNames?: string[]; ipSans?: string[] } = {},
): Promise<IssuedCert> {
  const r = await client.write(`${pki}/issue/${role}`, {
    common_name: commonName,
    ...(opts.ttl ? { ttl: opts.ttl } : {}),
    ...(opts.altNames?.length ? { alt_names: opts.altNames.join(',') } : {}),
    ...(opts.ipSans?.length ? { ip_sans: opts.ipSans.join(',') } : {}),
  });
  const d = (r?.data ?? {}) as Record<string, unknown>;
  if (typeof d.certificate !== 'string' || typeof d.private_key !== 'string')
    throw new StratumError('failure', `svault answered ${pki}/issue/${role} without a certificate and key`);
  return {
    certificate: d.certificate,
    privateKey: d.private_key,
    issuingCa: String(d.issuing_ca ?? ''),
    serial: String(d.serial_number ?? ''),
    notAfter: new Date(Number(d.expiration ?? 0) * 1000).toISOString(),
    keyType: String(d.private_key_type ?? ''),
  };
}
