import { existsSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canConnect, isProcessAlive, type PostgresServer, skipUnless, startPostgres } from '../../src/testing/index.js';

describe.skipIf(skipUnless('postgres'))('startPostgres (real PostgreSQL)', () => {
  let server: PostgresServer;

  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('connects, writes and reads back with pg', async () => {
    expect(server.url).toBe(`postgres://postgres@127.0.0.1:${server.port}/postgres`);
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    try {
      await client.query('CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL)');
      await client.query('INSERT INTO items (name) VALUES ($1), ($2)', ['alpha', 'beta']);
      const res = await client.query<{ id: number; name: string }>('SELECT id, name FROM items ORDER BY id');
      expect(res.rows).toEqual([
        { id: 1, name: 'alpha' },
        { id: 2, name: 'beta' },
      ]);
    } finally {
      await client.end();
    }
  });

  it('stop() shuts the server down and removes its temp dir, even with a client still connected', async () => {
    const idle = new pg.Client({ connectionString: server.url });
    await idle.connect();
    idle.on('error', () => {}); // the server terminates this session on shutdown
    await server.stop();
    expect(await canConnect(server.port)).toBe(false);
    expect(isProcessAlive(server.pid)).toBe(false);
    expect(existsSync(server.dir)).toBe(false);
    await idle.end().catch(() => {});
  });
});
