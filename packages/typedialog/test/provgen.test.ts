import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluateFile } from '@stratumiops/nickel';
import { StratumError } from '@stratumiops/shared/errors';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { writeFiles } from '../src/adapters/provgen-files.js';
import { checkAnswers, createContext } from '../src/core/context.js';
import { loadForm } from '../src/core/form.js';
import { PROVIDERS, toInfrastructure } from '../src/core/provgen/config.js';
import { BUILTIN_SCHEMAS, BUILTIN_TEMPLATES } from '../src/core/provgen/generate.js';
import { provGen } from '../src/core/provgen/index.js';
import { cluster, now, repo, tmp, typedialog } from './helpers.js';

const ctx = createContext(loadForm(cluster), { now });
const opts = { templatesDir: BUILTIN_TEMPLATES, schemasDir: BUILTIN_SCHEMAS, outDir: join(process.cwd(), 'infra') };

async function answers(extra: Record<string, unknown>) {
  const r = await checkAnswers(ctx, extra, { defaults: true });
  expect(r.errors).toEqual([]);
  return r.values;
}

function prov(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(repo, 'packages/prov/bin/run.js'), ...args], {
      cwd: repo,
      env: { PATH: process.env.PATH, HOME: tmp(), NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('prov-gen', () => {
  it('generates all six providers, and `prov validate` accepts every main.ncl', async () => {
    const out = tmp();
    const PLAN = {
      aws: 'c6i.xlarge',
      gcp: 'e2-custom-4-8192',
      azure: 'Standard_F4s_v2',
      hetzner: 'cx32',
      upcloud: '4xCPU-8GB',
      lxd: 'c4-m8',
    };
    for (const provider of PROVIDERS) {
      const values = await answers({
        provider,
        public_ips: true,
        open_ports: ['443', '80'],
        autoscaling: true,
        owner: 'Ops "core" team: 100% {on call} \\ %{not interpolated}',
        ...(provider === 'aws' ? { kms_key_id: 'alias/prod' } : {}),
      });
      const g = await provGen(ctx, values, opts);
      expect(g.files.map((f) => f.name)).toEqual(['main.ncl', 'servers.ncl', 'networking.ncl', 'security.ncl']);
      // schemas/lib.ncl knows all six providers: each config names its own, with no fallback warning.
      expect(g.config.schema_provider).toBe(provider);
      expect(g.warnings).toEqual([]);
      expect(g.files.find((f) => f.name === 'servers.ncl')?.text).toContain(`plan = "${PLAN[provider]}"`);
      writeFiles(g.files, join(out, provider));
    }
    // The escaped owner comes back from Nickel exactly as it was typed.
    const servers = (await evaluateFile(join(out, 'aws', 'servers.ncl'), { mode: 'full' })) as {
      tags: { owner: string };
    }[];
    expect(servers[0]?.tags.owner).toBe('Ops "core" team: 100% {on call} \\ %{not interpolated}');
    const r = await prov(['validate', ...PROVIDERS.map((p) => join(out, p, 'main.ncl'))]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(PROVIDERS.map((p) => `ok    ${join(out, p, 'main.ncl')}`));
  });

  it('is deterministic: the same answers give byte-identical files', async () => {
    const values = await answers({ provider: 'hetzner', worker_count: 7, monitoring: true });
    const a = await provGen(ctx, values, opts);
    const b = await provGen(ctx, { ...values }, opts);
    expect(b.files).toEqual(a.files);
  });

  it('reports answers that make a wrong network on the field at fault', async () => {
    const values = await answers({ provider: 'aws', vpc_cidr: '10.0.0.0/16', private_subnet_cidr: '10.9.1.0/24' });
    const err = await provGen(ctx, values, opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StratumError);
    expect((err as StratumError).exitCode).toBe(3);
    expect((err as StratumError).display).toContain(
      'Private subnet (private_subnet_cidr): 10.9.1.0/24 is not inside the VPC',
    );
    expect(toInfrastructure({ provider: 'nope', name: 'x1' }).errors.map((e) => e.field)).toEqual(['provider']);
  });

  it('refuses a template whose Nickel breaks a schema contract, naming the file, field and contract', async () => {
    const dir = tmp();
    const text = readFileSync(join(BUILTIN_TEMPLATES, 'aws.ncl.njk'), 'utf8');
    writeFileSync(join(dir, 'aws.ncl.njk'), text);
    writeFileSync(
      join(dir, '_cluster.ncl.njk'),
      readFileSync(join(BUILTIN_TEMPLATES, '_cluster.ncl.njk'), 'utf8').replace(
        'disk_gb = {{ s.disk_gb | nickel }}',
        'disk_gb = 10',
      ),
    );
    const values = await answers({ provider: 'aws' });
    const err = (await provGen(ctx, values, { ...opts, templatesDir: dir }).catch((e: unknown) => e)) as StratumError;
    expect(err).toBeInstanceOf(StratumError);
    expect(err.display).toContain('the generated configuration does not pass the schemas; nothing was written');
    expect(err.display).toMatch(/field: {4}servers\[\d+\]\.spec\.disk_gb/);
    expect(err.display).toContain('must be at least 20, got 10');
    expect(err.display).toMatch(/--> infra\/servers\.ncl:\d+:\d+/);
  });

  it('writes nothing when a template makes invalid Nickel or prints an undefined value (real binary)', async () => {
    const dir = tmp();
    const templates = join(dir, 'templates');
    mkdirSync(templates);
    writeFileSync(
      join(templates, 'gcp.ncl.njk'),
      '#@file main.ncl\n{ provider = {{ config.provider | nickel_tag }}, region = "x" \n',
    );
    writeFileSync(join(templates, 'lxd.ncl.njk'), '#@file main.ncl\n{ zone = {{ config.zone }} }\n');
    writeFileSync(join(dir, 'a.yaml'), YAML.stringify({ name: 'edge' }));
    const out = join(dir, 'infra');
    const bad = await typedialog([
      'prov-gen',
      cluster,
      '--provider',
      'gcp',
      '-a',
      join(dir, 'a.yaml'),
      '--templates',
      templates,
      '-o',
      out,
    ]);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain('the template produced invalid Nickel; nothing was written');
    expect(bad.stderr).toMatch(/--> .*infra\/main\.ncl:2/);
    const undef = await typedialog([
      'prov-gen',
      cluster,
      '--provider',
      'lxd',
      '-a',
      join(dir, 'a.yaml'),
      '--templates',
      templates,
      '-o',
      out,
      '--json',
    ]);
    expect(undef.code).toBe(3);
    expect(JSON.parse(undef.stdout).error.message).toMatch(/template lxd\.ncl\.njk failed: .*undefined/);
    expect(existsSync(out)).toBe(false);
  });

  it('writes a 50-server cluster from an answers file with the real binary (--json)', async () => {
    const dir = tmp();
    writeFileSync(
      join(dir, 'a.yaml'),
      YAML.stringify({ name: 'big', worker_count: 47, kubernetes: true, region: 'eu-central-1' }),
    );
    const r = await typedialog([
      'prov-gen',
      cluster,
      '--provider',
      'aws',
      '--answers',
      join(dir, 'a.yaml'),
      '--out',
      join(dir, 'infra'),
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({
      provider: 'aws',
      schema_provider: 'aws',
      region: 'eu-central-1',
      servers: 50,
      written: true,
    });
    expect(readdirSync(join(dir, 'infra')).sort()).toEqual([
      'main.ncl',
      'networking.ncl',
      'security.ncl',
      'servers.ncl',
    ]);
    expect(readFileSync(join(dir, 'infra', 'servers.ncl'), 'utf8')).toContain('name = "big-worker-47"');
  });
});
