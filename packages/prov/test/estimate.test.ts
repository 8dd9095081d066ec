import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBin, sandbox } from '../../../test/run-bin.js';
import { dec, fixed, str, sum } from '../src/core/decimal.js';

const server = (name: string, plan: string, extra = '') =>
  `{ name = "${name}", provider = 'aws, plan = "${plan}", spec = { disk_gb = 20, os = { family = 'ubuntu, version = "24.04" } }${extra} }`;

const config = (servers: string[], region = 'us-east-1') => `let Infrastructure = import "infrastructure.ncl" in
{
  provider = 'aws,
  region = "${region}",
  servers = [
    ${servers.join(',\n    ')}
  ],
} | Infrastructure
`;

interface Component {
  name: string;
  price: string;
  monthlyQuantity: string | null;
  monthlyCost: string | null;
  usageBased?: boolean;
}
interface Resource {
  name: string;
  monthlyCost: string | null;
  costComponents: Component[];
  skipped?: { reason: string; message: string };
}

function ws(files: Record<string, string>) {
  const sb = sandbox();
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(join(sb.cwd, f, '..'), { recursive: true });
    writeFileSync(join(sb.cwd, f), text);
  }
  return sb;
}

const prov = (sb: { cwd: string; env: NodeJS.ProcessEnv }, args: string[]) =>
  runBin('prov', args, { cwd: sb.cwd, env: sb.env, timeoutMs: 60_000 });

describe('decimal money', () => {
  it('multiplies and adds without binary drift', () => {
    expect(str(dec('0.0104') * 730n)).toBe('7.592');
    // 0.1 + 0.2 in floats is 0.30000000000000004
    expect(str(sum([dec('0.1'), dec('0.2')]))).toBe('0.3');
    expect(fixed(dec('7.592'))).toBe('7.59');
    expect(fixed(dec('0.005'))).toBe('0.01');
    expect(() => dec('1e3')).toThrow(/not a decimal/);
  });
});

describe('prov estimate', () => {
  it('prices an AWS t3.micro in us-east-1 at $0.0104/h × 730 = $7.592 a month, usage parts apart', async () => {
    const sb = ws({ 'prov.ncl': config([server('web-1', 't3.micro')]) });
    const r = await prov(sb, ['estimate', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const e = JSON.parse(r.stdout) as {
      resources: Resource[];
      totalMonthlyCost: Record<string, string>;
      priceTables: { date: string }[];
    };
    const web = e.resources[0] as Resource;
    const compute = web.costComponents[0] as Component;
    expect(compute).toMatchObject({ price: '0.0104', monthlyQuantity: '730', monthlyCost: '7.592' });
    const disk = web.costComponents.find((c) => c.name.startsWith('Storage')) as Component;
    expect(disk).toMatchObject({ monthlyQuantity: '20', monthlyCost: '1.6' });
    const usage = web.costComponents.filter((c) => c.usageBased);
    expect(usage.map((c) => c.name)).toContain('Data transfer out to the internet');
    expect(usage.every((c) => c.monthlyCost === null)).toBe(true);
    expect(e.totalMonthlyCost).toEqual({ USD: '9.192' });
    expect(e.priceTables[0]?.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);

    const text = await prov(sb, ['estimate']);
    expect(text.stdout).toMatch(/Instance usage \(on-demand, t3\.micro\)\s+730\s+hours\s+\$7\.59/);
    expect(text.stdout).toMatch(/depends on usage: \$0\.09 per GB/);
    expect(text.stdout).toMatch(/OVERALL TOTAL\s+\$9\.19/);
    expect(text.stdout).toMatch(/Prices: aws table v1 of \d{4}-\d{2}-\d{2}/);
  });

  it("sums a 20-server config's lines to its total, exactly", async () => {
    const plans = ['t3.micro', 't3.small', 't3.medium', 'm5.large', 'c5.large'];
    const servers = Array.from({ length: 20 }, (_, i) =>
      server(`node-${i + 1}`, plans[i % plans.length] as string, i % 3 === 0 ? ', networking.public_ip = true' : ''),
    );
    const sb = ws({ 'prov.ncl': config(servers) });
    const r = await prov(sb, ['estimate', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const e = JSON.parse(r.stdout) as { resources: Resource[]; totalMonthlyCost: Record<string, string> };
    expect(e.resources).toHaveLength(20);
    const lines = e.resources.flatMap((x) => x.costComponents.map((c) => c.monthlyCost).filter((c) => c !== null));
    expect(str(sum(lines.map((c) => dec(c as string))))).toBe(e.totalMonthlyCost.USD);
    for (const x of e.resources) {
      const own = x.costComponents.filter((c) => c.monthlyCost !== null).map((c) => dec(c.monthlyCost as string));
      expect(str(sum(own))).toBe(x.monthlyCost);
    }
    // Independently: 4 of each plan at 730 h, 20 GB gp3 each, 7 public addresses.
    const hourly = ['0.0104', '0.0208', '0.0416', '0.096', '0.085'];
    const expected = sum([...hourly.map((h) => dec(h) * 730n * 4n), dec('0.08') * 20n * 20n, dec('0.005') * 730n * 7n]);
    expect(e.totalMonthlyCost.USD).toBe(str(expected));
  });

  it('--diff on a resize shows the monthly delta of that server and of the total', async () => {
    const sb = ws({
      'old.ncl': config([server('web-1', 't3.micro'), server('db-1', 'm5.large')]),
      'new.ncl': config([server('web-1', 't3.large'), server('db-1', 'm5.large')]),
    });
    const r = await prov(sb, ['estimate', '--diff', 'old.ncl', 'new.ncl', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const d = JSON.parse(r.stdout) as {
      resources: { name: string; change: string; delta: string }[];
      totals: Record<string, { delta: string }>;
    };
    // t3.large 0.0832 - t3.micro 0.0104 = 0.0728/h × 730
    expect(d.resources.find((x) => x.name === 'server.web-1')).toMatchObject({ change: 'changed', delta: '53.144' });
    expect(d.resources.find((x) => x.name === 'server.db-1')).toMatchObject({ change: 'unchanged', delta: '0' });
    expect(d.totals.USD?.delta).toBe('53.144');
    const text = await prov(sb, ['estimate', '--diff', 'old.ncl', 'new.ncl']);
    expect(text.stdout).toMatch(/~ server\.web-1\n\s+\+\$53\.14 \(\$9\.19 → \$62\.34\)/);
    expect(text.stdout).not.toMatch(/server\.db-1/);
  });

  it('prices a saved plan and takes a user price table over the shipped one', async () => {
    const sb = ws({
      'prov.ncl': config([server('web-1', 't3.micro')]),
      '.prov/prices/aws.json': JSON.stringify({
        provider: 'aws',
        version: 7,
        date: '2027-01-01',
        currency: 'USD',
        regions: { 'us-east-1': { instances: { 't3.micro': '0.02' } } },
      }),
    });
    const r = await prov(sb, ['estimate', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const e = JSON.parse(r.stdout) as { resources: Resource[]; priceTables: { version: number; date: string }[] };
    expect(e.resources[0]?.costComponents[0]?.monthlyCost).toBe('14.6');
    // The shipped disk price is kept where the override says nothing.
    expect(e.resources[0]?.costComponents[1]?.monthlyCost).toBe('1.6');
    expect(e.priceTables[0]).toMatchObject({ version: 7, date: '2027-01-01' });

    const plan = {
      format: 'prov-plan/1',
      changes: [
        {
          action: 'create',
          after: {
            address: 'server.a',
            kind: 'server',
            name: 'a',
            provider: 'aws',
            attrs: { plan: 't3.micro', region: 'us-east-1', spec: { disk_gb: 10 } },
            deps: [],
          },
        },
        { action: 'delete', after: null },
      ],
    };
    writeFileSync(join(sb.cwd, 'plan.json'), JSON.stringify(plan));
    const p = await prov(sb, ['estimate', 'plan.json', '--json', '--prices', join(sb.cwd, 'none')]);
    expect(p.code, p.stderr).toBe(0);
    expect(JSON.parse(p.stdout).totalMonthlyCost).toEqual({ USD: '8.392' });
  });

  it('names what it cannot price and refuses bad input with the right exit code', async () => {
    const sb = ws({
      'prov.ncl': config([server('web-1', 'x9.huge')], 'ap-south-9'),
      'bad.json': '{"format":"nope"}',
      'garbage.json': '{{{',
      '.prov/prices/aws.json': '{"provider":"aws","version":1,"date":"yesterday","currency":"USD","regions":{}}',
    });
    const bad = await prov(sb, ['estimate']);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/aws\.json: date/);
    writeFileSync(
      join(sb.cwd, '.prov/prices/aws.json'),
      '{"provider":"aws","version":1,"date":"2027-01-01","currency":"USD","regions":{}}',
    );
    const r = await prov(sb, ['estimate']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/1 not supported/);
    expect(r.stdout).toMatch(/server\.web-1: no aws prices for region ap-south-9/);
    // Your own hosts and LXD containers cost nothing more: free, not unpriced.
    writeFileSync(
      join(sb.cwd, 'own.ncl'),
      `{ provider = 'lxd, servers = [{ name = "c1", provider = 'lxd, spec.os = { family = 'debian, version = "12" } }] } | (import "infrastructure.ncl")\n`,
    );
    const own = JSON.parse((await prov(sb, ['estimate', 'own.ncl', '--json'])).stdout);
    expect(own.summary).toMatchObject({ totalResources: 1, free: 1, notSupported: 0 });
    expect(own.totalMonthlyCost).toEqual({ USD: '0' });
    expect((await prov(sb, ['estimate', 'bad.json'])).code).toBe(3);
    expect((await prov(sb, ['estimate', 'garbage.json'])).code).toBe(3);
    expect((await prov(sb, ['estimate', 'missing.json'])).code).toBe(4);
    expect((await prov(sb, ['estimate', '--diff', 'prov.ncl'])).code).toBe(2);
  });
});
