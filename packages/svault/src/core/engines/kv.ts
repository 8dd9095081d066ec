import { createHash } from 'node:crypto';
import type { LogicalOp, LogicalStore } from '../barrier.js';
import { invalid, VaultError } from '../errors.js';
import { fBool, fDuration, fInt, fIntList, fMap, formatDuration, fStringMap, setOwn } from '../fields.js';
import type { Backend, BackendFactory, HandlerResult, MountEntry, PathDef, RoutedRequest } from '../logical.js';
import { KeyedMutex } from '../storage.js';
import { VersionedCache } from '../versioned-cache.js';

/**
 * KV version 2, as Vault's: `data/`, `metadata/`, `delete/`, `undelete/`, `destroy/`, `config`.
 * Layout in the mount's barrier view:
 *   config                      mount settings
 *   metadata/<path>             versions, timestamps, max_versions, CAS, custom metadata
 *   versions/<sha256(path)>/<n> one version's data (hashed: no folder nesting to clash with)
 * A write stores the version before the metadata that points at it: a crash in between leaves
 * an unreferenced version that the next write replaces, never a reference to missing data.
 */

const DEFAULT_MAX_VERSIONS = 10;
const SECRET = '(?<path>(?:[^/]+/)*[^/]+)';
const PREFIX = '(?<path>(?:[^/]+/)*)';

interface VersionMeta {
  created_time: string;
  deletion_time: string;
  destroyed: boolean;
}

interface Metadata {
  created_time: string;
  updated_time: string;
  current_version: number;
  oldest_version: number;
  max_versions: number;
  cas_required: boolean;
  delete_version_after: number;
  custom_metadata: Record<string, string> | null;
  versions: Record<string, VersionMeta>;
}

/**
 * Metadata as JSON text by path (null: none), and its parse once a reader needed it: every read and
 * write needs the metadata, and decrypting it each time was a large part of a request. Metadata
 * holds no secret values (versions, times, settings). The parse is shared by readers only, never
 * modified (writers get their own copy from `meta`).
 */
interface MetaEntry {
  text: string | null;
  parsed?: Metadata;
}

/** The metadata of a path with no versions yet, created at `t`. */
function emptyMetadata(t: string): Metadata {
  return {
    created_time: t,
    updated_time: t,
    current_version: 0,
    oldest_version: 0,
    max_versions: 0,
    cas_required: false,
    delete_version_after: 0,
    custom_metadata: null,
    versions: {},
  };
}

interface KvConfig {
  max_versions: number;
  cas_required: boolean;
  delete_version_after: number;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const toBytes = (v: unknown) => enc.encode(JSON.stringify(v));

async function getJson<T>(store: LogicalStore, key: string): Promise<T | undefined> {
  const raw = await store.get(key);
  return raw ? (JSON.parse(dec.decode(raw)) as T) : undefined;
}

const now = () => new Date().toISOString();
const isDeleted = (v: VersionMeta) => v.deletion_time !== '' && Date.parse(v.deletion_time) <= Date.now();

export function validateCustomMetadata(cm: Record<string, string>): void {
  const keys = Object.keys(cm);
  if (keys.length > 64) throw invalid('custom_metadata: payload must contain at most 64 keys');
  for (const [k, v] of Object.entries(cm)) {
    if (k.length === 0 || k.length > 128) throw invalid(`custom_metadata: length of key "${k}" is not 1-128`);
    if (v.length > 512) throw invalid(`custom_metadata: length of value for key "${k}" is greater than 512`);
  }
}

export class KvV2 implements Backend {
  readonly type = 'kv';
  readonly paths: PathDef[];
  private readonly locks = new KeyedMutex();

  constructor(
    readonly entry: MountEntry,
    private readonly store: LogicalStore,
  ) {
    const versions = { versions: fIntList() };
    this.paths = [
      {
        pattern: /^config$/,
        summary: 'Mount-wide max_versions, cas_required and delete_version_after',
        fields: {
          max_versions: fInt('Versions kept per key (0: the default, 10)'),
          cas_required: fBool('Every write must give options.cas'),
          delete_version_after: fDuration('Versions are deleted this long after they are written (0: never)'),
        },
        operations: {
          read: async () => ({ data: this.renderConfig(await this.config()) }),
          update: (_r, f) => this.writeConfig(f),
          create: (_r, f) => this.writeConfig(f),
        },
      },
      {
        pattern: new RegExp(`^data/${SECRET}$`),
        summary: 'Read a version of a secret, write a new version, or soft-delete the latest',
        fields: {
          version: fInt('read: the version to read (default: the latest)'),
          data: fMap('write: the secret, an object of keys and values'),
          options: fMap('write: { "cas": N } writes only if the current version is N (0: only if none)'),
        },
        existence: async (p) => (await this.metaText(p.path as string)) !== null,
        operations: {
          read: (r, f) => this.read(r.params.path as string, (f.version as number | undefined) ?? 0),
          create: (r, f) => this.write(r.params.path as string, f),
          update: (r, f) => this.write(r.params.path as string, f),
          patch: (r, f) => this.patch(r.params.path as string, f),
          delete: (r) => this.deleteLatest(r.params.path as string),
        },
      },
      {
        pattern: new RegExp(`^delete/${SECRET}$`),
        summary: 'Soft-delete versions of a secret',
        fields: versions,
        operations: { update: (r, f) => this.setDeleted(r, f, true), create: (r, f) => this.setDeleted(r, f, true) },
      },
      {
        pattern: new RegExp(`^undelete/${SECRET}$`),
        summary: 'Restore soft-deleted versions',
        fields: versions,
        operations: { update: (r, f) => this.setDeleted(r, f, false), create: (r, f) => this.setDeleted(r, f, false) },
      },
      {
        pattern: new RegExp(`^destroy/${SECRET}$`),
        summary: 'Permanently remove the data of versions',
        fields: versions,
        operations: { update: (r, f) => this.destroy(r, f), create: (r, f) => this.destroy(r, f) },
      },
      {
        pattern: new RegExp(`^metadata/?${PREFIX}$`),
        summary: 'List secrets under a prefix',
        operations: { list: (r) => this.list(r.params.path ?? '') },
      },
      {
        pattern: new RegExp(`^metadata/${SECRET}$`),
        summary: "A secret's metadata: versions, max_versions, cas_required, custom_metadata",
        existence: async (p) => (await this.metaText(p.path as string)) !== null,
        fields: {
          max_versions: fInt("Versions kept for this key (0: the mount's setting)"),
          cas_required: fBool('Writes to this key must give options.cas'),
          delete_version_after: fDuration('Versions of this key are deleted this long after they are written'),
          custom_metadata: fStringMap('Your own keys and values about the secret (not secret themselves)'),
        },
        operations: {
          read: (r) => this.readMetadata(r.params.path as string),
          update: (r, f) => this.writeMetadata(r.params.path as string, f),
          create: (r, f) => this.writeMetadata(r.params.path as string, f),
          patch: (r, f) => this.writeMetadata(r.params.path as string, f),
          delete: (r) => this.deleteMetadata(r.params.path as string),
          list: (r) => this.list(`${r.params.path}/`),
        },
      },
    ];
  }

  private async config(): Promise<KvConfig> {
    return (
      (await getJson<KvConfig>(this.store, 'config')) ?? {
        max_versions: 0,
        cas_required: false,
        delete_version_after: 0,
      }
    );
  }

  private renderConfig(c: KvConfig) {
    return {
      max_versions: c.max_versions,
      cas_required: c.cas_required,
      delete_version_after: formatDuration(c.delete_version_after),
    };
  }

  private async writeConfig(f: Record<string, unknown>): Promise<HandlerResult> {
    const c = await this.config();
    if (f.max_versions !== undefined) c.max_versions = nonNegative(f.max_versions, 'max_versions');
    if (f.cas_required !== undefined) c.cas_required = f.cas_required as boolean;
    if (f.delete_version_after !== undefined) c.delete_version_after = f.delete_version_after as number;
    await this.store.put('config', toBytes(c));
    return undefined;
  }

  private metaKey = (path: string) => `metadata/${path}`;
  private readonly pathHashes = new Map<string, string>();
  private versionKey(path: string, v: number): string {
    let h = this.pathHashes.get(path);
    if (h === undefined) {
      h = createHash('sha256').update(path).digest('hex');
      if (this.pathHashes.size >= 50_000) this.pathHashes.clear();
      this.pathHashes.set(path, h);
    }
    return `versions/${h}/${v}`;
  }

  /** Metadata by path (see MetaEntry). */
  private readonly metas = new VersionedCache<string, MetaEntry>({ maxEntries: 20_000 });
  private readonly loadMeta = async (path: string): Promise<MetaEntry> => {
    const raw = await this.store.get(this.metaKey(path));
    return { text: raw ? dec.decode(raw) : null };
  };

  private async metaText(path: string): Promise<string | null> {
    return (this.metas.get(path) ?? (await this.metas.read(path, this.loadMeta))).text;
  }

  /** A copy to modify. */
  private async meta(path: string): Promise<Metadata | undefined> {
    const text = await this.metaText(path);
    return text === null ? undefined : (JSON.parse(text) as Metadata);
  }

  /** The shared, read-only parse (reads and existence checks). */
  private async metaForRead(path: string): Promise<Readonly<Metadata> | undefined> {
    const entry = this.metas.get(path) ?? (await this.metas.read(path, this.loadMeta));
    if (entry.text === null) return undefined;
    if (entry.parsed) return entry.parsed;
    const m = JSON.parse(entry.text) as Metadata;
    // Kept with its text, if that is still what the cache holds.
    if (this.metas.peek(path) === entry) entry.parsed = m;
    return m;
  }

  private async putMeta(path: string, m: Metadata): Promise<void> {
    const text = JSON.stringify(m);
    await this.metas.write([path], async () => {
      await this.store.put(this.metaKey(path), enc.encode(text));
      this.metas.set(path, { text });
    });
  }

  private deleteMeta(path: string): Promise<void> {
    return this.metas.write([path], () => this.store.delete(this.metaKey(path)));
  }

  private versionView(meta: Readonly<Metadata>, v: number) {
    const vm = meta.versions[String(v)] as VersionMeta;
    return {
      created_time: vm.created_time,
      custom_metadata: meta.custom_metadata,
      deletion_time: vm.deletion_time,
      destroyed: vm.destroyed,
      version: v,
    };
  }

  private async read(path: string, version: number): Promise<HandlerResult> {
    const meta = await this.metaForRead(path);
    if (!meta) return null;
    const v = version === 0 ? meta.current_version : version;
    const vm = meta.versions[String(v)];
    if (!vm) return null;
    const metadata = this.versionView(meta, v);
    if (vm.destroyed || isDeleted(vm)) {
      throw new VaultError('notFound', '', { body: { data: { data: null, metadata } } });
    }
    const stored = await getJson<{ data: Record<string, unknown> }>(this.store, this.versionKey(path, v));
    if (!stored) return null;
    return { data: { data: stored.data, metadata } };
  }

  private async effective(meta: Metadata | undefined) {
    const cfg = await this.config();
    const maxVersions = meta?.max_versions || cfg.max_versions || DEFAULT_MAX_VERSIONS;
    const casRequired = cfg.cas_required || (meta?.cas_required ?? false);
    const dva = meta?.delete_version_after || cfg.delete_version_after;
    return { maxVersions, casRequired, dva };
  }

  private async write(path: string, f: Record<string, unknown>): Promise<HandlerResult> {
    const data = f.data as Record<string, unknown> | undefined;
    if (!data) throw invalid('no data provided');
    const cas = readCas(f.options);
    return this.locks.run(path, () => this.writeVersion(path, data, cas, false));
  }

  private async patch(path: string, f: Record<string, unknown>): Promise<HandlerResult> {
    const data = f.data as Record<string, unknown> | undefined;
    if (!data) throw invalid('no data provided');
    const cas = readCas(f.options);
    return this.locks.run(path, async () => {
      const meta = await this.meta(path);
      const vm = meta?.versions[String(meta.current_version)];
      if (!meta || !vm || vm.destroyed || isDeleted(vm)) return null;
      const cur = await getJson<{ data: Record<string, unknown> }>(
        this.store,
        this.versionKey(path, meta.current_version),
      );
      return this.writeVersion(path, mergePatch(cur?.data ?? {}, data), cas, true);
    });
  }

  /** Runs under the path's lock: CAS check, new version, pruning beyond max_versions. */
  private async writeVersion(
    path: string,
    data: Record<string, unknown>,
    cas: number | undefined,
    isPatch: boolean,
  ): Promise<HandlerResult> {
    const meta = await this.meta(path);
    const eff = await this.effective(meta);
    const current = meta?.current_version ?? 0;
    if (cas === undefined && eff.casRequired) {
      throw invalid('check-and-set parameter required for this call');
    }
    if (cas !== undefined && (cas !== current || (isPatch && cas === 0))) {
      throw new VaultError('conflict', 'check-and-set parameter did not match the current version');
    }
    const t = now();
    const m: Metadata = meta ?? emptyMetadata(t);
    const v = m.current_version + 1;
    m.current_version = v;
    m.updated_time = t;
    if (m.oldest_version === 0) m.oldest_version = 1;
    m.versions[String(v)] = {
      created_time: t,
      deletion_time: eff.dva > 0 ? new Date(Date.now() + eff.dva * 1000).toISOString() : '',
      destroyed: false,
    };
    const removed = prune(m, eff.maxVersions);
    // The version before the metadata that points at it, and pruned versions after: one unit in
    // storage that can (a crash keeps a prefix), one after the other elsewhere.
    const metaText = JSON.stringify(m);
    const ops: LogicalOp[] = [
      { op: 'put', path: this.versionKey(path, v), value: toBytes({ data }) },
      { op: 'put', path: this.metaKey(path), value: enc.encode(metaText) },
      ...removed.map((old): LogicalOp => ({ op: 'delete', path: this.versionKey(path, old) })),
    ];
    await this.metas.write([path], async () => {
      if (this.store.batch) await this.store.batch(ops);
      else {
        for (const o of ops) {
          if (o.op === 'put') await this.store.put(o.path, o.value);
          else await this.store.delete(o.path);
        }
      }
      this.metas.set(path, { text: metaText });
    });
    return { data: this.versionView(m, v) };
  }

  private async deleteLatest(path: string): Promise<HandlerResult> {
    return this.locks.run(path, async () => {
      const meta = await this.meta(path);
      const vm = meta?.versions[String(meta.current_version)];
      if (!meta || !vm || vm.destroyed || isDeleted(vm)) return undefined;
      vm.deletion_time = now();
      await this.putMeta(path, meta);
      return undefined;
    });
  }

  private async setDeleted(r: RoutedRequest, f: Record<string, unknown>, deleted: boolean): Promise<HandlerResult> {
    const versions = requireVersions(f);
    const path = r.params.path as string;
    return this.locks.run(path, async () => {
      const meta = await this.meta(path);
      if (!meta) return undefined;
      for (const v of versions) {
        const vm = meta.versions[String(v)];
        if (!vm || vm.destroyed) continue;
        if (deleted && !isDeleted(vm)) vm.deletion_time = now();
        if (!deleted) vm.deletion_time = '';
      }
      await this.putMeta(path, meta);
      return undefined;
    });
  }

  private async destroy(r: RoutedRequest, f: Record<string, unknown>): Promise<HandlerResult> {
    const versions = requireVersions(f);
    const path = r.params.path as string;
    return this.locks.run(path, async () => {
      const meta = await this.meta(path);
      if (!meta) return undefined;
      for (const v of versions) {
        const vm = meta.versions[String(v)];
        if (!vm || vm.destroyed) continue;
        await this.store.delete(this.versionKey(path, v));
        vm.destroyed = true;
      }
      await this.putMeta(path, meta);
      return undefined;
    });
  }

  private async list(prefix: string): Promise<HandlerResult> {
    const keys = await this.store.list(this.metaKey(prefix));
    return keys.length === 0 ? null : { data: { keys } };
  }

  private async readMetadata(path: string): Promise<HandlerResult> {
    const m = await this.meta(path);
    if (!m) return null;
    return {
      data: {
        cas_required: m.cas_required,
        created_time: m.created_time,
        current_version: m.current_version,
        custom_metadata: m.custom_metadata,
        delete_version_after: formatDuration(m.delete_version_after),
        max_versions: m.max_versions,
        oldest_version: m.oldest_version,
        updated_time: m.updated_time,
        versions: m.versions,
      },
    };
  }

  private async writeMetadata(path: string, f: Record<string, unknown>): Promise<HandlerResult> {
    if (f.custom_metadata) validateCustomMetadata(f.custom_metadata as Record<string, string>);
    return this.locks.run(path, async () => {
      const t = now();
      const m: Metadata = (await this.meta(path)) ?? emptyMetadata(t);
      if (f.max_versions !== undefined) m.max_versions = nonNegative(f.max_versions, 'max_versions');
      if (f.cas_required !== undefined) m.cas_required = f.cas_required as boolean;
      if (f.delete_version_after !== undefined) m.delete_version_after = f.delete_version_after as number;
      if (f.custom_metadata !== undefined) m.custom_metadata = f.custom_metadata as Record<string, string>;
      m.updated_time = t;
      await this.putMeta(path, m);
      return undefined;
    });
  }

  private async deleteMetadata(path: string): Promise<HandlerResult> {
    return this.locks.run(path, async () => {
      const m = await this.meta(path);
      if (!m) return undefined;
      // Metadata first: once it is gone nothing refers to the versions, even if a crash follows.
      await this.deleteMeta(path);
      for (const v of Object.keys(m.versions)) await this.store.delete(this.versionKey(path, Number(v)));
      return undefined;
    });
  }
}

/** Drops the oldest versions beyond `max`; returns the dropped version numbers. */
function prune(m: Metadata, max: number): number[] {
  const nums = Object.keys(m.versions)
    .map(Number)
    .sort((a, b) => a - b);
  const removed: number[] = [];
  while (nums.length > max) {
    const old = nums.shift() as number;
    delete m.versions[String(old)];
    removed.push(old);
  }
  m.oldest_version = nums[0] ?? 0;
  return removed;
}

function readCas(options: unknown): number | undefined {
  if (!options || typeof options !== 'object') return undefined;
  const cas = (options as Record<string, unknown>).cas;
  if (cas === undefined || cas === null) return undefined;
  const n = typeof cas === 'string' && /^\d+$/.test(cas) ? Number(cas) : cas;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
    throw invalid('error converting input for field "options.cas": expected a non-negative integer');
  }
  return n;
}

function requireVersions(f: Record<string, unknown>): number[] {
  const v = f.versions as number[] | undefined;
  if (!v || v.length === 0) throw invalid('no version number provided');
  return v;
}

function nonNegative(v: unknown, name: string): number {
  const n = v as number;
  if (n < 0) throw invalid(`${name} must be zero or positive`);
  return n;
}

/** RFC 7386 JSON merge patch. */
function mergePatch(target: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...target };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else if (
      typeof v === 'object' &&
      !Array.isArray(v) &&
      typeof out[k] === 'object' &&
      out[k] &&
      !Array.isArray(out[k])
    )
      setOwn(out, k, mergePatch(out[k] as Record<string, unknown>, v as Record<string, unknown>));
    else setOwn(out, k, v);
  }
  return out;
}

/** KV version 1: one unversioned value per path. */
export class KvV1 implements Backend {
  readonly type = 'kv';
  readonly paths: PathDef[];

  constructor(
    readonly entry: MountEntry,
    private readonly store: LogicalStore,
  ) {
    this.paths = [
      {
        pattern: new RegExp(`^${PREFIX}$`),
        summary: 'List keys under a prefix',
        operations: { list: (r) => this.list(r.params.path ?? '') },
      },
      {
        pattern: new RegExp(`^${SECRET}$`),
        summary: 'Read, write or delete a value',
        existence: async (p) => (await this.store.get(`data/${p.path}`)) !== undefined,
        operations: {
          read: async (r) => {
            const v = await getJson<Record<string, unknown>>(this.store, `data/${r.params.path}`);
            return v ? { data: v } : null;
          },
          create: (r) => this.write(r),
          update: (r) => this.write(r),
          delete: async (r) => {
            await this.store.delete(`data/${r.params.path}`);
            return undefined;
          },
          list: (r) => this.list(`${r.params.path}/`),
        },
      },
    ];
  }

  private async write(r: RoutedRequest): Promise<HandlerResult> {
    const data = r.data;
    if (Object.keys(data).length === 0) throw invalid('missing data fields');
    await this.store.put(`data/${r.params.path}`, toBytes(data));
    return undefined;
  }

  private async list(prefix: string): Promise<HandlerResult> {
    const keys = await this.store.list(`data/${prefix}`);
    return keys.length === 0 ? null : { data: { keys } };
  }
}

export const kvFactory: BackendFactory = ({ entry, store }) =>
  entry.options?.version === '2' ? new KvV2(entry, store) : new KvV1(entry, store);
