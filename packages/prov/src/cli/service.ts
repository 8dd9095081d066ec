import type { Runtime } from '../adapters/runtime.js';
import { hostAttrs } from '../core/desired.js';
import type { Attrs, DesiredResource } from '../core/types.js';

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
