import type { Executor, HostTarget } from '../core/executor.js';
import { installRoot, shq } from '../core/executor.js';
import { type Provider, type ProviderCheck, type ProviderContext, ProviderError } from '../core/provider.js';
import { readMarker, runTaskserv, type TaskservDefinition } from '../core/taskserv.js';
import type { Attrs, DesiredResource, ResourceRecord } from '../core/types.js';

/** Host attrs (hosts.ncl entry, as desired.ts stores it) → an SSH target. */
export function hostTarget(name: string, a: Attrs): HostTarget {
  const labels = (a.labels ?? {}) as Record<string, string>;
  return {
    name,
    address: String(a.address),
    port: Number(a.port ?? 22),
    user: String(a.user ?? 'root'),
    ...(a.key_path ? { keyPath: String(a.key_path) } : {}),
    sudo: Boolean(a.sudo),
    ...(a.sudo_password || labels.sudo_password
      ? { sudoPassword: String(a.sudo_password ?? labels.sudo_password) }
      : {}),
    labels,
    ...(typeof a.root === 'string' ? { root: a.root } : {}),
  };
}

const rootOf = installRoot;

/**
 * Hosts you already have, over SSH. A `server` is a host enrolled in prov (a marker file records what the
 * config says about it; enrolling gathers facts); a `taskserv` is a service installed on a host from its
 * definition. Both leave a marker under <root>/var/lib/prov, which is what refresh reads back.
 */
export class LocalProvider implements Provider {
  readonly name = 'local';
  readonly kinds = ['server', 'taskserv'] as const;

  constructor(
    private readonly exec: Executor,
    private readonly definition: (name: string) => Promise<TaskservDefinition>,
  ) {}

  replaceOn(kind: string): string[] {
    if (kind === 'taskserv')
      return ['service', 'version', 'host', 'ssh.address', 'ssh.port', 'ssh.root', 'ssh.labels.root'];
    return ['host.address', 'host.port', 'host.root', 'host.labels.root'];
  }

  private target(r: { kind: string; name: string; attrs: Attrs }): HostTarget {
    if (r.kind === 'server') return hostTarget(r.name, r.attrs.host as Attrs);
    if (r.kind === 'taskserv') return hostTarget(String(r.attrs.host), r.attrs.ssh as Attrs);
    throw new ProviderError(`the local provider has no resource kind ${r.kind}`);
  }

  private serverMarker(h: HostTarget) {
    return `${rootOf(h)}/var/lib/prov/server.json`;
  }

  async read(rec: ResourceRecord): Promise<Attrs | null> {
    const h = this.target(rec);
    if (rec.kind === 'taskserv') {
      const m = await readMarker(this.exec, h, String(rec.attrs.service));
      if (!m) return null;
      // Compare only what the config pins: an unpinned version is the definition's default.
      const observed: Attrs = { ...(rec.attrs.version !== undefined ? { version: m.version } : {}), config: m.config };
      // A service that should run but is stopped is drift: apply starts it again (the update phase starts it).
      if (await this.stoppedButExpected(rec, h)) observed.running = false;
      return observed;
    }
    const r = await this.exec.run(h, {
      name: 'read',
      script: `cat ${shq(this.serverMarker(h))} 2>/dev/null || true`,
      sudo: rootOf(h) === '',
    });
    if (!r.stdout.trim()) return null;
    try {
      const m = JSON.parse(r.stdout) as Attrs;
      return { role: m.role, plan: m.plan, tags: m.tags, spec: m.spec };
    } catch {
      return null;
    }
  }

  /** True when the definition can tell, the config does not say start = false, and the service is stopped. */
  private async stoppedButExpected(rec: ResourceRecord, h: HostTarget): Promise<boolean> {
    const config = (rec.attrs.config ?? {}) as Attrs;
    if (config.start === false || config.start === 'false') return false;
    const def = await this.definition(String(rec.attrs.service));
    if (!def.status || def.variables.start === false) return false;
    const rep = await runTaskserv('status', {
      exec: this.exec,
      host: h,
      def,
      ...(rec.attrs.version ? { version: String(rec.attrs.version) } : {}),
      config,
    });
    return rep.status === 'stopped';
  }

  private async writeServer(res: DesiredResource, h: HostTarget): Promise<Attrs> {
    const facts = await this.exec.facts(h);
    const { role, plan, tags, spec } = res.attrs;
    const marker = JSON.stringify({ name: res.name, role, plan, tags, spec, enrolled_at: new Date().toISOString() });
    const path = this.serverMarker(h);
    const r = await this.exec.run(h, {
      name: 'enroll',
      script: `set -e; mkdir -p "$(dirname ${shq(path)})"; printf '%s\\n' ${shq(marker)} > ${shq(path)}`,
      sudo: rootOf(h) === '',
    });
    if (r.exitCode !== 0) throw new ProviderError(`${h.name}: enrolling failed: ${r.stderr.trim()}`);
    return { ...facts, address: h.address, port: h.port };
  }

  async create(res: DesiredResource, ctx: ProviderContext): Promise<Attrs> {
    const h = this.target(res);
    if (res.kind === 'server') return this.writeServer(res, h);
    const def = await this.definition(String(res.attrs.service));
    const opts = {
      exec: this.exec,
      host: h,
      def,
      ...(res.attrs.version ? { version: String(res.attrs.version) } : {}),
      config: (res.attrs.config ?? {}) as Attrs,
      ...(ctx.output ? { output: ctx.output } : {}),
    };
    let rep: Awaited<ReturnType<typeof runTaskserv>>;
    try {
      rep = await runTaskserv('install', opts);
    } catch (e) {
      // A half-done install is undone on that host (its steps are idempotent), unless kept for inspection.
      if (ctx.cleanupOnFailure && (e as { kind?: string }).kind === 'command') {
        await runTaskserv('uninstall', opts).catch(() => {});
      }
      throw e;
    }
    return {
      version: String(res.attrs.version ?? def.version),
      ...(rep.installed_version ? { installed_version: rep.installed_version } : {}),
      steps: rep.steps.length,
      skipped: rep.steps.filter((s) => s.skipped).length,
      arch: rep.facts.arch,
      os_family: rep.facts.os_family,
    };
  }

  async update(res: DesiredResource, _prev: ResourceRecord, ctx: ProviderContext): Promise<Attrs> {
    const h = this.target(res);
    if (res.kind === 'server') return this.writeServer(res, h);
    const def = await this.definition(String(res.attrs.service));
    const rep = await runTaskserv('update', {
      exec: this.exec,
      host: h,
      def,
      ...(res.attrs.version ? { version: String(res.attrs.version) } : {}),
      config: (res.attrs.config ?? {}) as Attrs,
      ...(ctx.output ? { output: ctx.output } : {}),
    });
    return {
      version: String(res.attrs.version ?? def.version),
      ...(rep.installed_version ? { installed_version: rep.installed_version } : {}),
      steps: rep.steps.length,
      skipped: rep.steps.filter((s) => s.skipped).length,
      arch: rep.facts.arch,
      os_family: rep.facts.os_family,
    };
  }

  async delete(rec: ResourceRecord, ctx: ProviderContext): Promise<void> {
    const h = this.target(rec);
    if (rec.kind === 'server') {
      const path = this.serverMarker(h);
      const r = await this.exec.run(h, {
        name: 'unenroll',
        script: `rm -f ${shq(path)}; d=$(dirname ${shq(path)}); while [ "$d" != "/" ] && [ "$d" != ${shq(rootOf(h) || '/')} ] && rmdir "$d" 2>/dev/null; do d=$(dirname "$d"); done; true`,
        sudo: rootOf(h) === '',
      });
      if (r.exitCode !== 0) throw new ProviderError(`${h.name}: unenrolling failed: ${r.stderr.trim()}`);
      return;
    }
    const def = await this.definition(String(rec.attrs.service));
    await runTaskserv('uninstall', {
      exec: this.exec,
      host: h,
      def,
      ...(rec.attrs.version ? { version: String(rec.attrs.version) } : {}),
      config: (rec.attrs.config ?? {}) as Attrs,
      ...(ctx.output ? { output: ctx.output } : {}),
    });
  }

  async testHosts(hosts: HostTarget[]): Promise<ProviderCheck[]> {
    return Promise.all(
      hosts.map(async (h) => {
        try {
          const f = await this.exec.facts(h);
          return {
            target: h.name,
            ok: true,
            detail: `${h.user}@${h.address}:${h.port} ${f.os_family} ${f.os_version} ${f.arch}`,
          };
        } catch (e) {
          return { target: h.name, ok: false, detail: (e as Error).message };
        }
      }),
    );
  }

  async test(): Promise<ProviderCheck[]> {
    return [];
  }

  async close() {
    await this.exec.close();
  }
}
