import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alive, needsServers, scenario, scenarioHome } from './scenario-run.js';

const { home, dirs } = scenarioHome();

describe('npm run scenario -- pqc-migration', () => {
  it.skipIf(needsServers())(
    'pqc-migration: keyring and data keys move to ML-KEM-768, old data still opens, validation passes',
    async () => {
      const r = await scenario(home, ['pqc-migration', '--json']);
      const report = JSON.parse(r.stdout);
      dirs.push(report.artifacts);
      expect(report.error, r.stderr).toBeNull();
      expect(r.code).toBe(0);
      const steps = report.steps as { step: string; tool: string; detail: string }[];
      const detail = (re: RegExp) => steps.find((s) => re.test(s.step))?.detail ?? '';
      expect(new Set(steps.map((s) => s.tool))).toEqual(new Set(['kogral', 'svault', 'prov', 'typedialog', 'vapora']));
      expect(detail(/keyring moved/)).toMatch(
        /keyring ml-kem-768\+x25519 \(aes-256-gcm\); data written before the switch reads back$/,
      );
      expect(detail(/rewrapped under payments-pq/)).toMatch(/^6 data keys now under payments-pq/);
      expect(detail(/classical \(ECDSA\) certificates/)).toMatch(/^2 serials recorded; app-1, app-2$/);
      expect(detail(/ML-DSA-65 certificates deployed host by host/)).toMatch(
        /^app-1 [0-9a-f]+…, app-2 [0-9a-f]+…; each verified against the pki_pq root; keys 0600$/,
      );
      expect(detail(/validation pipeline/)).toMatch(
        /^run succeeded; encrypt 1 KiB: classical .* 6 records open under payments-pq; app-1: verified, app-2: verified$/,
      );
      const a = report.artifacts as string;
      // The app's key store now holds only hybrid-wrapped data keys, and every record still opens with them
      // (checked by the security agent through svault; here: what it saw and what it wrote).
      const store = JSON.parse(readFileSync(join(a, 'billing-keystore.json'), 'utf8'));
      expect(store.key).toBe('payments-pq');
      expect((statSync(join(a, 'billing-keystore.json')).mode & 0o777).toString(8)).toBe('600');
      expect(readFileSync(join(a, 'billing-migration.ncl'), 'utf8')).toMatch(/certificate_key_type = "ml-dsa-65"/);
      const run = JSON.parse(readFileSync(join(a, 'pipeline-run.json'), 'utf8'));
      const verify = run.steps.find((s: { step: string }) => s.step === 'verify');
      expect(verify.output).toMatchObject({ block: false, records: 6 });
      const nodes = readdirSync(join(a, 'kogral', '.kogral', 'executions'));
      expect(nodes.some((n) => n.startsWith('pqc-migration-of-billing'))).toBe(true);
      for (const s of report.servers as { pid: number; stopped: boolean }[])
        expect(alive(s.pid), `pid ${s.pid}`).toBe(false);
    },
    240_000,
  );

  it.skipIf(needsServers())(
    'the corrupt-rewrap twin: Security blocks the validation and names the record',
    async () => {
      const r = await scenario(home, ['pqc-migration', '--twin', 'corrupt-rewrap', '--json']);
      const report = JSON.parse(r.stdout);
      dirs.push(report.artifacts);
      expect(report.error, r.stderr).toBeNull();
      expect(r.code).toBe(0);
      const steps = report.steps as { step: string; detail: string }[];
      expect(steps.find((s) => /validation pipeline/.test(s.step))?.detail).toMatch(
        /^run (rolled_back|failed): blocked by security: 1 problem\(s\): inv-1003: /,
      );
      const dir = join(report.artifacts, 'kogral', '.kogral', 'executions');
      const pm = readdirSync(dir).find((n) => n.startsWith('pqc-migration-of-billing'));
      expect(readFileSync(join(dir, pm!), 'utf8')).toMatch(/^status: open$/m);
    },
    240_000,
  );
});
