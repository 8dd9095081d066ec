import { byCodeUnits } from '@stratumiops/shared/order';
import { withDependencies } from './graph.js';
import { maskSensitive } from './sensitive.js';
import type { Action, AttrChange, Attrs, DesiredResource, PlanDoc, PlannedChange, ResourceRecord } from './types.js';

const isObj = (v: unknown): v is Attrs => v !== null && typeof v === 'object' && !Array.isArray(v);

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

/** Per-attribute differences, by dotted path; records descend, arrays and scalars compare whole. */
export function diffAttrs(before: Attrs, after: Attrs, prefix = ''): AttrChange[] {
  const out: AttrChange[] = [];
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  for (const k of keys) {
    const b = before[k];
    const a = after[k];
    const path = prefix ? `${prefix}.${k}` : k;
    if (isObj(b) && isObj(a)) out.push(...diffAttrs(b, a, path));
    else if (!deepEqual(b, a)) out.push({ path, before: b ?? null, after: a ?? null });
  }
  return out;
}

/** What a provider needs to plan: which attribute paths force a replacement. */
export interface PlanProviders {
  replaceOn(provider: string, kind: string): string[];
}

export interface PlanInput {
  desired: DesiredResource[];
  state: ResourceRecord[];
  /** Observed attributes per address (null: the object is gone), when refreshed. */
  refreshed?: Map<string, Attrs | null>;
  providers: PlanProviders;
  operation: 'apply' | 'destroy';
  targets?: string[];
  meta: { serial: number; lineage: string };
  config: { path: string; sha256: string } | null;
  warnings?: string[];
}

/** Merges observed attributes over recorded ones: observed keys win. */
function effective(rec: ResourceRecord, observed: Attrs | null | undefined): Attrs {
  if (!observed) return rec.attrs;
  const merge = (a: Attrs, b: Attrs): Attrs => {
    const out: Attrs = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = isObj(v) && isObj(a[k]) ? merge(a[k] as Attrs, v) : v;
    return out;
  };
  return merge(rec.attrs, observed);
}

/** Desired (config) vs recorded state vs refreshed reality → the changes apply would make. */
export function computePlan(input: PlanInput): PlanDoc {
  const stateBy = new Map(input.state.map((r) => [r.address, r]));
  const desired = input.operation === 'destroy' ? [] : input.desired;
  const desiredBy = new Map(desired.map((r) => [r.address, r]));
  let selected: Set<string> | undefined;
  if (input.targets && input.targets.length > 0) {
    const nodes = [
      ...desired.map((r) => ({ id: r.address, deps: r.deps })),
      ...input.state.filter((r) => !desiredBy.has(r.address)).map((r) => ({ id: r.address, deps: r.deps })),
    ];
    const targets = input.targets.flatMap((t) =>
      nodes.filter((n) => n.id === t || n.id.startsWith(`${t}.`)).map((n) => n.id),
    );
    if (input.operation === 'destroy') {
      // Destroying a target also destroys what depends on it.
      selected = new Set(targets);
      let grew = true;
      while (grew) {
        grew = false;
        for (const r of input.state) {
          if (!selected.has(r.address) && r.deps.some((d) => selected!.has(d))) {
            selected.add(r.address);
            grew = true;
          }
        }
      }
    } else {
      // A target's dependencies are brought along to be created or updated first, never deleted: a resource
      // leaving the config is deleted only when it is itself a target.
      const wanted = new Set(targets);
      selected = new Set([...withDependencies(nodes, targets)].filter((id) => wanted.has(id) || desiredBy.has(id)));
    }
  }
  const changes: PlannedChange[] = [];
  for (const d of desired) {
    if (selected && !selected.has(d.address)) continue;
    const rec = stateBy.get(d.address);
    const masked = maskSensitive(d.attrs).attrs;
    const after: DesiredResource = { ...d, attrs: masked };
    if (!rec) {
      changes.push({
        address: d.address,
        kind: d.kind,
        provider: d.provider,
        action: 'create',
        changes: diffAttrs({}, masked),
        drift: [],
        before: null,
        after,
        deps: d.deps,
      });
      continue;
    }
    const observed = input.refreshed?.get(d.address);
    const gone = Boolean(input.refreshed?.has(d.address)) && observed === null;
    const drift = observed ? diffAttrs(pick(rec.attrs, observed), observed).map((c) => ({ ...c, drift: true })) : [];
    if (gone) {
      changes.push({
        address: d.address,
        kind: d.kind,
        provider: d.provider,
        action: 'create',
        changes: diffAttrs({}, masked),
        drift: [],
        gone: true,
        before: rec,
        after,
        deps: d.deps,
      });
      continue;
    }
    const current = effective(rec, observed);
    const diffs = diffAttrs(current, masked);
    const forcing = input.providers.replaceOn(d.provider, d.kind);
    for (const c of diffs) {
      if (forcing.some((f) => c.path === f || c.path.startsWith(`${f}.`))) c.forcesReplace = true;
      if (drift.some((x) => x.path === c.path)) c.drift = true;
    }
    const action: Action = diffs.length === 0 ? 'noop' : diffs.some((c) => c.forcesReplace) ? 'replace' : 'update';
    changes.push({
      address: d.address,
      kind: d.kind,
      provider: d.provider,
      action,
      changes: diffs,
      drift,
      before: rec,
      after,
      deps: d.deps,
    });
  }
  for (const rec of input.state) {
    if (desiredBy.has(rec.address)) continue;
    if (selected && !selected.has(rec.address)) continue;
    // A cluster's services are the cluster's (prov cluster scale/destroy change them): only a target names them.
    if (typeof rec.attrs.cluster === 'string' && !selected) continue;
    const observed = input.refreshed?.get(rec.address);
    const gone = Boolean(input.refreshed?.has(rec.address)) && observed === null;
    changes.push({
      address: rec.address,
      kind: rec.kind,
      provider: rec.provider,
      action: gone ? 'noop' : 'delete',
      changes: diffAttrs(rec.attrs, {}),
      drift: [],
      gone,
      before: rec,
      after: null,
      deps: rec.deps,
    });
  }
  changes.sort((a, b) => byCodeUnits(a.address, b.address));
  const count = (a: Action) => changes.filter((c) => c.action === a).length;
  const summary = {
    add: count('create') + count('replace'),
    change: count('update'),
    destroy: count('delete') + count('replace'),
    replace: count('replace'),
    unchanged: count('noop'),
  };
  const warnings = [...(input.warnings ?? [])];
  for (const c of changes) {
    if (c.gone && c.action === 'noop') warnings.push(`${c.address} no longer exists; it will be removed from state`);
  }
  return {
    format: 'prov-plan/1',
    created_at: new Date().toISOString(),
    config: input.config,
    operation: input.operation,
    state: input.meta,
    refreshed: input.refreshed !== undefined,
    targets: input.targets ?? [],
    changes,
    summary,
    warnings,
  };
}

function pick(a: Attrs, like: Attrs): Attrs {
  const out: Attrs = {};
  for (const k of Object.keys(like)) {
    const v = a[k];
    out[k] = isObj(v) && isObj(like[k]) ? pick(v, like[k] as Attrs) : v;
  }
  return out;
}

export function hasChanges(plan: PlanDoc): boolean {
  return plan.changes.some((c) => c.action !== 'noop' || c.gone);
}

export function summaryLine(plan: PlanDoc): string {
  if (!hasChanges(plan)) return 'No changes. Your infrastructure matches the configuration.';
  const s = plan.summary;
  return `Plan: ${s.add} to add, ${s.change} to change, ${s.destroy} to destroy.`;
}

const fmt = (v: unknown) => (v === null || v === undefined ? 'null' : JSON.stringify(v));
const symbol: Record<Action, string> = { create: '  +', update: '  ~', replace: '-/+', delete: '  -', noop: '   ' };
const verb: Record<Action, string> = {
  create: 'will be created',
  update: 'will be updated in-place',
  replace: 'must be replaced',
  delete: 'will be destroyed',
  noop: 'is unchanged',
};

/** Terraform-like text: legend, one block per change with attribute lines, drift, the summary line. */
const ANSI = { green: [32, 39], yellow: [33, 39], red: [31, 39], bold: [1, 22] } as const;
const styleOf: Record<string, keyof typeof ANSI> = { '+': 'green', '~': 'yellow', '-': 'red' };

/** Colours the change symbols of plan lines (`+` green, `~` yellow, `-` red, `-/+` both) and the summary in bold. */
function colourPlan(line: string): string {
  const c = (text: string, s: keyof typeof ANSI) => `\u001b[${ANSI[s][0]}m${text}\u001b[${ANSI[s][1]}m`;
  if (line.startsWith('-/+ ')) return `${c('-', 'red')}/${c('+', 'green')}${line.slice(3)}`;
  const m = /^(\s*)([+~-])( .*)$/.exec(line);
  if (m) return `${m[1]}${c(m[2] as string, styleOf[m[2] as string] as keyof typeof ANSI)}${m[3]}`;
  if (line.startsWith('Plan: ') || line.startsWith('No changes.')) return c(line, 'bold');
  return line;
}

/** The plan for people; `color` (a TTY or FORCE_COLOR, never with --json) marks each change by its kind. */
export function renderPlan(plan: PlanDoc, opts: { color?: boolean } = {}): string {
  const text = renderPlanText(plan);
  return opts.color ? text.split('\n').map(colourPlan).join('\n') : text;
}

function renderPlanText(plan: PlanDoc): string {
  const lines: string[] = [];
  const drifted = plan.changes.filter((c) => c.drift.length > 0);
  if (drifted.length > 0) {
    lines.push('Objects changed outside prov (drift found on refresh):', '');
    for (const c of drifted) {
      lines.push(`  # ${c.address} has drifted`);
      for (const d of c.drift)
        lines.push(
          d.path === 'running' && d.after === false
            ? '      ~ service: running → stopped'
            : `      ~ ${d.path}: ${fmt(d.before)} → ${fmt(d.after)}`,
        );
    }
    lines.push('');
  }
  const acting = plan.changes.filter((c) => c.action !== 'noop');
  if (acting.length > 0) {
    const used = new Set(acting.map((c) => c.action));
    lines.push('prov will perform the following actions:');
    const legend: [Action, string][] = [
      ['create', '  + create'],
      ['update', '  ~ update in-place'],
      ['delete', '  - destroy'],
      ['replace', '-/+ destroy and then create replacement'],
    ];
    for (const [a, text] of legend) if (used.has(a)) lines.push(text);
    lines.push('');
    for (const c of acting) {
      const why = c.gone ? ' (it was deleted outside prov)' : '';
      // A stopped service that should run: the update starts it.
      const starts = c.action === 'update' && c.changes.some((a) => a.path === 'running' && a.before === false);
      lines.push(`  # ${c.address} ${starts ? 'will be started' : verb[c.action]}${why}`);
      lines.push(`${symbol[c.action]} ${c.address} (${c.provider})`);
      for (const a of c.changes) {
        if (a.path === 'running' && a.before === false) lines.push('      ~ service: stopped → running  # drift');
        else if (c.action === 'create') lines.push(`      + ${a.path} = ${fmt(a.after)}`);
        else if (c.action === 'delete') lines.push(`      - ${a.path} = ${fmt(a.before)}`);
        else {
          const notes = [a.forcesReplace ? 'forces replacement' : '', a.drift ? 'drift' : ''].filter(Boolean);
          lines.push(
            `      ~ ${a.path}: ${fmt(a.before)} → ${fmt(a.after)}${notes.length ? `  # ${notes.join(', ')}` : ''}`,
          );
        }
      }
      if (c.deps.length > 0 && c.action !== 'delete') lines.push(`      (after ${c.deps.join(', ')})`);
      lines.push('');
    }
  }
  for (const w of plan.warnings) lines.push(`Warning: ${w}`);
  if (plan.warnings.length) lines.push('');
  lines.push(summaryLine(plan));
  return lines.join('\n');
}
