import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { StratumError } from '@stratumiops/shared/errors';
import { byCodeUnits } from '@stratumiops/shared/order';
import { type Executor, type HostTarget, installRoot, shq } from './executor.js';
import type { StateStore } from './state.js';
import { newRunId, whoami } from './state.js';
import type { PlanDoc, RunRecord } from './types.js';

/** A certificate as svault issued it. The key lives only in memory and on the hosts. */
export interface IssuedCert {
  certificate: string;
  privateKey: string;
  issuingCa: string;
  serial: string;
  notAfter: string;
  keyType: string;
}

/** What prov records of an installed certificate, in state: never the key. */
export interface CertRecord {
  domain: string;
  host: string;
  /** Name given with --cluster: rotate reissues the whole group. */
  group?: string;
  pki: string;
  role: string;
  ttl?: string;
  /** More DNS names than the domain (rotate asks for them again). */
  alt_names?: string[];
  serial: string;
  not_after: string;
  key_type: string;
  dir: string;
  owner?: string;
  reload?: string;
  health?: string;
  installed_at: string;
}

export interface InstallOptions {
  domain: string;
  /** Folder on the host (default <root>/etc/prov/certs/<domain>). */
  dir?: string;
  /** Owner of the files (the service user); the key stays 0600. */
  owner?: string;
  /** Command that makes the service load the new files, e.g. "systemctl reload nginx" (run in the folder). */
  reload?: string;
  /** Command that must exit 0 once the service runs on the new certificate (run in the folder). */
  health?: string;
}

export const certDir = (h: HostTarget, o: Pick<InstallOptions, 'dir' | 'domain'>) =>
  o.dir ?? `${installRoot(h)}/etc/prov/certs/${o.domain}`;

const FILES = ['cert.pem', 'key.pem', 'ca.pem'];

async function step(exec: Executor, h: HostTarget, name: string, script: string) {
  const r = await exec.run(h, { name, script });
  if (r.exitCode !== 0)
    throw new StratumError(
      'failure',
      `${h.name}: ${name} failed (exit ${r.exitCode}): ${r.stderr.trim() || r.stdout.trim()}`,
    );
  return r.stdout;
}

/**
 * Installs key, certificate and CA in `dir` on one host: the files are written next to the old ones and
 * renamed over them (a reader never sees half a file), the key 0600, the previous set kept as *.prev for
 * a rollback; then the reload command runs.
 */
export async function installCert(exec: Executor, h: HostTarget, cert: IssuedCert, o: InstallOptions): Promise<string> {
  const dir = certDir(h, o);
  const q = shq(dir);
  await step(
    exec,
    h,
    'prepare',
    `umask 077; mkdir -p ${q} && cd ${q} && for f in ${FILES.join(' ')}; do if [ -f "$f" ]; then cp -p "$f" "$f.prev"; else rm -f "$f.prev"; fi; done`,
  );
  await exec.upload(h, cert.privateKey, `${dir}/key.pem.new`, 0o600);
  await exec.upload(h, cert.certificate, `${dir}/cert.pem.new`, 0o644);
  await exec.upload(h, cert.issuingCa, `${dir}/ca.pem.new`, 0o644);
  const chown = o.owner ? `chown ${shq(o.owner)} key.pem.new cert.pem.new ca.pem.new && ` : '';
  await step(
    exec,
    h,
    'install',
    `cd ${q} && chmod 600 key.pem.new && ${chown}mv -f key.pem.new key.pem && mv -f cert.pem.new cert.pem && mv -f ca.pem.new ca.pem`,
  );
  if (o.reload) await step(exec, h, 'reload', `cd ${q} && ${o.reload}`);
  return dir;
}

/**
 * The checks a rotation waits for on each host: the installed files are byte for byte the certificate and
 * key just issued (compared by SHA-256, so it works for every key type, ML-DSA-65 included, whatever the
 * host's openssl knows), the key is 0600, then the health command.
 */
export async function checkInstalled(
  exec: Executor,
  h: HostTarget,
  dir: string,
  cert: Pick<IssuedCert, 'certificate' | 'privateKey' | 'serial'>,
  health?: string,
): Promise<string | undefined> {
  const q = shq(dir);
  const r = await exec.run(h, {
    name: 'verify',
    script: `cd ${q} && sha256sum cert.pem key.pem && stat -c %a key.pem`,
  });
  if (r.exitCode !== 0) return `verification failed: ${r.stderr.trim() || r.stdout.trim()}`;
  const [certLine, keyLine, mode] = r.stdout.trim().split('\n');
  const digest = (text: string) => createHash('sha256').update(text).digest('hex');
  if (certLine?.split(/\s+/)[0] !== digest(cert.certificate))
    return `cert.pem is not the certificate just issued (serial ${cert.serial})`;
  if (keyLine?.split(/\s+/)[0] !== digest(cert.privateKey)) return 'key.pem is not the key issued with the certificate';
  if (mode !== '600') return `key.pem has mode ${mode}, not 600`;
  if (health) {
    const hr = await exec.run(h, { name: 'health', script: `cd ${q} && ${health}` });
    if (hr.exitCode !== 0) return `health check failed (exit ${hr.exitCode}): ${(hr.stderr || hr.stdout).trim()}`;
  }
  return undefined;
}

/** Puts the previous set back (after a failed health check) and reloads. */
export async function restorePrevious(exec: Executor, h: HostTarget, dir: string, reload?: string): Promise<void> {
  await step(
    exec,
    h,
    'restore',
    `cd ${shq(dir)} && for f in ${FILES.join(' ')}; do if [ -f "$f.prev" ]; then mv -f "$f.prev" "$f"; else rm -f "$f"; fi; done`,
  );
  if (reload) await step(exec, h, 'reload', `cd ${shq(dir)} && ${reload}`);
}

/** Certificates are recorded as a run of their own (history and events show it); this is its empty plan. */
function certPlan(meta: { serial: number; lineage: string }): PlanDoc {
  return {
    format: 'prov-plan/1',
    created_at: new Date().toISOString(),
    config: null,
    operation: 'apply',
    state: meta,
    refreshed: false,
    targets: [],
    changes: [],
    summary: { add: 0, change: 0, destroy: 0, replace: 0, unchanged: 0 },
    warnings: [],
  };
}

/** Records what was installed (serials and expiry, no key) in the state store, as a finished run. */
export async function recordCerts(
  store: StateStore,
  operation: string,
  certs: CertRecord[],
  failed?: string,
): Promise<string> {
  const now = new Date().toISOString();
  const id = newRunId();
  const run: RunRecord = {
    id,
    kind: 'service',
    status: failed ? 'failed' : 'succeeded',
    who: whoami(),
    host: hostname(),
    pid: process.pid,
    started_at: now,
    finished_at: now,
    plan: certPlan(await store.meta()),
    options: { parallelism: 1, rollback: true },
    error: failed ?? null,
    summary: { operation, certs },
  };
  await store.createRun(run);
  return id;
}

/** The newest record of each (domain, host) pair, from the runs that recorded certificates. */
export async function certInventory(store: StateStore): Promise<CertRecord[]> {
  const latest = new Map<string, CertRecord>();
  const runs = await store.listRuns(10_000);
  // Oldest first, so that later records win.
  for (const run of [...runs].sort((a, b) => byCodeUnits(a.started_at, b.started_at) || byCodeUnits(a.id, b.id))) {
    const certs = (run.summary as { certs?: CertRecord[] } | null)?.certs;
    if (!Array.isArray(certs)) continue;
    for (const c of certs) latest.set(`${c.domain}\0${c.host}`, c);
  }
  return [...latest.values()];
}

/** Certificates expiring within `days` (or already expired), soonest first. */
export function expiringCerts(certs: CertRecord[], days: number, now = Date.now()) {
  return certs
    .map((c) => ({ ...c, days_left: Math.floor((Date.parse(c.not_after) - now) / 86_400_000) }))
    .filter((c) => c.days_left < days)
    .sort((a, b) => a.days_left - b.days_left);
}

export interface RolloutTarget {
  host: HostTarget;
  install: InstallOptions;
  /** Issues this host's certificate (one key per host). */
  issue(): Promise<IssuedCert>;
  /** What to record beside the serial and expiry. */
  record: Omit<CertRecord, 'host' | 'serial' | 'not_after' | 'key_type' | 'dir' | 'installed_at'>;
}

export interface RolloutResult {
  installed: CertRecord[];
  /** The host whose health check failed (its previous certificate is back), and why. */
  failed?: { host: string; error: string; restored: boolean };
  /** Hosts not touched because an earlier one failed. */
  skipped: string[];
}

/**
 * One host at a time: issue, install, reload, then wait for the checks (serial, key, mode, health).
 * The first host that fails gets its previous certificate back and the rollout stops there.
 */
export async function rollOut(
  exec: Executor,
  targets: RolloutTarget[],
  onHost?: (host: string, what: string) => void,
): Promise<RolloutResult> {
  const installed: CertRecord[] = [];
  for (const [i, t] of targets.entries()) {
    const h = t.host;
    let dir: string | undefined;
    try {
      const cert = await t.issue();
      onHost?.(h.name, `issued serial ${cert.serial}, expires ${cert.notAfter}`);
      dir = await installCert(exec, h, cert, t.install);
      const problem = await checkInstalled(exec, h, dir, cert, t.install.health);
      if (problem) throw new StratumError('failure', problem);
      onHost?.(h.name, `installed in ${dir}, healthy`);
      installed.push({
        ...t.record,
        host: h.name,
        serial: cert.serial,
        not_after: cert.notAfter,
        key_type: cert.keyType,
        dir,
        installed_at: new Date().toISOString(),
      });
    } catch (e) {
      let restored = false;
      if (dir !== undefined) {
        try {
          await restorePrevious(exec, h, dir, t.install.reload);
          restored = true;
        } catch {
          // Reported below as not restored.
        }
      }
      onHost?.(h.name, `FAILED: ${(e as Error).message}${restored ? ' (previous certificate restored)' : ''}`);
      return {
        installed,
        failed: { host: h.name, error: (e as Error).message, restored },
        skipped: targets.slice(i + 1).map((x) => x.host.name),
      };
    }
  }
  return { installed, skipped: [] };
}
