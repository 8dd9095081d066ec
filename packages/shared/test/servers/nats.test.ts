import { existsSync } from 'node:fs';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canConnect, isProcessAlive, type NatsServer, skipUnless, startNats } from '../../src/testing/index.js';

describe.skipIf(skipUnless('nats'))('startNats (real nats-server with JetStream)', () => {
  let server: NatsServer;

  beforeAll(async () => {
    server = await startNats();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('creates a stream, publishes, and consumes one message with an ack', async () => {
    const nc = await connect({ servers: server.url });
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'EVENTS', subjects: ['events.>'] });
      const js = jetstream(nc);
      const pub = await js.publish('events.created', 'hello jetstream');
      expect(pub.stream).toBe('EVENTS');
      expect(pub.seq).toBe(1);

      await jsm.consumers.add('EVENTS', { durable_name: 'worker', ack_policy: AckPolicy.Explicit });
      const consumer = await js.consumers.get('EVENTS', 'worker');
      const msg = await consumer.next({ expires: 5_000 });
      expect(msg?.subject).toBe('events.created');
      expect(msg?.string()).toBe('hello jetstream');
      expect(await msg?.ackAck()).toBe(true);

      const info = await consumer.info();
      expect(info.num_ack_pending).toBe(0);
      expect(info.delivered.stream_seq).toBe(1);
    } finally {
      await nc.close();
    }
  });

  it('stop() shuts the server down and removes its temp dir', async () => {
    await server.stop();
    expect(await canConnect(server.port)).toBe(false);
    expect(isProcessAlive(server.pid)).toBe(false);
    expect(existsSync(server.dir)).toBe(false);
  });
});
