import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StratumError, validationError } from '@stratumiops/shared/errors';
import * as z from '@stratumiops/shared/zod';
import { type Dec, dec, fixed, isDecimal, mul, str, sum } from './decimal.js';
import type { DesiredResource } from './types.js';

/** Hours in a month, as infracost and the cloud price pages count them. */
export const HOURS_PER_MONTH = '730';

const price = z.string().refine(isDecimal, 'a decimal string such as "0.0104"');
const regionSchema = z.object({
  /** Plan or instance type → price per hour. */
  instances: z.record(z.string(), price).default({}),
  /** Disk included in a plan, in GB (UpCloud plans include storage). */
  included_storage_gb: z.record(z.string(), z.number().nonnegative()).optional(),
  storage: z.object({ name: z.string(), unit: z.string(), per_month: price }).optional(),
  public_ipv4: z.object({ unit: z.string(), per_hour: price }).optional(),
  /** Parts billed by use: listed with their unit price, costed only when usage is given. */
  usage: z.array(z.object({ name: z.string(), unit: z.string(), price, plans: z.string().optional() })).default([]),
});
export const priceTableSchema = z.object({
  provider: z.string(),
  version: z.number().int().positive(),
  /** The day the prices were read: printed with every estimate. */
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  currency: z.string().regex(/^[A-Z]{3}$/),
  source: z.string().default(''),
  /** Hosts you already run: no charges. */
  free: z.boolean().default(false),
  /** Region or zone → prices; "*" applies to every zone not listed. */
  regions: z.record(z.string(), regionSchema),
});
export type PriceTable = z.infer<typeof priceTableSchema> & { path: string };
type RegionPrices = z.infer<typeof regionSchema>;

/** Parses a price table, or says which field of which file is wrong. */
export function parsePriceTable(text: string, path: string): PriceTable {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw validationError(`price table ${path} is not JSON: ${(e as Error).message}`);
  }
  const r = priceTableSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw validationError(`price table ${path}: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`, {
      hint: 'see the shipped tables in data/prices/ for the shape',
    });
  }
  return { ...r.data, path };
}

/** A user's table over the shipped one: its regions and plans win, the rest is kept. */
export function overlayPriceTable(base: PriceTable, over: PriceTable): PriceTable {
  const regions: Record<string, RegionPrices> = { ...base.regions };
  for (const [name, r] of Object.entries(over.regions)) {
    const b = base.regions[name];
    regions[name] = b
      ? {
          ...b,
          ...r,
          instances: { ...b.instances, ...r.instances },
          usage: r.usage.length ? r.usage : b.usage,
        }
      : r;
  }
  return { ...base, ...over, regions, path: `${base.path} + ${over.path}` };
}

/** One priced part of a resource, shaped like infracost's cost components (decimal strings). */
export interface CostComponent {
  name: string;
  unit: string;
  price: string;
  hourlyQuantity: string | null;
  monthlyQuantity: string | null;
  hourlyCost: string | null;
  /** null: depends on usage. */
  monthlyCost: string | null;
  usageBased?: true;
}

export interface ResourceCost {
  name: string;
  resourceType: string;
  provider: string;
  region: string | null;
  currency: string;
  monthlyCost: string | null;
  costComponents: CostComponent[];
  /** Why it has no price: "free" (own hosts) or what is missing. */
  skipped?: { reason: 'free' | 'not_supported'; message: string };
}

export interface Estimate {
  format: 'prov-estimate/1';
  source: string;
  priceTables: { provider: string; version: number; date: string; currency: string; source: string; path: string }[];
  resources: ResourceCost[];
  /** Currency → exact monthly total (one entry unless providers bill in different currencies). */
  totalMonthlyCost: Record<string, string>;
  summary: { totalResources: number; estimated: number; free: number; notSupported: number; usageBased: number };
}

/** What the estimate needs of a server: the provider, plan, where, disk and address. */
interface PricedServer {
  address: string;
  provider: string;
  plan?: string;
  region?: string;
  diskGb: number;
  publicIp: boolean;
}

function serverOf(r: DesiredResource): PricedServer {
  const a = r.attrs as {
    plan?: string;
    region?: string;
    zone?: string;
    spec?: { disk_gb?: number };
    networking?: { public_ip?: boolean };
  };
  return {
    address: r.address,
    provider: r.provider,
    ...(a.plan ? { plan: a.plan } : {}),
    ...((a.region ?? a.zone) ? { region: (a.region ?? a.zone) as string } : {}),
    diskGb: typeof a.spec?.disk_gb === 'number' ? a.spec.disk_gb : 50,
    publicIp: a.networking?.public_ip === true,
  };
}

const component = (name: string, unit: string, unitPrice: Dec, monthlyQty: Dec, hourly?: Dec): CostComponent => ({
  name,
  unit,
  price: str(unitPrice),
  hourlyQuantity: hourly !== undefined ? str(hourly) : null,
  monthlyQuantity: str(monthlyQty),
  hourlyCost: hourly !== undefined ? str(mul(hourly, unitPrice)) : null,
  monthlyCost: str(mul(monthlyQty, unitPrice)),
});

/**
 * Prices the servers among `resources` (networks, key pairs and taskservs cost nothing by themselves):
 * per hour × 730, disks per GB-month, public addresses per hour; usage-billed parts are listed with
 * their unit price and no cost. Sums are exact.
 */
export function estimate(resources: DesiredResource[], tables: Map<string, PriceTable>, source: string): Estimate {
  const hours = dec(HOURS_PER_MONTH);
  const out: ResourceCost[] = [];
  const used = new Set<string>();
  for (const r of resources) {
    if (r.kind !== 'server') continue;
    const s = serverOf(r);
    const table = tables.get(s.provider);
    const base = { name: s.address, resourceType: 'server', provider: s.provider, region: s.region ?? null };
    if (!table) {
      out.push({
        ...base,
        currency: '',
        monthlyCost: null,
        costComponents: [],
        skipped: { reason: 'not_supported', message: `no price table for provider ${s.provider}` },
      });
      continue;
    }
    used.add(s.provider);
    if (table.free) {
      out.push({
        ...base,
        currency: table.currency,
        monthlyCost: '0',
        costComponents: [],
        skipped: { reason: 'free', message: table.source },
      });
      continue;
    }
    const region = s.region ? (table.regions[s.region] ?? table.regions['*']) : table.regions['*'];
    const hourly = s.plan !== undefined ? region?.instances[s.plan] : undefined;
    if (!region || hourly === undefined) {
      const known = region ? Object.keys(region.instances).join(', ') : Object.keys(table.regions).join(', ');
      out.push({
        ...base,
        currency: table.currency,
        monthlyCost: null,
        costComponents: [],
        skipped: {
          reason: 'not_supported',
          message: !region
            ? `no ${s.provider} prices for region ${s.region ?? '(none set)'} in ${table.path} (it has ${known || 'none'})`
            : s.plan === undefined
              ? 'no plan set on the server'
              : `no price for plan ${s.plan} in ${s.region ?? 'any zone'} (${table.path})`,
        },
      });
      continue;
    }
    const parts: CostComponent[] = [
      component(`Instance usage (on-demand, ${s.plan})`, 'hours', dec(hourly), hours, dec(1)),
    ];
    if (region.storage) {
      const included = region.included_storage_gb?.[s.plan as string] ?? 0;
      const extra = Math.max(0, s.diskGb - included);
      if (extra > 0 || included === 0) {
        parts.push(
          component(
            `Storage (${region.storage.name}${included ? `, beyond ${included} GB included` : ''})`,
            'GB',
            dec(region.storage.per_month),
            dec(extra),
          ),
        );
      }
    }
    if (s.publicIp && region.public_ipv4) {
      parts.push(component('Public IPv4 address', 'hours', dec(region.public_ipv4.per_hour), hours, dec(1)));
    }
    for (const u of region.usage) {
      if (u.plans && !(s.plan as string).startsWith(u.plans)) continue;
      parts.push({
        name: u.name,
        unit: u.unit,
        price: str(dec(u.price)),
        hourlyQuantity: null,
        monthlyQuantity: null,
        hourlyCost: null,
        monthlyCost: null,
        usageBased: true,
      });
    }
    const monthly = sum(parts.filter((p) => p.monthlyCost !== null).map((p) => dec(p.monthlyCost as string)));
    out.push({ ...base, currency: table.currency, monthlyCost: str(monthly), costComponents: parts });
  }
  const totals = new Map<string, Dec>();
  for (const r of out) {
    if (r.monthlyCost === null || !r.currency) continue;
    totals.set(r.currency, (totals.get(r.currency) ?? 0n) + dec(r.monthlyCost));
  }
  return {
    format: 'prov-estimate/1',
    source,
    priceTables: [...used].map((p) => {
      const t = tables.get(p) as PriceTable;
      return { provider: p, version: t.version, date: t.date, currency: t.currency, source: t.source, path: t.path };
    }),
    resources: out,
    totalMonthlyCost: Object.fromEntries([...totals].map(([c, v]) => [c, str(v)])),
    summary: {
      totalResources: out.length,
      estimated: out.filter((r) => !r.skipped).length,
      free: out.filter((r) => r.skipped?.reason === 'free').length,
      notSupported: out.filter((r) => r.skipped?.reason === 'not_supported').length,
      usageBased: out.reduce((n, r) => n + r.costComponents.filter((c) => c.usageBased).length, 0),
    },
  };
}

const SYMBOL: Record<string, string> = { USD: '$', EUR: '€', GBP: '£' };
const money = (v: string, currency: string) => `${SYMBOL[currency] ?? `${currency} `}${fixed(dec(v))}`;
const signed = (v: Dec, currency: string) => `${v < 0n ? '-' : '+'}${money(str(v < 0n ? -v : v), currency)}`;

function table(rows: string[][], right: number[]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((c, i) => (right.includes(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** infracost's breakdown: Name | Monthly Qty | Unit | Monthly Cost, components as a tree, OVERALL TOTAL. */
export function renderEstimate(e: Estimate): string {
  const rows: string[][] = [['Name', 'Monthly Qty', 'Unit', 'Monthly Cost']];
  for (const r of e.resources) {
    if (r.skipped) continue;
    rows.push([r.name, '', '', '']);
    r.costComponents.forEach((c, i) => {
      const branch = i === r.costComponents.length - 1 ? '└─' : '├─';
      rows.push([
        ` ${branch} ${c.name}`,
        c.monthlyQuantity !== null ? str(dec(c.monthlyQuantity)) : '',
        c.unit,
        c.monthlyCost !== null
          ? money(c.monthlyCost, r.currency)
          : `depends on usage: ${SYMBOL[r.currency] ?? ''}${c.price} per ${c.unit}`,
      ]);
    });
    rows.push(['', '', '', '']);
  }
  const lines = [`Estimate of ${e.source}`, '', table(rows, [1, 3])];
  const totals = Object.entries(e.totalMonthlyCost);
  lines.push(
    totals.length
      ? totals.map(([c, v]) => `OVERALL TOTAL${totals.length > 1 ? ` (${c})` : ''}  ${money(v, c)}`).join('\n')
      : 'OVERALL TOTAL  0.00',
  );
  const s = e.summary;
  lines.push(
    '',
    `${s.totalResources} server${s.totalResources === 1 ? '' : 's'} detected: ∙ ${s.estimated} estimated ∙ ${s.free} free ∙ ${s.notSupported} not supported`,
  );
  for (const r of e.resources)
    if (r.skipped?.reason === 'not_supported') lines.push(`  ${r.name}: ${r.skipped.message}`);
  if (s.usageBased)
    lines.push(`${s.usageBased} usage-based part(s) are not in the total (their cost depends on usage)`);
  for (const t of e.priceTables) lines.push(`Prices: ${t.provider} table v${t.version} of ${t.date} (${t.path})`);
  return lines.join('\n');
}

export interface CostDiffLine {
  name: string;
  change: 'added' | 'removed' | 'changed' | 'unchanged';
  currency: string;
  before: string | null;
  after: string | null;
  delta: string;
  components: { name: string; before: string | null; after: string | null }[];
}

export interface CostDiff {
  format: 'prov-estimate-diff/1';
  old: string;
  new: string;
  resources: CostDiffLine[];
  /** Currency → totals before, after and the change. */
  totals: Record<string, { before: string; after: string; delta: string }>;
}

/** The monthly change per resource between two estimates, for a pull request comment. */
export function diffEstimates(a: Estimate, b: Estimate): CostDiff {
  const before = new Map(a.resources.map((r) => [r.name, r]));
  const after = new Map(b.resources.map((r) => [r.name, r]));
  const names = [...new Set([...before.keys(), ...after.keys()])];
  const lines: CostDiffLine[] = [];
  const totals = new Map<string, { before: Dec; after: Dec }>();
  const add = (c: string, k: 'before' | 'after', v: string | null) => {
    if (!c || v === null) return;
    const t = totals.get(c) ?? { before: 0n, after: 0n };
    t[k] += dec(v);
    totals.set(c, t);
  };
  for (const n of names) {
    const x = before.get(n);
    const y = after.get(n);
    const currency = y?.currency || x?.currency || '';
    add(x?.currency ?? '', 'before', x?.monthlyCost ?? null);
    add(y?.currency ?? '', 'after', y?.monthlyCost ?? null);
    const delta = dec(y?.monthlyCost ?? '0') - dec(x?.monthlyCost ?? '0');
    const comps = [...new Set([...(x?.costComponents ?? []), ...(y?.costComponents ?? [])].map((c) => c.name))];
    const costOf = (r: ResourceCost | undefined, name: string) =>
      r?.costComponents.find((c) => c.name === name)?.monthlyCost ?? null;
    const changed = comps.filter((c) => costOf(x, c) !== costOf(y, c));
    lines.push({
      name: n,
      change: !x ? 'added' : !y ? 'removed' : delta !== 0n || changed.length ? 'changed' : 'unchanged',
      currency,
      before: x?.monthlyCost ?? null,
      after: y?.monthlyCost ?? null,
      delta: str(delta),
      components: changed.map((c) => ({ name: c, before: costOf(x, c), after: costOf(y, c) })),
    });
  }
  return {
    format: 'prov-estimate-diff/1',
    old: a.source,
    new: b.source,
    resources: lines,
    totals: Object.fromEntries(
      [...totals].map(([c, t]) => [c, { before: str(t.before), after: str(t.after), delta: str(t.after - t.before) }]),
    ),
  };
}

export function renderCostDiff(d: CostDiff): string {
  const sym: Record<CostDiffLine['change'], string> = { added: '+', removed: '-', changed: '~', unchanged: ' ' };
  const out = [`Monthly cost change: ${d.old} → ${d.new}`, ''];
  for (const l of d.resources) {
    if (l.change === 'unchanged') continue;
    const from = l.before !== null ? money(l.before, l.currency) : '$0';
    const to = l.after !== null ? money(l.after, l.currency) : '$0';
    out.push(`${sym[l.change]} ${l.name}`, `  ${signed(dec(l.delta), l.currency)} (${from} → ${to})`);
    for (const c of l.components) {
      const cf = c.before !== null ? money(c.before, l.currency) : '-';
      const ct = c.after !== null ? money(c.after, l.currency) : '-';
      out.push(`    ${c.before === null ? '+' : c.after === null ? '-' : '~'} ${c.name}: ${cf} → ${ct}`);
    }
    out.push('');
  }
  const unchanged = d.resources.filter((l) => l.change === 'unchanged').length;
  if (unchanged) out.push(`${unchanged} resource(s) unchanged`);
  for (const [c, t] of Object.entries(d.totals)) {
    out.push(`Monthly cost change (${c}): ${signed(dec(t.delta), c)} (${money(t.before, c)} → ${money(t.after, c)})`);
  }
  return out.join('\n');
}

/** The resources a saved plan leaves in place: everything but what it deletes. */
export function readPlanResources(path: string): DesiredResource[] {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') throw new StratumError('notFound', `no such plan file: ${path}`);
    throw validationError(`${path} is not a readable JSON plan: ${err.message}`);
  }
  const d = doc as { format?: string; changes?: { action: string; after: DesiredResource | null }[] };
  if (d?.format !== 'prov-plan/1' || !Array.isArray(d.changes))
    throw new StratumError('validation', `${path} is not a prov plan (format prov-plan/1)`, {
      hint: "save one with 'prov plan -o plan.json', or pass the config (.ncl)",
    });
  return d.changes.filter((c) => c.action !== 'delete' && c.after).map((c) => c.after as DesiredResource);
}

/** The shipped tables (data/prices/<provider>.json), each overlaid by `<overrideDir>/<provider>.json` if present. */
export function loadPriceTables(overrideDirs: string[]): Map<string, PriceTable> {
  const shipped = fileURLToPath(new URL('../../data/prices', import.meta.url));
  const tables = new Map<string, PriceTable>();
  const read = (file: string) => parsePriceTable(readFileSync(file, 'utf8'), file);
  for (const f of readdirSync(shipped).filter((n) => n.endsWith('.json'))) {
    const t = read(join(shipped, f));
    tables.set(t.provider, t);
  }
  for (const dir of overrideDirs) {
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.json'))) {
      const t = read(join(dir, f));
      const base = tables.get(t.provider);
      tables.set(t.provider, base ? overlayPriceTable(base, t) : t);
    }
  }
  return tables;
}
