import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipUnless } from '../../shared/src/testing/index.js';
import { hostEntry, inventory, prov, startHosts, stopHosts, type TestHost, workspace } from './support/hosts.js';

/**
 * A definition whose first install attempt cuts its own SSH connection (kills the sshd session serving it),
 * as a host that drops mid-step would; the second attempt finds the marker and finishes.
 */
const DROPPER = `{
  name = "dropper",
  description = "cuts its connection once",
  version = "1.0",
  install = [
    {
      name = "cut",
      check = m%"[ -f "$root/opt/dropper/done" ]"%,
      run = m%"
        mkdir -p "$root/opt/dropper"
        if [ ! -f "$root/opt/dropper/cut" ]; then
          touch "$root/opt/dropper/cut"
          session=$(ps -o ppid= -p $PPID | tr -d ' ')
          kill -9 "$session"
          sleep 5
        fi
        touch "$root/opt/dropper/done"
      "%,
    },
  ],
  uninstall = [{ name = "rm", run = m%"rm -rf "$root/opt/dropper"; rmdir "$root/opt" 2>/dev/null || true"% }],
}
`;

describe.skipIf(skipUnless('sshd'))('a host that drops mid-step', () => {
  let hosts: TestHost[];
  beforeAll(async () => {
    hosts = await startHosts(1);
  });
  afterAll(async () => {
    await stopHosts(hosts);
  });

  it('is retried like a failed step, on a new connection, and the run succeeds', async () => {
    const h = hosts[0]!;
    const before = inventory(h.root);
    const ws = workspace(
      `{
  provider = 'local,
  hosts = { ${hostEntry(h)} },
  taskservs = [{ name = "dropper", hosts = ["${h.name}"] }],
} | (import "infrastructure.ncl")
`,
      [h],
      '\n[taskservs]\ndirs = ["defs"]\n',
    );
    mkdirSync(join(ws.cwd, 'defs'));
    writeFileSync(join(ws.cwd, 'defs', 'dropper.ncl'), DROPPER);
    const r = await prov(ws, ['apply', '-y']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/taskserv\.dropper\.node-1: .*the connection closed in the middle of a step — retrying/);
    expect(existsSync(join(h.root, 'opt/dropper/done'))).toBe(true);
    expect((await prov(ws, ['destroy', '-y'])).code).toBe(0);
    expect(inventory(h.root)).toEqual(before);
  }, 90_000);
});
