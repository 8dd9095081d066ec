import { validationError } from '@stratumiops/shared/errors';
import * as z from '@stratumiops/shared/zod';

export const WIZARDS = ['cluster', 'database', 'monitoring'] as const;
export type Wizard = (typeof WIZARDS)[number];

/** Plans per provider for the sizes the database form offers. */
const PLANS: Record<string, Record<string, string>> = {
  aws: { small: 't3.medium', medium: 't3.xlarge', large: 'r5.xlarge' },
  upcloud: { small: '2xCPU-4GB', medium: '4xCPU-8GB', large: '8xCPU-32GB' },
};

const databaseAnswers = z.object({
  name: z.string().regex(/^[a-z][a-z0-9-]{0,40}[a-z0-9]$/),
  provider: z.enum(['aws', 'upcloud', 'local']),
  region: z
    .string()
    .regex(/^[a-z0-9-]+$/)
    .optional(),
  addresses: z
    .array(z.string().regex(/^[A-Za-z0-9.:-]+$/))
    .min(1)
    .max(9)
    .optional(),
  ssh_user: z
    .string()
    .regex(/^[a-z_][a-z0-9_-]{0,31}$/)
    .default('root'),
  servers: z.number().int().min(1).max(9).default(1),
  size: z.enum(['small', 'medium', 'large']).default('medium'),
  disk_gb: z.number().int().min(20).max(16000).default(100),
  postgres_version: z
    .string()
    .regex(/^\d+(\.\d+)?$/)
    .default('15'),
  ha: z.boolean().default(false),
});

const str = (s: string) => JSON.stringify(s);

/**
 * The database form's answers as a prov config: the servers (or the hosts you run), PostgreSQL on each, the
 * first as primary. Strings are written as JSON string literals, which Nickel reads the same way.
 */
export function databaseConfig(answers: unknown, form: string): string {
  const r = databaseAnswers.safeParse(answers);
  if (!r.success) {
    const i = r.error.issues[0];
    throw validationError(`the database answers do not fit: ${i?.path.join('.')}: ${i?.message}`);
  }
  const a = r.data;
  const local = a.provider === 'local';
  if (local && !a.addresses) throw validationError('the local provider needs the addresses of the hosts');
  const count = local ? (a.addresses as string[]).length : a.servers;
  if (a.ha && count < 3)
    throw validationError(`high availability needs 3 or more servers (a leader and two replicas), not ${count}`);
  const names = Array.from({ length: count }, (_, i) => `${a.name}-db-${i + 1}`);
  const servers = names.map((n, i) =>
    [
      `    {`,
      `      name = ${str(n)},`,
      `      provider = '${a.provider},`,
      ...(local ? [] : [`      plan = ${str(PLANS[a.provider]?.[a.size] as string)},`]),
      `      role = ${str(a.ha ? 'db-member' : i === 0 ? 'db-primary' : 'db-replica')},`,
      `      spec = { disk_gb = ${a.disk_gb}, os = { family = 'debian, version = "12" } },`,
      `      tags = { cluster = ${str(a.name)} },`,
      `    },`,
    ].join('\n'),
  );
  const hosts = local
    ? [
        '  hosts = {',
        ...names.map(
          (n, i) =>
            `    ${str(n)} = { address = ${str((a.addresses as string[])[i] as string)}, user = ${str(a.ssh_user)}, sudo = ${a.ssh_user !== 'root'}, labels = { cluster = ${str(a.name)} } },`,
        ),
        '  },',
      ]
    : [];
  // HA: the servers only; Patroni, etcd and PostgreSQL come from the db-cluster template, which picks
  // the leader and keeps the replicas streaming (a postgresql taskserv per server would be a second,
  // unmanaged PostgreSQL on each).
  const taskservs = a.ha
    ? [
        `  # PostgreSQL ${a.postgres_version} HA on these servers:`,
        `  #   prov cluster create ${a.name} --template db-cluster --servers ${names.join(',')} --version ${a.postgres_version}`,
        '  taskservs = [],',
      ]
    : [
        '  taskservs = [',
        `    { name = 'postgresql, version = ${str(a.postgres_version)}, hosts = [${names.map(str).join(', ')}] },`,
        '  ],',
      ];
  return [
    `# ${a.name}: PostgreSQL ${a.postgres_version}${a.ha ? ' HA (Patroni)' : ''} on ${count} server(s) (${a.provider}${a.region && !local ? `, ${a.region}` : ''}).`,
    `# Written by prov wizard database from the form ${form}; prov validate checked it before it was written.`,
    'let Infrastructure = import "infrastructure.ncl" in',
    '{',
    `  provider = '${a.provider},`,
    ...(local ? [] : [`  region = ${str(a.region ?? 'eu-west-1')},`]),
    '  servers = [',
    ...servers,
    '  ],',
    ...hosts,
    ...taskservs,
    '} | Infrastructure',
    '',
  ].join('\n');
}
