/** The shape of `help-index.json`, written at build time from the oclif manifests. */
export interface HelpFlag {
  name: string;
  char?: string;
  description?: string;
  type: 'boolean' | 'option';
  required?: boolean;
  options?: string[];
  default?: unknown;
  helpValue?: string;
  multiple?: boolean;
  helpGroup?: string;
  hidden?: boolean;
}
export interface HelpArg {
  name: string;
  description?: string;
  required?: boolean;
  options?: string[];
}
export interface HelpCommand {
  id: string;
  summary?: string;
  description?: string;
  aliases?: string[];
  hidden?: boolean;
  args: HelpArg[];
  flags: HelpFlag[];
  examples: string[];
}
export interface HelpIndex {
  bin: string;
  version: string;
  description: string;
  topics: Record<string, string>;
  commands: Record<string, HelpCommand>;
}

export type Resolved =
  | { kind: 'command'; command: HelpCommand; words: number }
  | { kind: 'topic'; topic: string; words: number }
  | { kind: 'root' }
  /** `scope` is the topic the unknown word was looked up in ('' at the root). */
  | { kind: 'unknown'; attempted: string; scope: string };

/** Finds the command (longest match of leading words, aliases included) or topic named by argv. */
export function resolve(index: HelpIndex, words: string[]): Resolved {
  if (words.length === 0) return { kind: 'root' };
  const byId = new Map<string, HelpCommand>();
  for (const c of Object.values(index.commands)) {
    byId.set(c.id, c);
    for (const a of c.aliases ?? []) byId.set(a, c);
  }
  for (let n = words.length; n > 0; n--) {
    const id = words.slice(0, n).join(':');
    const command = byId.get(id);
    if (command) return { kind: 'command', command, words: n };
  }
  for (let n = words.length; n > 0; n--) {
    const id = words.slice(0, n).join(':');
    if (!isTopic(index, id)) continue;
    // A topic takes no arguments: a word after it must have been meant as a command.
    if (n < words.length) return { kind: 'unknown', attempted: words.slice(0, n + 1).join(' '), scope: id };
    return { kind: 'topic', topic: id, words: n };
  }
  return { kind: 'unknown', attempted: words[0] ?? '', scope: '' };
}

export function isTopic(index: HelpIndex, id: string): boolean {
  if (index.topics[id] !== undefined) return true;
  return Object.keys(index.commands).some((c) => c.startsWith(`${id}:`));
}

/** The command and topic names one level below `scope` ('' for the root). */
export function childNames(index: HelpIndex, scope: string): string[] {
  const prefix = scope ? `${scope}:` : '';
  const depth = scope ? scope.split(':').length : 0;
  const names = new Set<string>();
  for (const id of [...Object.keys(index.commands), ...Object.keys(index.topics)]) {
    if (id.startsWith(prefix)) names.add(id.split(':')[depth] ?? '');
  }
  names.delete('');
  return [...names];
}
