import { spawn } from 'node:child_process';
import { commandEnv, isCommandEnvName, parseCommandTemplate, renderCommand } from '../../core/exec-template.js';
import { type ChatRequest, type ChatResponse, LlmError, type LlmProvider, zeroUsage } from '../../core/llm/types.js';

export { splitWords } from '../../core/exec-template.js';

export interface ExecOptions {
  timeoutMs?: number | undefined;
  cwd?: string | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  /** Largest stdout kept (bytes); the rest is cut. */
  maxOutput?: number | undefined;
}

/** Environment variables a command never inherits: the API token and the provider keys. */
const SECRET_ENV = new Set(['VAPORA_TOKEN', 'ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'GEMINI_API_KEY', 'GOOGLE_API_KEY']);

/** The environment of one run: the base minus secrets and stale task variables, plus this run's variables. */
function runEnv(base: NodeJS.ProcessEnv, vars: Record<string, unknown>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) {
    if (v !== undefined && !SECRET_ENV.has(k) && !isCommandEnvName(k)) env[k] = v;
  }
  return { ...env, ...commandEnv(vars) };
}

/**
 * The `exec` provider: the "model" is a command template (core/exec-template.ts), split into argv once and run
 * without a shell; a `{{payload.x}}`, `{{task.id}}`, `{{prompt}}` value only ever fills argv entries. Templates
 * that would turn a value into code (`sh -c "… {{x}}"`) are refused; shell code reads `$VAPORA_PAYLOAD_X` from the
 * environment instead (the process env minus VAPORA_TOKEN and provider keys, plus the run's variables). Stdin
 * gets the vars as JSON. Exit 0 is finishReason stop, any other exit code an answer with finishReason error (the
 * work failed); a timeout, a command that cannot start, or a refused template or value is an LlmError.
 */
/** Process groups of agent commands still running: killed when this process exits (they run detached). */
const running = new Set<number>();
let killOnExit = false;

function groupAlive(group: number): boolean {
  try {
    process.kill(-group, 0);
    return true;
  } catch {
    return false;
  }
}

function track(pid: number): void {
  running.add(pid);
  if (killOnExit) return;
  killOnExit = true;
  // Detached, an agent command outlives a server or worker that exits (a shutdown timeout, an error):
  // its work is run again at the next start, so what it started must not go on meanwhile.
  process.once('exit', () => {
    for (const group of running) {
      try {
        process.kill(-group, 'SIGKILL');
      } catch {}
    }
  });
}

export class ExecProvider implements LlmProvider {
  readonly name = 'exec';
  constructor(private readonly opts: ExecOptions = {}) {}

  chat(req: ChatRequest): Promise<ChatResponse> {
    const vars = { prompt: req.messages.at(-1)?.content ?? '', ...req.vars };
    const info = { provider: this.name, model: req.model };
    let argv: string[];
    let env: NodeJS.ProcessEnv;
    try {
      // Checked again here, not only when the agent was defined: an agent may predate the check.
      argv = renderCommand(parseCommandTemplate(req.model), vars);
      env = runEnv(this.opts.env ?? process.env, vars);
    } catch (e) {
      return Promise.reject(new LlmError('invalid_request', `exec: ${(e as Error).message}`, info));
    }
    const [cmd, ...args] = argv as [string, ...string[]];
    const timeoutMs = req.timeoutMs ?? this.opts.timeoutMs ?? 300_000;
    const max = this.opts.maxOutput ?? 1024 * 1024;
    return new Promise((resolve, reject) => {
      const child = spawn(cmd, args, {
        cwd: this.opts.cwd,
        env,
        shell: false, // never: values are argv entries and environment variables, not shell text
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true, // its own process group, so a timeout kills what it started too
      });
      const group = child.pid;
      if (group) track(group);
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
        if (group) running.delete(group);
        clearTimeout(timer);
        reject(
          new LlmError(
            'invalid_request',
            `exec: cannot run '${cmd}': ${(e as NodeJS.ErrnoException).code ?? e.message}`,
            info,
          ),
        );
      });
      child.on('exit', () => {
        // The command ended; its group may live on in what it left running (killed with it at exit),
        // but once empty the group id may be reused by someone else's group: never kill it then.
        if (group && !groupAlive(group)) running.delete(group);
      });
      child.on('close', (code, signal) => {
        if (group) running.delete(group);
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
