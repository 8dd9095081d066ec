import { type ChildProcess, spawn } from 'node:child_process';
import { binPath } from '../../../../test/run-bin.js';

export interface SvaultDev {
  addr: string;
  token: string;
  stop(): Promise<void>;
}

/** A real `svault server --dev` on a free loopback port (in memory, unsealed), stopped by stop(). */
export function startSvaultDev(): Promise<SvaultDev> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(
      process.execPath,
      [binPath('svault'), 'server', '--dev', '--address', '127.0.0.1:0'],
      {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, STRATUM_NO_BUNDLE: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`svault server --dev did not start: ${out}`));
    }, 30_000);
    const stop = () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      });
    const onData = (d: Buffer) => {
      out += d.toString();
      const addr = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
      const token = /Root Token: (\S+)/.exec(out)?.[1];
      if (addr && token) {
        clearTimeout(timer);
        resolve({ addr, token, stop });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`svault server --dev exited ${code}: ${out}`));
    });
  });
}
