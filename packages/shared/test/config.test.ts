import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { describeConfig, loadConfig, toolConfigSchema } from '../src/config.js';
import type { StratumError } from '../src/errors.js';

const schema = toolConfigSchema({
  port: z.number().int().min(1).max(65535).default(8200),
  tls: z.boolean().default(false),
  peers: z.array(z.string()).default([]),
  db: z.strictObject({ password: z.string().default(''), pool: z.number().default(4) }).prefault({}),
});
const spec = {
  tool: 'demo',
  schema,
  projectFile: 'demo.toml',
  env: { DEMO_PORT: 'port', DEMO_TLS: 'tls', DEMO_PEERS: 'peers', DEMO_DB_PASSWORD: 'db.password' },
};
const dir = () => mkdtempSync(join(tmpdir(), 'cfg-'));
const env = (cwd: string, extra: Record<string, string> = {}) => ({
  HOME: cwd,
  XDG_CONFIG_HOME: join(cwd, 'xdg'),
  ...extra,
});

function thrown(fn: () => unknown): StratumError {
  try {
    fn();
  } catch (e) {
    return e as StratumError;
  }
  throw new Error('expected an error');
}

describe('loadConfig', () => {
  it('gives every default with source "default"', () => {
    const cwd = dir();
    const c = loadConfig(spec, { cwd, env: env(cwd) });
    expect(c.values).toMatchObject({ port: 8200, tls: false, peers: [], log: { level: 'warn', format: 'text' } });
    expect(c.sources.port).toEqual({ kind: 'default' });
  });

  it('coerces environment strings to the schema type', () => {
    const cwd = dir();
    const c = loadConfig(spec, { cwd, env: env(cwd, { DEMO_PORT: '9000', DEMO_TLS: 'yes', DEMO_PEERS: 'a, b,c' }) });
    expect(c.values).toMatchObject({ port: 9000, tls: true, peers: ['a', 'b', 'c'] });
    expect(c.sources.port).toEqual({ kind: 'env', where: 'DEMO_PORT' });
  });

  it('rejects a non-numeric environment value with exit 3, naming the variable', () => {
    const cwd = dir();
    const e = thrown(() => loadConfig(spec, { cwd, env: env(cwd, { DEMO_PORT: 'eighty' }) }));
    expect(e.exitCode).toBe(3);
    expect(e.message).toContain("'port'");
    expect(e.message).toContain('env DEMO_PORT');
  });

  it('rejects an out-of-range value from a file with exit 3, naming the file', () => {
    const cwd = dir();
    writeFileSync(join(cwd, 'demo.toml'), 'port = 70000\n');
    const e = thrown(() => loadConfig(spec, { cwd, env: env(cwd) }));
    expect(e.exitCode).toBe(3);
    expect(e.message).toContain(join(cwd, 'demo.toml'));
  });

  it('reports TOML syntax errors with line and column, exit 2', () => {
    const cwd = dir();
    writeFileSync(join(cwd, 'demo.toml'), 'port = 1\n[db\npool = 2\n');
    const e = thrown(() => loadConfig(spec, { cwd, env: env(cwd) }));
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(/demo\.toml:2:\d+/);
  });

  it('treats an empty file as no settings, and binary garbage as a syntax error', () => {
    const cwd = dir();
    writeFileSync(join(cwd, 'demo.toml'), '');
    expect(loadConfig(spec, { cwd, env: env(cwd) }).values.port).toBe(8200);
    writeFileSync(join(cwd, 'demo.toml'), Buffer.from([0, 159, 146, 150, 255, 10, 1, 2]));
    expect(thrown(() => loadConfig(spec, { cwd, env: env(cwd) })).exitCode).toBe(2);
  });

  it('an explicit --config file that does not exist is exit 4', () => {
    const cwd = dir();
    expect(thrown(() => loadConfig(spec, { cwd, env: env(cwd), file: 'missing.toml' })).exitCode).toBe(4);
  });

  it('flags win over everything and are named as the source', () => {
    const cwd = dir();
    writeFileSync(join(cwd, 'demo.toml'), 'port = 1234\n');
    const c = loadConfig(spec, {
      cwd,
      env: env(cwd, { DEMO_PORT: '4321' }),
      flags: [
        { key: 'port', flag: 'port', value: 5555 },
        { key: 'tls', flag: 'tls', value: undefined },
      ],
    });
    expect(c.values.port).toBe(5555);
    expect(c.sources.port).toEqual({ kind: 'flag', where: '--port' });
    expect(c.sources.tls).toEqual({ kind: 'default' });
  });

  it('masks secrets in the description', () => {
    const cwd = dir();
    const c = loadConfig(spec, { cwd, env: env(cwd, { DEMO_DB_PASSWORD: 'hunter2' }) });
    const rows = describeConfig(c);
    expect(rows.find((r) => r.key === 'db.password')).toEqual({
      key: 'db.password',
      value: '********',
      source: 'env DEMO_DB_PASSWORD',
    });
    expect(JSON.stringify(rows)).not.toContain('hunter2');
  });

  it('masks the password inside connection URLs', () => {
    const cwd = dir();
    const urlSpec = { ...spec, schema: toolConfigSchema({ url: z.string().default('') }), env: { DEMO_URL: 'url' } };
    const c = loadConfig(urlSpec, { cwd, env: env(cwd, { DEMO_URL: 'postgres://app:s3cret@db:5432/prov' }) });
    expect(describeConfig(c).find((r) => r.key === 'url')?.value).toBe('postgres://app:********@db:5432/prov');
  });
});
