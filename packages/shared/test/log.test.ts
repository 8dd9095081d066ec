import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.js';

function capture() {
  const stream = new PassThrough();
  let out = '';
  stream.on('data', (d: Buffer) => {
    out += d.toString();
  });
  return { stream, text: () => out };
}

describe('createLogger', () => {
  it('writes one JSON object per line with --log-format json', () => {
    const c = capture();
    const log = createLogger({ name: 'svault', level: 'info', format: 'json', stream: c.stream });
    log.info({ mount: 'secret/' }, 'mounted');
    const rec = JSON.parse(c.text().trim());
    expect(rec).toMatchObject({ name: 'svault', msg: 'mounted', mount: 'secret/', level: 30 });
  });

  it('writes readable lines by default', () => {
    const c = capture();
    createLogger({ name: 'prov', level: 'info', stream: c.stream }).warn({ host: 'web-1' }, 'retrying');
    expect(c.text()).toMatch(/^\d\d:\d\d:\d\d WARN prov: retrying host=web-1\n$/);
  });

  it('drops lines below the level', () => {
    const c = capture();
    createLogger({ name: 'x', level: 'warn', stream: c.stream }).info('hidden');
    expect(c.text()).toBe('');
  });

  it('never writes secret values', () => {
    const c = capture();
    const log = createLogger({ name: 'svault', level: 'debug', format: 'json', stream: c.stream });
    log.info({ token: 's.abc123', req: { password: 'hunter2' }, headers: { 'x-vault-token': 's.zzz' } }, 'request');
    expect(c.text()).not.toMatch(/abc123|hunter2|s\.zzz/);
    expect(c.text()).toContain('[redacted]');
  });
});
