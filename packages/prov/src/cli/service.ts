import { usageError } from '@stratumiops/shared/errors';
import { ClusterStore, clusterResources, parseSettings } from '../core/cluster.js';
import { pgMembers, readSecrets } from '../core/cluster-pg.js';
import { hostAttrs } from '../core/desired.js';
import type { StateStore } from '../core/state.js';
import type { Attrs, DesiredResource } from '../core/types.js';
import type { Runtime } from '../runtime.js';

/** taskserv.<service>.<host> resources for an ad-hoc install, with config from the config's taskservs entry. */
export async function serviceResources(
  runtime: Runtime,
  service: string,
  servers: string[],
  opts: { version?: string; set?: string[] },
): Promise<DesiredResource[]> {
  const hosts = await runtime.hosts();
  const entry = runtime.infra?.taskservs?.find((t) => String(t.name) === service);
  const config: Attrs = { ...(entry?.config ?? {}) };
  for (const kv of opts.set ?? []) {
    const i = kv.indexOf('=');
    if (i > 0) config[kv.slice(0, i)] = kv.slice(i + 1);
  }
  await runtime.definition(service);
  const targets = await runtime.targets(servers);
  return targets.map((t) => {
    const h = hosts[t.name] ?? { address: t.address, port: t.port, user: t.user };
    const version = opts.version ?? entry?.version;
    return {
      address: `taskserv.${service}.${t.name}`,
      kind: 'taskserv',
      name: `${service}.${t.name}`,
      provider: 'local',
      attrs: { service, ...(version ? { version } : {}), host: t.name, ssh: hostAttrs(h), config },
      deps: [],
    };
  });
}

/**
 * taskserv.<service>.<member> resources of a cluster's service, with the template's per-member config (roles,
 * ports) and order (kubeadm init before the joins), plus the secrets the cluster was made with.
 */
export async function clusterServiceResources(
  runtime: Runtime,
  clusterName: string,
  service: string,
  opts: { version?: string; set?: string[] },
  openStore: () => Promise<StateStore>,
): Promise<DesiredResource[]> {
  const clusters = ClusterStore.forWorkspace(openStore);
  const rec = await clusters.get(clusterName);
  const services = rec.spec.services.filter((s) => s.service === service);
  if (services.length === 0)
    throw usageError(`cluster ${rec.name} has no ${service}`, {
      hint: `its services, in order: ${rec.spec.order.join(', ')}`,
    });
  await runtime.definition(service);
  const hostNames = [...new Set(services.map((s) => s.host))];
  const targets = Object.fromEntries((await runtime.targets(hostNames)).map((t) => [t.name, t]));
  let secrets = clusters.secrets(rec.name);
  if (rec.spec.kind === 'postgresql-ha' && service === 'patroni') {
    const members = pgMembers(rec, targets);
    secrets = { patroni: await readSecrets(await runtime.executor(), members[0]!) };
  }
  const set = parseSettings(opts.set);
  const spec = {
    ...rec.spec,
    services: services.map((s) => ({
      ...s,
      ...(opts.version ? { version: opts.version } : {}),
      config: { ...s.config, ...set },
      depends_on: [],
    })),
  };
  return clusterResources(spec, targets, secrets);
}
