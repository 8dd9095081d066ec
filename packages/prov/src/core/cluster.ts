import { spawnSync } from 'node:child_process';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NickelEngine } from '@stratumiops/nickel';
import { conflictError, notFoundError, StratumError, usageError, validationError } from '@stratumiops/shared/errors';
import { z } from 'zod';
import { hostAttrs } from './desired.js';
import type { HostTarget } from './executor.js';
import { nickelFailure } from './nickel.js';
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
  const shipped = fileURLToPath(new URL('../../../../templates/clusters', import.meta.url));
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
  return [...out.values()].sort((a, b) => a.name.localeCompare(b.name));
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

/** `--set key=value` values: numbers and booleans as such, anything else as a string. */
export function parseSettings(pairs: string[] = []): Attrs {
  const out: Attrs = {};
  for (const kv of pairs) {
    const i = kv.indexOf('=');
    if (i <= 0) throw usageError(`--set ${kv}: expected key=value`);
    const k = kv.slice(0, i);
    const v = kv.slice(i + 1);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw usageError(`--set ${kv}: '${k}' is not a setting name`);
    out[k] = /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v === 'true' ? true : v === 'false' ? false : v;
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

/** Cluster records: one JSON file per cluster under .prov/clusters, written atomically. */
export class ClusterStore {
  constructor(private readonly dir: string) {}

  static forWorkspace(cwd = process.cwd()): ClusterStore {
    return new ClusterStore(join(cwd, '.prov', 'clusters'));
  }

  private file(name: string) {
    assertClusterName(name);
    return join(this.dir, `${name}.json`);
  }

  list(): ClusterRecord[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((f) => f.endsWith('.json') && !f.endsWith('.secrets.json'))
      .map((f) => this.read(join(this.dir, f)))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  private read(path: string): ClusterRecord {
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as ClusterRecord;
    } catch (e) {
      throw validationError(`cluster record ${path} is unreadable: ${(e as Error).message}`, {
        hint: 'restore it from a backup or remove it (the cluster itself is untouched)',
      });
    }
  }

  get(name: string): ClusterRecord {
    const f = this.file(name);
    if (!existsSync(f)) {
      const have = this.list().map((c) => c.name);
      throw notFoundError(`no cluster '${name}'`, {
        hint: have.length
          ? `clusters: ${have.join(', ')}`
          : 'create one: prov cluster create NAME --template T --servers a,b,c',
      });
    }
    return this.read(f);
  }

  has(name: string): boolean {
    return existsSync(this.file(name));
  }

  assertAbsent(name: string): void {
    if (this.has(name))
      throw conflictError(`cluster '${name}' exists`, {
        hint: `prov cluster show ${name}; scale or upgrade it instead`,
      });
  }

  save(rec: ClusterRecord): void {
    writeAtomic(this.file(rec.name), `${JSON.stringify(rec, null, 2)}\n`, 0o600);
  }

  /**
   * Generated secrets a later `service install --cluster` must reuse (a Kubernetes cluster's CA and token):
   * kept beside the record, readable by the owner only, like a kubeconfig.
   */
  saveSecrets(name: string, secrets: Record<string, Attrs>): void {
    writeAtomic(this.file(name).replace(/\.json$/, '.secrets.json'), `${JSON.stringify(secrets)}\n`, 0o600);
  }

  secrets(name: string): Record<string, Attrs> {
    const f = this.file(name).replace(/\.json$/, '.secrets.json');
    return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as Record<string, Attrs>) : {};
  }

  remove(name: string): void {
    rmSync(this.file(name).replace(/\.json$/, '.secrets.json'), { force: true });
    rmSync(this.file(name), { force: true });
  }
}
