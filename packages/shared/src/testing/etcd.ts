import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { assertAvailable, findExecutable } from './availability.js';
import { getFreePort, LOOPBACK } from './ports.js';
import { cleanEnv, READY_TIMEOUT_MS, startInTempDir, waitUntilReady } from './process.js';

export interface EtcdServer {
  /** http://127.0.0.1:PORT (client URL) */
  endpoint: string;
  host: string;
  port: number;
  peerPort: number;
  /** The temp dir; data in `data/`. Removed by stop(). */
  dir: string;
  pid: number;
  stop(): Promise<void>;
}

export interface EtcdOptions {
  readyTimeoutMs?: number;
}

// etcd 3.4 refuses to start on architectures it does not officially support unless told to (3.5 adds arm64).
const GO_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', ppc64: 'ppc64le', s390x: 's390x' };

/** A throwaway single-member etcd in a temp dir, client and peer URLs on two free loopback ports. */
export async function startEtcd(opts: EtcdOptions = {}): Promise<EtcdServer> {
  assertAvailable('etcd');
  const bin = findExecutable('etcd')!;
  const goArch = GO_ARCH[process.arch] ?? process.arch;
  const extra: NodeJS.ProcessEnv = goArch === 'amd64' || goArch === 'ppc64le' ? {} : { ETCD_UNSUPPORTED_ARCH: goArch };
  // etcd reads every ETCD_* variable as a flag and refuses a flag given twice.
  const env = cleanEnv(['ETCD_'], extra);
  return startInTempDir('etcd', async (dir, spawn) => {
    const port = await getFreePort();
    const peerPort = await getFreePort();
    const client = `http://${LOOPBACK}:${port}`;
    const peer = `http://${LOOPBACK}:${peerPort}`;
    const args = [
      '--name=default',
      `--data-dir=${join(dir, 'data')}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=default=${peer}`,
      '--initial-cluster-state=new',
      `--initial-cluster-token=stratum-test-${randomUUID()}`,
      '--logger=zap',
      '--log-outputs=stderr',
    ];
    const p = spawn({ name: 'etcd', command: bin, args, env, cwd: dir });
    await waitUntilReady(p, () => probeEtcd(client), {
      what: `${client}/health reporting healthy`,
      timeoutMs: opts.readyTimeoutMs ?? READY_TIMEOUT_MS,
    });
    return { endpoint: client, host: LOOPBACK, port, peerPort };
  });
}

/** /health turns true once the member has a leader and can serve a linearizable read. */
async function probeEtcd(client: string): Promise<void> {
  const res = await fetch(`${client}/health`, { signal: AbortSignal.timeout(2_000) });
  const body = (await res.json()) as { health?: string };
  if (body.health !== 'true') throw new Error(`health: ${JSON.stringify(body)}`);
}
