import { join } from 'node:path';
import { assertAvailable, currentUser, findPostgresBinDir, isRoot, lookupUser } from './availability.js';
import { getFreePort, LOOPBACK, probeTcp } from './ports.js';
import { cleanEnv, READY_TIMEOUT_MS, runCommand, startInTempDir, waitUntilReady } from './process.js';

export interface PostgresServer {
  /** postgres://postgres@127.0.0.1:PORT/postgres (trust auth, no password). */
  url: string;
  host: string;
  port: number;
  user: string;
  database: string;
  /** The temp dir: data directory in `data/`, unix socket here too. Removed by stop(). */
  dir: string;
  pid: number;
  stop(): Promise<void>;
}

export interface PostgresOptions {
  readyTimeoutMs?: number;
}

/**
 * A throwaway PostgreSQL: initdb into a temp dir, postgres in the foreground on a free loopback port.
 * As root it runs as the `postgres` system user (initdb and postgres refuse root).
 */
export async function startPostgres(opts: PostgresOptions = {}): Promise<PostgresServer> {
  assertAvailable('postgres');
  const binDir = findPostgresBinDir()!;
  const runAs = isRoot() ? lookupUser('postgres')! : currentUser();
  const ids = isRoot() ? { uid: runAs.uid, gid: runAs.gid } : {};
  // PG* variables (PGDATA, PGPORT, ...) would override what we pass; HOME must be readable by the server user.
  const env = cleanEnv(['PG'], { HOME: '/', LC_ALL: 'C', LANG: 'C' });
  return startInTempDir(
    'pg',
    async (dir, spawn) => {
      const data = join(dir, 'data');
      const initArgs = ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-locale', '--no-sync'];
      await runCommand(join(binDir, 'initdb'), initArgs, { ...ids, env, cwd: dir });
      const port = await getFreePort();
      // Durability off: the data is thrown away, and fsync dominates start-up and DDL time.
      const settings = [
        `listen_addresses=${LOOPBACK}`,
        `unix_socket_directories=${dir}`,
        'fsync=off',
        'synchronous_commit=off',
        'full_page_writes=off',
        'logging_collector=off',
      ];
      const args = ['-D', data, '-p', String(port), ...settings.flatMap((s) => ['-c', s])];
      // SIGINT is a "fast" shutdown; SIGTERM ("smart") would wait for every client to disconnect.
      const p = spawn({
        name: 'postgres',
        command: join(binDir, 'postgres'),
        args,
        env,
        cwd: dir,
        ...ids,
        stopSignal: 'SIGINT',
      });
      await waitUntilReady(p, () => probePostgres(port), {
        what: `accepting connections on ${LOOPBACK}:${port}`,
        timeoutMs: opts.readyTimeoutMs ?? READY_TIMEOUT_MS,
      });
      return {
        url: `postgres://postgres@${LOOPBACK}:${port}/postgres`,
        host: LOOPBACK,
        port,
        user: 'postgres',
        database: 'postgres',
      };
    },
    isRoot() ? runAs : undefined,
  );
}

/**
 * Speaks just enough of the wire protocol to know the server takes queries: startup as `postgres`, expect
 * AuthenticationOk then ReadyForQuery. A TCP accept alone is not enough ("the database system is starting up").
 */
function probePostgres(port: number): Promise<void> {
  const params = Buffer.from('user\0postgres\0database\0postgres\0\0', 'utf8');
  const startup = Buffer.alloc(8 + params.length);
  startup.writeInt32BE(startup.length, 0);
  startup.writeInt32BE(196608, 4); // protocol 3.0
  params.copy(startup, 8);
  const terminate = Buffer.from([0x58, 0, 0, 0, 4]); // 'X'
  return probeTcp(port, {
    send: startup,
    farewell: terminate,
    accept: (buf) => {
      let off = 0;
      while (off + 5 <= buf.length) {
        const type = String.fromCharCode(buf[off]!);
        const len = buf.readInt32BE(off + 1);
        if (off + 1 + len > buf.length) return false;
        const body = buf.subarray(off + 5, off + 1 + len);
        if (type === 'E') return `server error: ${errorMessage(body)}`;
        const auth = type === 'R' ? body.readInt32BE(0) : 0;
        if (auth !== 0) return `server wants authentication (code ${auth}), expected trust`;
        if (type === 'Z') return true;
        off += 1 + len;
      }
      return false;
    },
  });
}

/** The 'M' (message) field of an ErrorResponse body. */
function errorMessage(body: Buffer): string {
  for (const field of body.toString('utf8').split('\0')) {
    if (field.startsWith('M')) return field.slice(1);
  }
  return 'unknown error';
}
