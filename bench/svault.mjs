// svault KV v2 over loopback HTTP against a bare fastify hello-world route, measured in the same
// run: throughput and p99 latency, as ratios. The servers run as child processes (`svault server`
// as a user starts it, filesystem storage with fsync, a token with a Cedar policy); the load comes
// from this process over keep-alive connections. Slices alternate hello / read / hello / write so
// that drift in machine load hits all of them alike; the median ratio is reported
// (BENCH_VERBOSE=1 prints every slice's ratio).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HELLO, httpClient, startChild, stop } from './_http.mjs';
import { median } from './_stats.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const svaultDir = join(root, 'packages', 'svault');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 1);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2);
const MAX_REQUESTS = 100_000;
const targets = { read: 0.5, write: 0.1 };

const { call, load: loadFor, close } = httpClient(CONCURRENCY, MAX_REQUESTS);
const load = (makeRequest, seconds = SECONDS) => loadFor(makeRequest, seconds);

export default async function svault() {
  const dir = mkdtempSync(join(tmpdir(), 'svault-bench-'));
  const cfg = join(dir, 'svault.toml');
  writeFileSync(
    cfg,
    `[server]\naddress = "127.0.0.1:0"\n[storage.filesystem]\npath = "${join(dir, 'data')}"\n[engines]\nkv = { path = "secret", version = 2 }\n`,
  );
  const env = { ...process.env, HOME: dir, XDG_CONFIG_HOME: join(dir, 'config'), XDG_DATA_HOME: join(dir, 'share') };
  delete env.SVAULT_ADDR;
  delete env.SVAULT_TOKEN;
  const hello = await startChild(['--input-type=module', '-e', HELLO], { cwd: svaultDir });
  const sv = await startChild([join(svaultDir, 'bin', 'run.js'), 'server', '--json', '--config', cfg], {
    cwd: dir,
    env,
  });
  try {
    const h = hello.info.address;
    const s = sv.info.address;
    const init = await call(s, 'PUT', '/v1/sys/init', { body: { secret_shares: 1, secret_threshold: 1 } });
    await call(s, 'PUT', '/v1/sys/unseal', { body: { key: init.body.keys[0] } });
    const rootToken = init.body.root_token;
    const policy =
      'permit (principal, action in [Svault::Action::"read", Svault::Action::"create", Svault::Action::"update"], ' +
      'resource in Svault::Path::"secret/data/bench/");';
    await call(s, 'PUT', '/v1/sys/policies/acl/bench', { token: rootToken, body: { policy } });
    const created = await call(s, 'POST', '/v1/auth/token/create', {
      token: rootToken,
      body: { policies: ['bench'], ttl: '1h' },
    });
    const token = created.body.auth.client_token;
    const value = { username: 'app', password: 'x'.repeat(32), url: 'postgres://db.internal:5432/app' };
    for (let i = 0; i < 100; i++) {
      await call(s, 'POST', `/v1/secret/data/bench/r${i}`, { token, body: { data: value } });
    }
    const ok = (r) => {
      if (r.status >= 300) throw new Error(`unexpected ${r.status}: ${JSON.stringify(r.body)}`);
      return r;
    };
    ok(await call(s, 'GET', '/v1/secret/data/bench/r0', { token }));

    const got = ok(await call(s, 'GET', '/v1/secret/data/bench/r7', { token }));
    if (got.body.data.data.password !== value.password) throw new Error('svault read back another value');
    const kinds = {
      hello: () => call(h, 'GET', '/hello', { parse: false }),
      read: (i) => call(s, 'GET', `/v1/secret/data/bench/r${i % 100}`, { token, parse: false }),
      write: (i) =>
        call(s, 'POST', `/v1/secret/data/bench/w${i % 1000}`, { token, body: { data: value }, parse: false }),
    };
    // Warm up JITs, caches and connections: the server's hot paths take seconds to settle.
    for (const k of Object.values(kinds)) await load(k, WARMUP);
    // hello, read, hello, write, hello, read...: each route is compared with the mean of the
    // hello-world slices on either side of it, so that drift in machine load (and the storage's
    // background work after writes) hits the route and its baseline alike.
    const { hello: helloRoute, ...routes } = kinds;
    const samples = { hello: [], read: [], write: [] };
    const ratios = { read: [], write: [] };
    let before = await load(helloRoute);
    samples.hello.push(before);
    for (let r = 0; r < ROUNDS; r++) {
      for (const [name, route] of Object.entries(routes)) {
        const res = await load(route);
        const after = await load(helloRoute);
        samples[name].push(res);
        samples.hello.push(after);
        ratios[name].push({
          rate: res.rate / ((before.rate + after.rate) / 2),
          p99: res.p99 / ((before.p99 + after.p99) / 2),
        });
        before = after;
      }
    }
    const rows = [];
    const failures = Object.values(samples)
      .flat()
      .reduce((n, x) => n + x.errors, 0);
    let pass = failures === 0;
    if (failures > 0)
      console.error(`${failures} failed requests; svault server said: ${sv.child.stderrText().slice(-2000)}`);
    for (const name of ['hello', 'read', 'write']) {
      const rate = median(samples[name].map((x) => x.rate));
      const ratio = name === 'hello' ? 1 : median(ratios[name].map((x) => x.rate));
      const target = targets[name];
      const met = target === undefined || ratio >= target;
      pass &&= met;
      rows.push({
        route: name === 'hello' ? 'fastify hello-world' : `svault KV v2 ${name}`,
        'req/s': Math.round(rate),
        'p50 (ms)': median(samples[name].map((x) => x.p50)).toFixed(2),
        'p99 (ms)': median(samples[name].map((x) => x.p99)).toFixed(2),
        'p99 ratio': name === 'hello' ? '-' : median(ratios[name].map((x) => x.p99)).toFixed(1),
        ratio: ratio.toFixed(2),
        target: target === undefined ? '-' : `>= ${target}`,
        result: target === undefined ? '(baseline)' : met ? 'ok' : 'MISSED',
        errors: samples[name].reduce((n, x) => n + x.errors, 0),
      });
    }
    if (process.env.BENCH_VERBOSE)
      console.log(
        JSON.stringify(
          Object.fromEntries(Object.entries(ratios).map(([k, v]) => [k, v.map((x) => +x.rate.toFixed(2))])),
        ),
      );
    console.table(rows);
    console.log(
      `${WARMUP}s warm-up, then ${ROUNDS} rounds of ${SECONDS}s slices (each route between two hello-world slices), ` +
        `${CONCURRENCY} keep-alive connections, loopback; ` +
        'a token with a Cedar policy; filesystem storage with fsync (group commit); median ratio. ' +
        (pass ? 'all targets met' : 'some targets missed'),
    );
    return pass;
  } catch (e) {
    console.error(`svault server stderr: ${sv.child.stderrText()}\nhello stderr: ${hello.child.stderrText()}`);
    throw e;
  } finally {
    close();
    await stop(sv.child);
    await stop(hello.child);
    rmSync(dir, { recursive: true, force: true });
  }
}
