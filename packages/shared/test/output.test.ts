import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { assertInteractive, progress, renderTable } from '../src/output.js';

function fakeStream(isTTY: boolean) {
  const s = new PassThrough() as PassThrough & { isTTY: boolean };
  s.isTTY = isTTY;
  let out = '';
  s.on('data', (d: Buffer) => {
    out += d.toString();
  });
  return { stream: s as unknown as NodeJS.WriteStream, text: () => out };
}

describe('progress', () => {
  it('draws a bar on a terminal and clears it when stopped', () => {
    const { stream, text } = fakeStream(true);
    const saved = process.env.CI;
    delete process.env.CI;
    try {
      const bar = progress('uploading', 4, stream);
      bar.update(2);
      bar.stop('done');
    } finally {
      if (saved !== undefined) process.env.CI = saved;
    }
    expect(text()).toContain('[##########..........] 2/4 uploading');
    expect(text().endsWith('\r\u001b[2Kdone\n')).toBe(true);
  });

  it('writes nothing off a terminal', () => {
    const { stream, text } = fakeStream(false);
    const bar = progress('uploading', 4, stream);
    bar.update(3);
    bar.stop();
    expect(text()).toBe('');
  });
});

describe('assertInteractive', () => {
  it('fails with exit 2 naming the flag when stdin is not a terminal', () => {
    expect(() => assertInteractive('the unseal key', '--key', { isTTY: false }, {})).toThrow(
      expect.objectContaining({ exitCode: 2, hint: 'pass --key' }),
    );
  });

  it('fails under CI even on a terminal, and passes on a terminal otherwise', () => {
    expect(() => assertInteractive('x', '--x', { isTTY: true }, { CI: 'true' })).toThrow(/not an interactive terminal/);
    expect(() => assertInteractive('x', '--x', { isTTY: true }, {})).not.toThrow();
  });
});

describe('renderTable', () => {
  it('aligns columns and shows missing values as -', () => {
    const out = renderTable([
      { key: 'addr', value: 'https://vault:8200' },
      { key: 'log.level', value: undefined },
    ]);
    expect(out.split('\n')).toEqual(['KEY        VALUE', 'addr       https://vault:8200', 'log.level  -']);
  });
});
