import { chownSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type SshdServer, startSshd } from '@stratumiops/shared/testing/index';

/** What a fake cloud asks when it creates a server: the address to give it, by server name. */
export interface HostPool {
  claim(name: string): { address: string } | undefined;
  /** The server was deleted (or terminated). */
  release?(name: string): void;
}

/** A throwaway sshd standing in for one cloud server, with its own install tree for taskservs. */
export interface CloudHost {
  name: string;
  sshd: SshdServer;
  /** Install prefix of taskservs on this host (its `root`). */
  root: string;
  /** The fake cloud created a server for it and has not deleted it. */
  claimed: boolean;
  /** Times the fake cloud handed it out (1 after one create, whatever resumes happened). */
  claims: number;
}

export interface CloudHosts extends HostPool {
  hosts: Map<string, CloudHost>;
  /** The Nickel `hosts` entry of one server: address, port, user, key and install root. */
  hostEntry(name: string, extra?: string): string;
  /** known_hosts lines pinning every host's key. */
  knownHosts(): string;
  stop(): Promise<void>;
}

export interface CloudHostsOptions {
  /** Stop a host's sshd when the cloud deletes its server, so that a destroyed server is really gone. */
  stopOnRelease?: boolean;
}

/**
 * One real sshd per server name, to hand to startFakeEc2/startFakeUpcloud as `hosts`: the fake gives a created
 * server the address of the host of the same name, and the config's `hosts` entry (hostEntry) reaches it over
 * SSH, so taskservs and data moves run for real on the "cloud" server.
 */
export async function startCloudHosts(names: string[], opts: CloudHostsOptions = {}): Promise<CloudHosts> {
  const hosts = new Map<string, CloudHost>();
  const started = await Promise.allSettled(names.map(() => startSshd()));
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined)));
    throw (failed as PromiseRejectedResult).reason;
  }
  names.forEach((name, i) => {
    const sshd = (started[i] as PromiseFulfilledResult<SshdServer>).value;
    const root = join(sshd.workDir, 'root');
    mkdirSync(root, { recursive: true });
    // The SSH user owns the work dir; this process (maybe root) made the folder: hand it over.
    const owner = statSync(sshd.workDir);
    chownSync(root, owner.uid, owner.gid);
    hosts.set(name, { name, sshd, root, claimed: false, claims: 0 });
  });
  const stopped = new Set<string>();
  const stopOne = async (h: CloudHost) => {
    if (stopped.has(h.name)) return;
    stopped.add(h.name);
    await h.sshd.stop();
  };
  return {
    hosts,
    claim(name) {
      const h = hosts.get(name);
      if (!h || stopped.has(name)) return undefined;
      h.claimed = true;
      h.claims++;
      return { address: h.sshd.host };
    },
    release(name) {
      const h = hosts.get(name);
      if (!h) return;
      h.claimed = false;
      if (opts.stopOnRelease) void stopOne(h);
    },
    hostEntry(name, extra = '') {
      const h = hosts.get(name);
      if (!h) throw new Error(`no cloud host ${name}`);
      const s = h.sshd;
      return `${name} = { address = "${s.host}", port = ${s.port}, user = "${s.username}", key_path = "${s.privateKeyPath}", root = "${h.root}"${extra} }`;
    },
    knownHosts() {
      return [...hosts.values()].map((h) => `[${h.sshd.host}]:${h.sshd.port} ${h.sshd.hostKey}\n`).join('');
    },
    async stop() {
      await Promise.all([...hosts.values()].map(stopOne));
    },
  };
}
