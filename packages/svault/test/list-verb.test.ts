import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, initAndUnseal, startTestServer } from './helpers.js';

// The LIST verb over raw sockets, the way the bytes really arrive: split, pipelined, with a body.
let srv: Awaited<ReturnType<typeof startTestServer>>;
let root: string;
let port: number;

beforeAll(async () => {
  srv = await startTestServer();
  root = (await initAndUnseal(srv.address, 1, 1)).root;
  port = Number(new URL(srv.address).port);
  for (const k of ['a', 'b']) {
    await call(srv.address, 'POST', `/v1/secret/data/lv/${k}`, { token: root, body: { data: { v: k } } });
  }
});
afterAll(() => srv.close());

/** Sends the pieces with a pause between them; resolves with everything the server sent until it closed. */
function rawExchange(pieces: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const s: Socket = connect(port, '127.0.0.1');
    let got = '';
    s.on('data', (d) => {
      got += d.toString('latin1');
    });
    s.on('close', () => resolve(got));
    s.on('error', reject);
    s.once('connect', async () => {
      for (const p of pieces) {
        s.write(p);
        await new Promise((r) => setTimeout(r, 30));
      }
    });
    setTimeout(() => s.destroy(), 5000);
  });
}

const head = (path: string, extra = '') => `LIST ${path} HTTP/1.1\r\nHost: x\r\nX-Vault-Token: ${'@'}${extra}\r\n\r\n`;

describe('LIST verb', () => {
  it('answers a LIST whose bytes arrive in pieces, then closes the connection', async () => {
    const req = head('/v1/secret/metadata/lv').replace('@', root);
    const out = await rawExchange([req.slice(0, 3), req.slice(3, 20), req.slice(20)]);
    expect(out).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(out.toLowerCase()).toContain('connection: close');
    expect(JSON.parse(out.slice(out.indexOf('\r\n\r\n') + 4)).data.keys).toEqual(['a', 'b']);
  });

  it('after a pipelined GET on the same connection: both answered, in order', async () => {
    const get = `GET /v1/secret/data/lv/a HTTP/1.1\r\nHost: x\r\nX-Vault-Token: ${root}\r\n\r\n`;
    const out = await rawExchange([get + head('/v1/secret/metadata/lv?x=1').replace('@', root)]);
    const answers = out.split(/(?=HTTP\/1\.1 )/);
    expect(answers).toHaveLength(2);
    expect(answers[0]).toContain('"v":"a"');
    expect(answers[1]).toContain('"keys":["a","b"]');
  });

  it('keeps the token check: no token is a 403, and a garbage request line is a 400', async () => {
    const denied = await rawExchange(['LIST /v1/secret/metadata/lv HTTP/1.1\r\nHost: x\r\n\r\n']);
    expect(denied).toMatch(/^HTTP\/1\.1 403 /);
    const garbage = await rawExchange(['LISTEN /v1/x HTTP/1.1\r\n\r\n']);
    expect(garbage).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(JSON.parse(garbage.slice(garbage.indexOf('\r\n\r\n') + 4))).toEqual({ errors: ['Bad Request'] });
    // The server still serves.
    expect((await call(srv.address, 'GET', '/v1/secret/data/lv/b', { token: root })).status).toBe(200);
  });
});
