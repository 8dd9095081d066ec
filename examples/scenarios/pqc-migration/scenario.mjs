import { createCipheriv, randomBytes, X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cmd, EXAMPLES, expect, ROOT, SSHD } from '../lib/harness.mjs';
import { provHosts, vaporaTeam } from '../lib/team.mjs';

// Post-quantum migration: an ADR in kogral; svault's keyring moved to hybrid ML-KEM-768 wrapping by a
// config change and a restart (old data still opens); a service's data keys rewrapped from a classical
// transit key to a hybrid ML-KEM-768 one; ML-DSA-65 certificates; a typedialog form as the migration's
// record; vapora's validation pipeline (latency, and Security's check of every record) gates the end.

async function pqcMigration(run, twin) {
  const src = join(EXAMPLES, 'pqc-migration');
  const a = run.dir;
  const calls = join(a, 'agent-calls.log');
  const keystore = join(a, 'billing-keystore.json');
  writeFileSync(calls, '');

  const kg = join(a, 'kogral');
  mkdirSync(kg);
  const kog = (args, o = {}) => run.cli('kogral', [...args, '--json'], { cwd: kg, ...o });
  let adr;
  await run.step('kogral', 'ADR: gradual migration to post-quantum cryptography', async () => {
    await kog(['init']);
    adr = await kog([
      'add',
      'decision',
      'Gradual migration to post-quantum cryptography',
      '--context',
      'Data encrypted today can be recorded now and decrypted once large quantum computers exist (harvest now, decrypt later).',
      '--decision',
      "Wrap svault's keyring and every service's data keys with hybrid ML-KEM-768 + X25519; issue ML-DSA-65 certificates; migrate one service at a time, each validated before the next.",
      '--consequences',
      'Larger ciphertexts and certificates; classical keys stay readable until every record is rewrapped.',
      '--status',
      'accepted',
      '--tags',
      'pqc,security',
    ]);
    return `${adr.id} (accepted)`;
  });

  // svault as in production: filesystem storage, Shamir unseal, the classical keyring first.
  const vdir = join(a, 'svault');
  mkdirSync(vdir);
  const vconf = join(vdir, 'svault.toml');
  const writeConf = (backend) =>
    writeFileSync(
      vconf,
      `[server]\naddress = "127.0.0.1:0"\n\n[storage]\nbackend = "filesystem"\n\n[storage.filesystem]\npath = "${join(vdir, 'data')}"\n\n[vault]\ncrypto_backend = "${backend}"\n`,
    );
  let vault;
  let unsealKey;
  let rootToken;
  const startVault = async (label) => {
    const s = await run.server(label, 'svault', ['server', '--config', vconf], {
      cwd: vdir,
      env: { SVAULT_DATA_DIR: join(vdir, 'run') },
      ready: (out) => {
        const m = /svault server listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        return m ? { addr: m[1] } : null;
      },
    });
    return s;
  };
  const sv = (args, o = {}) =>
    run.cli('svault', [...args, '--json'], {
      cwd: vdir,
      ...o,
      env: { SVAULT_ADDR: vault.addr, SVAULT_TOKEN: rootToken },
    });
  await run.step('svault', 'server with filesystem storage, initialized and unsealed (classical keyring)', async () => {
    writeConf('openssl');
    vault = await startVault('svault');
    const init = await sv(['operator', 'init', '--shares', '1', '--threshold', '1']);
    unsealKey = init.keys[0];
    rootToken = init.root_token;
    const st = await sv(['operator', 'unseal', unsealKey]);
    expect(st.sealed === false, `still sealed: ${JSON.stringify(st)}`);
    return `${vault.addr} (pid ${vault.pid}), crypto_backend openssl`;
  });

  // The billing service's two hosts, with today's classical certificates deployed by prov.
  let prov;
  let hosts;
  const domain = 'billing.internal';
  const health = "grep -q 'BEGIN CERTIFICATE' cert.pem";
  const svEnv = () => ({ SVAULT_ADDR: vault.addr, SVAULT_TOKEN: rootToken });
  const hostCert = (name) => join(hosts[name].root, 'etc', 'prov', 'certs', domain, 'cert.pem');
  await run.step(
    'prov',
    'app-1, app-2 serve billing.internal with classical (ECDSA) certificates from prov cert generate',
    async () => {
      const w = await provHosts(
        run,
        ['app-1', 'app-2'],
        (block) => `let Infrastructure = import "${join(ROOT, 'schemas', 'infrastructure.ncl')}" in
{ provider = 'local, hosts = ${block} } | Infrastructure
`,
      );
      ({ prov, hosts } = w);
      await sv(['secrets', 'enable', 'pki']);
      await sv(['pki', 'root', 'generate', 'common_name=Internal Root', 'key_type=ec', 'ttl=87600h']);
      await sv([
        'pki',
        'role',
        'write',
        'services',
        'allowed_domains=internal',
        'allow_subdomains=true',
        'key_type=ec',
        'max_ttl=720h',
      ]);
      const r = await prov(
        ['cert', 'generate', '--domain', domain, '--role', 'services', '--servers', 'app-1,app-2', '--health', health],
        { env: svEnv() },
      );
      const v = await sv(['pki', 'verify', hostCert('app-2')]);
      expect(v.valid !== false, `the classical certificate on app-2 does not verify: ${JSON.stringify(v)}`);
      return `${JSON.stringify(r).match(/[0-9a-f]{2}(:[0-9a-f]{2}){7,}/g)?.length ?? 0} serials recorded; ${Object.keys(hosts).join(', ')}`;
    },
  );

  const records = [];
  await run.step('svault', 'billing records encrypted with data keys wrapped by a classical transit key', async () => {
    await sv(['secrets', 'enable', 'transit']);
    await sv(['transit', 'key', 'create', 'payments', '--type', 'aes256-gcm96']);
    await sv(['secrets', 'enable', 'kv', '--path', 'apps', '--version', '2']);
    await sv(['kv', 'put', 'apps/billing', 'db_password=pq-or-not-pq']);
    for (let i = 1; i <= 6; i++) {
      const dk = await sv(['transit', 'datakey', 'payments', 'plaintext']);
      const key = Buffer.from(dk.data.plaintext, 'base64');
      const iv = randomBytes(12);
      const text = `invoice ${1000 + i}: EUR ${(i * 123.45).toFixed(2)}`;
      const c = createCipheriv('aes-256-gcm', key, iv);
      const data = Buffer.concat([c.update(text), c.final()]);
      records.push({
        id: `inv-${1000 + i}`,
        wrapped_key: dk.data.ciphertext,
        iv: iv.toString('base64'),
        tag: c.getAuthTag().toString('base64'),
        data: data.toString('base64'),
        expect: text,
      });
      key.fill(0);
    }
    writeFileSync(keystore, JSON.stringify({ service: 'billing', key: 'payments', records }, null, 2), { mode: 0o600 });
    return `${records.length} records; data keys wrapped by payments (${records[0].wrapped_key.slice(0, 12)}…)`;
  });

  await run.step(
    'svault',
    'keyring moved to hybrid ML-KEM-768 + X25519: crypto_backend = "pqc", restart, unseal',
    async () => {
      await run.stopServer(vault.pid);
      writeConf('pqc');
      vault = await startVault('svault-pqc');
      const st = await sv(['operator', 'unseal', unsealKey]);
      expect(st.sealed === false, `still sealed: ${JSON.stringify(st)}`);
      const kv = await sv(['kv', 'get', 'apps/billing']);
      expect(kv.data?.data?.db_password === 'pq-or-not-pq', 'a KV secret written before the switch does not read back');
      const back = await sv(['transit', 'decrypt', 'payments', `ciphertext=${records[0].wrapped_key}`]);
      expect(back.data?.plaintext, 'a data key wrapped before the switch does not decrypt');
      const ks = await sv(['read', 'sys/key-status']);
      const wrap = ks.data?.keyring_wrap ?? ks.keyring_wrap;
      expect(/^ml-kem-768/.test(wrap ?? ''), `sys/key-status says the keyring is wrapped with ${wrap}`);
      return `${vault.addr} (pid ${vault.pid}); keyring ${wrap}; data written before the switch reads back`;
    },
  );

  const corrupt = twin === 'corrupt-rewrap';
  await run.step('svault', 'data keys rewrapped under payments-pq (ML-KEM-768 hybrid)', async () => {
    await sv(['transit', 'key', 'create', 'payments-pq', '--type', 'ml-kem-768']);
    for (const rec of records) {
      const dk = await sv(['transit', 'decrypt', 'payments', `ciphertext=${rec.wrapped_key}`]);
      const pq = await sv(['transit', 'encrypt', 'payments-pq', `plaintext=${dk.data.plaintext}`]);
      rec.wrapped_key = pq.data.ciphertext;
    }
    if (corrupt) {
      // The twin: one record's data key is rewrapped from the wrong key material.
      const wrong = await sv(['transit', 'encrypt', 'payments-pq', `plaintext=${randomBytes(32).toString('base64')}`]);
      records[2].wrapped_key = wrong.data.ciphertext;
    }
    writeFileSync(keystore, JSON.stringify({ service: 'billing', key: 'payments-pq', records }, null, 2), {
      mode: 0o600,
    });
    const sizes = records.map((r) => r.wrapped_key.length);
    return `${records.length} data keys now under payments-pq (${Math.min(...sizes)} characters each)${corrupt ? '; one rewrapped from the wrong key (twin)' : ''}`;
  });

  let migration;
  await run.step('typedialog', 'the migrate-service form, answered, as Nickel', async () => {
    const answers = join(a, 'billing-answers.yaml');
    writeFileSync(answers, 'service: billing\ndomain: billing.internal\nservers: [app-1, app-2]\n');
    const out = join(a, 'billing-migration.ncl');
    await run.cli(
      'typedialog',
      [
        'run',
        join(ROOT, 'examples', 'forms', 'migrate-service.toml'),
        '--answers',
        answers,
        '--format',
        'nickel',
        '--out',
        out,
      ],
      { parse: false },
    );
    const json = await run.cli('typedialog', [
      'run',
      join(ROOT, 'examples', 'forms', 'migrate-service.toml'),
      '--answers',
      answers,
      '--format',
      'json',
    ]);
    migration = json;
    expect(readFileSync(out, 'utf8').includes('kem = "ml-kem-768"'), `${out} has no kem = "ml-kem-768"`);
    return `${out}: ${migration.service} on ${migration.servers.join(', ')}, ${migration.kem} + ${migration.certificate_key_type}`;
  });

  const certificates = [];
  await run.step(
    'prov',
    'ML-DSA-65 certificates deployed host by host (prov cert generate, health-gated), then rotated (prov cert rotate)',
    async () => {
      await sv(['secrets', 'enable', 'pki', '--path', 'pki_pq']);
      await sv([
        'pki',
        'root',
        'generate',
        'common_name=Internal PQ Root',
        'key_type=ml-dsa-65',
        'ttl=87600h',
        '--mount',
        'pki_pq',
      ]);
      await sv([
        'pki',
        'role',
        'write',
        'services',
        'allowed_domains=internal',
        'allow_subdomains=true',
        `key_type=${migration.certificate_key_type}`,
        'max_ttl=720h',
        '--mount',
        'pki_pq',
      ]);
      const servers = migration.servers.join(',');
      await prov(
        [
          'cert',
          'generate',
          '--engine',
          'pki_pq',
          '--domain',
          migration.domain,
          '--role',
          'services',
          '--servers',
          servers,
          '--health',
          health,
        ],
        { env: svEnv() },
      );
      const before = migration.servers.map((h) => readFileSync(hostCert(h), 'utf8'));
      await prov(['cert', 'rotate', '--domain', migration.domain], { env: svEnv() });
      const serials = [];
      for (const [i, h] of migration.servers.entries()) {
        const pem = readFileSync(hostCert(h), 'utf8');
        expect(pem !== before[i], `prov cert rotate left the certificate on ${h} unchanged`);
        const v = await sv(['pki', 'verify', hostCert(h), '--mount', 'pki_pq']);
        expect(v.valid !== false, `the certificate on ${h} does not verify against the ML-DSA-65 root`);
        const key = join(dirname(hostCert(h)), 'key.pem');
        expect((statSync(key).mode & 0o777) === 0o600, `the key on ${h} is not 0600`);
        const serial = new X509Certificate(pem).serialNumber.toLowerCase();
        serials.push(`${h} ${serial.slice(0, 11)}…`);
        certificates.push({ domain: migration.domain, host: h, file: hostCert(h), serial, mount: 'pki_pq' });
      }
      return `${serials.join(', ')}; each verified against the pki_pq root; keys 0600`;
    },
  );

  // vapora: the validation pipeline, run by tester and security exec agents.
  const context = join(a, 'agent-context.json');
  writeFileSync(
    context,
    JSON.stringify({ repo: ROOT, calls, keystore, certificates, svault: { addr: vault.addr, token: rootToken } }),
    { mode: 0o600 },
  );
  const team = vaporaTeam(run, {
    src,
    pipelines: ['pqc-validate.toml'],
    roles: ['tester', 'security'],
    project: 'pqc',
    context,
    approvals: 'Validation only reads: no role needs a human before it runs.',
  });
  const { vap } = team;
  let st;
  await run.step('vapora', 'validation pipeline: latency compared, every record checked by Security', async () => {
    await team.setup();
    await team.serve();
    const r = await vap([
      'pipeline',
      'run',
      'pqc-validate',
      '--project',
      'pqc',
      '--input',
      'service=billing',
      '--input',
      'classical_key=payments',
      '--input',
      'pq_key=payments-pq',
      '--input',
      `max_ratio=${migration.max_latency_ratio}`,
    ]);
    st = await team.ended(r.run.id);
    writeFileSync(join(a, 'pipeline-run.json'), JSON.stringify(st, null, 2));
    const lat = st.steps.find((s) => s.step === 'latency')?.output;
    const ver = st.steps.find((s) => s.step === 'verify')?.output;
    if (corrupt) {
      expect(st.run.status !== 'succeeded', 'the validation passed although a record does not open');
      expect(ver?.block === true && /inv-1003/.test(ver.reason), `verify: ${JSON.stringify(ver)}`);
      return `run ${st.run.status}: blocked by security: ${ver.reason}`;
    }
    expect(st.run.status === 'succeeded', `run ${r.run.id} ended ${st.run.status}: ${st.run.error}`);
    expect(ver?.block === false && ver.records === records.length, `verify: ${JSON.stringify(ver)}`);
    return `run ${st.run.status}; encrypt 1 KiB: classical ${lat.classical_ms} ms, hybrid ${lat.pq_ms} ms (×${lat.ratio}, limit ×${lat.max_ratio}); ${ver.records} records open under payments-pq; ${ver.certs.join(', ')}`;
  });

  await run.step('kogral', 'execution node for the billing migration, linked to the ADR', async () => {
    const lat = st.steps.find((s) => s.step === 'latency')?.output ?? {};
    const ver = st.steps.find((s) => s.step === 'verify')?.output ?? {};
    const node = await kog([
      'add',
      'execution',
      corrupt ? 'PQC migration of billing: blocked by validation' : 'PQC migration of billing',
      '--context',
      `Service billing on ${migration.servers.join(', ')}; data keys moved from payments (AES-256-GCM) to payments-pq (ML-KEM-768 + X25519); certificate ${certificates[0].domain} serial ${certificates[0].serial} (ML-DSA-65); svault keyring on crypto_backend pqc.`,
      '--root-cause',
      'data keys and the keyring wrapped only with classical algorithms (harvest now, decrypt later)',
      '--resolution',
      corrupt
        ? `not finished: security blocked it (${ver.reason})`
        : `validated by vapora run ${st.run.id}: ${ver.records} records open under payments-pq; encryption latency ×${lat.ratio} of classical`,
      '--action-items',
      corrupt
        ? 'rewrap the failing records again from the classical key,re-run the validation'
        : 'migrate the next service',
      ...(corrupt ? ['--status', 'open'] : []),
      '--tags',
      'pqc,migration,billing',
    ]);
    await kog(['link', node.id, adr.id, 'implements']);
    return `${node.id} → ${adr.id}`;
  });
}

export default {
  title:
    'Post-quantum migration: kogral ADR → svault keyring to hybrid ML-KEM-768 (crypto_backend = "pqc", old data still opens) → data keys rewrapped to an ML-KEM-768 transit key → typedialog migrate-service form → ML-DSA-65 certificates deployed by prov host by host and rotated → vapora validation pipeline (latency, Security checks every record and certificate) → kogral execution node',
  run: pqcMigration,
  twins: {
    'corrupt-rewrap':
      "one record's data key is rewrapped from the wrong key material: Security blocks the validation, the execution node stays open",
  },
  needs: [
    cmd('kogral', 'add', 'decision'),
    cmd('svault', 'server'),
    cmd('svault', 'transit', 'datakey'),
    cmd('svault', 'pki', 'verify'),
    cmd('prov', 'cert', 'generate'),
    cmd('prov', 'cert', 'rotate'),
    cmd('typedialog', 'run'),
    cmd('vapora', 'pipeline', 'run'),
    SSHD,
  ],
};
