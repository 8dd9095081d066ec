/**
 * prov for AI assistants: the functions behind `prov mcp serve` and its CLI shortcuts. validate_config runs
 * prov validate's checks on a text or a workspace file; query_infrastructure answers from state rows and cites
 * them; generate_config drafts a config with an LLM and repairs it with the validation errors until it validates
 * (bounded), so the only config that ever leaves is one that passed every check.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { type NickelEngine, nickelErrorJson } from '@stratumiops/nickel';
import { notFoundError, StratumError, usageError, validationError } from '@stratumiops/shared/errors';
import { byCodeUnits } from '@stratumiops/shared/order';
import type { CheckContext } from './check.js';
import { checkConfig, formatConfigErrors, nickelFailure } from './nickel.js';
import type { ResourceRecord } from './types.js';

// ---------------------------------------------------------------------------------------------------------------
// validate_config

export interface ValidationDeps {
  engine: NickelEngine;
  importPaths: string[];
  ctx: CheckContext;
  /** The workspace: paths must lie inside it; a text is evaluated as if it were a file in it. */
  workspace: string;
}

export interface ConfigProblem {
  message: string;
  line?: number;
  column?: number;
  field_path?: string;
  /** The nearest name, when a reference was misspelled ("did you mean"). */
  did_you_mean?: string;
  notes?: string[];
  kind?: string;
}

export interface ValidationReport {
  /** The path as given, or `<input>` for a text. */
  source: string;
  ok: boolean;
  errors: ConfigProblem[];
  omitted: number;
  warnings: string[];
  /** The readable report, as `prov validate` prints it. */
  text: string;
}

const INPUT = '<input>';

/** A path inside the workspace (after resolving symlinks), or a usage error saying it is outside. */
export function workspacePath(workspace: string, given: string): string {
  const root = realpathSync(workspace);
  const abs = isAbsolute(given) ? given : resolve(workspace, given);
  let real: string;
  try {
    real = realpathSync(abs);
  } catch {
    // Not there: judge the folder it would be in (a missing file is reported by the check itself).
    let dir = dirname(abs);
    try {
      dir = realpathSync(dir);
    } catch {}
    real = join(dir, abs.slice(dirname(abs).length + 1));
  }
  const rel = relative(root, real);
  if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) {
    throw usageError(`${given} is outside the workspace ${root}`, {
      hint: 'give a path inside the workspace, or the config text itself',
    });
  }
  return real;
}

function problem(e: Record<string, unknown>): ConfigProblem {
  const pos = e.position as { line?: number; column?: number } | undefined;
  const message = String(e.message);
  const mean =
    /did you mean [`'](.+?)[`']\??\)?/.exec(message) ??
    /did you mean [`'](.+?)[`']/.exec(((e.notes as string[] | undefined) ?? []).join('\n'));
  return {
    message,
    ...(pos?.line !== undefined ? { line: pos.line } : {}),
    ...(pos?.column !== undefined ? { column: pos.column } : {}),
    ...(typeof e.field_path === 'string' ? { field_path: e.field_path } : {}),
    ...(mean ? { did_you_mean: mean[1] } : {}),
    ...(Array.isArray(e.notes) && e.notes.length ? { notes: e.notes as string[] } : {}),
    ...(typeof e.kind === 'string' ? { kind: e.kind } : {}),
  };
}

async function checkFile(deps: ValidationDeps, file: string, shown: string, rename?: string) {
  const swap = (s: string) => (rename ? s.split(rename).join(shown) : s);
  try {
    const r = await checkConfig(deps.engine, file, deps.importPaths, deps.ctx);
    const errors = r.errors.map((e) => problem(JSON.parse(swap(JSON.stringify(nickelErrorJson(e, deps.workspace))))));
    return {
      report: {
        source: shown,
        ok: r.errors.length === 0 && r.json !== undefined,
        errors,
        omitted: r.omitted,
        warnings: r.warnings,
        text: r.errors.length ? swap(formatConfigErrors(r, deps.workspace)) : `ok    ${shown}`,
      } satisfies ValidationReport,
      json: r.json,
    };
  } catch (e) {
    const err = nickelFailure(e);
    if (!(err instanceof StratumError)) throw err;
    const details = (err.details ?? { message: err.message }) as Record<string, unknown>;
    const p = problem(JSON.parse(swap(JSON.stringify(details))));
    return {
      report: {
        source: shown,
        ok: false,
        errors: [p],
        omitted: 0,
        warnings: [],
        text: swap(err.display ?? err.message),
      } satisfies ValidationReport,
      json: undefined,
    };
  }
}

/**
 * Runs `fn` on a config given as text (written beside the workspace's files for the call, so relative imports
 * work, then removed) or as a path inside the workspace (a path outside it, or no such file, is refused).
 * `shown` is how messages name it: `<input>` for text, the path as given otherwise.
 */
export async function withConfig<T>(
  workspace: string,
  given: { config?: string | undefined; path?: string | undefined },
  fn: (file: string, shown: string, tempName?: string) => Promise<T>,
): Promise<T> {
  if ((given.config === undefined) === (given.path === undefined))
    throw usageError('give either config (the text) or path (a file in the workspace), not both or neither');
  if (given.config !== undefined) {
    const name = `.prov-check-${process.pid}-${randomBytes(6).toString('hex')}.ncl-check`;
    const file = join(workspace, name);
    writeFileSync(file, given.config, { mode: 0o600 });
    try {
      return await fn(file, INPUT, name);
    } finally {
      rmSync(file, { force: true });
    }
  }
  const path = given.path as string;
  const file = workspacePath(workspace, path);
  if (!existsSync(file) || !statSync(file).isFile()) {
    throw notFoundError(`${path}: no such file in the workspace`, {
      hint: 'give the path of a .ncl file relative to the workspace, or the config text',
    });
  }
  return fn(file, path);
}

/** prov validate's checks on a config text: evaluated as a file of the workspace (relative imports work). */
export async function validateText(deps: ValidationDeps, text: string): Promise<ValidationReport & { json?: string }> {
  return withConfig(deps.workspace, { config: text }, async (file, shown, name) => {
    const { report, json } = await checkFile(deps, file, shown, name);
    return json !== undefined && report.ok ? { ...report, json } : report;
  });
}

/** prov validate's checks on a file of the workspace; a path outside it is refused. */
export async function validatePath(deps: ValidationDeps, path: string): Promise<ValidationReport> {
  return withConfig(deps.workspace, { path }, async (file, shown) => (await checkFile(deps, file, shown)).report);
}

// ---------------------------------------------------------------------------------------------------------------
// query_infrastructure

export const RESOURCE_KINDS = ['server', 'taskserv', 'vpc', 'subnet', 'security_group', 'key_pair'] as const;

export interface InfraFilter {
  kind?: string | undefined;
  provider?: string | undefined;
  /** Zone or region (either matches). */
  zone?: string | undefined;
  status?: string | undefined;
  /** Taskservs of this service, or servers that run it. */
  service?: string | undefined;
  /** Servers named so, and the taskservs on them. */
  host?: string | undefined;
  /** Substring of the address. */
  name?: string | undefined;
}

export interface InfraRow {
  address: string;
  kind: string;
  name: string;
  provider: string;
  zone: string | null;
  status: string;
  id: string | null;
  service?: string;
  version?: string;
  host?: string;
  /** Servers: the taskservs recorded on them. */
  taskservs?: string[];
  updated_at: string;
  /** The state row this answer comes from. */
  source: string;
}

export interface InfraAnswer {
  filter: InfraFilter;
  rows: InfraRow[];
  /** Every state row cited, `state:<address>` (with the serial the state had). */
  sources: string[];
  serial: number;
  text: string;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

export function rowOf(r: ResourceRecord, all: ResourceRecord[]): InfraRow {
  const a = r.attrs as Record<string, unknown>;
  const o = r.outputs as Record<string, unknown>;
  const row: InfraRow = {
    address: r.address,
    kind: r.kind,
    name: r.name,
    provider: r.provider,
    zone: str(o.zone) ?? str(a.zone) ?? str(o.region) ?? str(a.region),
    status: str(o.status) ?? str(o.state) ?? 'recorded',
    id: str(o.id),
    updated_at: r.updated_at,
    source: `state:${r.address}`,
  };
  if (r.kind === 'taskserv') {
    if (str(a.service)) row.service = String(a.service);
    if (str(a.version)) row.version = String(a.version);
    if (str(a.host)) row.host = String(a.host);
  }
  if (r.kind === 'server') {
    row.taskservs = all
      .filter((t) => t.kind === 'taskserv' && (t.attrs as { host?: string }).host === r.name)
      .map((t) => String((t.attrs as { service?: string }).service ?? t.name));
  }
  return row;
}

/** The rows of state matching every given filter, exactly (no model involved). */
export function queryRows(records: ResourceRecord[], f: InfraFilter): InfraRow[] {
  const eq = (a: string | null | undefined, b: string) => (a ?? '').toLowerCase() === b.toLowerCase();
  return records
    .map((r) => rowOf(r, records))
    .filter((r) => !f.kind || eq(r.kind, f.kind))
    .filter((r) => !f.provider || eq(r.provider, f.provider))
    .filter((r) => !f.zone || (r.zone ?? '').toLowerCase().startsWith(f.zone.toLowerCase()))
    .filter((r) => !f.status || eq(r.status, f.status))
    .filter(
      (r) =>
        !f.service ||
        eq(r.service, f.service) ||
        (r.taskservs ?? []).some((s) => s.toLowerCase() === f.service!.toLowerCase()),
    )
    .filter((r) => !f.host || eq(r.kind === 'server' ? r.name : r.host, f.host))
    .filter((r) => !f.name || r.address.toLowerCase().includes(f.name.toLowerCase()))
    .sort((a, b) => byCodeUnits(a.address, b.address));
}

/**
 * A plain-language question as filters, from the words it uses and the values state holds:
 * "Show me all AWS servers in us-east-1" → kind server, provider aws, zone us-east-1;
 * "which servers run etcd" → kind server, service etcd.
 */
export function parseQuestion(question: string, records: ResourceRecord[]): InfraFilter {
  const words: string[] = question.toLowerCase().match(/[a-z0-9][a-z0-9._-]*/g) ?? [];
  const has = (w: string) => words.includes(w);
  const f: InfraFilter = {};
  if (words.some((w) => /^(servers?|hosts?|machines?|instances?|nodes?|vms?)$/.test(w))) f.kind = 'server';
  else if (words.some((w) => /^(taskservs?|services?)$/.test(w))) f.kind = 'taskserv';
  for (const p of ['aws', 'upcloud', 'local']) if (has(p)) f.provider = p;
  const rows = records.map((r) => rowOf(r, records));
  const zones = new Set(rows.map((r) => r.zone).filter((z): z is string => !!z));
  for (const w of words) if (zones.has(w) || [...zones].some((z) => z.startsWith(w) && /\d/.test(w))) f.zone = w;
  const services = new Set(rows.map((r) => r.service).filter((s): s is string => !!s));
  for (const w of words) if (services.has(w)) f.service = w;
  const statuses = new Set(rows.map((r) => r.status));
  // "servers running etcd": a status word followed by a service is the verb, not a status.
  words.forEach((w, i) => {
    if (statuses.has(w) && w !== 'recorded' && !services.has(words[i + 1] ?? '')) f.status = w;
  });
  const names = new Set(rows.filter((r) => r.kind === 'server').map((r) => r.name.toLowerCase()));
  for (const w of words) if (names.has(w)) f.host = w;
  return f;
}

/**
 * A question about kinds of resources, providers or zones ("which servers run etcd", "AWS servers in us-east-1")
 * is an inventory question, answered exactly from state; anything else (a troubleshooting question) gets the
 * ranked facts of state, config and the team's knowledge.
 */
export function isInventoryQuestion(filter: InfraFilter): boolean {
  return filter.kind !== undefined || filter.provider !== undefined || filter.zone !== undefined;
}

export interface KnowledgeHit {
  id: string;
  title: string;
  type: string;
  snippet: string;
}
/** The team's knowledge (kogral), searched by text: best first. */
export type KnowledgeSearch = (query: string, limit: number) => Promise<KnowledgeHit[]>;

export interface Fact {
  /** `state:<address>`, `kogral:<node id>` or `<config file>:<line>`. */
  source: string;
  text: string;
  /** Reciprocal rank fusion score: the sum of 1/(60 + rank) over the lists that hold it. */
  score: number;
}

const STOP = new Set(
  'the and for with what why how does did when after before from into that this are was were can not our its'.split(
    ' ',
  ),
);

/** The words of a question worth matching (3+ letters, not the common ones). */
export function questionTerms(question: string): string[] {
  return [...new Set((question.toLowerCase().match(/[a-z0-9][a-z0-9_-]{2,}/g) ?? []).filter((w) => !STOP.has(w)))];
}

/** Config lines that mention the question's words, most matches first: `<file>:<line>` facts. */
export function configFacts(
  file: string,
  text: string,
  question: string,
  limit = 5,
): { source: string; text: string }[] {
  const terms = questionTerms(question);
  if (!terms.length) return [];
  return text
    .split('\n')
    .map((line, i) => ({ line, n: i + 1, hits: terms.filter((t) => line.toLowerCase().includes(t)).length }))
    .filter((l) => l.hits > 0)
    .sort((a, b) => b.hits - a.hits || a.n - b.n)
    .slice(0, limit)
    .map((l) => ({ source: `${file}:${l.n}`, text: l.line.trim() }));
}

/** Reciprocal rank fusion of ranked lists (k = 60, as in the original paper): one list per kind of source. */
export function fuseRanked(lists: { source: string; text: string }[][], limit = 10, k = 60): Fact[] {
  const by = new Map<string, Fact>();
  for (const list of lists) {
    list.forEach((f, rank) => {
      const prev = by.get(f.source);
      const add = 1 / (k + rank + 1);
      if (prev) prev.score += add;
      else by.set(f.source, { source: f.source, text: f.text, score: add });
    });
  }
  return [...by.values()].sort((a, b) => b.score - a.score || byCodeUnits(a.source, b.source)).slice(0, limit);
}

export function answer(records: ResourceRecord[], filter: InfraFilter, serial: number): InfraAnswer {
  const rows = queryRows(records, filter);
  const what = Object.entries(filter)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  const lines = rows.map(
    (r) =>
      `${r.address} (${[r.provider, r.zone, r.status, r.service ? `${r.service}${r.version ? ` ${r.version}` : ''}` : null, r.taskservs?.length ? `runs ${r.taskservs.join(', ')}` : null].filter(Boolean).join(', ')}) [${r.source}]`,
  );
  const head = `${rows.length} resource${rows.length === 1 ? '' : 's'} in state (serial ${serial})${what ? ` matching ${what}` : ''}`;
  return {
    filter,
    rows,
    sources: rows.map((r) => r.source),
    serial,
    text: rows.length ? `${head}:\n${lines.join('\n')}` : `${head}.`,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// generate_config

/** One answer of the model, with what it cost. */
export interface Draft {
  text: string;
  /** The model that served (as the provider reported it). */
  model: string;
  inputTokens: number;
  outputTokens: number;
  /** Micro-cents (USD 1 = 100,000,000), from vapora's price table; null when the model has no price. */
  costMicroCents: number | null;
}

/** The model's side: one chat turn (vapora's provider layer in production, anything in between in tests). */
export interface Drafter {
  chat(messages: { role: 'user' | 'assistant'; content: string }[], system: string): Promise<Draft>;
}

export interface GenerationUsage {
  calls: number;
  model: string | null;
  input_tokens: number;
  output_tokens: number;
  /** Micro-cents over every call; null when any call had no price. */
  cost_microcents: number | null;
}

export interface GenerateRequest {
  description: string;
  provider?: string | undefined;
  resource_type?: string | undefined;
  /** Drafts the model may make in all, the first included (≥ 1). */
  maxRounds: number;
}

export interface GenerateResult {
  config: string;
  rounds: number;
  /** The problems of each rejected draft, in order (the drafts themselves never leave). */
  repaired: string[][];
  warnings: string[];
  usage: GenerationUsage;
}

export const SYSTEM_PROMPT = `You write infrastructure configurations for prov, in the Nickel language, checked against prov's schemas.
Answer with one Nickel file and nothing else (a fenced \`\`\`nickel block is fine). The file must end with "| Infrastructure" after:
  let Infrastructure = import "infrastructure.ncl" in
The record has: provider ('aws | 'upcloud | 'local), region (aws) or a zone per upcloud server, servers (a list of
{ name, provider, plan, role, zone, spec = { cpu, memory_gb, disk_gb (>= 20), os = { family = 'ubuntu | 'debian | ..., version } }, tags, depends_on }),
hosts (for the local provider: { <server name> = { address, user, port } }), and taskservs (a list of
{ name = '<service>, version, hosts = [server names], depends_on = [taskserv names], config }).
Taskservs run over SSH, so every taskserv host needs an entry in hosts.`;

/** The config out of the model's answer: the first fenced block, else the whole text. */
export function extractNickel(text: string): string {
  const m = /```[a-zA-Z]*\n([\s\S]*?)```/.exec(text);
  return `${(m ? m[1]! : text).trim()}\n`;
}

const problemLine = (p: ConfigProblem) =>
  `${p.line !== undefined ? `line ${p.line}${p.column !== undefined ? `:${p.column}` : ''}: ` : ''}${p.message}${p.field_path ? ` (at ${p.field_path})` : ''}${p.notes?.length ? ` — ${p.notes.join('; ')}` : ''}`;

/**
 * Drafts, validates, repairs: every draft is checked as `prov validate` checks a file, and a rejected draft goes
 * back to the model with its problems. Returns only a draft that validated; after maxRounds, a validation error
 * naming the last problems.
 */
export async function generateConfig(
  req: GenerateRequest,
  drafter: Drafter,
  validate: (text: string) => Promise<ValidationReport>,
): Promise<GenerateResult> {
  if (!req.description.trim()) throw usageError('describe what to build', { hint: 'e.g. "3 etcd nodes on UpCloud"' });
  const rounds = Math.max(1, Math.floor(req.maxRounds));
  const ask = [
    `Write a prov config for: ${req.description.trim()}`,
    req.provider ? `Use the ${req.provider} provider.` : '',
    req.resource_type ? `The main resource is a ${req.resource_type}.` : '',
  ]
    .filter(Boolean)
    .join('\n');
  const messages: { role: 'user' | 'assistant'; content: string }[] = [{ role: 'user', content: ask }];
  const repaired: string[][] = [];
  let last: ConfigProblem[] = [];
  const usage: GenerationUsage = { calls: 0, model: null, input_tokens: 0, output_tokens: 0, cost_microcents: 0 };
  for (let round = 1; round <= rounds; round++) {
    const answer = await drafter.chat(messages, SYSTEM_PROMPT);
    usage.calls++;
    usage.model = answer.model;
    usage.input_tokens += answer.inputTokens;
    usage.output_tokens += answer.outputTokens;
    usage.cost_microcents =
      usage.cost_microcents === null || answer.costMicroCents === null
        ? null
        : usage.cost_microcents + answer.costMicroCents;
    const draft = extractNickel(answer.text);
    const report = await validate(draft);
    if (report.ok) return { config: draft, rounds: round, repaired, warnings: report.warnings, usage };
    last = report.errors.length ? report.errors : [{ message: 'the config did not evaluate' }];
    repaired.push(last.map(problemLine));
    messages.push(
      { role: 'assistant', content: draft },
      {
        role: 'user',
        content: `prov validate rejected that config:\n${last.map((p) => `- ${problemLine(p)}`).join('\n')}\nFix every problem and answer with the whole corrected file.`,
      },
    );
  }
  throw validationError(
    `no valid config after ${rounds} attempt${rounds === 1 ? '' : 's'}; the last problems: ${last.map(problemLine).join('; ')}`,
    {
      hint: 'describe the infrastructure more precisely, allow more rounds (llm.max_rounds), or use another model',
      details: { rounds, problems: last, usage },
    },
  );
}
