import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Client, type SFTPWrapper } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canConnect, isProcessAlive, type SshdServer, skipUnless, startSshd } from '../../src/testing/index.js';

function connectSsh(server: SshdServer): Promise<Client> {
  return new Promise((resolve, reject) => {
    const c = new Client();
    c.once('ready', () => {
      c.setNoDelay(true);
      resolve(c);
    });
    c.once('error', reject);
    c.connect({
      host: server.host,
      port: server.port,
      username: server.username,
      privateKey: server.privateKey,
      // Pin the throwaway host key instead of trusting whatever answers.
      hostVerifier: (key: Buffer) => key.equals(server.hostKeyBlob),
      readyTimeout: 10_000,
    });
  });
}

function exec(c: Client, command: string): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    c.exec(command, (err, stream) => {
      if (err) return reject(err);
      let stdout = '';
      let stderr = '';
      stream.on('data', (d: Buffer) => {
        stdout += d.toString('utf8');
      });
      stream.stderr.on('data', (d: Buffer) => {
        stderr += d.toString('utf8');
      });
      stream.on('close', (code: number | null) => resolve({ stdout, stderr, code }));
    });
  });
}

function sftp(c: Client): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => c.sftp((err, s) => (err ? reject(err) : resolve(s))));
}

describe.skipIf(skipUnless('sshd'))('startSshd (real OpenSSH sshd)', () => {
  let server: SshdServer;
  let client: Client | undefined;

  beforeAll(async () => {
    server = await startSshd();
  });
  afterAll(async () => {
    client?.end();
    await server?.stop();
  });

  it('runs a command with ssh2 and returns stdout and the exit code', async () => {
    client = await connectSsh(server);
    expect(await exec(client, 'echo hello')).toEqual({ stdout: 'hello\n', stderr: '', code: 0 });
    expect((await exec(client, 'id -un')).stdout.trim()).toBe(server.username);
    expect((await exec(client, 'exit 3')).code).toBe(3);
  });

  it('writes a file over sftp and reads it back', async () => {
    client ??= await connectSsh(server);
    const s = await sftp(client);
    const path = join(server.workDir, 'hello.txt');
    const content = 'written over sftp\n';
    await new Promise<void>((resolve, reject) =>
      s.writeFile(path, content, { mode: 0o640 }, (err) => (err ? reject(err) : resolve())),
    );
    const back = await new Promise<Buffer>((resolve, reject) =>
      s.readFile(path, (err, data) => (err ? reject(err) : resolve(data))),
    );
    expect(back.toString('utf8')).toBe(content);
    expect((await exec(client, `cat ${path}`)).stdout).toBe(content);
    s.end();
  });

  it('rejects a host key that does not match the pinned one', async () => {
    const c = new Client();
    const err = await new Promise<Error>((resolve) => {
      c.once('ready', () => resolve(new Error('unexpectedly connected')));
      c.once('error', resolve);
      c.connect({
        host: server.host,
        port: server.port,
        username: server.username,
        privateKey: server.privateKey,
        hostVerifier: () => false,
      });
    });
    c.end();
    expect(err.message).toMatch(/Host denied \(verification failed\)/);
  });

  it('stop() shuts the server down and removes its temp dir', async () => {
    client?.end();
    client = undefined;
    await server.stop();
    expect(await canConnect(server.port)).toBe(false);
    expect(isProcessAlive(server.pid)).toBe(false);
    expect(existsSync(server.dir)).toBe(false);
  });
});
