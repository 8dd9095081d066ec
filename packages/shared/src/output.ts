import { readFileSync } from 'node:fs';
import { stripVTControlCharacters } from 'node:util';
import { usageError } from './errors.js';

/** Colour only when the stream is a terminal and NO_COLOR is unset. */
export function useColor(stream: NodeJS.WriteStream = process.stdout): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY);
}

const codes = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  cyan: [36, 39],
} as const;
export type Style = keyof typeof codes;

export function paint(text: string, style: Style, stream: NodeJS.WriteStream = process.stdout): string {
  if (!useColor(stream)) return text;
  const [on, off] = codes[style];
  return `\u001b[${on}m${text}\u001b[${off}m`;
}

/** Exactly one JSON document on stdout: the `--json` contract. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

const width = (s: string) => stripVTControlCharacters(s).length;

/** A plain aligned table for humans; columns are taken from the first row's keys unless given. */
export function renderTable(rows: Record<string, unknown>[], columns?: string[]): string {
  if (rows.length === 0) return '';
  const cols = columns ?? Object.keys(rows[0] as object);
  const cells = rows.map((r) => cols.map((c) => formatCell(r[c])));
  const widths = cols.map((c, i) => Math.max(width(c), ...cells.map((row) => width(row[i] ?? ''))));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => (i === vals.length - 1 ? v : v + ' '.repeat((widths[i] ?? 0) - width(v))))
      .join('  ')
      .trimEnd();
  const header = line(cols.map((c) => paint(c.toUpperCase(), 'bold')));
  return [header, ...cells.map(line)].join('\n');
}

function formatCell(v: unknown): string {
  if (v === undefined || v === null) return '-';
  if (v === '') return '""';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export interface Progress {
  /** Update the label (spinner) or the done count (bar). */
  update(done: number, label?: string): void;
  stop(finalLine?: string): void;
}

/**
 * A spinner (no total) or a bar (with total) on stderr, drawn only on a TTY so that
 * logs and CI output stay clean. Off a TTY it is silent.
 */
export function progress(label: string, total?: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY || process.env.CI) return { update() {}, stop() {} };
  const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
  let frame = 0;
  let done = 0;
  let text = label;
  const draw = () => {
    const head = total
      ? `[${'#'.repeat(Math.round((done / total) * 20)).padEnd(20, '.')}] ${done}/${total}`
      : (frames[frame++ % frames.length] ?? '');
    stream.write(`\r\u001b[2K${head} ${text}`);
  };
  const timer = setInterval(draw, 80);
  timer.unref();
  draw();
  return {
    update(n, l) {
      done = n;
      if (l) text = l;
      draw();
    },
    stop(finalLine) {
      clearInterval(timer);
      stream.write('\r\u001b[2K');
      if (finalLine) stream.write(`${finalLine}\n`);
    },
  };
}

/**
 * Call before prompting. Off a terminal, or under CI, a prompt would hang a script: fail with
 * exit 2 instead and name the flag that answers the question.
 */
export function assertInteractive(
  what: string,
  flag: string,
  stdin: { isTTY?: boolean } = process.stdin,
  env: NodeJS.ProcessEnv = process.env,
): void {
  if (!stdin.isTTY || env.CI) {
    throw usageError(`${what} needs an answer and this is not an interactive terminal`, { hint: `pass ${flag}` });
  }
}

/**
 * All of stdin as text. Once oclif or Node has touched `process.stdin`, fd 0 of a pipe can be
 * non-blocking and `readFileSync(0)` fails with EAGAIN; opening /dev/stdin gives a fresh,
 * blocking description of the same pipe or file. Sockets cannot be reopened: they use fd 0.
 */
export function readStdinSync(): string {
  try {
    return readFileSync('/dev/stdin', 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENXIO' || code === 'EACCES') return readFileSync(0, 'utf8');
    throw e;
  }
}
