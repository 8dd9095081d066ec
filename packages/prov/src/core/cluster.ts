import { spawnSync } from 'node:child_process';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { NickelEngine } from '@stratumiops/nickel';
import { assetPath } from '@stratumiops/shared/assets';
import { conflictError, notFoundError, StratumError, usageError, validationError } from '@stratumiops/shared/errors';
import { byCodeUnits } from '@stratumiops/shared/order';
import * as z from '@stratumiops/shared/zod';
import { type HostConfig, hostAttrs } from './desired.js';
import type { HostTarget } from './executor.js';
import { nickelFailure } from './nickel.js';
import type { StateStore } from './state.js';
import type { Attrs, DesiredResource } from './types.js';
import { writeAtomic } from './workspace.js';

/** What a template returns (schemas/cluster.ncl's Cluster), checked again when prov reads it. */
const Member = z.object({ host: z.string(), address: z.string(), index: z.number().int().min(0) });
const Service = z.object({
  service: z.string(),
  host: z.string(),
  version: z.string().optional(),
  config: z.record(z.string(), z.unknown()).default({}),
  depends_on: z.array(z.string()).default([]),
  after: z.array(z.string()).default([]),
});
export const ClusterSpec = z.object({
  name: z.string(),
  template: z.string(),
  kind: z.enum(['postgresql-ha', 'kubernetes', 'generic']),
  description: z.string().default(''),
  version: z.string().default(''),
  members: z.array(Member),
  services: z.array(Service),
  order: z.array(z.string()),
  workflows: z.array(z.string()).default([]),
  settings: z.record(z.string(), z.unknown()).default({}),
});
export type ClusterSpec = z.infer<typeof ClusterSpec>;
export type ClusterMember = z.infer<typeof Member>;

/** A cluster as recorded in the workspace: how it was made (to make it again with other members) and what it is. */
export interface ClusterRecord {
  name: string;
  template: string;
  /** Template parameters other than the members: version and settings. */
  version?: string;
  settings: Attrs;
  spec: ClusterSpec;
  created_at: string;
  updated_at: string;
  /** Hosts that were members and were scaled away (first candidates when the cluster grows again). */
  former_members: string[];
  /** Set while its create runs (or was interrupted): cleared once all its services are in state. */
  status?: 'creating';
}

export interface TemplateInfo {
  name: string;
  path: string;
  description: string;
}

const NAME = /^[a-z][a-z0-9-]{0,62}$/;

export function assertClusterName(name: string): void {
  if (!NAME.test(name))
    throw usageError(`cluster name '${name}' is not valid`, {
      hint: 'lowercase letters, digits and dashes, starting with a letter (at most 63)',
    });
}

/** Folders of templates: extra ones first (prov.toml clusters.template_dirs), then the shipped templates/clusters. */
export function templateDirs(extra: string[] = []): string[] {
  const shipped = assetPath(
    new URL('../../templates/clusters', import.meta.url),
    new URL('../../../../templates/clusters', import.meta.url),
  );
  return [...extra, shipped].filter((d) => existsSync(d));
}

/** The description of a template or workflow: the first sentence of its leading comment. */
export function leadingComment(file: string): string {
  const lines: string[] = [];
  for (const l of readFileSync(file, 'utf8').split('\n')) {
    if (!l.startsWith('#')) break;
    lines.push(l.replace(/^#\s?/, ''));
  }
  return lines.join(' ').split(/(?<=\.)\s/)[0] ?? '';
}

export function listTemplates(dirs: string[]): TemplateInfo[] {
  const out = new Map<string, TemplateInfo>();
  for (const d of [...dirs].reverse()) {
    for (const n of readdirSync(d)) {
      const path = join(d, n, 'template.ncl');
      if (existsSync(path)) out.set(n, { name: n, path, description: leadingComment(path) });
    }
  }
  return [...out.values()].sort((a, b) => byCodeUnits(a.name, b.name));
}

/** A template by name, or a folder holding template.ncl. */
export function findTemplate(name: string, dirs: string[], cwd = process.cwd()): TemplateInfo {
  if (name.includes('/')) {
    const dir = resolve(cwd, name);
    const path = join(dir, 'template.ncl');
    if (!existsSync(path)) throw notFoundError(`no template.ncl in ${dir}`);
    return { name: basename(dir), path, description: leadingComment(path) };
  }
  const t = listTemplates(dirs).find((x) => x.name === name);
  if (!t)
    throw notFoundError(`no cluster template '${name}'`, {
      hint: `have: ${
        listTemplates(dirs)
          .map((x) => x.name)
          .join(', ') || 'none'
      }`,
    });
  return t;
}

const SETTING_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `--set key=value` values: numbers and booleans as such, anything else as a string. */
export function parseSettings(pairs: string[] = []): Attrs {
  const out: Attrs = {};
  for (const kv of pairs) {
    const i = kv.indexOf('=');
    if (i <= 0) throw usageError(`--set ${kv}: expected key=value`);
    const k = kv.slice(0, i);
    const v = kv.slice(i + 1);
    if (!SETTING_NAME.test(k)) throw usageError(`--set ${kv}: '${k}' is not a setting name`);
    out[k] = /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v === 'true' ? true : v === 'false' ? false : v;
  }
  return out;
}

/**
 * Template settings read from elsewhere (a backup manifest): held to what `--set` can give, names as there and
 * values a string, a finite number or a boolean, or a validation error naming `source`.
 */
export function checkSettings(settings: unknown, source: string): Attrs {
  if (settings === undefined) return {};
  if (typeof settings !== 'object' || settings === null || Array.isArray(settings))
    throw validationError(`${source}: the settings are not a table of key = value`);
  const out: Attrs = {};
  for (const [k, v] of Object.entries(settings)) {
    if (!SETTING_NAME.test(k)) throw validationError(`${source}: ${JSON.stringify(k)} is not a setting name`);
    if (!(typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))))
      throw validationError(`${source}: setting ${k} is not a string, number or boolean`);
    out[k] = v;
  }
  return out;
}

/**
 * Calls the template (a Nickel function) with the parameters and checks the result against the Cluster
 * contract. The parameters go in as a JSON file the wrapper imports, so no value is ever spliced into code.
 */
export async function evaluateTemplate(
  engine: NickelEngine,
  template: TemplateInfo,
  params: { name: string; members: ClusterMember[]; version?: string; settings: Attrs },
  importPaths: string[],
): Promise<ClusterSpec> {
  const json = await callNickelFunction(engine, template.path, params, importPaths);
  const r = ClusterSpec.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw validationError(
      `template ${template.name} returned a cluster prov cannot use: ${i.path.join('.')}: ${i.message}`,
    );
  }
  const hosts = new Set(r.data.members.map((m) => m.host));
  for (const s of r.data.services) {
    if (!hosts.has(s.host))
      throw validationError(`template ${template.name}: service ${s.service} on ${s.host}, which is not a member`);
    for (const d of s.depends_on)
      if (!r.data.order.includes(d))
        throw validationError(`template ${template.name}: ${s.service} depends on ${d}, which is not in order`);
  }
  return r.data;
}

/**
 * Calls a Nickel file that is a function with one argument and exports the result as JSON. The argument goes
 * in as a JSON file the wrapper imports, so no value is ever spliced into code.
 */
export async function callNickelFunction(
  engine: NickelEngine,
  file: string,
  arg: unknown,
  importPaths: string[],
): Promise<unknown> {
  const dir = mkdtempSync(join(tmpdir(), 'prov-call-'));
  try {
    writeFileSync(join(dir, 'arg.json'), JSON.stringify(arg));
    writeFileSync(join(dir, 'call.ncl'), `(import ${JSON.stringify(file)}) (import "arg.json")\n`);
    try {
      return JSON.parse(await engine.exportFile(join(dir, 'call.ncl'), { format: 'json', importPaths }));
    } catch (e) {
      throw nickelFailure(e);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Members for the template, in the order given: host name and the address the others reach it on. */
export function membersOf(targets: HostTarget[]): ClusterMember[] {
  const seen = new Set<string>();
  return targets.map((t, index) => {
    if (seen.has(t.name)) throw usageError(`${t.name} is listed twice`);
    seen.add(t.name);
    return { host: t.name, address: t.address, index };
  });
}

/**
 * The cluster's taskserv.<service>.<host> resources: a service waits for every member of the services it
 * depends on (patroni on db-2 waits for etcd on db-1..3), as the template's order says.
 */
export function clusterResources(
  spec: ClusterSpec,
  hosts: Record<string, HostTarget>,
  secretConfig: Record<string, Attrs> = {},
): DesiredResource[] {
  const addressesOf = (service: string) =>
    spec.services.filter((s) => s.service === service).map((s) => `taskserv.${s.service}.${s.host}`);
  return spec.services.map((s) => {
    const h = hosts[s.host];
    if (!h) throw usageError(`unknown host ${s.host}`);
    return {
      address: `taskserv.${s.service}.${s.host}`,
      kind: 'taskserv',
      name: `${s.service}.${s.host}`,
      provider: 'local',
      attrs: {
        service: s.service,
        ...(s.version ? { version: s.version } : {}),
        host: s.host,
        ssh: hostAttrs({
          address: h.address,
          port: h.port,
          user: h.user,
          ...(h.keyPath ? { key_path: h.keyPath } : {}),
          sudo: h.sudo,
          ...(h.sudoPassword ? { sudo_password: h.sudoPassword } : {}),
          ...(h.root ? { root: h.root } : {}),
          labels: h.labels,
        }),
        config: { ...s.config, ...(secretConfig[s.service] ?? {}) },
        cluster: spec.name,
      },
      deps: [...s.depends_on.flatMap(addressesOf), ...s.after.map((h) => `taskserv.${s.service}.${h}`)],
    };
  });
}

/** Secrets a template's services need that nobody should type: generated once per cluster. */
export function generatedSecrets(spec: ClusterSpec): Record<string, Attrs> {
  const pw = () => randomBytes(18).toString('base64url');
  if (spec.kind === 'postgresql-ha')
    return {
      patroni: { superuser_password: pw(), replication_password: pw(), rewind_password: pw(), rest_password: pw() },
    };
  if (spec.kind === 'kubernetes') {
    const ca = clusterCa();
    const alnum = (n: number) =>
      [...randomBytes(n)].map((b) => 'abcdefghijklmnopqrstuvwxyz0123456789'[b % 36]).join('');
    return {
      kubernetes: {
        token: `${alnum(6)}.${alnum(16)}`,
        certificate_key_secret: randomBytes(32).toString('hex'),
        ca_cert: ca.cert,
        ca_private_key: ca.key,
        ca_cert_hash: ca.hash,
      },
    };
  }
  return {};
}

/** Where generated secrets go when the workspace uses svault: a KV v2 mount. */
export interface SecretVault {
  mount: string;
  put(path: string, data: Record<string, unknown>): Promise<unknown>;
}

/**
 * svault for generated secrets, when this workspace uses it: SVAULT_TOKEN set, and an address (SVAULT_ADDR, or
 * the one prov vault init recorded). Undefined otherwise.
 */
export async function secretVault(cwd = process.cwd()): Promise<SecretVault | undefined> {
  if (!process.env.SVAULT_TOKEN) return undefined;
  const { readVaultSettings, vaultClient } = await import('../adapters/vault.js');
  const s = readVaultSettings(cwd);
  if (!process.env.SVAULT_ADDR && !s.addr) return undefined;
  // The references are resolved through SVAULT_ADDR (the steps of this run included).
  process.env.SVAULT_ADDR ??= s.addr;
  const client = await vaultClient();
  const mount = s.mount ?? 'secret';
  return { mount, put: (path, data) => client.kvPut(mount, path, data) };
}

/**
 * A cluster's generated secrets. With svault they are written there (KV `<mount>/prov/clusters/<name>`, a field
 * per service and key) and the services' config gets references (svault://…#field), resolved only on the way
 * to a member's steps: a plan, the state and a resumed run hold references, never a secret, not even hashed.
 * Without svault the values themselves (plans and state keep only their hashes: such a run cannot be resumed).
 */
export async function clusterSecrets(spec: ClusterSpec, vault?: SecretVault): Promise<Record<string, Attrs>> {
  const secrets = generatedSecrets(spec);
  if (!vault || !Object.keys(secrets).length) return secrets;
  const path = `prov/clusters/${spec.name}`;
  const fields: Record<string, unknown> = {};
  const refs: Record<string, Attrs> = {};
  for (const [service, values] of Object.entries(secrets)) {
    refs[service] = {};
    for (const [k, v] of Object.entries(values)) {
      fields[`${service}_${k}`] = v;
      refs[service][k] = `svault://${vault.mount}/data/${path}#${service}_${k}`;
    }
  }
  await vault.put(path, fields);
  return refs;
}

/**
 * A new self-signed cluster CA (openssl on this machine) and the hash kubeadm pins it by: sha256 of its
 * DER SubjectPublicKeyInfo, as `kubeadm join --discovery-token-ca-cert-hash sha256:...` wants it.
 */
function clusterCa(): { cert: string; key: string; hash: string } {
  const dir = mkdtempSync(join(tmpdir(), 'prov-ca-'));
  try {
    const r = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-sha256',
        '-days',
        '3650',
        '-subj',
        '/CN=kubernetes',
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign',
        '-keyout',
        join(dir, 'ca.key'),
        '-out',
        join(dir, 'ca.crt'),
      ],
      { encoding: 'utf8' },
    );
    if (r.status !== 0)
      throw new StratumError(
        'unavailable',
        `cannot make the cluster CA with openssl: ${r.error?.message ?? r.stderr.trim()}`,
        {
          hint: 'install openssl on the machine running prov',
        },
      );
    const cert = readFileSync(join(dir, 'ca.crt'), 'utf8').trim();
    const der = new X509Certificate(cert).publicKey.export({ type: 'spki', format: 'der' });
    return {
      cert,
      key: readFileSync(join(dir, 'ca.key'), 'utf8').trim(),
      hash: `sha256:${createHash('sha256').update(der).digest('hex')}`,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Cluster records, in the state backend beside the resources (each change bumps the serial and is made under
 * the state lock). Generated secrets a later `service install --cluster` must reuse (a Kubernetes cluster's CA
 * and token) never go there: they stay in .prov/clusters/<name>.secrets.json, owner-only, like a kubeconfig.
 * Records of the older layout (.prov/clusters/<name>.json) move into the state on first use.
 */
export class ClusterStore {
  private constructor(
    private readonly open: () => Promise<StateStore>,
    private readonly dir: string,
  ) {}

  /** The workspace's clusters in the state `open` opens (each call opens and closes it: no connection is left). */
  static forWorkspace(open: () => Promise<StateStore>, cwd = process.cwd()): ClusterStore {
    return new ClusterStore(open, join(cwd, '.prov', 'clusters'));
  }

  private async with<T>(fn: (state: StateStore) => Promise<T>): Promise<T> {
    const state = await this.open();
    try {
      await this.adoptFiles(state);
      return await fn(state);
    } finally {
      await state.close();
    }
  }

  /** Records left as files by an older prov: into the state (unless already there), the file kept as .migrated. */
  private async adoptFiles(state: StateStore) {
    if (!existsSync(this.dir)) return;
    const files = readdirSync(this.dir).filter((f) => f.endsWith('.json') && !f.endsWith('.secrets.json'));
    if (!files.length) return;
    const have = new Set((await state.clusters()).map((c) => c.name));
    await this.locked(state, 'cluster records migration', async () => {
      for (const f of files) {
        const path = join(this.dir, f);
        const rec = this.readFile(path);
        if (!have.has(rec.name)) await state.putCluster(rec.name, rec as unknown as Record<string, unknown>);
        renameSync(path, `${path}.migrated`);
      }
    });
  }

  private readFile(path: string): ClusterRecord {
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as ClusterRecord;
    } catch (e) {
      throw validationError(`cluster record ${path} is unreadable: ${(e as Error).message}`, {
        hint: 'restore it from a backup or remove it (the cluster itself is untouched)',
      });
    }
  }

  /** A write under the state lock, so it never interleaves with an apply. */
  private async locked<T>(state: StateStore, operation: string, fn: () => Promise<T>): Promise<T> {
    const lock = await state.lock({ operation });
    try {
      return await fn();
    } finally {
      await lock.release();
    }
  }

  async list(): Promise<ClusterRecord[]> {
    return this.with(async (state) => {
      const out = (await state.clusters()).map((c) => c.record as unknown as ClusterRecord);
      for (const rec of out) {
        if (rec.status !== 'creating') continue;
        // A create finished by prov resume: every service in state makes it a cluster.
        const addresses = rec.spec.services.map((s) => `taskserv.${s.service}.${s.host}`);
        const found = await Promise.all(addresses.map((a) => state.get(a)));
        if (!found.every((r) => r?.attrs.cluster === rec.name)) continue;
        delete rec.status;
        await this.locked(state, `cluster ${rec.name}`, () =>
          state.putCluster(rec.name, rec as unknown as Record<string, unknown>),
        ).catch(() => {});
      }
      return out;
    });
  }

  async get(name: string): Promise<ClusterRecord> {
    assertClusterName(name);
    const all = await this.list();
    const rec = all.find((c) => c.name === name);
    if (!rec) {
      throw notFoundError(`no cluster '${name}'`, {
        hint: all.length
          ? `clusters: ${all.map((c) => c.name).join(', ')}`
          : 'create one: prov cluster create NAME --template T --servers a,b,c',
      });
    }
    return rec;
  }

  async has(name: string): Promise<boolean> {
    assertClusterName(name);
    return (await this.list()).some((c) => c.name === name);
  }

  async assertAbsent(name: string): Promise<void> {
    if (await this.has(name))
      throw conflictError(`cluster '${name}' exists`, {
        hint: `prov cluster show ${name}; scale or upgrade it instead`,
      });
  }

  /** Saves the record, under the state lock; `locked`: the caller holds the lock, through this store. */
  async save(rec: ClusterRecord, opts: { locked?: StateStore } = {}): Promise<void> {
    assertClusterName(rec.name);
    if (opts.locked) {
      await opts.locked.putCluster(rec.name, rec as unknown as Record<string, unknown>);
      return;
    }
    await this.with((state) =>
      this.locked(state, `cluster ${rec.name}`, () =>
        state.putCluster(rec.name, rec as unknown as Record<string, unknown>),
      ),
    );
  }

  private secretsFile(name: string) {
    assertClusterName(name);
    return join(this.dir, `${name}.secrets.json`);
  }

  saveSecrets(name: string, secrets: Record<string, Attrs>): void {
    writeAtomic(this.secretsFile(name), `${JSON.stringify(secrets)}\n`, 0o600);
  }

  secrets(name: string): Record<string, Attrs> {
    const f = this.secretsFile(name);
    return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as Record<string, Attrs>) : {};
  }

  async remove(name: string): Promise<void> {
    await this.with((state) =>
      this.locked(state, `cluster ${name}`, async () => {
        await state.removeCluster(name);
        rmSync(this.secretsFile(name), { force: true });
      }),
    );
  }
}

/** What the config's `clusters` add to a plan, and the notes the plan shows about them. */
export interface DeclaredClusters {
  resources: DesiredResource[];
  warnings: string[];
}

/**
 * The config's declared clusters against the recorded ones. A recorded cluster plans nothing (its services are
 * its own; members that differ are a warning naming prov cluster scale). One not recorded is planned as a
 * create: the template is called as prov cluster create would, its generated secrets (svault references when
 * the workspace uses svault) kept in the owner-only secrets file, so every plan shows the same, and once all its services
 * are in state its record is written, under the state lock.
 */
export async function declaredClusterResources(
  infra: { clusters?: { name: string; template: string; members: string[]; version?: string; settings?: Attrs }[] } & {
    hosts?: Record<string, HostConfig>;
  },
  opts: { openStore: () => Promise<StateStore>; engine: NickelEngine; templateDirs: string[]; importPaths: string[] },
): Promise<DeclaredClusters> {
  const out: DeclaredClusters = { resources: [], warnings: [] };
  const declared = infra.clusters ?? [];
  if (!declared.length) return out;
  const clusters = ClusterStore.forWorkspace(opts.openStore);
  const recorded = new Map((await clusters.list()).map((c) => [c.name, c]));
  const state = await opts.openStore();
  let inState: Map<string, string | undefined>;
  try {
    inState = new Map((await state.list()).map((r) => [r.address, r.attrs.cluster as string | undefined]));
  } finally {
    await state.close();
  }
  for (const d of declared) {
    const rec = recorded.get(d.name);
    if (rec) {
      const have = rec.spec.members.map((m) => m.host);
      if (have.join(',') !== d.members.join(','))
        out.warnings.push(
          `cluster ${d.name}: the config lists members ${d.members.join(',')}, the cluster has ${have.join(',')}; change it with prov cluster scale ${d.name}`,
        );
      continue;
    }
    const template = findTemplate(d.template, opts.templateDirs);
    const hosts: Record<string, HostTarget> = {};
    for (const name of d.members) {
      const h = infra.hosts?.[name];
      if (!h)
        throw validationError(`cluster ${d.name}: member ${name} is not in hosts`, {
          hint: `add hosts.${name} = { address = "..." }`,
        });
      hosts[name] = {
        name,
        address: h.address,
        port: h.port ?? 22,
        user: h.user ?? 'root',
        ...(h.key_path ? { keyPath: h.key_path } : {}),
        sudo: h.sudo ?? false,
        ...(h.sudo_password ? { sudoPassword: h.sudo_password } : {}),
        ...(h.root ? { root: h.root } : {}),
        labels: h.labels ?? {},
      };
    }
    const settings = d.settings ?? {};
    const params = {
      name: d.name,
      members: membersOf(d.members.map((n) => hosts[n]!)),
      ...(d.version ? { version: d.version } : {}),
      settings,
    };
    const spec = await evaluateTemplate(opts.engine, template, params, opts.importPaths);
    let secrets = clusters.secrets(d.name);
    if (!Object.keys(secrets).length) {
      secrets = await clusterSecrets(spec, await secretVault());
      clusters.saveSecrets(d.name, secrets);
    }
    const resources = clusterResources(spec, hosts, secrets);
    if (resources.every((r) => inState.get(r.address) === d.name)) {
      // Made by an earlier apply: from now on a recorded cluster (later, if the state is locked right now).
      const now = new Date().toISOString();
      await clusters
        .save({
          name: d.name,
          template: template.name,
          ...(d.version ? { version: d.version } : {}),
          settings,
          spec,
          created_at: now,
          updated_at: now,
          former_members: [],
        })
        .catch((e: unknown) => {
          if ((e as { code?: string }).code !== 'conflict') throw e;
        });
      continue;
    }
    out.resources.push(...resources);
    out.warnings.push(`cluster ${d.name} does not exist yet: ${template.name} on ${d.members.join(',')} is planned`);
  }
  return out;
}
