import type { PolicyStore } from '../acl.js';
import type { AuditBroker } from '../audit.js';
import { invalid, VaultError } from '../errors.js';
import { fBool, fDuration, fMap, fString, fStringList } from '../fields.js';
import type { LeaseEntry, LeaseManager } from '../leases.js';
import type { Backend, Caller, HandlerResult, MountEntry, PathDef, RoutedRequest } from '../logical.js';

/** What the system backend needs from the core; keeps this file free of core internals. */
export interface SystemOps {
  mounts(): MountEntry[];
  enableMount(
    path: string,
    type: string,
    description: string,
    options: Record<string, string>,
    config: MountConfigIn,
  ): Promise<void>;
  disableMount(path: string): Promise<void>;
  rotate(): Promise<{ term: number; installed: string }>;
  keyStatus(): { term: number; install_time: string; terms: number };
  leases(): LeaseManager;
  policies(): PolicyStore;
  audit(): AuditBroker;
  capabilities(
    who: { caller?: Caller; token?: string; accessor?: string },
    paths: string[],
  ): Promise<Record<string, string[]>>;
}

export interface MountConfigIn {
  default_lease_ttl?: number;
  max_lease_ttl?: number;
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

  constructor(ops: SystemOps) {
    const enable = async (
      r: { params: Record<string, string> },
      f: Record<string, unknown>,
    ): Promise<HandlerResult> => {
      const path = normalizeMountPath(r.params.path as string);
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
      const dur = fDuration();
      const parsedConfig: MountConfigIn = {};
      for (const k of ['default_lease_ttl', 'max_lease_ttl'] as const) {
        if (config[k] === undefined) continue;
        const p = dur.safeParse(config[k]);
        if (!p.success) throw invalid(`error converting input for field "config.${k}": expected a duration`);
        parsedConfig[k] = p.data;
      }
      await ops.enableMount(path, type, (f.description as string | undefined) ?? '', options, parsedConfig);
      return undefined;
    };
    this.paths = [
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
        summary: "The keyring's active term",
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
      ...auditPaths(ops),
    ];
  }
}

/** `sys/policies/acl/*` (current API) and `sys/policy/*` (legacy), over Cedar documents. */
function policyPaths(ops: SystemOps): PathDef[] {
  const list = async (): Promise<HandlerResult> => ({ data: { keys: ops.policies().names() } });
  const read = (rulesKey: 'policy' | 'rules') => async (r: RoutedRequest) => {
    const p = ops.policies().read(r.params.name as string);
    return p ? { data: { name: p.name, [rulesKey]: p.policy } } : null;
  };
  const write = async (r: RoutedRequest, f: Record<string, unknown>): Promise<HandlerResult> => {
    const text = (f.policy ?? f.rules) as string | undefined;
    if (text === undefined || text.trim() === '') throw invalid("'policy' parameter not supplied or empty");
    await ops.policies().write(r.params.name as string, text);
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
      summary: 'List the Cedar policies',
      operations: { list, read: list },
    },
    {
      pattern: /^policies\/acl\/(?<name>[^/]+)$/,
      summary: 'Read, write or delete a Cedar policy',
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
