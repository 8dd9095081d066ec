import { join } from 'node:path';
import { assertAvailable, findExecutable } from './availability.js';
import { getFreePort, LOOPBACK, probeTcp } from './ports.js';
import { READY_TIMEOUT_MS, startInTempDir, waitUntilReady } from './process.js';

export interface NatsServer {
  /** nats://127.0.0.1:PORT */
  url: string;
  host: string;
  port: number;
  /** The temp dir; JetStream stores under `js/`. Removed by stop(). */
  dir: string;
  pid: number;
  stop(): Promise<void>;
}

export interface NatsOptions {
  readyTimeoutMs?: number;
}

/** A throwaway nats-server with JetStream, storing in a temp dir, on a free loopback port. */
export async function startNats(opts: NatsOptions = {}): Promise<NatsServer> {
  assertAvailable('nats');
  const bin = findExecutable('nats-server')!;
  return startInTempDir('nats', async (dir, spawn) => {
    const port = await getFreePort();
    const args = ['-js', '-a', LOOPBACK, '-p', String(port), '-sd', join(dir, 'js')];
    const p = spawn({ name: 'nats-server', command: bin, args, cwd: dir });
    await waitUntilReady(p, () => probeNats(port), {
      what: `INFO with JetStream on ${LOOPBACK}:${port}`,
      timeoutMs: opts.readyTimeoutMs ?? READY_TIMEOUT_MS,
    });
    return { url: `nats://${LOOPBACK}:${port}`, host: LOOPBACK, port };
  });
}

/** The server greets every client with `INFO {json}`; JetStream must be on before we call it ready. */
function probeNats(port: number): Promise<void> {
  return probeTcp(port, {
    accept: (buf) => {
      const text = buf.toString('utf8');
      const eol = text.indexOf('\r\n');
      if (eol < 0) return false;
      const line = text.slice(0, eol);
      if (!line.startsWith('INFO ')) return `unexpected greeting: ${line.slice(0, 80)}`;
      const info = JSON.parse(line.slice(5)) as { jetstream?: boolean };
      return info.jetstream === true || 'JetStream not enabled yet';
    },
  });
}
