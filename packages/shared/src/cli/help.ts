import { paint } from '../output.js';
import type { HelpCommand, HelpFlag, HelpIndex, Resolved } from './help-index.js';

const bold = (s: string) => paint(s, 'bold');
const dim = (s: string) => paint(s, 'dim');

/** Help text from help-index.json, in oclif's layout, without loading oclif. */
export function renderHelp(index: HelpIndex, target: Resolved): string {
  if (target.kind === 'command') return commandHelp(index, target.command);
  if (target.kind === 'topic') return topicHelp(index, target.topic);
  return topicHelp(index, '');
}

function spaced(id: string): string {
  return id.replaceAll(':', ' ');
}

function list(rows: [string, string][]): string {
  const w = Math.max(...rows.map(([a]) => a.length));
  return rows.map(([a, b]) => `  ${a.padEnd(w)}  ${b}`.trimEnd()).join('\n');
}

function topicHelp(index: HelpIndex, topic: string): string {
  const prefix = topic ? `${topic}:` : '';
  const depth = topic ? topic.split(':').length + 1 : 1;
  const visible = Object.values(index.commands).filter((c) => !c.hidden && c.id.startsWith(prefix));
  const subtopics = new Map<string, string>();
  const commands: HelpCommand[] = [];
  for (const c of visible) {
    const parts = c.id.split(':');
    if (parts.length === depth) commands.push(c);
    else {
      const t = parts.slice(0, depth).join(':');
      if (!subtopics.has(t)) subtopics.set(t, index.topics[t] ?? '');
    }
  }
  const out: string[] = [];
  out.push(topic ? (index.topics[topic] ?? '') : index.description);
  out.push('', bold('USAGE'), `  $ ${index.bin} ${topic ? `${spaced(topic)} ` : ''}COMMAND`);
  if (subtopics.size > 0) {
    const rows = [...subtopics].sort(([a], [b]) => a.localeCompare(b));
    out.push('', bold('TOPICS'), list(rows.map(([t, d]) => [spaced(t), d])));
  }
  if (commands.length > 0) {
    const rows = commands.sort((a, b) => a.id.localeCompare(b.id));
    out.push('', bold('COMMANDS'), list(rows.map((c) => [spaced(c.id), c.summary ?? ''])));
  }
  const next = topic ? `${index.bin} ${spaced(topic)} COMMAND --help` : `${index.bin} COMMAND --help`;
  out.push('', `Run '${next}' for a command's flags and examples.`);
  if (!topic) out.push(`Version: ${index.bin} --version. Shell completion: ${index.bin} autocomplete.`);
  return out.filter((l, i) => !(i === 0 && l === '')).join('\n');
}

/** Choices short enough to show in the flag's label; longer lists go in its description. */
const inlineChoices = (f: HelpFlag) => (f.options?.length ? f.options.join('|').length <= 32 : false);

function flagLabel(f: HelpFlag): string {
  const name = `${f.char ? `-${f.char}, ` : '    '}--${f.name}`;
  if (f.type === 'boolean') return name;
  const value = inlineChoices(f) ? `${f.options?.join('|')}` : (f.helpValue ?? '<value>');
  return `${name}=${value}`;
}

function flagDesc(f: HelpFlag): string {
  const bits = [f.description ?? ''];
  if (f.options?.length && !inlineChoices(f)) bits.push(`(one of: ${f.options.join(', ')})`);
  if (f.required) bits.push('(required)');
  if (f.default !== undefined && f.type === 'option') bits.push(dim(`[default: ${String(f.default)}]`));
  return bits.filter(Boolean).join(' ');
}

function commandHelp(index: HelpIndex, c: HelpCommand): string {
  const out: string[] = [];
  out.push(c.summary ?? '');
  const argsUsage = c.args.map((a) => (a.required ? a.name.toUpperCase() : `[${a.name.toUpperCase()}]`));
  const flags = c.flags.filter((f) => !f.hidden);
  const own = flags.filter((f) => f.helpGroup !== 'GLOBAL');
  const global = flags.filter((f) => f.helpGroup === 'GLOBAL');
  const required = own.filter((f) => f.required).map((f) => `--${f.name}${f.type === 'option' ? ' <value>' : ''}`);
  const usage = [
    `$ ${index.bin}`,
    spaced(c.id),
    ...argsUsage,
    ...required,
    own.length > required.length ? '[FLAGS]' : '',
  ]
    .filter(Boolean)
    .join(' ');
  out.push('', bold('USAGE'), `  ${usage}`);
  if (c.args.length > 0) {
    const argDesc = (a: HelpCommand['args'][number]) =>
      [a.description ?? '', a.options?.length ? `(one of: ${a.options.join(', ')})` : ''].filter(Boolean).join(' ');
    out.push('', bold('ARGUMENTS'), list(c.args.map((a) => [a.name.toUpperCase(), argDesc(a)])));
  }
  if (own.length > 0) out.push('', bold('FLAGS'), list(own.map((f) => [flagLabel(f), flagDesc(f)])));
  if (global.length > 0) out.push('', bold('GLOBAL FLAGS'), list(global.map((f) => [flagLabel(f), flagDesc(f)])));
  if (c.description) {
    const body = c.description
      .split('\n')
      .map((l) => (l ? `  ${l}` : ''))
      .join('\n');
    out.push('', bold('DESCRIPTION'), body);
  }
  if (c.aliases?.length) out.push('', bold('ALIASES'), ...c.aliases.map((a) => `  $ ${index.bin} ${spaced(a)}`));
  if (c.examples.length > 0) {
    const ex = c.examples.map((e) =>
      e
        .replaceAll('<%= config.bin %>', index.bin)
        .replaceAll('<%= command.id %>', spaced(c.id))
        .split('\n')
        .map((l) => (l.startsWith(`${index.bin} `) ? `  $ ${l}` : `  ${l}`))
        .join('\n'),
    );
    out.push('', bold('EXAMPLES'), ex.join('\n\n'));
  }
  return out.join('\n');
}
