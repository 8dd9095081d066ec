// svault transit: encrypt/decrypt 1 KiB and sign/verify per second, in-process and over loopback
// HTTP, against baselines measured in the same run:
// - in-process, the raw library calls the engine builds on (node:crypto AEAD, ML-KEM-768 + X25519
//   + HKDF + AES-GCM, ed25519, ML-DSA-65), and those calls plus the base64 coding of Vault's API
//   (same input and output as transit: base64 in, vault:v1:base64 out). The target applies to the
//   latter; the bytes-only ratio is printed too. "engine" is the mount's handler path (routing,
//   field parsing, handler); "Vault.handle" adds token lookup and authorization.
// - over HTTP, a fastify hello-world route (as bench/svault.mjs).
// Slices alternate baseline / engine / Vault.handle (over HTTP: hello-world / route) so that
// machine load hits them alike; the median round's ratio is reported.
import {
  createCipheriv,
  createDecipheriv,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HELLO, httpClient, startChild, stop } from './_http.mjs';
import { median } from './_stats.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const svaultDir = join(root, 'packages', 'svault');
const dist = (m) => import(join(svaultDir, 'dist', m));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const SLICE_MS = Number(process.env.BENCH_SLICE_MS ?? 200);
const HTTP_SECONDS = Number(process.env.BENCH_SECONDS ?? 1);
const HTTP_ROUNDS = Number(process.env.BENCH_HTTP_ROUNDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const TARGET_IN_PROCESS = 0.8;
const TARGET_HTTP = 0.4;
const SIZE = 1024;

/** Calls per second of `fn` (sync or async) for about `ms`, at least 3 calls. */
async function rate(fn, ms) {
  let n = 0;
  const t0 = performance.now();
  while (n < 3 || performance.now() - t0 < ms) {
    for (let i = 0; i < 10; i++) await fn();
    n += 10;
  }
  return n / ((performance.now() - t0) / 1000);
}

// --- the raw library calls ---

function aeadBaseline(cipher) {
  const key = randomBytes(32);
  const seal = (pt) => {
    const nonce = randomBytes(12);
    const c = createCipheriv(cipher, key, nonce, { authTagLength: 16 });
    const body = c.update(pt);
    c.final();
    return Buffer.concat([nonce, body, c.getAuthTag()]);
  };
  const open = (sealed) => {
    const d = createDecipheriv(cipher, key, sealed.subarray(0, 12), { authTagLength: 16 });
    d.setAuthTag(sealed.subarray(sealed.length - 16));
    const body = d.update(sealed.subarray(12, sealed.length - 16));
    d.final();
    return body;
  };
  return { seal, open };
}

async function hybridBaseline() {
  const { ml_kem768 } = await import(join(root, 'node_modules/@noble/post-quantum/ml-kem.js'));
  const { secretKey, publicKey } = ml_kem768.keygen();
  const kem = ml_kem768.prepare(publicKey);
  const x = generateKeyPairSync('x25519');
  const raw = (k) => k.export({ format: 'der', type: 'spki' }).subarray(12);
  const xRaw = raw(x.publicKey);
  const kdf = (a, b, eph) =>
    Buffer.from(hkdfSync('sha256', Buffer.concat([a, b]), Buffer.alloc(0), Buffer.concat([eph, xRaw]), 32));
  const seal = (pt) => {
    const { cipherText, sharedSecret } = kem.encapsulate();
    const eph = generateKeyPairSync('x25519');
    const ephRaw = raw(eph.publicKey);
    const key = kdf(sharedSecret, diffieHellman({ privateKey: eph.privateKey, publicKey: x.publicKey }), ephRaw);
    const nonce = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', key, nonce);
    const body = c.update(pt);
    c.final();
    return Buffer.concat([cipherText, ephRaw, nonce, body, c.getAuthTag()]);
  };
  const spki = Buffer.from('302a300506032b656e032100', 'hex');
  const open = (sealed) => {
    const ss = kem.decapsulate(sealed.subarray(0, 1088), secretKey);
    const ephRaw = sealed.subarray(1088, 1120);
    const eph = createPublicKey({ key: Buffer.concat([spki, ephRaw]), format: 'der', type: 'spki' });
    const key = kdf(ss, diffieHellman({ privateKey: x.privateKey, publicKey: eph }), ephRaw);
    const rest = sealed.subarray(1120);
    const d = createDecipheriv('aes-256-gcm', key, rest.subarray(0, 12));
    d.setAuthTag(rest.subarray(rest.length - 16));
    const body = d.update(rest.subarray(12, rest.length - 16));
    d.final();
    return body;
  };
  return { seal, open };
}

async function signers() {
  const { ml_dsa65 } = await import(join(root, 'node_modules/@noble/post-quantum/ml-dsa.js'));
  const ed = generateKeyPairSync('ed25519');
  const dsa = ml_dsa65.keygen();
  return {
    ed25519: {
      sign: (m) => sign(null, m, ed.privateKey),
      verify: (m, s) => verify(null, m, ed.publicKey, s),
    },
    'ml-dsa-65': {
      sign: (m) => ml_dsa65.sign(m, dsa.secretKey),
      verify: (m, s) => ml_dsa65.verify(s, m, dsa.publicKey),
    },
  };
}

// --- in-process ---

async function inProcess() {
  const { Vault } = await dist('core/vault.js');
  const { MemoryStorage } = await dist('adapters/memory.js');
  const { CryptoSuite } = await dist('core/crypto.js');
  const { Router } = await dist('core/router.js');
  const { transitFactory } = await dist('core/engines/transit.js');
  const vault = new Vault({
    storage: new MemoryStorage(),
    suite: await CryptoSuite.create('openssl'),
    tidyIntervalMs: 0,
  });
  const init = await vault.init(1, 1);
  await vault.unseal(init.keys[0]);
  const token = init.root_token;
  const handle = (path, data) => vault.handle({ operation: 'update', path: `transit/${path}`, data, token });
  await vault.handle({ operation: 'update', path: 'sys/mounts/transit', data: { type: 'transit' }, token });
  // The engine alone: its own mount in a router, as the vault dispatches to it.
  const entry = { path: 'engine/', type: 'transit', uuid: 'bench' };
  const router = new Router();
  router.mount(entry, await transitFactory({ entry, store: vault.barrier.view('bench/'), warn: () => {} }));
  const caller = { tokenHash: '', token: '', accessor: '', policies: ['root'], isRoot: true, displayName: 'root' };
  const engine = (path, data) => {
    const req = { operation: 'update', path: `engine/${path}`, data };
    return router.dispatch(req, router.match(req.path, 'update'), caller);
  };
  const ok = async (p) => {
    const r = await p;
    if (!r?.data) throw new Error(`transit answered ${JSON.stringify(r)}`);
    return r.data;
  };

  const pt = randomBytes(SIZE);
  const ptB64 = pt.toString('base64');
  const hybrid = await hybridBaseline();
  const sig = await signers();
  const cases = [];
  for (const type of ['aes256-gcm96', 'chacha20-poly1305', 'ml-kem-768']) {
    for (const call of [engine, handle]) await ok(call(`keys/${type}`, { type }));
    const base =
      type === 'ml-kem-768' ? hybrid : aeadBaseline(type === 'aes256-gcm96' ? 'aes-256-gcm' : 'chacha20-poly1305');
    const sealed = base.seal(pt);
    const engineCt = (await ok(engine(`encrypt/${type}`, { plaintext: ptB64 }))).ciphertext;
    const handleCt = (await ok(handle(`encrypt/${type}`, { plaintext: ptB64 }))).ciphertext;
    const sealedB64 = `vault:v1:${sealed.toString('base64')}`;
    cases.push({
      name: `${type} encrypt`,
      raw: () => base.seal(pt),
      codec: () => `vault:v1:${base.seal(Buffer.from(ptB64, 'base64')).toString('base64')}`,
      engine: () => ok(engine(`encrypt/${type}`, { plaintext: ptB64 })),
      handle: () => ok(handle(`encrypt/${type}`, { plaintext: ptB64 })),
    });
    cases.push({
      name: `${type} decrypt`,
      raw: () => base.open(sealed),
      codec: () => base.open(Buffer.from(sealedB64.slice(9), 'base64')).toString('base64'),
      engine: () => ok(engine(`decrypt/${type}`, { ciphertext: engineCt })),
      handle: () => ok(handle(`decrypt/${type}`, { ciphertext: handleCt })),
    });
  }
  for (const type of ['ed25519', 'ml-dsa-65']) {
    for (const call of [engine, handle]) await ok(call(`keys/${type}`, { type }));
    const base = sig[type];
    const signature = base.sign(pt);
    const engineSig = (await ok(engine(`sign/${type}`, { input: ptB64 }))).signature;
    const handleSig = (await ok(handle(`sign/${type}`, { input: ptB64 }))).signature;
    const sigB64 = `vault:v1:${Buffer.from(signature).toString('base64')}`;
    cases.push({
      name: `${type} sign`,
      raw: () => base.sign(pt),
      codec: () => `vault:v1:${Buffer.from(base.sign(Buffer.from(ptB64, 'base64'))).toString('base64')}`,
      engine: () => ok(engine(`sign/${type}`, { input: ptB64 })),
      handle: () => ok(handle(`sign/${type}`, { input: ptB64 })),
    });
    cases.push({
      name: `${type} verify`,
      raw: () => base.verify(pt, signature),
      codec: () => base.verify(Buffer.from(ptB64, 'base64'), Buffer.from(sigB64.slice(9), 'base64')),
      engine: () => ok(engine(`verify/${type}`, { input: ptB64, signature: engineSig })),
      handle: () => ok(handle(`verify/${type}`, { input: ptB64, signature: handleSig })),
    });
  }

  const rows = [];
  let pass = true;
  for (const c of cases) {
    for (const k of ['raw', 'codec', 'engine', 'handle']) await rate(c[k], SLICE_MS / 2); // warm up
    const rounds = [];
    for (let r = 0; r < ROUNDS; r++) {
      const res = {};
      for (const k of ['raw', 'codec', 'engine', 'handle']) res[k] = await rate(c[k], SLICE_MS);
      rounds.push(res);
    }
    const ratio = (k, of) => median(rounds.map((r) => r[k] / r[of]));
    const met = ratio('engine', 'codec') >= TARGET_IN_PROCESS;
    pass &&= met;
    rows.push({
      operation: c.name,
      'raw op/s': Math.round(median(rounds.map((r) => r.raw))),
      'engine op/s': Math.round(median(rounds.map((r) => r.engine))),
      'engine/raw': ratio('engine', 'raw').toFixed(2),
      'engine/raw+base64': ratio('engine', 'codec').toFixed(2),
      'Vault.handle/raw+base64': ratio('handle', 'codec').toFixed(2),
      target: `>= ${TARGET_IN_PROCESS}`,
      result: met ? 'ok' : 'MISSED',
    });
  }
  vault.seal();
  return { rows, pass };
}

// --- over HTTP ---

const { call, load, close } = httpClient(CONCURRENCY);

async function overHttp() {
  const env = { ...process.env };
  delete env.SVAULT_ADDR;
  delete env.SVAULT_TOKEN;
  const hello = await startChild(['--input-type=module', '-e', HELLO], { cwd: svaultDir });
  const sv = await startChild(
    [join(svaultDir, 'bin', 'run.js'), 'server', '--dev', '--address', '127.0.0.1:0', '--json'],
    { cwd: svaultDir, env },
  );
  try {
    const h = hello.info.address;
    const s = sv.info.address;
    const token = sv.info.root_token;
    const must = async (p) => {
      const r = await p;
      if (r.status >= 300) throw new Error(`svault answered ${r.status}: ${JSON.stringify(r.body)}`);
      return r.body;
    };
    await must(call(s, 'POST', '/v1/sys/mounts/transit', { token, body: { type: 'transit' } }));
    const plaintext = randomBytes(SIZE).toString('base64');
    // svault's own floor: a KV read pays the same HTTP, token and envelope costs with no crypto.
    await must(call(s, 'POST', '/v1/secret/data/bench', { token, body: { data: { a: 1 } } }));
    const kinds = {
      hello: () => call(h, 'GET', '/hello', { parse: false }),
      'KV read (reference)': () => call(s, 'GET', '/v1/secret/data/bench', { token, parse: false }),
    };
    for (const type of ['aes256-gcm96', 'chacha20-poly1305', 'ml-kem-768']) {
      await must(call(s, 'POST', `/v1/transit/keys/${type}`, { token, body: { type } }));
      const body = { plaintext };
      const ct = (await must(call(s, 'POST', `/v1/transit/encrypt/${type}`, { token, body }))).data.ciphertext;
      kinds[`${type} encrypt`] = () => call(s, 'POST', `/v1/transit/encrypt/${type}`, { token, body, parse: false });
      kinds[`${type} decrypt`] = () =>
        call(s, 'POST', `/v1/transit/decrypt/${type}`, { token, body: { ciphertext: ct }, parse: false });
    }
    for (const type of ['ed25519', 'ml-dsa-65']) {
      await must(call(s, 'POST', `/v1/transit/keys/${type}`, { token, body: { type } }));
      const body = { input: plaintext };
      const signature = (await must(call(s, 'POST', `/v1/transit/sign/${type}`, { token, body }))).data.signature;
      kinds[`${type} sign`] = () => call(s, 'POST', `/v1/transit/sign/${type}`, { token, body, parse: false });
      kinds[`${type} verify`] = () =>
        call(s, 'POST', `/v1/transit/verify/${type}`, { token, body: { ...body, signature }, parse: false });
    }
    for (const k of Object.values(kinds)) await load(k, 0.5);
    // Each route right after a hello-world slice: the ratio of neighbours is robust to load drift.
    const { hello: helloRoute, ...routes } = kinds;
    const samples = Object.fromEntries(Object.keys(kinds).map((k) => [k, []]));
    const ratios = Object.fromEntries(Object.keys(routes).map((k) => [k, []]));
    let failures = 0;
    for (let r = 0; r < HTTP_ROUNDS; r++) {
      for (const [name, route] of Object.entries(routes)) {
        const base = await load(helloRoute, HTTP_SECONDS);
        const res = await load(route, HTTP_SECONDS);
        failures += base.errors + res.errors;
        samples.hello.push(base.rate);
        samples[name].push(res.rate);
        ratios[name].push(res.rate / base.rate);
      }
    }
    let pass = failures === 0;
    if (failures)
      console.error(`${failures} failed requests; svault server said: ${sv.child.stderrText().slice(-2000)}`);
    const rows = [
      {
        route: 'fastify hello-world',
        'req/s': Math.round(median(samples.hello)),
        'ratio to hello': '1.00',
        target: '-',
        result: '(baseline)',
      },
    ];
    for (const name of Object.keys(routes)) {
      const ratio = median(ratios[name]);
      // Only symmetric encryption is cheap enough to be compared with a route that does nothing.
      const target = /^(aes256-gcm96|chacha20-poly1305) encrypt$/.test(name) ? TARGET_HTTP : undefined;
      const met = target === undefined || ratio >= target;
      pass &&= met;
      rows.push({
        route: name.startsWith('KV') ? `GET ${name}` : `POST transit ${name}`,
        'req/s': Math.round(median(samples[name])),
        'ratio to hello': ratio.toFixed(2),
        target: target === undefined ? '-' : `>= ${target}`,
        result: target === undefined ? '-' : met ? 'ok' : 'MISSED',
      });
    }
    return { rows, pass };
  } finally {
    close();
    await stop(sv.child);
    await stop(hello.child);
  }
}

export default async function transit() {
  const inproc = await inProcess();
  console.log(`In-process, ${SIZE} B inputs (${ROUNDS} rounds of ${SLICE_MS} ms slices; median ratio):`);
  console.table(inproc.rows);
  const http = await overHttp();
  console.log(
    `Over loopback HTTP, ${CONCURRENCY} keep-alive connections, root token, ${HTTP_ROUNDS} rounds of ${HTTP_SECONDS}s:`,
  );
  console.table(http.rows);
  const pass = inproc.pass && http.pass;
  console.log(pass ? 'all targets met' : 'some targets missed');
  return pass;
}
