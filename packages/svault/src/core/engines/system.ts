import { invalid, VaultError } from '../errors.js';
import { fDuration, fMap, fString } from '../fields.js';
import type { Backend, HandlerResult, MountEntry, PathDef } from '../logical.js';

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
        operations: {
          update: async () => {
            await ops.rotate();
            return undefined;
          },
        },
      },
    ];
  }
}

export function normalizeMountPath(p: string): string {
  const path = p.endsWith('/') ? p : `${p}/`;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*\/$/.test(path)) {
    throw new VaultError('invalid', `invalid mount path "${p}"`);
  }
  return path;
}
