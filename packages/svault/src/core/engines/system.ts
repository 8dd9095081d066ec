import * as z from '@stratumiops/shared/zod';
import type { PolicyStore } from '../acl.js';
import type { AuditBroker } from '../audit.js';
import { denied, invalid, VaultError } from '../errors.js';
import { fBool, fDuration, fMap, fString, fStringList } from '../fields.js';
import type { LeaseEntry, LeaseManager } from '../leases.js';
import type { Backend, Caller, HandlerResult, MountEntry, PathDef, RoutedRequest } from '../logical.js';
import type { ResponseWrapper } from '../wrapping.js';

/** What the system backend needs from the core; keeps this file free of core internals. */
export interface SystemOps {
  /** Secrets engines (and sys/). */
  mounts(): MountEntry[];
  /** Auth methods, paths starting with 'auth/' (the built-in token method too). */
  authMounts(): MountEntry[];
  enableAuth(
    path: string,
    type: string,
    description: string,
    options: Record<string, string>,
    config: MountConfigIn,
  ): Promise<void>;
  disableAuth(path: string): Promise<void>;
  enableMount(
    path: string,
    type: string,
    description: string,
    options: Record<string, string>,
    config: MountConfigIn,
  ): Promise<void>;
  disableMount(path: string): Promise<void>;
  tuneMount(path: string, tune: MountTune): Promise<void>;
  /** Moves a mount (its data goes with it, its leases are revoked); returns the migration id. */
  remount(from: string, to: string): Promise<string>;
  remountStatus(id: string): { source_mount: string; target_mount: string; status: string } | undefined;
  /** Whether the caller may do anything on the mount at `path` or below it (Vault's hasMountAccess). */
  mountAccess(caller: Caller, path: string): boolean;
  rotate(): Promise<{ term: number; installed: string }>;
  keyStatus(): { term: number; install_time: string; terms: number; keyring_wrap: string };
  leases(): LeaseManager;
  policies(): PolicyStore;
  wrapping(): ResponseWrapper;
  audit(): AuditBroker;
  capabilities(
    who: { caller?: Caller; token?: string; accessor?: string },
    paths: string[],
  ): Promise<Record<string, string[]>>;
}

export interface MountConfigIn {
  default_lease_ttl?: number;
  max_lease_ttl?: number;
  listing_visibility?: string;
}

/** What `sys/mounts/<path>/tune` may change; absent fields stay as they are. */
export interface MountTune {
  default_lease_ttl?: number;
  max_lease_ttl?: number;
  description?: string;
  listing_visibility?: string;
  options?: Record<string, string>;
}

/** Vault's system default and max lease TTL (768h): what a mount's 0 means. */
export const SYSTEM_DEFAULT_TTL = 768 * 3600;

/** A TTL as tune and enable take it: seconds, a duration, or "system" (back to the system value: 0). */
const fTtl = () => z.union([z.literal('system').transform(() => 0), fDuration()]).describe('a duration, or "system"');

const LISTING_VISIBILITY = ['', 'unauth', 'hidden'];

/** Checks a pair of lease TTLs as Vault's enable and tune do (0: the system's). */
export function checkLeaseTtls(def: number, max: number): void {
  if (def > 0 && max > 0 && max < def) {
    throw invalid(`backend max lease TTL of ${max} would be less than backend default lease TTL of ${def}`);
  }
  if (def > SYSTEM_DEFAULT_TTL && max === 0) {
    throw invalid(`given default lease TTL greater than system max lease TTL of ${SYSTEM_DEFAULT_TTL}`);
  }
}

function mountView(m: MountEntry) {
  return {
    accessor: m.accessor,
    config: m.config,
    description: m.description,
    external_entropy_access: m.external_entropy_access,
    local: m.local,
    options: m.options,
    plugin_version: '',
    running_plugin_version: `v0.1.0+builtin.svault`,
    seal_wrap: m.seal_wrap,
    type: m.type,
    uuid: m.uuid,
  };
}

/** `sys/`: mounts, keyring rotation. Seal, unseal, init and health are served by the transport. */
export class SystemBackend implements Backend {
  readonly type = 'system';
  readonly paths: PathDef[];
  /** As in Vault: the UI mount listings answer without a token (showing only "unauth" mounts). */
  // The wrapping token is its own credential: lookup needs no token, unwrap takes it as the token.
  readonly unauthenticated = [/^internal\/ui\/mounts(?:\/.*)?$/, /^wrapping\/lookup$/, /^wrapping\/unwrap$/];

  constructor(ops: SystemOps) {
    const enable = async (
      r: { params: Record<string, string> },
      f: Record<string, unknown>,
      auth = false,
    ): Promise<HandlerResult> => {
      const path = (auth ? 'auth/' : '') + normalizeMountPath(r.params.path as string);
      let type = f.type as string | undefined;
      if (!type) throw invalid('missing type');
      const options: Record<string, string> = {};
      for (const [k, v] of Object.entries((f.options as Record<string, unknown> | undefined) ?? {}))
        options[k] = String(v);
      if (type === 'kv-v2') {
        type = 'kv';
        options.version = '2';
      }
      const config = (f.config as Record<string, unknown> | undefined) ?? {};
      const dur = fTtl();
      const parsedConfig: MountConfigIn = {};
      for (const k of ['default_lease_ttl', 'max_lease_ttl'] as const) {
        if (config[k] === undefined) continue;
        const p = dur.safeParse(config[k]);
        if (!p.success) throw invalid(`error converting input for field "config.${k}": expected a duration`);
        parsedConfig[k] = p.data;
      }
      checkLeaseTtls(parsedConfig.default_lease_ttl ?? 0, parsedConfig.max_lease_ttl ?? 0);
      if (config.listing_visibility !== undefined) {
        parsedConfig.listing_visibility = listingVisibility(config.listing_visibility);
      }
      const description = (f.description as string | undefined) ?? '';
      if (auth) await ops.enableAuth(path, type, description, options, parsedConfig);
      else await ops.enableMount(path, type, description, options, parsedConfig);
      return undefined;
    };
    const all = () => [...ops.mounts(), ...ops.authMounts()];
    const tuneRead =
      (prefix: string) =>
      async (r: RoutedRequest): Promise<HandlerResult> => {
        const path = prefix + normalizeMountPath(r.params.path as string);
        const m = all().find((x) => x.path === path);
        if (!m) throw invalid(`cannot fetch mount entry for path "${path}"`);
        return { data: tuneView(m) };
      };
    const tuneWrite =
      (prefix: string) =>
      async (r: RoutedRequest, f: Record<string, unknown>): Promise<HandlerResult> => {
        const path = prefix + normalizeMountPath(r.params.path as string);
        const tune: MountTune = {};
        if (f.default_lease_ttl !== undefined) tune.default_lease_ttl = f.default_lease_ttl as number;
        if (f.max_lease_ttl !== undefined) tune.max_lease_ttl = f.max_lease_ttl as number;
        if (f.description !== undefined) tune.description = f.description as string;
        if (f.listing_visibility !== undefined) tune.listing_visibility = listingVisibility(f.listing_visibility);
        if (f.options !== undefined) tune.options = stringOptions(f.options as Record<string, unknown>);
        await ops.tuneMount(path, tune);
        return undefined;
      };
    const tuneFields = {
      default_lease_ttl: fTtl(),
      max_lease_ttl: fTtl(),
      description: fString(),
      listing_visibility: fString(),
      options: fMap(),
    };
    this.paths = [
      {
        pattern: /^mounts\/(?<path>.+?)\/tune$/,
        summary: "Read or tune a secrets engine's lease TTLs, description and listing visibility",
        fields: tuneFields,
        operations: { read: tuneRead(''), update: tuneWrite(''), create: tuneWrite('') },
      },
      {
        pattern: /^auth\/?$/,
        summary: 'List the enabled auth methods',
        operations: {
          read: async () => ({
            data: Object.fromEntries(ops.authMounts().map((m) => [m.path.slice('auth/'.length), authView(m)])),
          }),
        },
      },
      {
        pattern: /^auth\/(?<path>.+?)\/tune$/,
        summary: "Read or tune an auth method's token TTLs, description and listing visibility",
        sudo: true,
        fields: tuneFields,
        operations: { read: tuneRead('auth/'), update: tuneWrite('auth/'), create: tuneWrite('auth/') },
      },
      {
        pattern: /^auth\/(?<path>.+)$/,
        summary: 'Enable, read or disable an auth method (userpass, approle)',
        sudo: true,
        fields: { type: fString(), description: fString(), options: fMap(), config: fMap(), local: fBool() },
        operations: {
          read: async (r) => {
            const path = `auth/${normalizeMountPath(r.params.path as string)}`;
            const m = ops.authMounts().find((x) => x.path === path);
            return m ? { data: authView(m) } : null;
          },
          create: (r, f) => enable(r, f, true),
          update: (r, f) => enable(r, f, true),
          delete: async (r) => {
            await ops.disableAuth(`auth/${normalizeMountPath(r.params.path as string)}`);
            return undefined;
          },
        },
      },
      {
        pattern: /^remount$/,
        summary: 'Move a secrets engine or auth method to another path (its leases are revoked)',
        sudo: true,
        fields: { from: fString(), to: fString() },
        operations: {
          update: async (_r, f) => {
            const from = f.from as string | undefined;
            const to = f.to as string | undefined;
            if (!from || !to) throw invalid("both 'from' and 'to' path must be specified as a string");
            const id = await ops.remount(from, to);
            return {
              data: { migration_id: id },
              warnings: [
                'Mount move has been queued. Progress will be reported in the server log, tagged with the returned migration_id',
              ],
            };
          },
        },
      },
      {
        pattern: /^remount\/status\/(?<id>[^/]+)$/,
        summary: 'The status of a mount move',
        operations: {
          read: async (r) => {
            const info = ops.remountStatus(r.params.id as string);
            return info ? { data: { migration_id: r.params.id, migration_info: info } } : null;
          },
        },
      },
      {
        pattern: /^internal\/ui\/mounts\/?$/,
        summary: 'The mounts a token may use (all mount details), or those listed as "unauth" (without a token)',
        operations: {
          read: async (r) => {
            const authed = r.caller.tokenHash !== '';
            const secret: Record<string, unknown> = {};
            const auth: Record<string, unknown> = {};
            for (const m of all()) {
              const isAuth = m.path.startsWith('auth/');
              const full = m.path;
              const visible = m.config.listing_visibility === 'unauth' || (authed && ops.mountAccess(r.caller, full));
              if (!visible) continue;
              const view = authed ? mountView(m) : { type: m.type, description: m.description, options: m.options };
              if (isAuth) auth[m.path.slice('auth/'.length)] = view;
              else secret[m.path] = view;
            }
            return { data: { secret, auth } };
          },
        },
      },
      {
        pattern: /^internal\/ui\/mounts\/(?<path>.+)$/,
        summary: 'The mount serving a path, if the token may use it (the vault CLI finds KV versions here)',
        operations: {
          read: async (r) => {
            const path = (r.params.path as string).replace(/^\/+/, '');
            const denied = new VaultError(
              'denied',
              `preflight capability check returned 403, please ensure client's policies grant access to path "${path}"`,
            );
            // No mount and no access look the same: this path cannot be used to probe for mounts.
            if (r.caller.tokenHash === '') throw denied;
            const m = all()
              .sort((a, b) => b.path.length - a.path.length)
              .find((x) => `${path}/`.startsWith(x.path));
            if (!m || !ops.mountAccess(r.caller, m.path)) throw denied;
            return { data: { ...mountView(m), path: m.path } };
          },
        },
      },
      {
        pattern: /^mounts\/?$/,
        summary: 'List the mounted secrets engines',
        operations: {
          read: async () => ({ data: Object.fromEntries(ops.mounts().map((m) => [m.path, mountView(m)])) }),
        },
      },
      {
        pattern: /^mounts\/(?<path>.+)$/,
        summary: 'Enable, read or disable a secrets engine',
        fields: { type: fString(), description: fString(), options: fMap(), config: fMap() },
        operations: {
          read: async (r) => {
            const path = normalizeMountPath(r.params.path as string);
            const m = ops.mounts().find((x) => x.path === path);
            return m ? { data: mountView(m) } : null;
          },
          create: enable,
          update: enable,
          delete: async (r) => {
            await ops.disableMount(normalizeMountPath(r.params.path as string));
            return undefined;
          },
        },
      },
      {
        pattern: /^key-status$/,
        summary: "The keyring's active term and how the keyring is wrapped (keyring_wrap)",
        operations: { read: async () => ({ data: ops.keyStatus() }) },
      },
      {
        pattern: /^rotate$/,
        summary: 'Add a keyring term used for new writes; old entries stay readable',
        sudo: true,
        operations: {
          update: async () => {
            await ops.rotate();
            return undefined;
          },
        },
      },
      ...leasePaths(ops),
      ...policyPaths(ops),
      ...wrappingPaths(ops),
      ...auditPaths(ops),
    ];
  }
}

/** `sys/wrapping/*`: wrap data, and look up, unwrap or rewrap a wrapping token. */
function wrappingPaths(ops: SystemOps): PathDef[] {
  const fields = { token: fString() };
  const tokenOf = (r: RoutedRequest, f: Record<string, unknown>, ownTokenForBody = false) => {
    const given = typeof f.token === 'string' && f.token !== '' ? f.token : undefined;
    // Unwrapping a wrapping token passed in the body takes a valid token of one's own, as in Vault.
    if (given && ownTokenForBody && !r.caller.tokenHash) throw denied();
    return given ?? r.token ?? '';
  };
  const wrap = async (r: RoutedRequest): Promise<HandlerResult> => {
    if (!r.wrapTtl) throw invalid('must specify a wrapping TTL via the X-Vault-Wrap-TTL header');
    if (Object.keys(r.data).length === 0) throw invalid('empty wrapping data');
    return { data: { ...r.data } };
  };
  const unwrap = async (r: RoutedRequest, f: Record<string, unknown>): Promise<HandlerResult> =>
    ops.wrapping().unwrap(tokenOf(r, f, true));
  const lookup = async (r: RoutedRequest, f: Record<string, unknown>): Promise<HandlerResult> => ({
    data: await ops.wrapping().lookup(tokenOf(r, f)),
  });
  const rewrap = async (r: RoutedRequest, f: Record<string, unknown>): Promise<HandlerResult> => ({
    wrapInfo: await ops.wrapping().rewrap(tokenOf(r, f)),
  });
  return [
    {
      pattern: /^wrapping\/wrap$/,
      summary: 'Wrap the request body in a wrapping token (needs X-Vault-Wrap-TTL)',
      operations: { update: wrap, create: wrap },
    },
    {
      pattern: /^wrapping\/unwrap$/,
      summary: 'Return a wrapped response once (the wrapping token in the body or as the token)',
      fields,
      operations: { update: unwrap, create: unwrap },
    },
    {
      pattern: /^wrapping\/lookup$/,
      summary: "A wrapping token's creation path, time and TTL (no token needed)",
      fields,
      operations: { update: lookup, create: lookup, read: lookup },
    },
    {
      pattern: /^wrapping\/rewrap$/,
      summary: 'Move a wrapped response to a new wrapping token with the same TTL',
      fields,
      operations: { update: rewrap, create: rewrap },
    },
  ];
}

/** As Vault, a policy may come base64-encoded (no escaping needed); anything else is taken as is. */
function decodeIfBase64(text: string): string {
  const t = text.trim();
  if (t.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(t)) return text;
  const decoded = Buffer.from(t, 'base64').toString('utf8');
  return decoded.includes('\uFFFD') ? text : decoded;
}

/** `sys/policies/acl/*` (current API) and `sys/policy/*` (legacy): Cedar, or Vault's HCL or JSON. */
function policyPaths(ops: SystemOps): PathDef[] {
  const list = async (): Promise<HandlerResult> => ({ data: { keys: ops.policies().names() } });
  const read = (rulesKey: 'policy' | 'rules') => async (r: RoutedRequest) => {
    const p = ops.policies().read(r.params.name as string);
    return p ? { data: { name: p.name, [rulesKey]: p.policy } } : null;
  };
  const write = async (r: RoutedRequest, f: Record<string, unknown>): Promise<HandlerResult> => {
    const given = (f.policy ?? f.rules) as string | undefined;
    if (given === undefined || given.trim() === '') throw invalid("'policy' parameter not supplied or empty");
    await ops.policies().write(r.params.name as string, decodeIfBase64(given));
    return undefined;
  };
  const del = async (r: RoutedRequest): Promise<HandlerResult> => {
    await ops.policies().delete(r.params.name as string);
    return undefined;
  };
  const fields = { policy: fString(), rules: fString() };
  const capFields = { path: fString(), paths: fStringList(), token: fString(), accessor: fString() };
  const capabilities =
    (kind: 'self' | 'token' | 'accessor') =>
    async (r: RoutedRequest, f: Record<string, unknown>): Promise<HandlerResult> => {
      const paths = (f.paths as string[] | undefined) ?? (f.path ? [f.path as string] : []);
      if (paths.length === 0) throw invalid('missing paths');
      const who =
        kind === 'self'
          ? { caller: r.caller }
          : kind === 'token'
            ? { token: requiredString(f.token, 'token') }
            : { accessor: requiredString(f.accessor, 'accessor') };
      const caps = await ops.capabilities(who, paths);
      const data: Record<string, unknown> = { ...caps };
      if (paths.length === 1) data.capabilities = caps[paths[0] as string];
      return { data };
    };
  return [
    {
      pattern: /^policies\/acl\/?$/,
      summary: 'List the policies',
      operations: { list, read: list },
    },
    {
      pattern: /^policies\/acl\/(?<name>[^/]+)$/,
      summary: 'Read, write or delete a policy (Cedar, or Vault HCL/JSON)',
      fields,
      operations: { read: read('policy'), update: write, create: write, delete: del },
    },
    {
      pattern: /^policy\/?$/,
      summary: 'List the policies (legacy API)',
      operations: {
        read: async () => ({ data: { keys: ops.policies().names(), policies: ops.policies().names() } }),
        list,
      },
    },
    {
      pattern: /^policy\/(?<name>[^/]+)$/,
      summary: 'Read, write or delete a policy (legacy API)',
      fields,
      operations: { read: read('rules'), update: write, create: write, delete: del },
    },
    {
      pattern: /^capabilities-self$/,
      summary: 'What the token in use may do on paths',
      fields: capFields,
      operations: { update: capabilities('self'), create: capabilities('self') },
    },
    {
      pattern: /^capabilities$/,
      summary: 'What a token may do on paths',
      fields: capFields,
      operations: { update: capabilities('token'), create: capabilities('token') },
    },
    {
      pattern: /^capabilities-accessor$/,
      summary: 'What the token with an accessor may do on paths',
      fields: capFields,
      operations: { update: capabilities('accessor'), create: capabilities('accessor') },
    },
  ];
}

/** `sys/audit` (list), `sys/audit/:path` (enable, disable), `sys/audit-hash/:path`; all need sudo. */
function auditPaths(ops: SystemOps): PathDef[] {
  const enable = async (r: RoutedRequest, f: Record<string, unknown>): Promise<HandlerResult> => {
    const type = f.type as string | undefined;
    if (!type) throw invalid('missing audit type');
    const options: Record<string, string> = {};
    for (const [k, v] of Object.entries((f.options as Record<string, unknown> | undefined) ?? {})) {
      options[k] = String(v);
    }
    await ops.audit().enable(r.params.path as string, type, (f.description as string | undefined) ?? '', options);
    return undefined;
  };
  return [
    {
      pattern: /^audit\/?$/,
      summary: 'List the enabled audit devices',
      sudo: true,
      operations: { read: async () => ({ data: ops.audit().list() }) },
    },
    {
      pattern: /^audit\/(?<path>[^/]+)\/?$/,
      summary: 'Enable or disable an audit device',
      sudo: true,
      fields: { type: fString(), description: fString(), options: fMap(), local: fBool() },
      operations: {
        update: enable,
        create: enable,
        delete: async (r) => {
          await ops.audit().disable(r.params.path as string);
          return undefined;
        },
      },
    },
    {
      pattern: /^audit-hash\/(?<path>[^/]+)\/?$/,
      summary: "A value's HMAC as an audit device writes it",
      sudo: true,
      fields: { input: fString() },
      operations: {
        update: async (r, f) => ({
          data: { hash: ops.audit().hash(r.params.path as string, requiredString(f.input, 'input')) },
        }),
      },
    },
  ];
}

function authView(m: MountEntry) {
  const v = mountView(m);
  return { ...v, config: { ...v.config, token_type: 'default-service' } };
}

function tuneView(m: MountEntry) {
  return {
    description: m.description,
    default_lease_ttl: m.config.default_lease_ttl || SYSTEM_DEFAULT_TTL,
    max_lease_ttl: m.config.max_lease_ttl || SYSTEM_DEFAULT_TTL,
    force_no_cache: m.config.force_no_cache,
    ...(m.config.listing_visibility ? { listing_visibility: m.config.listing_visibility } : {}),
    ...(m.options && Object.keys(m.options).length > 0 ? { options: m.options } : {}),
    ...(m.path.startsWith('auth/') ? { token_type: 'default-service' } : {}),
  };
}

function listingVisibility(v: unknown): string {
  if (typeof v !== 'string' || !LISTING_VISIBILITY.includes(v)) {
    throw invalid(`invalid listing_visibility ${JSON.stringify(v)}: use "unauth" or "hidden"`);
  }
  return v;
}

function stringOptions(o: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) {
    if (typeof v === 'object' && v !== null)
      throw invalid(`error converting input for field "options.${k}": expected a string`);
    out[k] = String(v);
  }
  return out;
}

function requiredString(v: unknown, name: string): string {
  if (typeof v !== 'string' || v === '') throw invalid(`missing ${name}`);
  return v;
}

export function normalizeMountPath(p: string): string {
  const path = p.endsWith('/') ? p : `${p}/`;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*\/$/.test(path)) {
    throw new VaultError('invalid', `invalid mount path "${p}"`);
  }
  return path;
}

/** Vault's lookup answer for a lease. */
function leaseView(e: LeaseEntry) {
  const ttl = Math.max(0, Math.round((Date.parse(e.expire_time) - Date.now()) / 1000));
  return {
    id: e.lease_id,
    issue_time: e.issue_time,
    expire_time: e.expire_time,
    last_renewal: e.last_renewal_time,
    renewable: e.renewable,
    ttl,
    ...(e.revoke_attempts ? { revoke_attempts: e.revoke_attempts, revoke_error: e.revoke_error ?? '' } : {}),
  };
}

/**
 * `sys/leases/*` and the legacy `sys/renew`, `sys/revoke`, `sys/revoke-prefix`. A lease id comes
 * in the body (`lease_id`) or in the path, as Vault accepts both.
 */
function leasePaths(ops: SystemOps): PathDef[] {
  const idOf = (r: RoutedRequest, f: Record<string, unknown>) => {
    const id = (r.params.id || (f.lease_id as string | undefined) || '').replace(/^\/+/, '');
    if (!id) throw invalid('missing lease ID');
    return id;
  };
  const renewed = (l: { id: string; duration: number; renewable: boolean }): HandlerResult => ({
    data: null,
    lease: l,
  });
  const renew = async (r: RoutedRequest, f: Record<string, unknown>) =>
    renewed(await ops.leases().renew(idOf(r, f), (f.increment as number | undefined) ?? 0));
  const revoke = async (r: RoutedRequest, f: Record<string, unknown>): Promise<HandlerResult> => {
    await ops.leases().revoke(idOf(r, f));
    return undefined;
  };
  const revokePrefix =
    (force: boolean) =>
    async (r: RoutedRequest): Promise<HandlerResult> => {
      const prefix = r.params.prefix ?? '';
      if (!prefix) throw invalid('missing prefix');
      await ops.leases().revokePrefix(prefix, force);
      return undefined;
    };
  const idFields = { lease_id: fString(), increment: fDuration(), sync: fBool() };
  return [
    {
      pattern: /^leases\/lookup\/?$/,
      summary: 'Look up a lease by id',
      fields: idFields,
      operations: {
        update: async (r, f) => ({ data: leaseView(ops.leases().lookup(idOf(r, f))) }),
        list: async () => {
          const keys = ops.leases().list('');
          return keys.length ? { data: { keys } } : null;
        },
      },
    },
    {
      pattern: /^leases\/lookup\/(?<prefix>.+)$/,
      summary: 'List lease ids under a prefix',
      sudo: true,
      operations: {
        list: async (r) => {
          const keys = ops.leases().list(r.params.prefix as string);
          return keys.length ? { data: { keys } } : null;
        },
      },
    },
    {
      pattern: /^(?:leases\/)?renew(?:\/(?<id>.+))?$/,
      summary: 'Renew a lease (increment: seconds or a duration; never past its max TTL)',
      fields: idFields,
      operations: { update: renew },
    },
    {
      pattern: /^(?:leases\/)?revoke(?:\/(?<id>.+))?$/,
      summary: 'Revoke a lease now',
      fields: idFields,
      operations: { update: revoke },
    },
    {
      pattern: /^(?:leases\/)?revoke-prefix\/(?<prefix>.+)$/,
      summary: 'Revoke every lease under a prefix',
      sudo: true,
      fields: { sync: fBool() },
      operations: { update: revokePrefix(false) },
    },
    {
      pattern: /^(?:leases\/)?revoke-force\/(?<prefix>.+)$/,
      summary: 'Revoke every lease under a prefix, dropping those the engine fails to revoke',
      sudo: true,
      operations: { update: revokePrefix(true) },
    },
  ];
}
