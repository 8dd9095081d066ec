import { existsSync } from 'node:fs';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canConnect, type EtcdServer, isProcessAlive, skipUnless, startEtcd } from '../../src/testing/index.js';

describe.skipIf(skipUnless('etcd'))('startEtcd (real etcd)', () => {
  let server: EtcdServer;

  beforeAll(async () => {
    server = await startEtcd();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('puts and gets a key with etcd3', async () => {
    const client = new Etcd3({ hosts: server.endpoint });
    try {
      await client.put('stratum/test/greeting').value('hello etcd');
      expect(await client.get('stratum/test/greeting').string()).toBe('hello etcd');
      expect(await client.getAll().prefix('stratum/test/').keys()).toEqual(['stratum/test/greeting']);
    } finally {
      client.close();
    }
  });

  it('stop() shuts the server down and removes its temp dir', async () => {
    await server.stop();
    expect(await canConnect(server.port)).toBe(false);
    expect(await canConnect(server.peerPort)).toBe(false);
    expect(isProcessAlive(server.pid)).toBe(false);
    expect(existsSync(server.dir)).toBe(false);
  });
});
