/**
 * Command templates of exec agents (`scripts/check.sh {{payload.host}}`): pure logic, no process is started here.
 *
 * A template is split into argv once, when the agent is defined, and a `{{…}}` value only ever becomes (part of)
 * one argv entry: there is no shell in between. What still turns data into code is a template that hands a value
 * to a program which interprets it (`sh -c "echo {{payload.host}}"`, `python3 -c`, `ssh host cmd {{x}}`, awk
 * program text…) or lets data choose the program. `parseCommandTemplate` refuses those shapes; values reach shell
 * code through environment variables instead (`commandEnv`: `$VAPORA_PAYLOAD_HOST`). At run time `renderCommand`
 * refuses a value that would become an option (argument injection: `tar {{payload.f}}` with `--to-command=…`).
 */
import { validationError } from '@stratumiops/shared/errors';
import { lookupPath as lookup } from './vars.js';

export interface CommandTemplate {
  /** The words, split once (shell-style quotes, nothing interpreted); placeholders are still in them. */
  argv: string[];
  /** Placeholder paths (`payload.host`), in order of first appearance, without duplicates. */
  placeholders: string[];
  /**
   * argv indices where a value starting with `-` cannot become an option: after a `--` word that follows the
   * program, or the value of an option that takes one (`jq --arg name {{…}}`, `ssh -p {{…}}`).
   */
  dashSafe: number[];
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_][\w.]*)\s*\}\}/g;
const LEADING_PLACEHOLDER = /^\{\{\s*[A-Za-z_][\w.]*\s*\}\}/;
/** Linux refuses a single environment string over 128 KiB (MAX_ARG_STRLEN); such values stay on stdin only. */
const MAX_ENV_BYTES = 128 * 1024 - 1;

/** Splits a command template into words, shell-style quotes ('…', "…", \) but no shell: nothing is interpreted. */
export function splitWords(template: string): string[] {
  const words: string[] = [];
  let cur = '';
  let has = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < template.length; i++) {
    const ch = template[i] as string;
    if (quote) {
      if (ch === quote) quote = undefined;
      else if (ch === '\\' && quote === '"' && i + 1 < template.length) cur += template[++i];
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      has = true;
    } else if (ch === '\\' && i + 1 < template.length) {
      cur += template[++i];
      has = true;
    } else if (/\s/.test(ch)) {
      if (has || cur) words.push(cur);
      cur = '';
      has = false;
    } else {
      cur += ch;
      has = true;
    }
  }
  if (quote) throw validationError(`unclosed ${quote} in command template`);
  if (has || cur) words.push(cur);
  return words;
}

/** `payload.host` → `VAPORA_PAYLOAD_HOST`: the environment variable that carries a placeholder's value. */
export function envName(path: string): string {
  return `VAPORA_${path.replace(/[^A-Za-z0-9]/g, '_').toUpperCase()}`;
}

/** The variable a script should read instead of `{{path}}` (a nested payload path: its top-level key, as JSON). */
function envFor(path: string): string {
  const parts = path.split('.');
  if (parts[0] === 'payload' && parts.length > 2) return `${envName(parts.slice(0, 2).join('.'))} (JSON)`;
  return envName(path);
}

/** True for the names `commandEnv` produces: an inherited one must not reach a command as if it were the task's. */
export function isCommandEnvName(name: string): boolean {
  return /^VAPORA_(PAYLOAD|TASK_|AGENT_|PROMPT$|OMITTED$)/.test(name);
}

const text = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

/**
 * The environment of one run: every top-level payload key as `VAPORA_PAYLOAD_<KEY>` (strings as they are, other
 * values as JSON), the whole payload as `VAPORA_PAYLOAD`, `VAPORA_TASK_ID|TYPE|TITLE|PRIORITY|DESCRIPTION`,
 * `VAPORA_AGENT_ID|ROLE` and `VAPORA_PROMPT`. Two keys mapping to one name: the first wins. A value over 128 KiB
 * is left out (Linux would refuse to start the command) and named in `VAPORA_OMITTED`; stdin always has all of
 * it. A value containing NUL cannot be passed to a command: refused.
 */
export function commandEnv(vars: Record<string, unknown>): Record<string, string> {
  const env: Record<string, string> = {};
  const omitted: string[] = [];
  const put = (name: string, path: string, v: unknown) => {
    if (v === undefined || Object.hasOwn(env, name)) return;
    const s = text(v);
    if (s.includes('\0')) {
      throw validationError(
        `the value of {{${path}}} (${name}) contains a NUL byte, which cannot be passed to a command`,
      );
    }
    if (Buffer.byteLength(s) > MAX_ENV_BYTES - name.length - 1) omitted.push(name);
    else env[name] = s;
  };
  const payload = vars.payload;
  if (payload !== undefined) {
    put('VAPORA_PAYLOAD', 'payload', JSON.stringify(payload ?? null));
    if (payload && typeof payload === 'object' && !Array.isArray(payload)) {
      for (const [k, v] of Object.entries(payload)) put(envName(`payload.${k}`), `payload.${k}`, v);
    }
  }
  for (const [group, keys] of [
    ['task', ['id', 'type', 'title', 'priority', 'description']],
    ['agent', ['id', 'role']],
  ] as const) {
    const g = vars[group];
    if (!g || typeof g !== 'object') continue;
    for (const k of keys) {
      const v = (g as Record<string, unknown>)[k];
      if (v !== null) put(envName(`${group}.${k}`), `${group}.${k}`, v);
    }
  }
  if (vars.prompt !== undefined && vars.prompt !== null) put('VAPORA_PROMPT', 'prompt', vars.prompt);
  if (omitted.length) env.VAPORA_OMITTED = omitted.join(',');
  return env;
}

/** `{{payload.host}}` → the value (objects as JSON); a missing variable is an error, never an empty string. */
export function renderWord(word: string, vars: Record<string, unknown>): string {
  return word.replace(PLACEHOLDER, (_m, path: string) => {
    const v = lookup(vars, path);
    if (v === undefined || v === null) throw validationError(`template variable '${path}' is missing`);
    const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
    if (s.includes('\0')) {
      throw validationError(`the value of {{${path}}} contains a NUL byte, which cannot be passed to a command`);
    }
    return s;
  });
}

/**
 * The argv of one run: each word rendered on its own. A word that starts with a placeholder and renders to
 * something starting with `-` would be read as an option (argument injection): refused unless the template has a
 * `--` after the program before it.
 */
export function renderCommand(tpl: CommandTemplate, vars: Record<string, unknown>): string[] {
  const safe = new Set(tpl.dashSafe);
  return tpl.argv.map((word, i) => {
    const out = renderWord(word, vars);
    if (out.startsWith('-') && LEADING_PLACEHOLDER.test(word) && !safe.has(i)) {
      const ph = placeholdersIn(word)[0] as string;
      throw validationError(
        `the value of {{${ph}}} starts with '-' and would be read as an option, not as data (argument injection): ` +
          `put -- before it in the template (if the program accepts --) or give the placeholder a prefix such as ` +
          `--host={{${ph}}}`,
      );
    }
    return out;
  });
}

function placeholdersIn(word: string): string[] {
  return [...word.matchAll(PLACEHOLDER)].map((m) => m[1] as string);
}

// ---- the analysis of a template's shape ----

interface Word {
  text: string;
  /** The placeholder paths in this word. */
  ph: string[];
}

interface Ctx {
  w: Word[];
  /** Index of the program of the main command (after wrappers), -1 until known. */
  program: number;
  dashSafe: Set<number>;
}

interface Run {
  /** True where the word is known to be what runs (argv[0], after a wrapper, a find -exec command). */
  strict: boolean;
  /** The command of the template itself (not a find -exec / xargs sub-command, not a scan). */
  main: boolean;
  /** Wrappers passed on the way, for messages. */
  via: string[];
  /** Exclusive end of this command's words (find -exec … ;). */
  end: number;
}

/** Basename, lower case, without `.exe`: `/usr/bin/Python3.exe` → `python3`. */
function progName(t: string): string {
  return t
    .slice(t.lastIndexOf('/') + 1)
    .toLowerCase()
    .replace(/\.exe$/, '');
}

const isShell = (n: string) =>
  /^(?:sh|bash|dash|zsh|ksh|ksh93|mksh|pdksh|oksh|lksh|ash|yash|posh|rbash|hush|fish|tcsh|csh)$/.test(n);

type Lang = 'python' | 'node' | 'perl' | 'ruby' | 'php' | 'lua' | 'expect' | 'r' | 'julia' | 'osascript' | 'tcl';

function langOf(n: string): Lang | undefined {
  if (/^(?:python|pypy)\d*(?:\.\d+)*(?:-dbg)?$/.test(n)) return 'python';
  if (/^(?:node|nodejs)\d*$/.test(n) || n === 'bun') return 'node';
  if (/^perl\d*(?:\.\d+)*$/.test(n)) return 'perl';
  if (/^(?:ruby|jruby|truffleruby)\d*(?:\.\d+)*$/.test(n)) return 'ruby';
  if (/^php\d*(?:\.\d+)*(?:-cli)?$/.test(n)) return 'php';
  if (/^(?:lua|luajit)\d*(?:\.\d+)*$/.test(n)) return 'lua';
  if (n === 'expect') return 'expect';
  if (n === 'rscript' || n === 'r') return 'r';
  if (n === 'julia') return 'julia';
  if (n === 'osascript') return 'osascript';
  if (/^(?:tclsh|wish)\d*(?:\.\d+)*$/.test(n)) return 'tcl';
  return undefined;
}

interface LangSpec {
  /** Options whose argument is code: the next word, `--opt=code`, or attached to a one-letter option. */
  code: string[];
  /** Single-dash clusters (`-Sc`, `-lne`): letters whose argument is code (rest of the word or the next word). */
  codeLetters?: string;
  /** Letters that take an argument (rest of the word or the next word). */
  argLetters?: string;
  /** Letters whose optional argument is the rest of the word only. */
  restLetters?: string;
  /** Long options taking a separate argument. */
  arg?: string[];
  /** Options whose argument is the program file or module (`-m`, `-f`): data must not choose it. */
  script?: string[];
  /** With neither code nor a script it reads its program from stdin (which carries the task vars). */
  stdin: boolean;
  /** How code should read a value instead. */
  read: (env: string) => string;
}

const LANGS: Record<Lang, LangSpec> = {
  python: {
    code: ['-c'],
    codeLetters: 'c',
    argLetters: 'WXQ',
    arg: ['--check-hash-based-pycs'],
    script: ['-m'],
    stdin: true,
    read: (e) => `os.environ["${e}"] in the code, or pass it as an argument after the code (sys.argv)`,
  },
  node: {
    code: ['-e', '--eval', '-p', '--print', '-pe'],
    arg: [
      '-r',
      '--require',
      '--import',
      '--loader',
      '--experimental-loader',
      '-C',
      '--conditions',
      '--input-type',
      '--title',
      '--env-file',
      '--watch-path',
      '--disable-warning',
    ],
    stdin: true,
    read: (e) => `process.env.${e} in the code, or pass it as an argument after -- (process.argv)`,
  },
  perl: {
    code: [],
    codeLetters: 'eE',
    argLetters: 'I',
    restLetters: 'MmxiC0ldDV',
    stdin: true,
    read: (e) => `$ENV{${e}} in the code, or pass it as an argument after -- (@ARGV)`,
  },
  ruby: {
    code: [],
    codeLetters: 'e',
    argLetters: 'rICEF',
    restLetters: '0lWKTxi',
    stdin: true,
    read: (e) => `ENV["${e}"] in the code, or pass it as an argument after -- (ARGV)`,
  },
  php: {
    code: ['-r', '-B', '-R', '-E'],
    arg: ['-c', '-d', '-z', '-t', '-S'],
    script: ['-f', '--file', '-F'],
    stdin: true,
    read: (e) => `getenv("${e}") in the code, or pass it as an argument after -- ($argv)`,
  },
  lua: {
    code: ['-e'],
    codeLetters: 'e',
    argLetters: 'l',
    stdin: true,
    read: (e) => `os.getenv("${e}") in the code, or pass it as an argument after the code (arg)`,
  },
  expect: { code: ['-c'], script: ['-f'], stdin: true, read: (e) => `$env(${e}) in the script` },
  r: { code: ['-e'], script: ['-f', '--file'], stdin: false, read: (e) => `Sys.getenv("${e}") in the code` },
  julia: {
    code: ['-e', '--eval', '-E', '--print'],
    arg: ['-L', '--load', '-J', '--sysimage', '-t', '--threads', '--project'],
    stdin: false,
    read: (e) => `ENV["${e}"] in the code`,
  },
  osascript: { code: ['-e'], arg: ['-l', '-s'], stdin: true, read: (e) => `system attribute "${e}" in the script` },
  tcl: { code: [], stdin: true, read: (e) => `$env(${e}) in the script` },
};

/** Options of other programs whose value is a command they run (or configuration that names one). */
const COMMAND_OPTIONS: Record<string, string[]> = {
  tar: [
    '--to-command',
    '--checkpoint-action',
    '--use-compress-program',
    '-I',
    '--rsh-command',
    '--info-script',
    '--new-volume-script',
    '-F',
  ],
  rsync: ['-e', '--rsh', '--rsync-path'],
  scp: ['-S', '-o', '-F', '-J'],
  sftp: ['-S', '-o', '-F', '-J', '-D'],
  git: ['-c', '--config-env', '--upload-pack', '--receive-pack', '-u', '--exec'],
  zip: ['-TT', '--unzip-command'],
  gdb: ['-ex', '--eval-command', '-iex', '--init-eval-command', '-x', '--command'],
  vim: ['-c', '--cmd'],
  nvim: ['-c', '--cmd'],
  vi: ['-c', '--cmd'],
  psql: ['-c', '--command'],
  mysql: ['-e', '--execute', '--init-command'],
  mariadb: ['-e', '--execute', '--init-command'],
  sqlite3: ['-cmd'],
  script: ['-c', '--command'],
};

interface WrapperSpec {
  /** Options taking a separate argument. */
  arg?: string[];
  /** Operands before the command (timeout DURATION, chroot NEWROOT). */
  operands?: number;
  /** NAME=value words may come before the command. */
  assign?: boolean;
}

const WRAPPERS: Record<string, WrapperSpec> = {
  env: { arg: ['-u', '--unset', '-C', '--chdir', '-P'], assign: true },
  sudo: {
    arg: [
      '-u',
      '--user',
      '-g',
      '--group',
      '-C',
      '--close-from',
      '-D',
      '--chdir',
      '-h',
      '--host',
      '-p',
      '--prompt',
      '-r',
      '--role',
      '-t',
      '--type',
      '-T',
      '--command-timeout',
      '-U',
      '--other-user',
    ],
    assign: true,
  },
  doas: { arg: ['-u', '-C'] },
  nice: { arg: ['-n', '--adjustment'] },
  nohup: {},
  timeout: { arg: ['-s', '--signal', '-k', '--kill-after'], operands: 1 },
  stdbuf: { arg: ['-i', '--input', '-o', '--output', '-e', '--error'] },
  setsid: {},
  ionice: { arg: ['-c', '--class', '-n', '--classdata', '-p', '--pid', '-P', '--pgid', '-u', '--uid'] },
  chroot: { arg: ['--userspec', '--groups'], operands: 1 },
  chrt: { operands: 1 },
  taskset: { operands: 1 },
  command: {},
  builtin: {},
  exec: { arg: ['-a'] },
  time: { arg: ['-f', '--format', '-o', '--output'] },
  busybox: {},
  flock: { arg: ['-w', '--wait', '--timeout', '-E', '--conflict-exit-code'], operands: 1 },
  xargs: {
    arg: [
      '-a',
      '--arg-file',
      '-d',
      '--delimiter',
      '-E',
      '-I',
      '-L',
      '-n',
      '--max-args',
      '-P',
      '--max-procs',
      '-s',
      '--max-chars',
      '--process-slot-var',
    ],
  },
  watch: { arg: ['-n', '--interval', '-q', '--equexit'] },
  runuser: { arg: ['-u', '--user', '-g', '--group', '-G', '--supp-group'] },
};

const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;

const shown = (p: string) => `{{${p}}}`;
const viaText = (via: string[]) => (via.length ? ` (after ${via.map((v) => `'${v}'`).join(', ')})` : '');

function refuseProgram(word: Word, via: string[]): never {
  throw validationError(
    `the command has ${shown(word.ph[0] as string)} in the program position${viaText(via)}: data must never ` +
      `choose the program to run; name the program in the template and pass the value as an argument`,
  );
}

function refuseShellCode(ph: string, label: string, afterCode: boolean): never {
  const env = envFor(ph);
  const name = env.replace(' (JSON)', '');
  const ref = `refer to "$${name}"${env === name ? '' : ` (it holds ${ph.split('.').slice(0, 2).join('.')} as JSON)`}`;
  throw validationError(
    afterCode
      ? `the command passes ${shown(ph)} as an argument of shell code run by '${label}' ($0, $1…): for safety ` +
          `values are not handed to inline shell code that way; ${ref} in the script instead (values reach shell ` +
          `commands as environment variables)`
      : `the command interpolates ${shown(ph)} into shell code run by '${label}': data would become code; ${ref} ` +
          `in the script instead (values reach shell commands as environment variables)`,
  );
}

function refuseCode(ph: string, what: string, hint: string): never {
  throw validationError(`the command interpolates ${shown(ph)} into ${what}: data would become code; ${hint}`);
}

function refuseOption(ph: string, prog: string, why: string): never {
  throw validationError(`the command puts ${shown(ph)} among the options of '${prog}': ${why}`);
}

function refuseStdin(prog: string): never {
  throw validationError(
    `'${prog}' would read its program from stdin, and a command's stdin carries the task vars as JSON: data ` +
      `would become code; give the code inline (-c/-e, values as environment variables) or a script file`,
  );
}

/**
 * Splits a command template once and checks its shape: refused (a validationError) are an empty command, an
 * unclosed quote, a placeholder in the program position (also behind wrappers such as env, sudo, timeout), a
 * placeholder in code that a program interprets (shell -c, python -c, node -e, perl/ruby -e, php -r, pwsh
 * -Command, awk/sed/jq program text, ssh remote commands, su -c, find -exec / xargs sub-commands…), and a shell
 * or interpreter that would read its program from stdin (stdin carries the task vars).
 */
export function parseCommandTemplate(template: string): CommandTemplate {
  const argv = splitWords(template);
  if (!argv.length || argv[0] === '') {
    throw validationError('the command template is empty (no program)', {
      hint: 'e.g. scripts/check.sh {{payload.host}}',
    });
  }
  const ctx: Ctx = { w: argv.map((t) => ({ text: t, ph: placeholdersIn(t) })), program: -1, dashSafe: new Set() };
  const n = argv.length;
  command(ctx, 0, { strict: true, main: true, via: [], end: n });
  // A shell or interpreter further on (behind a wrapper we do not know: docker exec, unshare…) still runs code.
  for (let i = 1; i < n; i++) {
    const w = ctx.w[i] as Word;
    if (w.ph.length) continue;
    const name = progName(w.text);
    if (isShell(name) || langOf(name) || name === 'pwsh' || name === 'powershell') {
      command(ctx, i, { strict: false, main: false, via: [], end: n });
    }
  }
  const prog = ctx.program < 0 ? 0 : ctx.program;
  const dd = argv.indexOf('--', prog + 1);
  if (dd >= 0) for (let i = dd + 1; i < n; i++) ctx.dashSafe.add(i);
  const placeholders = [...new Set(ctx.w.flatMap((w) => w.ph))];
  return { argv, placeholders, dashSafe: [...ctx.dashSafe].sort((a, b) => a - b) };
}

/** Checks the command whose program is word `i`. */
function command(ctx: Ctx, i: number, run: Run): void {
  if (i >= run.end) return;
  const word = ctx.w[i] as Word;
  if (word.ph.length) {
    if (run.strict) refuseProgram(word, run.via);
    return;
  }
  const name = progName(word.text);
  if (run.main) ctx.program = i;
  checkFor(ctx, i, name, run)?.(ctx, i, name, run);
}

type Check = (ctx: Ctx, i: number, name: string, run: Run) => void;

/** The check for a program, by name; behind an unknown program (a scan) only shells and interpreters count. */
function checkFor(ctx: Ctx, i: number, name: string, run: Run): Check | undefined {
  if (isShell(name)) return shell;
  const lang = langOf(name);
  if (lang) return (c, k, nm, r) => interpreter(c, k, nm, LANGS[lang], r);
  if (name === 'pwsh' || name === 'powershell') return powershell;
  if (!run.strict) return undefined;
  if (/^(?:awk|gawk|mawk|nawk|original-awk|bwk-awk|goawk)$/.test(name)) return awk;
  if (name === 'sed' || name === 'gsed') return sed;
  if (name === 'jq' || name === 'gojq' || name === 'jaq') return jq;
  const special: Record<string, Check> = { deno, ssh, find, sqlite3: sqlite };
  if (special[name]) return special[name];
  if (['eval', 'su', 'sg', 'parallel'].includes(name)) return throughShell;
  if (name === 'watch' && !hasFlag(ctx, i, run, 'x', '--exec')) return throughShell;
  if (name === 'runuser' && !hasFlag(ctx, i, run, 'u', '--user')) return throughShell;
  const wrapper = WRAPPERS[name];
  if (wrapper) return (c, k, nm, r) => wrapped(c, k, nm, wrapper, r);
  return commandOptions;
}

/** Whether a literal option (`-x` in a short cluster or the long form) appears among the words of this command. */
function hasFlag(ctx: Ctx, i: number, run: Run, letter: string, long: string): boolean {
  for (let j = i + 1; j < run.end; j++) {
    const t = (ctx.w[j] as Word).text;
    if (t === '--') return false;
    if (t === long || (/^-[A-Za-z]+$/.test(t) && t.includes(letter))) return true;
  }
  return false;
}

/** A wrapper (env, sudo, timeout…): its options are literal; the word after them is the program. */
function wrapped(ctx: Ctx, i: number, name: string, spec: WrapperSpec, run: Run): void {
  const why = `data there could change which program runs or how it runs; write these options literally${
    spec.assign ? ' (NAME={{…}} assignments are allowed)' : ''
  }`;
  let operands = spec.operands ?? 0;
  let j = i + 1;
  let fromFile = false;
  for (; j < run.end; j++) {
    const w = ctx.w[j] as Word;
    const t = w.text;
    if (spec.assign && ASSIGNMENT.test(t)) continue; // NAME=value (the name is literal: the regex needs it)
    if (w.ph.length) {
      if (operands === 0 && !t.startsWith('-')) break; // the program: refused below
      refuseOption(w.ph[0] as string, name, why);
    }
    if (t === '--') {
      j++;
      // timeout -- 5 cmd: operands may follow the `--`
      while (operands > 0 && j < run.end) {
        const o = ctx.w[j] as Word;
        if (o.ph.length) refuseOption(o.ph[0] as string, name, why);
        operands--;
        j++;
      }
      break;
    }
    if (name === 'env' && (t === '-S' || t.startsWith('--split-string') || /^-[a-zA-Z]*S/.test(t))) {
      throw validationError(
        `'env -S' is not supported in command templates: it splits a string into words again; write the words directly`,
      );
    }
    if (name === 'flock' && operands === 0 && (t === '-c' || t === '--command' || t.startsWith('--command='))) {
      throughShell(ctx, j - 1, 'flock -c', run);
      return;
    }
    if (t.startsWith('-') && t.length > 1) {
      if (name === 'xargs' && (t === '-a' || t.startsWith('--arg-file') || /^-a./.test(t))) fromFile = true;
      if (spec.arg?.includes(t)) {
        const a = ctx.w[j + 1];
        if (a?.ph.length) refuseOption(a.ph[0] as string, name, why);
        j++;
      }
      continue;
    }
    if (operands > 0) {
      operands--;
      continue;
    }
    break;
  }
  if (name === 'xargs' && run.strict && !fromFile) {
    throw validationError(
      `'xargs' would read its arguments from stdin, and a command's stdin carries the task vars as JSON: data ` +
        `would become arguments (or code); pass values as template arguments instead, or use xargs -a FILE`,
    );
  }
  if (j >= run.end) return;
  command(ctx, j, { ...run, via: [...run.via, name] });
}

/** sh, bash, zsh, fish…: `-c` makes the first operand code and the later ones its $0, $1…; otherwise a script. */
function shell(ctx: Ctx, i: number, name: string, run: Run): void {
  const why = `data there could turn on -c (code) or choose what the shell runs; write the options literally`;
  let codeFlag = '';
  let stdinFlag = false;
  let j = i + 1;
  for (; j < run.end; j++) {
    const w = ctx.w[j] as Word;
    const t = w.text;
    if (t === '--' || t === '-') {
      j++;
      break;
    }
    if (!/^[-+]./.test(t)) break; // the code (with -c) or the script
    if (w.ph.length) {
      if (!run.strict && !codeFlag) return;
      if (codeFlag) refuseShellCode(w.ph[0] as string, `${name} ${codeFlag}`, false);
      refuseOption(w.ph[0] as string, name, why);
    }
    if (t.startsWith('--')) {
      if (t === '--command') codeFlag = t;
      else if (t === '--init-command') {
        const c = ctx.w[j + 1];
        if (c?.ph.length) refuseShellCode(c.ph[0] as string, `${name} ${t}`, false);
        j++;
      } else if (t.startsWith('--command=') || t.startsWith('--init-command=')) codeFlag = t.split('=')[0] as string;
      else if (['--rcfile', '--init-file', '--profile', '--debug', '--features', '--emulate'].includes(t)) {
        optionArg(ctx, ++j, name, why, run);
      }
      continue;
    }
    for (const ch of t.slice(1)) {
      if (ch === 'c') codeFlag = `${t[0]}c`;
      else if (ch === 's') stdinFlag = true;
      else if ((ch === 'o' || ch === 'O') && name !== 'fish') optionArg(ctx, ++j, name, why, run);
      else if (ch === 'C' && name === 'fish') {
        const c = ctx.w[j + 1];
        if (c?.ph.length) refuseShellCode(c.ph[0] as string, `${name} -C`, false);
        j++;
      }
    }
  }
  if (codeFlag) {
    const label = `${name} ${codeFlag}`;
    for (let k = j; k < run.end; k++) {
      const w = ctx.w[k] as Word;
      if (w.ph.length) refuseShellCode(w.ph[0] as string, label, k > j);
    }
    return;
  }
  if (!run.strict) return;
  if (stdinFlag || j >= run.end) refuseStdin(name);
  const script = ctx.w[j] as Word;
  if (script.ph.length) refuseProgram(script, [...run.via, name]);
}

/** The argument of an option at word `j`: data there is refused (when we know what runs). */
function optionArg(ctx: Ctx, j: number, name: string, why: string, run: Run): void {
  const a = ctx.w[j];
  if (a?.ph.length && run.strict) refuseOption(a.ph[0] as string, name, why);
}

/** python, node, perl, ruby, php, lua…: code given inline (-c/-e), a script or module, then arguments. */
function interpreter(ctx: Ctx, i: number, name: string, spec: LangSpec, run: Run): void {
  const why = `data there could choose the code that runs; pass the value as an argument after the code or script`;
  let code = false;
  let j = i + 1;
  const codeWord = (k: number, label: string) => {
    code = true;
    const c = ctx.w[k];
    if (c?.ph.length)
      refuseCode(c.ph[0] as string, `code run by '${label}'`, `read ${spec.read(envFor(c.ph[0] as string))}`);
  };
  for (; j < run.end; j++) {
    const w = ctx.w[j] as Word;
    const t = w.text;
    if (t === '--') {
      j++;
      break;
    }
    if (!t.startsWith('-') || t === '-') break;
    if (t.startsWith('--')) {
      const eq = t.indexOf('=');
      const opt = eq < 0 ? t : t.slice(0, eq);
      if (spec.code.includes(opt)) {
        if (eq >= 0) {
          code = true;
          if (w.ph.length)
            refuseCode(
              w.ph[0] as string,
              `code run by '${name} ${opt}'`,
              `read ${spec.read(envFor(w.ph[0] as string))}`,
            );
        } else codeWord(++j, `${name} ${opt}`);
        continue;
      }
      if (w.ph.length && run.strict) refuseOption(w.ph[0] as string, name, why);
      if (eq < 0 && spec.arg?.includes(opt)) {
        const a = ctx.w[j + 1];
        if (a?.ph.length && run.strict) refuseOption(a.ph[0] as string, name, why);
        j++;
      } else if (eq < 0 && spec.script?.includes(opt)) {
        const a = ctx.w[++j];
        if (a?.ph.length && run.strict) refuseProgram(a, [...run.via, name]);
        return;
      }
      continue;
    }
    // single dash: an exact option, or a cluster of letters
    if (spec.code.includes(t)) {
      codeWord(++j, `${name} ${t}`);
      continue;
    }
    if (spec.script?.includes(t)) {
      const a = ctx.w[++j];
      if (a?.ph.length && run.strict) refuseProgram(a, [...run.via, name]);
      return;
    }
    if (spec.arg?.includes(t)) {
      const a = ctx.w[j + 1];
      if (a?.ph.length && run.strict) refuseOption(a.ph[0] as string, name, why);
      j++;
      continue;
    }
    const letters = t.slice(1);
    let k = 0;
    for (; k < letters.length; k++) {
      const ch = letters[k] as string;
      if (ch === '{') break; // a placeholder inside the cluster
      if (spec.codeLetters?.includes(ch) || (spec.code.includes(`-${ch}`) && !spec.codeLetters)) {
        const rest = letters.slice(k + 1);
        const label = `${name} -${ch}`;
        if (rest) {
          code = true;
          const ph = placeholdersIn(rest)[0];
          if (ph) refuseCode(ph, `code run by '${label}'`, `read ${spec.read(envFor(ph))}`);
        } else codeWord(++j, label);
        k = letters.length;
        break;
      }
      if (spec.argLetters?.includes(ch)) {
        if (k === letters.length - 1) {
          const a = ctx.w[j + 1];
          if (a?.ph.length && run.strict) refuseOption(a.ph[0] as string, name, why);
          j++;
        }
        k = letters.length;
        break;
      }
      if (spec.restLetters?.includes(ch)) {
        if (ch !== '0' && ch !== 'l') break; // the rest of the word is its argument
        while (/[0-9a-fA-FxX]/.test(letters[k + 1] ?? '')) k++; // -l, -0777, -0x1F: digits only, then more letters
        continue;
      }
      if (spec.script?.includes(`-${ch}`)) {
        if (k < letters.length - 1) return; // -mmodule
        const a = ctx.w[++j];
        if (a?.ph.length && run.strict) refuseProgram(a, [...run.via, name]);
        return;
      }
    }
    if (w.ph.length && run.strict && !code) refuseOption(w.ph[0] as string, name, why);
  }
  if (code || !run.strict) return;
  // the first operand is the script (or `-`: stdin)
  const script = ctx.w[j];
  if (!script || script.text === '-') {
    if (spec.stdin) refuseStdin(name);
    return;
  }
  if (script.ph.length) refuseProgram(script, [...run.via, name]);
}

/** pwsh / powershell: everything after -Command is code; -File names a script; options are case-insensitive. */
function powershell(ctx: Ctx, i: number, name: string, run: Run): void {
  const hint = (ph: string) => `read $env:${envFor(ph)} in the script instead, or use -File script.ps1 with arguments`;
  for (let j = i + 1; j < run.end; j++) {
    const w = ctx.w[j] as Word;
    const t = w.text.toLowerCase();
    const isCode =
      /^-(?:c|co|com|comm|comma|comman|command|cwa|commandwithargs|e|ec|en|enc|enco|encod|encode|encoded|encodedc\w*)$/.test(
        t,
      ) ||
      (!t.startsWith('-') && name === 'powershell');
    if (isCode) {
      for (let k = t.startsWith('-') ? j + 1 : j; k < run.end; k++) {
        const c = ctx.w[k] as Word;
        if (c.ph.length)
          refuseCode(c.ph[0] as string, `PowerShell code run by '${name} -Command'`, hint(c.ph[0] as string));
      }
      return;
    }
    if (/^-(?:f|fi|fil|file)$/.test(t) || !t.startsWith('-')) {
      const s = t.startsWith('-') ? ctx.w[j + 1] : w;
      if (s?.ph.length && run.strict) refuseProgram(s, [...run.via, name]);
      return;
    }
    if (w.ph.length && run.strict) refuseOption(w.ph[0] as string, name, 'data there could choose the code that runs');
    if (
      /^-(?:ex|ep|executionpolicy|inp|if|inputformat|o|of|outputformat|w|windowstyle|wd|workingdirectory|settingsfile|configurationname|config)$/.test(
        t,
      )
    ) {
      j++;
    }
  }
}

/** awk: the first operand is the program unless -f FILE or -e/--source gives it; -v NAME={{…}} is data. */
function awk(ctx: Ctx, i: number, name: string, run: Run): void {
  const hint = (ph: string) =>
    `read ENVIRON["${envFor(ph).replace(' (JSON)', '')}"] in the program instead, or pass it as a file operand`;
  const why = 'data there could choose the program; only -v NAME={{…}} and -F {{…}} take values';
  let program = false;
  let j = i + 1;
  for (; j < run.end; j++) {
    const w = ctx.w[j] as Word;
    const t = w.text;
    if (t === '--') {
      j++;
      break;
    }
    if (!t.startsWith('-') || t === '-') break;
    const next = ctx.w[j + 1];
    if (['-e', '--source'].includes(t)) {
      program = true;
      if (next?.ph.length)
        refuseCode(next.ph[0] as string, `the program text of '${name} ${t}'`, hint(next.ph[0] as string));
      j++;
    } else if (t.startsWith('--source=') || /^-e./.test(t)) {
      program = true;
      if (w.ph.length) refuseCode(w.ph[0] as string, `the program text of '${name}'`, hint(w.ph[0] as string));
    } else if (['-f', '--file', '-E', '--exec', '-i', '--include', '-l', '--load', '-W'].includes(t)) {
      if (t !== '-i' && t !== '--include' && t !== '-l' && t !== '--load' && t !== '-W') program = true;
      if (next?.ph.length) refuseProgram(next, [...run.via, name]);
      j++;
      if (t === '-E' || t === '--exec') {
        j++;
        break;
      }
    } else if (['-v', '--assign'].includes(t)) {
      if (next?.ph.length && !ASSIGNMENT.test(next.text)) refuseOption(next.ph[0] as string, name, why);
      j++;
    } else if (['-F', '--field-separator'].includes(t)) j++;
    else if (/^-v/.test(t)) {
      if (w.ph.length && !ASSIGNMENT.test(t.slice(2))) refuseOption(w.ph[0] as string, name, why);
    } else if (/^-f./.test(t) || /^--(?:file|exec)=/.test(t)) {
      program = true;
      if (w.ph.length) refuseProgram(w, [...run.via, name]);
    } else if (w.ph.length && !/^-F/.test(t) && !t.startsWith('--field-separator='))
      refuseOption(w.ph[0] as string, name, why);
  }
  if (program) return;
  const p = ctx.w[j];
  if (p?.ph.length) refuseCode(p.ph[0] as string, `the program text of '${name}'`, hint(p.ph[0] as string));
}

/** sed: its script can run commands (GNU `e`, `s///e`) and write files: data must stay out of it. */
function sed(ctx: Ctx, i: number, name: string, run: Run): void {
  const hint = () =>
    'sed cannot take data safely inside its script: use awk with ENVIRON[...] or a script that reads the environment variable';
  let script = false;
  let j = i + 1;
  for (; j < run.end; j++) {
    const w = ctx.w[j] as Word;
    const t = w.text;
    if (t === '--') {
      j++;
      break;
    }
    if (!t.startsWith('-') || t === '-') {
      if (script) continue; // an input file
      break;
    }
    const next = ctx.w[j + 1];
    if (t === '--expression' || t === '--file') {
      script = true;
      if (next?.ph.length) {
        if (t === '--file') refuseProgram(next, [...run.via, name]);
        refuseCode(next.ph[0] as string, `the script of '${name}'`, hint());
      }
      j++;
      continue;
    }
    if (t.startsWith('--expression=') || t.startsWith('--file=')) {
      script = true;
      if (w.ph.length) refuseCode(w.ph[0] as string, `the script of '${name}'`, hint());
      continue;
    }
    if (t.startsWith('--')) {
      if (w.ph.length) refuseOption(w.ph[0] as string, name, 'data there could change what sed does');
      if (t === '--line-length') j++;
      continue;
    }
    for (let k = 1; k < t.length; k++) {
      const ch = t[k] as string;
      if (ch === 'e' || ch === 'f') {
        script = true;
        const rest = t.slice(k + 1);
        const ph = rest ? placeholdersIn(rest)[0] : next?.ph[0];
        if (ph) refuseCode(ph, `the script of '${name}'`, hint());
        if (!rest) j++;
        break;
      }
      if (ch === 'i' || ch === 'l') {
        if (ch === 'l' && k === t.length - 1) j++;
        break;
      }
      if (ch === '{') refuseOption(w.ph[0] as string, name, 'data there could change what sed does');
    }
  }
  if (script) return;
  const s = ctx.w[j];
  if (s?.ph.length) refuseCode(s.ph[0] as string, `the script of '${name}'`, hint());
}

/** jq: the filter is the first operand (unless -f); `--arg NAME {{…}}` is the way to pass data. */
function jq(ctx: Ctx, i: number, name: string, run: Run): void {
  let filter = false;
  let endOpts = false;
  for (let j = i + 1; j < run.end; j++) {
    const w = ctx.w[j] as Word;
    const t = w.text;
    if (!endOpts && t === '--') {
      endOpts = true;
      continue;
    }
    if (!endOpts && t.startsWith('-') && t.length > 1) {
      if (['--arg', '--argjson', '--slurpfile', '--rawfile'].includes(t)) {
        const nm = ctx.w[j + 1];
        if (nm?.ph.length) refuseOption(nm.ph[0] as string, name, 'the variable name must be literal');
        if (j + 2 < run.end) ctx.dashSafe.add(j + 2);
        j += 2;
      } else if (t === '-f' || t === '--from-file') {
        const f = ctx.w[j + 1];
        if (f?.ph.length) refuseProgram(f, [...run.via, name]);
        filter = true;
        j++;
      } else if (t === '-L' || t === '--indent') j++;
      else if (w.ph.length) refuseOption(w.ph[0] as string, name, 'data there could change what jq does');
      continue;
    }
    if (!filter) {
      filter = true;
      const ph = w.ph[0];
      if (ph) {
        refuseCode(
          ph,
          `the filter of '${name}'`,
          `pass it with --arg v ${shown(ph)} and use $v, or read $ENV.${envFor(ph).replace(' (JSON)', '')}`,
        );
      }
    }
  }
}

/** deno: `deno eval CODE`; `deno run FILE`. */
function deno(ctx: Ctx, i: number, _name: string, run: Run): void {
  for (let j = i + 1; j < run.end; j++) {
    const w = ctx.w[j] as Word;
    if (w.text.startsWith('-')) continue;
    if (w.ph.length) refuseProgram(w, [...run.via, 'deno']);
    if (w.text !== 'eval') return;
    for (let k = j + 1; k < run.end; k++) {
      const c = ctx.w[k] as Word;
      if (c.text.startsWith('-') && !c.ph.length) continue;
      if (c.ph.length)
        refuseCode(c.ph[0] as string, `code run by 'deno eval'`, `read Deno.env.get("${envFor(c.ph[0] as string)}")`);
      return;
    }
    return;
  }
}

/** ssh: every word after the destination joins a shell line run on the remote host. */
function ssh(ctx: Ctx, i: number, _name: string, run: Run): void {
  const withArg = 'BbcDEeFIiJLlmOoPpQRSWw';
  const why =
    'data there could set ProxyCommand, LocalCommand or a config file (only -p {{…}} and -l {{…}} take values)';
  let j = i + 1;
  for (; j < run.end; j++) {
    const w = ctx.w[j] as Word;
    const t = w.text;
    if (t === '--') {
      j++;
      break;
    }
    if (!t.startsWith('-') || t.length < 2) break;
    for (let k = 1; k < t.length; k++) {
      const ch = t[k] as string;
      if (ch === '{') refuseOption(w.ph[0] as string, 'ssh', why);
      if (!withArg.includes(ch)) continue;
      const rest = t.slice(k + 1);
      if (rest) {
        const ph = placeholdersIn(rest)[0];
        if (ph && ch !== 'p' && ch !== 'l') refuseOption(ph, 'ssh', why);
      } else {
        const a = ctx.w[j + 1];
        if (a?.ph.length) {
          if (ch !== 'p' && ch !== 'l') refuseOption(a.ph[0] as string, 'ssh', why);
          ctx.dashSafe.add(j + 1);
        }
        j++;
      }
      break;
    }
  }
  for (let k = j + 1; k < run.end; k++) {
    const w = ctx.w[k] as Word;
    if (w.ph.length) {
      refuseCode(
        w.ph[0] as string,
        `the remote command of 'ssh' (ssh joins those words into a shell line on the remote host)`,
        `run a fixed remote command that reads the task vars JSON from its stdin (ssh forwards stdin), e.g. ` +
          `ssh host 'jq -r .payload.host', or a local script that quotes the value for the remote shell`,
      );
    }
  }
}

/** find: -exec/-execdir/-ok/-okdir run a sub-command up to `;` or `+`, checked like a command of its own. */
function find(ctx: Ctx, i: number, _name: string, run: Run): void {
  for (let j = i + 1; j < run.end; j++) {
    const t = (ctx.w[j] as Word).text;
    if (!['-exec', '-execdir', '-ok', '-okdir'].includes(t)) continue;
    let end = j + 1;
    while (end < run.end && (ctx.w[end] as Word).text !== ';' && (ctx.w[end] as Word).text !== '+') end++;
    command(ctx, j + 1, { strict: true, main: false, via: [...run.via, `find ${t}`], end });
    j = end;
  }
}

/** sqlite3 DB SQL…: the operands after the database are SQL or dot-commands (`.shell` runs a command). */
function sqlite(ctx: Ctx, i: number, _name: string, run: Run): void {
  let db = false;
  for (let j = i + 1; j < run.end; j++) {
    const w = ctx.w[j] as Word;
    const t = w.text;
    if (!db && t.startsWith('-') && t.length > 1) {
      const a = ctx.w[j + 1];
      if (t === '-cmd' && a?.ph.length) refuseCode(a.ph[0] as string, `SQL run by 'sqlite3 -cmd'`, sqlHint());
      if (w.ph.length) refuseOption(w.ph[0] as string, 'sqlite3', 'data there could change what sqlite3 runs');
      if (['-cmd', '-separator', '-newline', '-nullvalue', '-vfs', '-maxsize', '-mmap'].includes(t)) j++;
      continue;
    }
    if (!db) {
      db = true;
      continue;
    }
    if (w.ph.length)
      refuseCode(w.ph[0] as string, `SQL run by 'sqlite3' (dot-commands like .shell included)`, sqlHint());
  }
}

const sqlHint = () =>
  'run a script that reads the value from its environment variable (VAPORA_PAYLOAD_…) and binds it as a query parameter';

/** eval, su, sg, parallel, watch, runuser -c, flock -c: the words end up in a shell command line. */
function throughShell(ctx: Ctx, i: number, name: string, run: Run): void {
  for (let j = i + 1; j < run.end; j++) {
    const w = ctx.w[j] as Word;
    if (w.ph.length) refuseShellCode(w.ph[0] as string, name, false);
  }
}

/** Other programs: options whose value is a command they run (tar --to-command, rsync -e, git -c…). */
function commandOptions(ctx: Ctx, i: number, name: string, run: Run): void {
  const opts = COMMAND_OPTIONS[name];
  if (!opts) return;
  for (let j = i + 1; j < run.end; j++) {
    const w = ctx.w[j] as Word;
    const t = w.text;
    for (const o of opts) {
      const next = ctx.w[j + 1];
      let ph: string | undefined;
      if (t === o) ph = next?.ph[0];
      else if (t.startsWith(`${o}=`) || (o.length === 2 && t.startsWith(o) && !t.startsWith('--'))) ph = w.ph[0];
      if (ph) {
        refuseCode(
          ph,
          `the '${o}' option of '${name}', whose value is a command or configuration it acts on`,
          `write that option literally and let a script read the value from ${envFor(ph)}`,
        );
      }
    }
  }
}
