/**
 * The agent format: an `.agent.mdx` file with YAML frontmatter (name, version, provider, model,
 * temperature, max_tokens) and markdown sections `## System Prompt`, `## Template Variables`, `## User Prompt`,
 * `## Output Validation`. Parsed strictly: every problem is collected with its line, then reported at once.
 * No MDX compiler: the prompts are nunjucks templates (`{{var}}`, `{% if %}`); JSX is not supported.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { StratumError } from '@stratumiops/shared/errors';
import * as z from '@stratumiops/shared/zod';
import nunjucks from 'nunjucks';
import YAML from 'yaml';
import { refuseFolder } from '../files.js';
import { AGENT_ROLES, type AgentRole } from './roles.js';
import { parseSchema, type SchemaNode, SchemaSyntaxError, toJsonSchema, toZod } from './schema.js';

export const AGENT_PROVIDERS = ['anthropic', 'openai', 'gemini', 'ollama'] as const;
export type AgentProvider = (typeof AGENT_PROVIDERS)[number];
/** Other names people write for a provider (`claude` for anthropic, `google` for gemini). */
const PROVIDER_ALIASES: Record<string, AgentProvider> = { claude: 'anthropic', google: 'gemini' };

export { AGENT_ROLES, type AgentRole };
export const OUTPUT_FORMATS = ['json', 'text', 'markdown'] as const;

const SECTIONS = {
  'system prompt': 'system',
  'template variables': 'variables',
  'user prompt': 'user',
  'output validation': 'output',
} as const;
type SectionKey = (typeof SECTIONS)[keyof typeof SECTIONS];

export interface AgentVariable {
  name: string;
  description: string;
  optional: boolean;
  line: number;
}

export interface AgentOutput {
  format: (typeof OUTPUT_FORMATS)[number];
  /** The compact notation as written. */
  schemaText?: string;
  schema?: SchemaNode;
  zod?: z.ZodType;
  jsonSchema?: Record<string, unknown>;
  /** `nickel://path.ncl` as written, and the absolute path. */
  contract?: string;
  contractPath?: string;
  /** Repairs asked for after an invalid output (0: none). */
  maxRepairs: number;
}

export interface Agent {
  file: string;
  dir: string;
  name: string;
  version: string;
  title?: string;
  description?: string;
  provider: AgentProvider;
  model: string;
  temperature?: number;
  maxTokens: number;
  role: AgentRole;
  system: string;
  user: string;
  /** Line in the file where each prompt's text starts (nunjucks errors are relative to it). */
  systemLine: number;
  userLine: number;
  variables: AgentVariable[];
  output: AgentOutput;
}

export interface AgentIssue {
  line: number;
  message: string;
}

export const frontmatterSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_-]*$/, { message: 'must start with a letter and use letters, digits, _ and -' }),
  version: z.string().min(1),
  description: z.string().optional(),
  provider: z.string(),
  model: z.string().min(1),
  temperature: z.number().min(0).max(2).optional(),
  max_tokens: z.number().int().positive().max(1_000_000).default(1024),
  role: z.enum(AGENT_ROLES).default('developer'),
});

const outputSchema = z.strictObject({
  format: z.enum(OUTPUT_FORMATS).default('text'),
  schema: z.string().optional(),
  contract: z.string().optional(),
  max_repairs: z.number().int().min(0).max(5).default(1),
});

const VAR_ITEM = /^[-*]\s+`?\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}`?\s*(?::\s*(.*))?$/;
const BARE_ITEM = /^[-*]\s+`([A-Za-z_][A-Za-z0-9_]*)`\s*(?::\s*(.*))?$/;

/** Template variables read by a prompt, with the line (1-based, within the text) of their first use. */
export function usedVariables(text: string): Map<string, number> {
  const used = new Map<string, number>();
  const local = new Set<string>();
  const lines = text.split('\n');
  for (const l of lines) {
    for (const m of l.matchAll(/\{%-?\s*for\s+([A-Za-z_]\w*)(?:\s*,\s*([A-Za-z_]\w*))?\s+in\b/g)) {
      local.add(m[1] as string);
      if (m[2]) local.add(m[2]);
    }
    for (const m of l.matchAll(/\{%-?\s*set\s+([A-Za-z_]\w*)/g)) local.add(m[1] as string);
  }
  const KEYWORDS = new Set(['not', 'true', 'false', 'none', 'null', 'and', 'or', 'in', 'is', 'loop']);
  lines.forEach((l, i) => {
    const found: string[] = [];
    for (const m of l.matchAll(/\{\{-?\s*([A-Za-z_]\w*)/g)) found.push(m[1] as string);
    for (const m of l.matchAll(/\{%-?\s*(?:if|elif)\s+(?:not\s+)?([A-Za-z_]\w*)/g)) found.push(m[1] as string);
    for (const m of l.matchAll(/\{%-?\s*for\s+\w+(?:\s*,\s*\w+)?\s+in\s+([A-Za-z_]\w*)/g)) found.push(m[1] as string);
    for (const name of found) {
      if (KEYWORDS.has(name) || local.has(name)) continue;
      if (!used.has(name)) used.set(name, i + 1);
    }
  });
  return used;
}

function agentError(file: string, issues: AgentIssue[]): StratumError {
  issues.sort((a, b) => (a.line || Number.MAX_SAFE_INTEGER) - (b.line || Number.MAX_SAFE_INTEGER));
  const n = issues.length;
  const title = `${file} is not a valid agent (${n} problem${n === 1 ? '' : 's'})`;
  return new StratumError('validation', title, {
    hint: "fix the lines listed; 'typedialog agent validate FILE' checks an agent file",
    details: { file, issues },
    display: [
      `typedialog: ${title}`,
      ...issues.map((i) => `  ${file}${i.line ? `:${i.line}` : ''}: ${i.message}`),
    ].join('\n'),
  });
}

export function loadAgent(path: string): Agent {
  const file = resolve(path);
  if (!existsSync(file)) {
    throw new StratumError('notFound', `agent file ${path} does not exist`, {
      hint: 'agent files are markdown with YAML frontmatter, e.g. examples/agents/code_reviewer.agent.mdx',
    });
  }
  refuseFolder(
    file,
    `${path} is a folder, not an agent file ('typedialog agent validate ${path}' checks every agent in it)`,
  );
  return parseAgent(readFileSync(file, 'utf8'), path);
}

/** Parses an agent file's text; throws a StratumError (exit 3) listing every problem with its line. */
export function parseAgent(text: string, file = '<inline>'): Agent {
  const issues: AgentIssue[] = [];
  const add = (line: number, message: string) => issues.push({ line, message });
  const lines = text.replace(/\r\n/g, '\n').split('\n');

  // --- frontmatter ---
  let fm: Record<string, unknown> = {};
  let bodyStart = 0;
  if (lines[0]?.trim() !== '---') {
    add(1, "the file must start with YAML frontmatter between '---' lines (name, version, provider, model, ...)");
  } else {
    const close = lines.findIndex((l, i) => i > 0 && l.trim() === '---');
    if (close < 0) add(1, "the frontmatter is not closed: add a '---' line after it");
    else {
      bodyStart = close + 1;
      const doc = YAML.parseDocument(lines.slice(1, close).join('\n'), { prettyErrors: false });
      let fmOk = false;
      if (doc.errors.length > 0) {
        for (const e of doc.errors) add((e.linePos?.[0].line ?? 0) + 1, `frontmatter: ${e.message.split('\n')[0]}`);
      } else {
        const v = doc.toJS() ?? {};
        if (typeof v !== 'object' || Array.isArray(v)) add(2, 'frontmatter: expected key: value lines');
        else {
          fm = v as Record<string, unknown>;
          fmOk = true;
        }
      }
      const keyLine = (key: string) => {
        const i = lines.slice(1, close).findIndex((l) => new RegExp(`^${key}\\s*:`).test(l));
        return i < 0 ? 1 : i + 2;
      };
      const r = frontmatterSchema.safeParse(fm);
      if (!r.success && fmOk) {
        for (const i of r.error.issues) {
          if (i.code === 'unrecognized_keys') {
            for (const k of i.keys) {
              add(
                keyLine(k),
                `frontmatter: unknown key '${k}' (expected ${Object.keys(frontmatterSchema.shape).join(', ')})`,
              );
            }
            continue;
          }
          const key = String(i.path[0] ?? '');
          const input = fm[key];
          let msg = i.message;
          if (i.code === 'invalid_type') {
            msg = input === undefined ? 'is missing' : `must be a ${i.expected}, not ${JSON.stringify(input)}`;
            if (key === 'version' && typeof input === 'number') {
              const raw = (lines[keyLine(key) - 1] ?? '').replace(/^[^:]*:\s*/, '').trim();
              msg += ` (quote it: version: "${raw}")`;
            }
          } else if (i.code === 'invalid_value') msg = `must be one of ${i.values.join(', ')}`;
          else if (i.code === 'too_big') msg = `must be at most ${i.maximum}`;
          else if (i.code === 'too_small')
            msg = typeof input === 'string' ? 'must not be empty' : `must be at least ${i.minimum}`;
          else if (i.code === 'invalid_format') msg = 'must start with a letter and use letters, digits, _ and -';
          add(input === undefined ? 1 : keyLine(key), `frontmatter: '${key}' ${msg}`);
        }
      }
      const p = fm.provider;
      if (typeof p === 'string' && !(AGENT_PROVIDERS as readonly string[]).includes(PROVIDER_ALIASES[p] ?? p)) {
        add(
          keyLine('provider'),
          `frontmatter: unknown provider '${p}' (expected one of ${AGENT_PROVIDERS.join(', ')})`,
        );
      }
    }
  }

  // --- sections (headings inside fenced code blocks are text) ---
  const sections = new Map<SectionKey, { heading: number; start: number; text: string[] }>();
  let title: string | undefined;
  let current: { heading: number; start: number; text: string[] } | undefined;
  let fence: string | undefined;
  let fenceLine = 0;
  for (let i = bodyStart; i < lines.length; i++) {
    const line = lines[i] as string;
    const lineNo = i + 1;
    const f = /^\s*(```+|~~~+)/.exec(line);
    if (f) {
      if (!fence) {
        fence = (f[1] as string).slice(0, 3);
        fenceLine = lineNo;
      } else if ((f[1] as string).startsWith(fence) && /^\s*(```+|~~~+)\s*$/.test(line)) fence = undefined;
    }
    if (!fence && !f) {
      const h1 = /^#\s+(.+?)\s*$/.exec(line);
      if (h1 && !current && title === undefined) {
        title = h1[1];
        continue;
      }
      const h2 = /^##\s+(.+?)\s*#*\s*$/.exec(line);
      if (h2) {
        const name = (h2[1] as string).toLowerCase();
        const key = SECTIONS[name as keyof typeof SECTIONS];
        if (!key) {
          add(
            lineNo,
            `unknown section '## ${h2[1]}' (expected ${Object.keys(SECTIONS)
              .map((s) => s.replace(/\b\w/g, (c) => c.toUpperCase()))
              .join(', ')})`,
          );
          current = { heading: lineNo, start: lineNo + 1, text: [] };
          continue;
        }
        if (sections.has(key))
          add(lineNo, `section '## ${h2[1]}' appears twice (first at line ${sections.get(key)?.heading})`);
        current = { heading: lineNo, start: lineNo + 1, text: [] };
        if (!sections.has(key)) sections.set(key, current);
        continue;
      }
    }
    current?.text.push(line);
  }
  if (fence) add(fenceLine, `the code block opened here (${fence}) is never closed`);

  const body = (key: SectionKey) => {
    const s = sections.get(key);
    if (!s) return undefined;
    // Trim blank lines around the text, keeping the line where it starts.
    let a = 0;
    let b = s.text.length;
    while (a < b && s.text[a]?.trim() === '') a++;
    while (b > a && s.text[b - 1]?.trim() === '') b--;
    return { text: s.text.slice(a, b).join('\n'), line: s.start + a, heading: s.heading };
  };

  const user = body('user');
  if (!user) add(0, "no '## User Prompt' section: it is the message sent to the model");
  else if (user.text === '') add(user.heading, "the '## User Prompt' section is empty");
  const system = body('system');
  if (system && system.text === '') add(system.heading, "the '## System Prompt' section is empty");

  // --- template variables ---
  const variables: AgentVariable[] = [];
  const vars = body('variables');
  if (vars) {
    vars.text.split('\n').forEach((l, i) => {
      const t = l.trim();
      if (t === '') return;
      const m = VAR_ITEM.exec(t) ?? BARE_ITEM.exec(t);
      const lineNo = vars.line + i;
      if (!m) {
        add(lineNo, 'expected a variable as "- `{{name}}`: description"');
        return;
      }
      const name = m[1] as string;
      let description = (m[2] ?? '').trim();
      const optional = /^\(optional\)\s*/i.test(description);
      if (optional) description = description.replace(/^\(optional\)\s*/i, '');
      if (variables.some((v) => v.name === name)) add(lineNo, `variable '${name}' is declared twice`);
      else variables.push({ name, description, optional, line: lineNo });
    });
  }

  // --- prompts: nunjucks syntax and variables used vs declared ---
  const env = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: true });
  const used = new Map<string, number>();
  for (const [label, p] of [
    ['System Prompt', system],
    ['User Prompt', user],
  ] as const) {
    if (!p || p.text === '') continue;
    try {
      new nunjucks.Template(p.text, env, label, true);
    } catch (e) {
      const msg = (e as Error).message;
      const pos = /\[Line (\d+), Column (\d+)\]/.exec(msg);
      const what = msg.split('\n').slice(1).join(' ').trim() || msg;
      add(pos ? p.line + Number(pos[1]) - 1 : p.line, `${label}: template syntax: ${what}`);
    }
    for (const [name, l] of usedVariables(p.text)) if (!used.has(name)) used.set(name, p.line + l - 1);
  }
  const declared = new Set(variables.map((v) => v.name));
  for (const [name, line] of used) {
    if (!declared.has(name)) {
      add(
        line,
        `variable '${name}' is used but not declared: add "- \`{{${name}}}\`: description" to ## Template Variables`,
      );
    }
  }
  for (const v of variables) {
    if (!used.has(v.name)) add(v.line, `variable '${v.name}' is declared but no prompt uses it`);
  }

  // --- output validation ---
  const dir = file === '<inline>' ? process.cwd() : dirname(resolve(file));
  const output: AgentOutput = { format: 'text', maxRepairs: 1 };
  const out = body('output');
  if (out && out.text !== '') {
    // The section may be plain `key: value` lines or one fenced yaml block.
    let src = out.text;
    let offset = out.line;
    const fenced = /^(```|~~~)[a-z]*\n([\s\S]*?)\n\1\s*$/.exec(src);
    if (fenced) {
      src = fenced[2] as string;
      offset = out.line + 1;
    }
    const doc = YAML.parseDocument(src, { prettyErrors: false });
    const srcLines = src.split('\n');
    const keyLine = (key: string) => {
      const i = srcLines.findIndex((l) => new RegExp(`^${key}\\s*:`).test(l));
      return i < 0 ? out.heading : offset + i;
    };
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        add(offset + (e.linePos?.[0].line ?? 1) - 1, `Output Validation: ${e.message.split('\n')[0]}`);
      }
    } else {
      const raw = (doc.toJS() ?? {}) as Record<string, unknown>;
      const r = outputSchema.safeParse(raw);
      if (!r.success) {
        for (const i of r.error.issues) {
          if (i.code === 'unrecognized_keys') {
            for (const k of i.keys) {
              add(keyLine(k), `Output Validation: unknown key '${k}' (expected format, schema, contract, max_repairs)`);
            }
          } else {
            const key = String(i.path[0] ?? '');
            const msg = i.code === 'invalid_value' ? `must be one of ${i.values.join(', ')}` : i.message;
            add(key ? keyLine(key) : out.heading, `Output Validation: ${key ? `'${key}' ` : ''}${msg}`);
          }
        }
      } else {
        output.format = r.data.format;
        output.maxRepairs = r.data.max_repairs;
        if ((r.data.schema !== undefined || r.data.contract !== undefined) && r.data.format !== 'json') {
          const key = r.data.schema !== undefined ? 'schema' : 'contract';
          add(keyLine(key), 'Output Validation: a schema or contract needs format: json');
        }
      }
      // The schema and the contract are checked even when another key is wrong: every problem at once.
      if (typeof raw.schema === 'string') {
        output.schemaText = raw.schema;
        const at = keyLine('schema');
        const block = /^schema\s*:\s*[|>]/.test(srcLines[at - offset] ?? '');
        try {
          output.schema = parseSchema(raw.schema);
          output.zod = toZod(output.schema);
          output.jsonSchema = toJsonSchema(output.schema);
        } catch (e) {
          if (!(e instanceof SchemaSyntaxError)) throw e;
          add(block ? at + e.line : at, `Output Validation: schema: ${e.message} (column ${e.column})`);
        }
      }
      if (typeof raw.contract === 'string') {
        const m = /^nickel:\/\/(.+)$/.exec(raw.contract);
        if (!m) add(keyLine('contract'), 'Output Validation: expected contract: nickel://path/to/contract.ncl');
        else {
          output.contract = raw.contract;
          output.contractPath = resolve(dir, m[1] as string);
          if (file !== '<inline>' && !existsSync(output.contractPath)) {
            add(
              keyLine('contract'),
              `Output Validation: contract file ${m[1]} not found (relative to ${dirname(file)})`,
            );
          }
        }
      }
    }
  }

  const front = frontmatterSchema.safeParse(fm);
  if (issues.length > 0 || !front.success)
    throw agentError(file, issues.length > 0 ? issues : [{ line: 1, message: 'invalid frontmatter' }]);
  const f = front.data;
  return {
    file,
    dir,
    name: f.name,
    version: f.version,
    ...(title !== undefined ? { title } : {}),
    ...(f.description !== undefined ? { description: f.description } : {}),
    provider: PROVIDER_ALIASES[f.provider] ?? (f.provider as AgentProvider),
    model: f.model,
    ...(f.temperature !== undefined ? { temperature: f.temperature } : {}),
    maxTokens: f.max_tokens,
    role: f.role,
    system: system?.text ?? '',
    user: user?.text ?? '',
    systemLine: system?.line ?? 0,
    userLine: user?.line ?? 0,
    variables,
    output,
  };
}
