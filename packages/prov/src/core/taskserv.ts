import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { assetPath } from '@stratumiops/shared/assets';
import { notFoundError, validationError } from '@stratumiops/shared/errors';
import * as z from '@stratumiops/shared/zod';
import {
  type Executor,
  type Facts,
  HostError,
  type HostTarget,
  installRoot,
  type OutputSink,
  type Step,
  type StepResult,
  shq,
} from './executor.js';
import { isSensitiveKey, maskSensitive, SECRET_REF } from './sensitive.js';
import type { Attrs } from './types.js';

const StepDef = z.strictObject({
  name: z.string().min(1),
  /** Shell script; variables and facts are environment variables ($port, $root, $arch...). */
  run: z.string().min(1),
  /** Idempotency: when this exits 0 the step is already done and skipped. */
  check: z.string().optional(),
  /** Only when this exits 0 (e.g. [ "$init" = systemd ]). */
  when: z.string().optional(),
  sudo: z.boolean().default(false),
  timeout_s: z.number().int().positive().default(300),
  /** Health steps: try again this many times, delay_s apart. */
  retries: z.number().int().min(0).default(0),
  delay_s: z.number().min(0).default(1),
  shell: z.enum(['sh', 'bash']).default('sh'),
});
const FileDef = z.strictObject({
  /** Target path; {{var}} placeholders are replaced. */
  path: z.string(),
  content: z.string(),
  mode: z
    .string()
    .regex(/^0?[0-7]{3}$/)
    .default('0644'),
  sudo: z.boolean().default(false),
  when: z.string().optional(),
});
export const TaskservDefinition = z.strictObject({
  name: z.string(),
  description: z.string(),
  version: z.string(),
  requires: z
    .strictObject({ os_family: z.array(z.string()).default([]), arch: z.array(z.string()).default([]) })
    .prefault({}),
  variables: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  files: z.array(FileDef).default([]),
  install: z.array(StepDef).default([]),
  configure: z.array(StepDef).default([]),
  start: z.array(StepDef).default([]),
  health: z.array(StepDef).default([]),
  stop: z.array(StepDef).default([]),
  uninstall: z.array(StepDef).default([]),
  /** Prints one word: running, stopped or absent. */
  status: StepDef.optional(),
  /** Prints the version actually installed (its last line), recorded in state after install and update. */
  installed_version: StepDef.optional(),
});
export type TaskservDefinition = z.infer<typeof TaskservDefinition>;
type StepDef = z.infer<typeof StepDef>;

/** Folders searched for `<name>.ncl` definitions: extra ones first, then the shipped templates/taskservs. */
export function definitionDirs(extra: string[] = []): string[] {
  const shipped = assetPath(
    new URL('../../templates/taskservs', import.meta.url),
    new URL('../../../../templates/taskservs', import.meta.url),
  );
  return [...extra, shipped].filter((d) => existsSync(d));
}

export function listDefinitionFiles(dirs: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const d of [...dirs].reverse()) {
    for (const f of readdirSync(d)) {
      if (f.endsWith('.ncl') && !f.startsWith('_') && f !== 'definition.ncl') out.set(f.slice(0, -4), join(d, f));
    }
  }
  return out;
}

export function findDefinition(name: string, dirs: string[]): string {
  const f = listDefinitionFiles(dirs).get(name);
  if (!f) {
    throw notFoundError(`no taskserv definition '${name}'`, {
      hint: `have: ${[...listDefinitionFiles(dirs).keys()].sort().join(', ') || 'none'} (in ${dirs.join(', ')})`,
    });
  }
  return f;
}

export function parseDefinition(json: unknown, file: string): TaskservDefinition {
  const r = TaskservDefinition.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw validationError(`invalid taskserv definition ${file}: ${i.path.join('.')}: ${i.message}`);
  }
  return r.data;
}

/** The environment of every step: definition variables < taskserv config, plus version, facts and root. */
export function stepEnv(
  def: TaskservDefinition,
  opts: { version?: string; config: Attrs; facts: Facts; host: HostTarget },
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(def.variables)) env[k] = String(v);
  for (const [k, v] of Object.entries(opts.config)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
      throw validationError(`taskserv ${def.name}: config key ${k} is not a valid variable name`);
    env[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  env.version = opts.version ?? def.version;
  env.service = def.name;
  env.root = installRoot(opts.host);
  env.os_family = opts.facts.os_family;
  env.os_version = opts.facts.os_version;
  env.arch = opts.facts.arch;
  env.goarch =
    ({ x86_64: 'amd64', aarch64: 'arm64', armv7l: 'armv7' } as Record<string, string>)[opts.facts.arch] ??
    opts.facts.arch;
  env.host = opts.host.name;
  env.ssh_user = opts.host.user;
  env.state_dir = `${env.root}/var/lib/prov/taskservs`;
  return env;
}

export function render(text: string, env: Record<string, string>): string {
  return text.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (m, k: string) => env[k] ?? m);
}

/**
 * A guard per step on the host: a step's shell records its pid while it runs, and a later attempt of the same
 * step (a resume after prov was killed, when the step itself kept running on the host) waits for it before
 * its check, so the check sees what the orphan did and the step never runs twice side by side (two apt-gets
 * on one dpkg lock). The pid files live in a private folder in /tmp, so no install tree keeps a trace.
 */
function stepGuard(key: string): { wait: string; take: string } {
  const name = key.replace(/[^A-Za-z0-9_.-]/g, '_');
  const locate = `prov_g=""; prov_gd="/tmp/prov-guards-$(id -u)"; mkdir -m 700 "$prov_gd" 2>/dev/null || true
if [ -d "$prov_gd" ] && [ -O "$prov_gd" ] && [ ! -L "$prov_gd" ]; then prov_g="$prov_gd/$(printf '%s' "\${root:-/}" | cksum | cut -d' ' -f1)-${name}.pid"; fi
`;
  return {
    wait: `${locate}if [ -n "$prov_g" ] && [ -f "$prov_g" ]; then prov_o=$(cat "$prov_g" 2>/dev/null || true)
  while [ -n "$prov_o" ] && [ "$prov_o" != "$$" ] && kill -0 "$prov_o" 2>/dev/null; do sleep 0.2; done
fi
`,
    take: `if [ -n "$prov_g" ]; then echo $$ >"$prov_g" 2>/dev/null || true; trap 'rm -f "$prov_g"' EXIT; fi
`,
  };
}

function guardedRun(key: string, script: string): string {
  const g = stepGuard(key);
  return g.wait + g.take + script;
}

/** Shell helpers available to every step. */
const PRELUDE = `set -eu
prov_prune() { d="$1"; while [ -n "$d" ] && [ "$d" != "/" ] && [ "$d" != "\${root:-/}" ] && rmdir "$d" 2>/dev/null; do d=$(dirname "$d"); done; }
prov_fetch() { case "$1" in file://*) cp "\${1#file://}" "$2";; *) curl -fsSL --retry 3 -o "$2" "$1" || wget -qO "$2" "$1";; esac; }
`;

export interface TaskservRunOptions {
  exec: Executor;
  host: HostTarget;
  def: TaskservDefinition;
  version?: string;
  config: Attrs;
  output?: OutputSink;
}

export type Phase = 'install' | 'update' | 'uninstall' | 'status' | 'stop' | 'start';

/** What one phase did on one host: each step's result (or that it was skipped as already done). */
export interface PhaseReport {
  host: string;
  phase: Phase;
  steps: { name: string; skipped: boolean; exit_code: number | null; duration_ms: number }[];
  facts: Facts;
  status?: string;
  /** What the definition's installed_version step printed (absent without one, or when it printed nothing usable). */
  installed_version?: string;
}

/**
 * Runs a taskserv phase on one host: install = install, files, configure, start, health; update skips install;
 * stop and start (with health) leave files and data alone, for rolling operations on a cluster member.
 */
export async function runTaskserv(phase: Phase, o: TaskservRunOptions): Promise<PhaseReport> {
  const facts = await o.exec.facts(o.host);
  const { def } = o;
  if (phase === 'install' || phase === 'update') checkRequirements(def, facts, o.host.name);
  const config = await resolveConfigSecrets(o.exec, o.config);
  const env = stepEnv(def, { ...(o.version ? { version: o.version } : {}), config, facts, host: o.host });
  const report: PhaseReport = { host: o.host.name, phase, steps: [], facts };
  const markerPath = `${env.state_dir}/${def.name}.json`;
  const markerSudo = env.root === '';
  // With a root prefix (a staged or per-test install tree owned by the SSH user) nothing needs sudo.
  const sudo = (wanted: boolean) => wanted && env.root === '';
  const run = async (s: StepDef, what: string) => {
    if (s.when) {
      const w = await o.exec.run(o.host, { name: `${s.name}:when`, script: PRELUDE + s.when, env, sudo: sudo(s.sudo) });
      if (w.exitCode !== 0) {
        report.steps.push({ name: `${what}/${s.name}`, skipped: true, exit_code: null, duration_ms: 0 });
        return;
      }
    }
    if (s.check) {
      const c = await o.exec.run(o.host, {
        name: `${s.name}:check`,
        script: PRELUDE + stepGuard(`${def.name}.${what}.${s.name}`).wait + s.check,
        env,
        sudo: sudo(s.sudo),
        timeoutS: s.timeout_s,
      });
      if (c.exitCode === 0) {
        report.steps.push({ name: `${what}/${s.name}`, skipped: true, exit_code: 0, duration_ms: c.durationMs });
        return;
      }
    }
    let r: StepResult | undefined;
    for (let attempt = 0; attempt <= s.retries; attempt++) {
      if (attempt > 0) await new Promise((res) => setTimeout(res, s.delay_s * 1000));
      const step: Step = {
        name: `${what}/${s.name}`,
        script: PRELUDE + guardedRun(`${def.name}.${what}.${s.name}`, s.run),
        env,
        sudo: sudo(s.sudo),
        timeoutS: s.timeout_s,
        shell: s.shell,
      };
      r = await o.exec.run(o.host, step, o.output);
      if (r.exitCode === 0) break;
    }
    report.steps.push({
      name: `${what}/${s.name}`,
      skipped: false,
      exit_code: r!.exitCode,
      duration_ms: r!.durationMs,
    });
    if (r!.exitCode !== 0) {
      const last = (r!.stderr.trim() || r!.stdout.trim()).split('\n').slice(-3).join(' | ');
      throw new HostError(
        o.host.name,
        'command',
        `${def.name} ${what} step '${s.name}' ${r!.timedOut ? `timed out after ${s.timeout_s} s` : `exited ${r!.exitCode}`}${last ? `: ${last}` : ''}`,
        { result: r! },
      );
    }
  };
  const runFiles = async () => {
    for (const f of def.files) {
      if (f.when) {
        const w = await o.exec.run(o.host, { name: 'file:when', script: PRELUDE + f.when, env });
        if (w.exitCode !== 0) continue;
      }
      const path = render(f.path, env);
      const content = render(f.content, env);
      const hash = createHash('sha256').update(content).digest('hex');
      const tmp = `/tmp/prov-${hash.slice(0, 12)}-${randomBytes(6).toString('hex')}`;
      const same = await o.exec.run(o.host, {
        name: `file ${path}:check`,
        script: `[ "$(sha256sum < ${shq(path)} 2>/dev/null | cut -d' ' -f1)" = ${hash} ]`,
        sudo: sudo(f.sudo),
      });
      if (same.exitCode === 0) {
        report.steps.push({ name: `files/${path}`, skipped: true, exit_code: 0, duration_ms: same.durationMs });
        continue;
      }
      await o.exec.upload(o.host, content, tmp, 0o600);
      await run(
        {
          name: `file ${path}`,
          run: `install -D -m ${f.mode} ${shq(tmp)} ${shq(path)}; rm -f ${shq(tmp)}`,
          sudo: f.sudo,
          timeout_s: 60,
          retries: 0,
          delay_s: 0,
          shell: 'sh',
        },
        'files',
      );
    }
  };
  const marker = JSON.stringify({
    service: def.name,
    version: env.version,
    config: maskSensitive(o.config).attrs,
    at: new Date().toISOString(),
  });
  const writeMarker = () =>
    run(
      {
        name: 'record',
        run: `mkdir -p "$state_dir"; printf '%s\\n' ${shq(marker)} > ${shq(markerPath)}`,
        sudo: markerSudo,
        timeout_s: 30,
        retries: 0,
        delay_s: 0,
        shell: 'sh',
      },
      'record',
    );

  if (phase === 'install' || phase === 'update') {
    if (phase === 'install') for (const s of def.install) await run(s, 'install');
    await runFiles();
    for (const s of def.configure) await run(s, 'configure');
    for (const s of def.start) await run(s, 'start');
    for (const s of def.health) await run(s, 'health');
    const installed = await readInstalledVersion(o.exec, o.host, def, env, sudo);
    if (installed) report.installed_version = installed;
    await writeMarker();
  } else if (phase === 'stop') {
    for (const s of def.stop) await run(s, 'stop');
  } else if (phase === 'start') {
    for (const s of def.start) await run(s, 'start');
    for (const s of def.health) await run(s, 'health');
  } else if (phase === 'uninstall') {
    for (const s of def.stop) await run(s, 'stop');
    for (const s of def.uninstall) await run(s, 'uninstall');
    await run(
      {
        name: 'forget',
        run: `rm -f ${shq(markerPath)}; prov_prune "$state_dir"`,
        sudo: markerSudo,
        timeout_s: 30,
        retries: 0,
        delay_s: 0,
        shell: 'sh',
      },
      'record',
    );
  } else {
    const s = def.status;
    const r = s
      ? await o.exec.run(o.host, {
          name: 'status',
          script: PRELUDE + s.run,
          env,
          sudo: sudo(s.sudo),
          timeoutS: s.timeout_s,
        })
      : undefined;
    const m = await o.exec.run(o.host, { name: 'marker', script: `cat ${shq(markerPath)}`, sudo: markerSudo });
    report.status = m.exitCode !== 0 ? 'absent' : (r?.stdout.trim().split('\n').pop() ?? 'installed') || 'installed';
  }
  return report;
}

/**
 * The version the host really runs (a distribution's package may differ from the definition's), read back by the
 * definition's installed_version step. A failing or odd answer records nothing rather than failing the install.
 */
async function readInstalledVersion(
  exec: Executor,
  host: HostTarget,
  def: TaskservDefinition,
  env: Record<string, string>,
  sudo: (wanted: boolean) => boolean,
): Promise<string | undefined> {
  const s = def.installed_version;
  if (!s) return undefined;
  const r = await exec.run(host, {
    name: 'installed-version',
    script: PRELUDE + s.run,
    env,
    sudo: sudo(s.sudo),
    timeoutS: s.timeout_s,
  });
  const last = r.stdout.trim().split('\n').pop()?.trim() ?? '';
  return r.exitCode === 0 && /^[\w.+~:-]{1,64}$/.test(last) ? last : undefined;
}

/**
 * Secret references in a taskserv's config (svault://..., env://...) are resolved only here, on the way to the
 * steps' environment; plain values under secret-looking keys are registered for redaction from all output.
 */
async function resolveConfigSecrets(exec: Executor, config: Attrs): Promise<Attrs> {
  const out: Attrs = {};
  const plain: string[] = [];
  for (const [k, v] of Object.entries(config)) {
    if (typeof v === 'string' && SECRET_REF.test(v)) {
      if (!exec.secret) throw validationError(`config ${k} is a secret reference but this executor cannot resolve it`);
      out[k] = await exec.secret(v);
    } else {
      out[k] = v;
      if (isSensitiveKey(k) && typeof v === 'string') plain.push(v);
    }
  }
  exec.redact?.(plain);
  return out;
}

/** The marker a successful install leaves: what refresh reads back (null when absent). */
export async function readMarker(exec: Executor, host: HostTarget, service: string): Promise<Attrs | null> {
  const root = installRoot(host);
  const r = await exec.run(host, {
    name: 'read',
    script: `cat ${shq(`${root}/var/lib/prov/taskservs/${service}.json`)} 2>/dev/null || true`,
    sudo: root === '',
  });
  const text = r.stdout.trim();
  if (!text) return null;
  try {
    return JSON.parse(text) as Attrs;
  } catch {
    return null;
  }
}

function checkRequirements(def: TaskservDefinition, facts: Facts, host: string) {
  const { os_family, arch } = def.requires;
  if (os_family.length > 0 && !os_family.includes(facts.os_family)) {
    throw new HostError(
      host,
      'command',
      `${def.name} supports ${os_family.join(', ')}; this host runs ${facts.os_family}`,
      { retryable: false },
    );
  }
  if (arch.length > 0 && !arch.includes(facts.arch)) {
    throw new HostError(host, 'command', `${def.name} supports ${arch.join(', ')}; this host is ${facts.arch}`, {
      retryable: false,
    });
  }
}
