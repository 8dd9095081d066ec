/**
 * Worker of the conformance runner. Runs as a worker thread (messages on `parentPort`) or as a forked
 * process (messages on the IPC channel, used for tests that need their own working directory). It loads
 * the built evaluator once (`workerData.entry`, `NICKEL_CONFORMANCE_ENTRY`, or `../index.js`) and runs one
 * job at a time.
 */
import { readFile } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { ERROR_FIELDS, type ErrorInfo, type FromWorker, type Job, type Outcome, type ToWorker } from './protocol.js';

interface EvaluatorModule {
  evaluate?: (source: string, opts: Record<string, unknown>) => unknown;
  exportSource?: (source: string, opts: Record<string, unknown>) => unknown;
}

const entry: string =
  (workerData as { entry?: string } | null)?.entry ??
  process.env.NICKEL_CONFORMANCE_ENTRY ??
  new URL('../index.js', import.meta.url).href;

let loadError: string | undefined;
const loaded: Promise<EvaluatorModule | undefined> = import(entry).then(
  (m: EvaluatorModule) => m,
  (e: unknown) => {
    loadError = `cannot load the evaluator (${entry}): ${e instanceof Error ? e.message : String(e)}`;
    return undefined;
  },
);

function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return i < 0 ? s : s.slice(0, i);
}

function errorInfo(e: unknown): ErrorInfo {
  if (e !== null && typeof e === 'object') {
    const o = e as Record<string, unknown>;
    const fields: Record<string, string> = {};
    for (const k of ERROR_FIELDS) {
      const v = o[k];
      if (typeof v === 'string') fields[k] = v;
    }
    const kind = typeof o.kind === 'string' ? o.kind : undefined;
    const name = typeof o.name === 'string' ? o.name : 'Error';
    let message = typeof o.message === 'string' ? o.message : String(e);
    // For a plain JS exception (an evaluator bug), keep where it was thrown.
    if (kind === undefined && typeof o.stack === 'string') {
      const frame = o.stack.split('\n').find((l) => l.trim().startsWith('at '));
      if (frame) message = `${firstLine(message)} (${frame.trim()})`;
    }
    return kind === undefined ? { name, message, fields } : { kind, name, message, fields };
  }
  return { name: typeof e, message: String(e), fields: {} };
}

function preview(v: unknown): string {
  let s: string | undefined;
  try {
    s = JSON.stringify(v, (_k, x: unknown) => {
      if (typeof x === 'bigint') return `${x}n`;
      if (typeof x === 'function') return '<function>';
      if (
        x !== null &&
        typeof x === 'object' &&
        typeof (x as { toNickelString?: unknown }).toNickelString === 'function'
      ) {
        return (x as { toNickelString: () => string }).toNickelString();
      }
      return x;
    });
  } catch {
    s = undefined;
  }
  if (s === undefined) s = String(v);
  return s.length > 200 ? `${s.slice(0, 200)}...` : s;
}

async function run(job: Job): Promise<Outcome> {
  const mod = await loaded;
  if (!mod) return { status: 'error', error: { name: 'LoadError', message: loadError ?? 'load failed', fields: {} } };
  try {
    const source = await readFile(job.file, 'utf8');
    if (job.kind === 'export') {
      if (typeof mod.exportSource !== 'function') {
        return { status: 'unavailable', message: 'the evaluator does not export exportSource' };
      }
      const text = await mod.exportSource(source, {
        filename: job.filename,
        format: job.format ?? 'json',
        importPaths: job.importPaths,
      });
      if (typeof text !== 'string') {
        return {
          status: 'error',
          error: { name: 'TypeError', message: `exportSource resolved to ${typeof text}`, fields: {} },
        };
      }
      return { status: 'text', text };
    }
    if (typeof mod.evaluate !== 'function') {
      return { status: 'unavailable', message: 'the evaluator does not export evaluate' };
    }
    const value = await mod.evaluate(source, {
      filename: job.filename,
      importPaths: job.importPaths,
      mode: job.mode ?? 'standard',
    });
    return { status: 'value', isTrue: value === true, preview: preview(value) };
  } catch (e) {
    return { status: 'error', error: errorInfo(e) };
  }
}

function serve(send: (m: FromWorker) => void, onMessage: (handler: (m: ToWorker) => void) => void): void {
  onMessage((m) => {
    if (m.type !== 'run') return;
    void run(m.job).then((outcome) => send({ type: 'result', id: m.id, outcome }));
  });
  void loaded.then(() => send(loadError ? { type: 'ready', loadError } : { type: 'ready' }));
}

if (parentPort) {
  const port = parentPort;
  serve(
    (m) => port.postMessage(m),
    (handler) => port.on('message', handler),
  );
} else if (process.send) {
  const send = process.send.bind(process);
  serve(
    (m) => {
      send(m);
    },
    (handler) => {
      process.on('message', (m) => handler(m as ToWorker));
    },
  );
}
