import type { Command } from '@oclif/core/command';
import * as Flags from '@oclif/core/flags';
import { usageError } from '@stratumiops/shared/errors';
import { hostTarget } from '../adapters/local.js';
import type { Executor } from '../core/executor.js';
import type { Placement } from '../core/observe.js';
import { configFile, ProvidersFile, readProviders } from '../core/workspace.js';
import { Runtime } from '../runtime.js';
import { acceptNewHostKeysFlag, type LoadedInfra, ProvCommand } from './base.js';

export const fleetFlags = {
  file: Flags.string({ description: 'Nickel config (default: prov.ncl)', helpValue: '<file>' }),
  cluster: Flags.string({
    description: 'only hosts labelled cluster=NAME (hosts.<name>.labels.cluster or the server tag)',
    helpValue: '<name>',
  }),
  'accept-new-host-keys': acceptNewHostKeysFlag,
};

/** Commands that look at the running fleet: the config's hosts and taskservs, over prov's SSH connections. */
export abstract class FleetCommand<T extends typeof Command> extends ProvCommand<T> {
  protected async fleet(file: string | undefined): Promise<{ loaded: LoadedInfra; runtime: Runtime }> {
    const loaded = await this.loadInfra(configFile(file));
    return { loaded, runtime: new Runtime(this.runtimeSettings(), loaded.infra) };
  }

  /** Host names of the config (its hosts and its LXD containers), narrowed to --cluster. */
  protected hostNames(loaded: LoadedInfra, cluster: string | undefined): string[] {
    const hosts = loaded.infra.hosts ?? {};
    const servers = loaded.infra.servers ?? [];
    const names = [...new Set([...Object.keys(hosts), ...lxdServers(loaded)])].sort();
    if (!cluster) return names;
    const chosen = names.filter(
      (n) => hosts[n]?.labels?.cluster === cluster || servers.find((s) => s.name === n)?.tags?.cluster === cluster,
    );
    if (chosen.length === 0)
      throw usageError(`no host is labelled cluster=${cluster}`, {
        hint: 'label hosts with labels.cluster, or tag servers with tags.cluster',
      });
    return chosen;
  }

  /** Targets and one executor for them: SSH for hosts, LXD exec for the config's containers. */
  protected async reach(runtime: Runtime, loaded: LoadedInfra, names: string[]) {
    const containers = new Set(lxdServers(loaded).filter((n) => !loaded.infra.hosts?.[n]));
    const ssh = await runtime.targets(names.filter((n) => !containers.has(n)));
    const targets = names.map(
      (n) => ssh.find((t) => t.name === n) ?? hostTarget(n, { address: n, labels: { transport: 'lxd' } }),
    );
    let exec: Executor = await runtime.executor();
    if (containers.size) {
      const { LxdExecutor, routeLxd } = await import('../adapters/lxd.js');
      const s = readProviders().lxd ?? ProvidersFile.shape.lxd.unwrap().parse({});
      exec = routeLxd(exec, new LxdExecutor(s.socket));
    }
    return { targets, exec };
  }

  protected placementsOn(loaded: LoadedInfra, hosts: string[]): Placement[] {
    return (loaded.desired.resources ?? [])
      .filter((r) => r.kind === 'taskserv' && hosts.includes(String(r.attrs.host)))
      .map((r) => ({
        service: String(r.attrs.service),
        host: String(r.attrs.host),
        ...(typeof r.attrs.version === 'string' ? { version: r.attrs.version } : {}),
        config: (r.attrs.config ?? {}) as Record<string, unknown>,
      }));
  }
}

const lxdServers = (loaded: LoadedInfra) =>
  (loaded.infra.servers ?? []).filter((s) => s.provider === 'lxd').map((s) => s.name);
