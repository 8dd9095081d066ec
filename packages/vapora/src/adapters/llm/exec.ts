import { spawn } from 'node:child_process';
import { type ChatRequest, type ChatResponse, LlmError, type LlmProvider, zeroUsage } from '../../core/llm/types.js';

export interface ExecOptions {
  timeoutMs?: number | undefined;
  cwd?: string | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  /** Largest stdout kept (bytes); the rest is cut. */
  maxOutput?: number | undefined;
}

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
  if (quote) throw new Error(`unclosed ${quote} in command template`);
  if (has || cur) words.push(cur);
  return words;
}

function lookup(vars: Record<string, unknown>, path: string): unknown {
  let cur: unknown = vars;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** `{{payload.host}}` → the value (objects as JSON); a missing variable is an error, never an empty string. */
export function renderWord(word: string, vars: Record<string, unknown>): string {
  return word.replace(/\{\{\s*([A-Za-z_][\w.]*)\s*\}\}/g, (_m, path: string) => {
    const v = lookup(vars, path);
    if (v === undefined || v === null) throw new Error(`template variable '${path}' is missing`);
    return typeof v === 'object' ? JSON.stringify(v) : String(v);
  });
}

/**
 * The `exec` provider: the "model" is a command template, run without a shell, each word rendered from the
 * request's vars (`{{payload.x}}`, `{{task.id}}`, `{{prompt}}`). Stdin gets the vars as JSON. Exit 0 is
 * finishReason stop, any other exit code an answer with finishReason error (the work failed); a timeout or a
 * command that cannot start is an LlmError.
 */
export class ExecProvider implements LlmProvider {
  readonly name = 'exec';
  constructor(private readonly opts: ExecOptions = {}) {}

  chat(req: ChatRequest): Promise<ChatResponse> {
    const vars = { prompt: req.messages.at(-1)?.content ?? '', ...req.vars };
    const info = { provider: this.name, model: req.model };
    let argv: string[];
    try {
      argv = splitWords(req.model).map((w) => renderWord(w, vars));
    } catch (e) {
      return Promise.reject(new LlmError('invalid_request', `exec: ${(e as Error).message}`, info));
    }
    const [cmd, ...args] = argv;
    if (!cmd) return Promise.reject(new LlmError('invalid_request', 'exec: empty command', info));
    const timeoutMs = req.timeoutMs ?? this.opts.timeoutMs ?? 300_000;
    const max = this.opts.maxOutput ?? 1024 * 1024;
    return new Promise((resolve, reject) => {
      const child = spawn(cmd, args, {
        cwd: this.opts.cwd,
        env: this.opts.env ?? process.env,
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true, // its own process group, so a timeout kills what it started too
      });
      let out = '';
      let err = '';
      let timedOut = false;
      const kill = () => {
        try {
          if (child.pid) process.kill(-child.pid, 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
      };
      const timer = setTimeout(() => {
        timedOut = true;
        kill();
      }, timeoutMs);
      const onAbort = () => kill();
      req.signal?.addEventListener('abort', onAbort, { once: true });
      child.stdout.on('data', (d: Buffer) => {
        if (out.length < max) {
          const s = d.toString('utf8');
          out += s;
          req.onDelta?.(s);
        }
      });
      child.stderr.on('data', (d: Buffer) => {
        if (err.length < 64 * 1024) err += d.toString('utf8');
      });
      child.stdin.on('error', () => {}); // a command that does not read stdin
      child.stdin.end(JSON.stringify(vars));
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(
          new LlmError(
            'invalid_request',
            `exec: cannot run '${cmd}': ${(e as NodeJS.ErrnoException).code ?? e.message}`,
            info,
          ),
        );
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        req.signal?.removeEventListener('abort', onAbort);
        if (timedOut)
          return reject(new LlmError('timeout', `exec: '${cmd}' did not finish within ${timeoutMs} ms`, info));
        if (signal) return reject(new LlmError('server', `exec: '${cmd}' was killed by ${signal}`, info));
        const text = out.length > max ? out.slice(0, max) : out;
        resolve({
          text: code === 0 ? text : `${text}${err ? `${text ? '\n' : ''}${err.trim()}` : ''}`,
          model: req.model,
          usage: zeroUsage(),
          finishReason: code === 0 ? 'stop' : 'error',
          finishRaw: `exit ${code}`,
          exitCode: code ?? -1,
        });
      });
    });
  }
}
