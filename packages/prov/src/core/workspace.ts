import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { usageError, validationError } from '@stratumiops/shared/errors';
import { writeFileAtomic } from '@stratumiops/shared/fs';
import * as z from '@stratumiops/shared/zod';

/** Provider settings of a workspace (.prov/providers.json): never credentials, only where they come from. */
/** Where a cloud's credentials come from: the provider's own environment variables, or a path in svault. */
export const CREDENTIALS_FROM = /^(env|svault:\/\/[^/#]+\/[^#]+)$/;
const credentialsFrom = z
  .string()
  .regex(CREDENTIALS_FROM, 'expected env or svault://<mount>/<path> (e.g. svault://secret/data/aws)')
  .default('env');

export const ProvidersFile = z.strictObject({
  aws: z
    .strictObject({
      region: z.string().optional(),
      endpoint: z.string().optional(),
      /** env (the SDK's chain: env, profile, instance role) or an svault path holding access_key/secret_key. */
      credentials: credentialsFrom,
      /** Public key file (.pub) imported as the servers' key pair (EC2 takes one per instance: the first). */
      ssh_keys: z.array(z.string()).default([]),
    })
    .optional(),
  upcloud: z
    .strictObject({
      /** Zone for servers that name none, e.g. fi-hel1. */
      zone: z.string().optional(),
      /** API base with its version (a compatible or local API); default https://api.upcloud.com/1.3. */
      endpoint: z.string().optional(),
      /** env (UPCLOUD_TOKEN, or UPCLOUD_USERNAME + UPCLOUD_PASSWORD) or an svault path holding token or username/password. */
      credentials: credentialsFrom,
      /** Public key files (.pub) for the servers' login user. */
      ssh_keys: z.array(z.string()).default([]),
    })
    .optional(),
  local: z
    .strictObject({
      /** Nickel files whose export is a hosts record (schemas/hosts.ncl). */
      hosts_files: z.array(z.string()).default([]),
      /** Hosts given on the command line: name → user@address:port. */
      hosts: z.record(z.string(), z.string()).default({}),
      key: z.string().optional(),
    })
    .optional(),
  lxd: z
    .strictObject({
      /** LXD's unix socket (Debian's lxd: /var/lib/lxd/unix.socket). */
      socket: z.string().default('/var/lib/lxd/unix.socket'),
      /** Image alias servers are created from. */
      image: z.string().default('debian/12'),
      /** PID 1 for images without an init system, e.g. "/bin/sleep infinity". */
      init_cmd: z.string().optional(),
      profiles: z.array(z.string()).default(['default']),
    })
    .optional(),
});
export type ProvidersFile = z.infer<typeof ProvidersFile>;

export function providersPath(cwd = process.cwd()): string {
  return join(cwd, '.prov', 'providers.json');
}

export function readProviders(cwd = process.cwd()): ProvidersFile {
  const f = providersPath(cwd);
  if (!existsSync(f)) return {};
  const r = ProvidersFile.safeParse(JSON.parse(readFileSync(f, 'utf8')));
  if (!r.success) throw validationError(`${f}: ${r.error.issues[0]?.path.join('.')}: ${r.error.issues[0]?.message}`);
  return r.data;
}

/** Atomic, durable write (temp file, fsync, rename, fsync of the folder): shared/fs's. */
export const writeAtomic = writeFileAtomic;

export function writeProviders(p: ProvidersFile, cwd = process.cwd()) {
  writeAtomic(providersPath(cwd), `${JSON.stringify(p, null, 2)}\n`);
}

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The config a command works on: the given file, else prov.ncl of the working directory. */
export function configFile(given: string | undefined, cwd = process.cwd()): string {
  if (given) return resolve(cwd, given);
  const f = join(cwd, 'prov.ncl');
  if (!existsSync(f))
    throw usageError('no config given and no prov.ncl here', { hint: 'pass the config file, or run prov init' });
  return f;
}

export const INIT_CONFIG = `# The desired infrastructure: prov validate | plan | apply read this file.
let Infrastructure = import "infrastructure.ncl" in
{
  provider = 'local,
  # Hosts reached over SSH (the local provider): address, port, user, key_path, sudo.
  hosts = {
    # web-01 = { address = "192.0.2.10", user = "deploy", sudo = true },
  },
  servers = [
    # { name = "web-01", provider = 'local, spec.os = { family = 'debian, version = "12" } },
  ],
  taskservs = [
    # { name = 'node_exporter, hosts = ["web-01"] },
  ],
} | Infrastructure
`;

export const INIT_TOML = `# prov settings for this workspace (flags and PROV_* variables override them).
state = ".prov/state.db"

[apply]
parallelism = 10
retries = 3

[ssh]
# strict | accept-new | off
host_key_checking = "strict"
known_hosts = ".prov/known_hosts"
`;
