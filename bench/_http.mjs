// Shared by the HTTP benchmarks (svault, transit): a fastify hello-world baseline server, child
// servers that print a JSON line once they listen, and a closed-loop keep-alive load generator.
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';

export const HELLO = `
import Fastify from 'fastify';
const app = Fastify({ logger: false });
app.get('/hello', async () => ({ hello: 'world' }));
const address = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(JSON.stringify({ address }) + '\\n');
`;

/** Starts a child and resolves with the JSON document it prints on stdout when it listens. */
export function startChild(args, opts = {}) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => {
    err += d;
  });
  child.stderrText = () => err;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${err}`)), 20_000);
    child.stdout.on('data', (d) => {
      out += d;
      try {
        const info = JSON.parse(out);
        clearTimeout(timer);
        resolve({ child, info });
      } catch {}
    });
    child.once('exit', (code) => reject(new Error(`server exited ${code}: ${err}`)));
  });
}

export function stop(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** A keep-alive client with `concurrency` sockets: `call` for one request, `load` for a closed loop. */
export function httpClient(concurrency, maxRequests = 100_000) {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });

  function call(base, method, path, { token, body, parse = true } = {}) {
    const url = new URL(base);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          method,
          path,
          agent,
          headers: {
            ...(token ? { 'X-Vault-Token': token } : {}),
            ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {}),
          },
        },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => {
            // Under load only the status matters: parsing every body would make the client the bottleneck.
            const text = parse ? Buffer.concat(chunks).toString() : '';
            resolve({ status: res.statusCode, body: text ? JSON.parse(text) : undefined });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      if (payload) req.write(payload);
      req.end();
    });
  }

  /** `concurrency` workers for `seconds` (bounded by maxRequests): rate, latencies, failures. */
  async function load(makeRequest, seconds) {
    const lat = [];
    let errors = 0;
    let issued = 0;
    const t0 = performance.now();
    const deadline = t0 + seconds * 1000;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < deadline && issued < maxRequests) {
          const i = issued++;
          const s = performance.now();
          try {
            if ((await makeRequest(i)).status >= 300) errors++;
          } catch {
            errors++; // connection refused or reset: the server is gone
            if (errors > 100) return;
          }
          lat.push(performance.now() - s);
        }
      }),
    );
    const elapsed = (performance.now() - t0) / 1000;
    lat.sort((a, b) => a - b);
    const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? 0;
    return { rate: lat.length / elapsed, p50: q(0.5), p99: q(0.99), errors, n: lat.length };
  }

  return { call, load, close: () => agent.destroy() };
}
