#!/usr/bin/env node
// The exec agents of the pqc-migration scenario (role as argv[2], task from $VAPORA_TASK_TYPE and
// $VAPORA_PAYLOAD). They use svault over its HTTP API through the real binary; where things are is in
// the scenario's context file ($SCENARIO_CONTEXT, 0600). Each prints one JSON object, the step's output.
import { createDecipheriv } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cli, ctx, failure, payload, serve } from '../lib/agent-kit.mjs';

async function svault(args) {
  const r = await cli('svault', args, { env: { SVAULT_ADDR: ctx.svault.addr, SVAULT_TOKEN: ctx.svault.token } });
  if (r.code !== 0) throw new Error(`svault ${args[0]} ${args[1]}: ${failure(r)}`);
  return r.json;
}

/** The HTTP API directly, for the timing loop (no process start per call). */
async function api(method, path, body) {
  const res = await fetch(`${ctx.svault.addr}/v1/${path}`, {
    method,
    headers: { 'X-Vault-Token': ctx.svault.token, 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json.errors)}`);
  return json;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timeEncrypt(key, n) {
  const plaintext = Buffer.alloc(1024, 7).toString('base64');
  const ms = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await api('POST', `transit/encrypt/${key}`, { plaintext });
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return median(ms);
}

const agents = {
  /** Tester: median latency of 1 KiB encryptions under each key, and their ratio (reported, and gated). */
  async compare_latency() {
    await timeEncrypt(payload.classical_key, 5); // warm both paths first
    await timeEncrypt(payload.pq_key, 5);
    const classical = await timeEncrypt(payload.classical_key, 40);
    const pq = await timeEncrypt(payload.pq_key, 40);
    const ratio = pq / classical;
    const max = Number(payload.max_ratio);
    return {
      classical_ms: Number(classical.toFixed(3)),
      pq_ms: Number(pq.toFixed(3)),
      ratio: Number(ratio.toFixed(2)),
      max_ratio: max,
      within: ratio <= max,
    };
  },

  /** Security: each record of the service opens with the data key unwrapped under the PQ key; certificates verify. */
  async verify_migration() {
    const store = JSON.parse(readFileSync(ctx.keystore, 'utf8'));
    const failures = [];
    for (const rec of store.records) {
      if (!rec.wrapped_key.startsWith('vault:')) {
        failures.push(`${rec.id}: its data key is not wrapped by svault`);
        continue;
      }
      try {
        const r = await svault(['transit', 'decrypt', payload.pq_key, `ciphertext=${rec.wrapped_key}`]);
        const key = Buffer.from(r.data.plaintext, 'base64');
        const d = createDecipheriv('aes-256-gcm', key, Buffer.from(rec.iv, 'base64'));
        d.setAuthTag(Buffer.from(rec.tag, 'base64'));
        const text = Buffer.concat([d.update(Buffer.from(rec.data, 'base64')), d.final()]).toString();
        if (text !== rec.expect) failures.push(`${rec.id}: decrypted to something else`);
      } catch (e) {
        failures.push(`${rec.id}: ${e.message.split('\n')[0]}`);
      }
    }
    const certs = [];
    for (const c of ctx.certificates) {
      try {
        const v = await svault(['pki', 'verify', c.file, '--mount', c.mount]);
        certs.push(`${c.host}: ${v.valid === false ? 'INVALID' : 'verified'}`);
        if (v.valid === false) failures.push(`${c.host}: its certificate does not verify`);
      } catch (e) {
        failures.push(`${c.host}: ${e.message.split('\n')[0]}`);
      }
    }
    return failures.length
      ? { block: true, reason: `${failures.length} problem(s): ${failures.join('; ')}`, records: store.records.length }
      : { block: false, reason: 'every record opens under the post-quantum key', records: store.records.length, certs };
  },
};

serve(agents);
