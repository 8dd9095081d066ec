import { readFileSync } from 'node:fs';
import type { Command } from '@oclif/core/command';
import { StratumCommand } from '@stratumiops/shared/cli/command';
import { usageError } from '@stratumiops/shared/errors';
import { readStdinSync, renderTable } from '@stratumiops/shared/output';
import { type ClientTls, SvaultClient, type VaultResponse } from '../client/index.js';
import { formatDuration, setOwn } from '../core/fields.js';
import { type SvaultConfig, tool } from '../tool.js';
import { localDaemonSocket } from './local.js';

/**
 * Commands that talk to a vault with SVAULT_TOKEN: a server when SVAULT_ADDR (config `addr`) is
 * set, else the local daemon over its unix socket (local mode, a file-backed vault in the data dir).
 */
export abstract class ClientCommand<T extends typeof Command> extends StratumCommand<T> {
  static override tool = tool;
  /** Local mode: this command starts the daemon when it is not running (init and unseal do). */
  static startsDaemon = false;

  protected get cfg(): SvaultConfig {
    return this.settings.values as SvaultConfig;
  }

  protected get local(): boolean {
    return !this.cfg.addr;
  }

  protected client(): SvaultClient {
    const v = this.cfg;
    if (!this.local) return new SvaultClient({ addr: v.addr, token: v.token, tls: clientTls(v) });
    const start = (this.constructor as typeof ClientCommand).startsDaemon;
    return new SvaultClient({
      addr: 'http://localhost',
      token: v.token,
      socket: () => localDaemonSocket(v, start),
    });
  }

  /** Positional arguments after the first `skip` ones (oclif keeps only declared args). */
  protected rest(skip: number): string[] {
    return this.positionals.slice(skip);
  }

  protected table(rows: Record<string, unknown>, title?: string): void {
    if (title) this.log(`==== ${title} ====`);
    const list = Object.entries(rows).map(([key, value]) => ({ key, value }));
    if (list.length) this.log(renderTable(list, ['key', 'value']));
  }
}

/** TLS settings from the config (files read here; the client takes PEM contents). */
function clientTls(v: SvaultConfig): ClientTls | undefined {
  if (!v.cacert && !v.client_cert && !v.client_key && !v.skip_verify) return undefined;
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file);
    } catch (e) {
      throw usageError(`cannot read the ${what} ${file}: ${(e as Error).message}`);
    }
  };
  if (Boolean(v.client_cert) !== Boolean(v.client_key)) {
    throw usageError('a client certificate needs its key, and the other way round', {
      hint: 'set both SVAULT_CLIENT_CERT and SVAULT_CLIENT_KEY',
    });
  }
  return {
    ...(v.cacert ? { ca: read(v.cacert, 'CA certificate') } : {}),
    ...(v.client_cert ? { cert: read(v.client_cert, 'client certificate') } : {}),
    ...(v.client_key ? { key: read(v.client_key, 'client key') } : {}),
    ...(v.skip_verify ? { skipVerify: true } : {}),
  };
}

/** `secret/myapp` → mount `secret`, path `myapp` (the first segment is the mount, or --mount). */
export function splitMount(full: string, mount?: string): { mount: string; path: string } {
  const clean = full.replace(/^\/+|\/+$/g, '');
  if (mount) {
    const m = mount.replace(/^\/+|\/+$/g, '');
    const path = clean.startsWith(`${m}/`) ? clean.slice(m.length + 1) : clean;
    return { mount: m, path };
  }
  const i = clean.indexOf('/');
  if (i < 0) throw usageError(`'${full}' has no mount: expected <mount>/<path>, e.g. secret/myapp`);
  return { mount: clean.slice(0, i), path: clean.slice(i + 1) };
}

/**
 * KEY=VALUE pairs as Vault's CLI takes them: `KEY=@file` reads the value from a file,
 * a lone `-` reads a JSON object from stdin.
 */
export function parsePairs(pairs: string[], stdin: () => string = readStdinSync): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of pairs) {
    if (p === '-') {
      let obj: unknown;
      try {
        obj = JSON.parse(stdin());
      } catch (e) {
        throw usageError(`stdin is not valid JSON: ${(e as Error).message}`);
      }
      if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw usageError('stdin must hold a JSON object');
      for (const [k, v] of Object.entries(obj)) setOwn(out, k, v);
      continue;
    }
    const eq = p.indexOf('=');
    if (eq <= 0)
      throw usageError(`'${p}' is not KEY=VALUE`, { hint: 'write pairs as key=value, or - to read JSON from stdin' });
    const key = p.slice(0, eq);
    const val = p.slice(eq + 1);
    if (val.startsWith('@')) {
      try {
        out[key] = readFileSync(val.slice(1), 'utf8');
      } catch (e) {
        throw usageError(`cannot read ${val.slice(1)}: ${(e as Error).message}`);
      }
    } else out[key] = val;
  }
  return out;
}

export function parseVersions(text: string | undefined): number[] {
  if (!text) return [];
  const parts = text.split(',').map((s) => s.trim());
  if (!parts.every((s) => /^\d+$/.test(s))) throw usageError(`--versions must be a comma-separated list of numbers`);
  return parts.map(Number);
}

/** A response's rows as `vault read` prints them: the lease first (dynamic secrets), then the data. */
export function responseRows(r: VaultResponse | undefined): Record<string, unknown> {
  const rows: Record<string, unknown> = {};
  if (r?.lease_id) {
    rows.lease_id = r.lease_id;
    rows.lease_duration = formatDuration(r.lease_duration ?? 0);
    rows.lease_renewable = r.renewable ?? false;
  }
  // A login (`write auth/userpass/login/alice password=...`) answers with a token, as Vault's CLI shows it.
  const a = r?.auth as Record<string, unknown> | null | undefined;
  if (a) {
    rows.token = a.client_token;
    rows.token_accessor = a.accessor;
    rows.token_duration = a.lease_duration === 0 ? '∞' : formatDuration(Number(a.lease_duration ?? 0));
    rows.token_renewable = a.renewable;
    rows.token_policies = show(a.token_policies ?? a.policies);
    rows.policies = show(a.policies);
    for (const [k, v] of Object.entries((a.metadata as Record<string, unknown> | null) ?? {})) {
      rows[`token_meta_${k}`] = show(v);
    }
  }
  for (const [k, v] of Object.entries(r?.data ?? {})) rows[k] = show(v);
  return rows;
}

/** Human form of a value in a KEY/VALUE table. */
export const show = (v: unknown) =>
  v === null || v === undefined ? 'n/a' : typeof v === 'object' ? JSON.stringify(v) : v;
