import { randomBytes, randomUUID } from 'node:crypto';
import type { LogicalStore } from '../../barrier.js';
import { addressInCidrs, parseCidr, validateCidrs } from '../../cidr.js';
import { hmacSha256 } from '../../crypto.js';
import { invalid } from '../../errors.js';
import { fBool, fDuration, fInt, fString, fStringList } from '../../fields.js';
import type { Backend, BackendFactory, HandlerResult, PathDef, RoutedRequest } from '../../logical.js';
import { KeyedMutex } from '../../storage.js';
import {
  applyTokenFields,
  defaultTokenParams,
  loginSpec,
  type TokenParams,
  tokenFields,
  tokenParamsView,
} from './tokenutil.js';

interface Role extends TokenParams {
  role_id: string;
  bind_secret_id: boolean;
  secret_id_bound_cidrs: string[];
  secret_id_num_uses: number;
  secret_id_ttl: number;
}

interface SecretIdEntry {
  secret_id_accessor: string;
  cidr_list: string[];
  token_bound_cidrs: string[];
  metadata: Record<string, string>;
  creation_time: string;
  /** ISO time, or '' for never. */
  expiration_time: string;
  last_updated_time: string;
  secret_id_num_uses: number;
  secret_id_ttl: number;
}

const NAME = '(?<role>\\w(?:[\\w.@-]*\\w)?)';
const enc = new TextEncoder();
const dec = new TextDecoder();
const FAILED = 'invalid role or secret ID';

/**
 * The AppRole auth method, as Vault's. A role has a role_id (public-ish, like a username) and
 * issues secret IDs (like passwords) with their own TTL, use count and CIDR binding; `login`
 * with both issues a token with the role's settings. Storage (inside the mount's barrier view):
 *   salt                          HMAC key for the indexes below
 *   role/<name>                   the role
 *   role_id/<hmac(role_id)>       → role name
 *   secret_id/<name>/<hmac(id)>   a secret ID's entry (the secret ID itself is not stored)
 *   accessor/<hmac(accessor)>     → {role, hmac}
 */
export class AppRoleBackend implements Backend {
  readonly type = 'approle';
  readonly paths: PathDef[];
  readonly unauthenticated = [/^login$/];
  private readonly locks = new KeyedMutex();
  private key: Uint8Array | undefined;

  constructor(private readonly store: LogicalStore) {
    const role = (r: RoutedRequest) => (r.params.role as string).toLowerCase();
    const secretIdFields = {
      metadata: fString(),
      cidr_list: fStringList(),
      token_bound_cidrs: fStringList(),
      ttl: fDuration(),
      num_uses: fInt(),
    };
    this.paths = [
      {
        pattern: /^role\/?$/,
        summary: 'List the roles',
        operations: {
          list: async () => {
            const keys = (await this.store.list('role/')).filter((k) => !k.endsWith('/'));
            return keys.length ? { data: { keys } } : null;
          },
        },
      },
      {
        pattern: new RegExp(`^role/${NAME}$`),
        summary: 'Create, read, update or delete a role',
        fields: {
          bind_secret_id: fBool(),
          secret_id_bound_cidrs: fStringList(),
          secret_id_num_uses: fInt(),
          secret_id_ttl: fDuration(),
          role_id: fString(),
          ...tokenFields,
        },
        existence: async (p) => (await this.role((p.role as string).toLowerCase())) !== undefined,
        operations: {
          read: async (r) => {
            const x = await this.role(role(r));
            if (!x) return null;
            const { role_id: _, ...rest } = x;
            return { data: { ...tokenParamsView(rest), local_secret_ids: false } };
          },
          create: (r, f) => this.writeRole(role(r), f),
          update: (r, f) => this.writeRole(role(r), f),
          delete: (r) =>
            this.locks.run(role(r), async () => {
              const x = await this.role(role(r));
              if (!x) return undefined;
              for (const h of await this.store.list(`secret_id/${role(r)}/`)) await this.destroyByHmac(role(r), h);
              await this.store.delete(`role_id/${await this.mac(x.role_id)}`);
              await this.store.delete(`role/${role(r)}`);
              return undefined;
            }),
        },
      },
      {
        pattern: new RegExp(`^role/${NAME}/role-id$`),
        summary: "Read or set a role's role_id",
        fields: { role_id: fString() },
        operations: {
          read: async (r) => {
            const x = await this.role(role(r));
            return x ? { data: { role_id: x.role_id } } : null;
          },
          update: (r, f) =>
            this.locks.run(role(r), async () => {
              const x = await this.role(role(r));
              if (!x) throw invalid(`role "${role(r)}" does not exist`);
              const id = f.role_id as string | undefined;
              if (!id) throw invalid('missing role_id');
              await this.setRoleId(role(r), x, id);
              return undefined;
            }),
        },
      },
      {
        pattern: new RegExp(`^role/${NAME}/secret-id/?$`),
        summary: 'Generate a secret ID for a role, or list the accessors of its secret IDs',
        fields: secretIdFields,
        operations: {
          update: (r, f) => this.generate(role(r), f),
          list: async (r) => {
            if (!(await this.role(role(r)))) throw invalid(`role "${role(r)}" does not exist`);
            const keys: string[] = [];
            for (const h of await this.store.list(`secret_id/${role(r)}/`)) {
              const e = await this.entry(role(r), h);
              if (e) keys.push(e.secret_id_accessor);
            }
            return keys.length ? { data: { keys: keys.sort() } } : null;
          },
        },
      },
      {
        pattern: new RegExp(`^role/${NAME}/secret-id/lookup$`),
        summary: 'Look up a secret ID',
        fields: { secret_id: fString() },
        operations: {
          update: async (r, f) => {
            const h = await this.mac(required(f.secret_id, 'secret_id'));
            const e = await this.live(role(r), h);
            return e ? { data: secretIdView(e) } : null;
          },
        },
      },
      {
        pattern: new RegExp(`^role/${NAME}/secret-id/destroy$`),
        summary: 'Destroy a secret ID',
        fields: { secret_id: fString() },
        operations: {
          update: (r, f) => this.destroy(role(r), f),
          delete: (r, f) => this.destroy(role(r), f),
        },
      },
      {
        pattern: new RegExp(`^role/${NAME}/secret-id-accessor/(?<op>lookup|destroy)$`),
        summary: 'Look up or destroy a secret ID by its accessor',
        fields: { secret_id_accessor: fString() },
        operations: {
          update: async (r, f) => {
            const acc = required(f.secret_id_accessor, 'secret_id_accessor');
            const raw = await this.store.get(`accessor/${await this.mac(acc)}`);
            const idx = raw ? (JSON.parse(dec.decode(raw)) as { role: string; hmac: string }) : undefined;
            if (!idx || idx.role !== role(r)) {
              throw invalid(`failed to find accessor entry for secret_id_accessor: "${acc}"`);
            }
            if (r.params.op === 'destroy') {
              await this.locks.run(role(r), () => this.destroyByHmac(role(r), idx.hmac));
              return undefined;
            }
            const e = await this.live(role(r), idx.hmac);
            return e ? { data: secretIdView(e) } : null;
          },
        },
      },
      {
        pattern: /^login$/,
        summary: 'Log in with a role_id and a secret_id',
        fields: { role_id: fString(), secret_id: fString() },
        operations: { update: (r, f) => this.login(r, f), create: (r, f) => this.login(r, f) },
      },
    ];
  }

  /** The HMAC of an identifier, keyed per mount (created on first use). */
  private async mac(value: string): Promise<string> {
    if (!this.key) {
      const raw = await this.store.get('salt');
      if (raw) this.key = raw;
      else {
        const k = new Uint8Array(randomBytes(32));
        await this.store.put('salt', k);
        this.key = k;
      }
    }
    return Buffer.from(hmacSha256(this.key, value)).toString('hex');
  }

  private async role(name: string): Promise<Role | undefined> {
    const raw = await this.store.get(`role/${name}`);
    return raw ? (JSON.parse(dec.decode(raw)) as Role) : undefined;
  }

  private async entry(name: string, h: string): Promise<SecretIdEntry | undefined> {
    const raw = await this.store.get(`secret_id/${name}/${h}`);
    return raw ? (JSON.parse(dec.decode(raw)) as SecretIdEntry) : undefined;
  }

  /** The entry, unless it expired (then it is removed). */
  private async live(name: string, h: string): Promise<SecretIdEntry | undefined> {
    const e = await this.entry(name, h);
    if (e?.expiration_time && Date.parse(e.expiration_time) <= Date.now()) {
      await this.locks.run(name, () => this.destroyByHmac(name, h));
      return undefined;
    }
    return e;
  }

  private async setRoleId(name: string, role: Role, id: string): Promise<void> {
    const h = await this.mac(id);
    const taken = await this.store.get(`role_id/${h}`);
    if (taken && dec.decode(taken) !== name) throw invalid('role_id already in use');
    if (role.role_id && role.role_id !== id) await this.store.delete(`role_id/${await this.mac(role.role_id)}`);
    await this.store.put(`role_id/${h}`, enc.encode(name));
    await this.store.put(`role/${name}`, enc.encode(JSON.stringify({ ...role, role_id: id })));
  }

  private writeRole(name: string, f: Record<string, unknown>): Promise<HandlerResult> {
    return this.locks.run(name, async () => {
      const cur = await this.role(name);
      const base: Role = cur ?? {
        ...defaultTokenParams(),
        role_id: '',
        bind_secret_id: true,
        secret_id_bound_cidrs: [],
        secret_id_num_uses: 0,
        secret_id_ttl: 0,
      };
      const next: Role = { ...base, ...applyTokenFields(base, f) };
      if (f.bind_secret_id !== undefined) next.bind_secret_id = f.bind_secret_id as boolean;
      if (f.secret_id_bound_cidrs !== undefined) {
        next.secret_id_bound_cidrs = validateCidrs(f.secret_id_bound_cidrs as string[]);
      }
      if (f.secret_id_num_uses !== undefined) next.secret_id_num_uses = f.secret_id_num_uses as number;
      if (f.secret_id_ttl !== undefined) next.secret_id_ttl = f.secret_id_ttl as number;
      if (next.secret_id_num_uses < 0) throw invalid('secret_id_num_uses cannot be negative');
      if (!next.bind_secret_id && next.secret_id_bound_cidrs.length === 0 && next.token_bound_cidrs.length === 0) {
        throw invalid('at least one constraint should be enabled on the role');
      }
      const roleId = (f.role_id as string | undefined) || base.role_id || randomUUID();
      await this.setRoleId(name, next, roleId);
      return undefined;
    });
  }

  private generate(name: string, f: Record<string, unknown>): Promise<HandlerResult> {
    return this.locks.run(name, async () => {
      const role = await this.role(name);
      if (!role) throw invalid(`role "${name}" does not exist`);
      if (!role.bind_secret_id) throw invalid('bind_secret_id is not set on the role');
      let metadata: Record<string, string> = {};
      if (f.metadata !== undefined && f.metadata !== '') {
        let parsed: unknown;
        try {
          parsed = JSON.parse(f.metadata as string);
        } catch {
          throw invalid('failed to parse metadata: expected a JSON object of strings');
        }
        if (
          typeof parsed !== 'object' ||
          parsed === null ||
          Array.isArray(parsed) ||
          !Object.values(parsed).every((v) => typeof v === 'string')
        ) {
          throw invalid('failed to parse metadata: expected a JSON object of strings');
        }
        metadata = parsed as Record<string, string>;
      }
      const cidrs = validateCidrs((f.cidr_list as string[] | undefined) ?? []);
      const tokenCidrs = validateCidrs((f.token_bound_cidrs as string[] | undefined) ?? []);
      if (role.secret_id_bound_cidrs.length > 0) {
        for (const c of cidrs) {
          if (!cidrWithin(c, role.secret_id_bound_cidrs)) {
            throw invalid(
              `failed to verify the CIDR restrictions set on the secret ID: "${c}" is not within the role's secret_id_bound_cidrs`,
            );
          }
        }
      }
      const ttl = (f.ttl as number | undefined) ?? role.secret_id_ttl;
      if (role.secret_id_ttl > 0 && (ttl === 0 || ttl > role.secret_id_ttl)) {
        throw invalid("ttl cannot be longer than the role's secret_id_ttl");
      }
      const uses = (f.num_uses as number | undefined) ?? role.secret_id_num_uses;
      if (uses < 0) throw invalid('num_uses cannot be negative');
      if (role.secret_id_num_uses > 0 && (uses === 0 || uses > role.secret_id_num_uses)) {
        throw invalid("num_uses cannot be higher than the role's secret_id_num_uses");
      }
      const secretId = randomUUID();
      const accessor = randomUUID();
      const now = new Date();
      const entry: SecretIdEntry = {
        secret_id_accessor: accessor,
        cidr_list: cidrs,
        token_bound_cidrs: tokenCidrs,
        metadata,
        creation_time: now.toISOString(),
        expiration_time: ttl > 0 ? new Date(now.getTime() + ttl * 1000).toISOString() : '',
        last_updated_time: now.toISOString(),
        secret_id_num_uses: uses,
        secret_id_ttl: ttl,
      };
      const h = await this.mac(secretId);
      await this.store.put(`secret_id/${name}/${h}`, enc.encode(JSON.stringify(entry)));
      await this.store.put(`accessor/${await this.mac(accessor)}`, enc.encode(JSON.stringify({ role: name, hmac: h })));
      return {
        data: { secret_id: secretId, secret_id_accessor: accessor, secret_id_ttl: ttl, secret_id_num_uses: uses },
      };
    });
  }

  private async destroy(name: string, f: Record<string, unknown>): Promise<HandlerResult> {
    const h = await this.mac(required(f.secret_id, 'secret_id'));
    await this.locks.run(name, () => this.destroyByHmac(name, h));
    return undefined;
  }

  private async destroyByHmac(name: string, h: string): Promise<void> {
    const e = await this.entry(name, h);
    if (e) await this.store.delete(`accessor/${await this.mac(e.secret_id_accessor)}`);
    await this.store.delete(`secret_id/${name}/${h}`);
  }

  private async login(r: RoutedRequest, f: Record<string, unknown>): Promise<HandlerResult> {
    const roleId = typeof f.role_id === 'string' ? f.role_id : '';
    if (!roleId) throw invalid('missing role_id');
    const nameRaw = await this.store.get(`role_id/${await this.mac(roleId)}`);
    const name = nameRaw ? dec.decode(nameRaw) : undefined;
    const role = name ? await this.role(name) : undefined;
    if (!name || !role) throw invalid(FAILED);
    const source = r.remoteAddress ?? '';
    return this.locks.run(name, async () => {
      let metadata: Record<string, string> = {};
      let tokenCidrs = role.token_bound_cidrs;
      if (role.bind_secret_id) {
        const secretId = typeof f.secret_id === 'string' ? f.secret_id : '';
        if (!secretId) throw invalid('missing secret_id');
        const h = await this.mac(secretId);
        const e = await this.entry(name, h);
        if (!e) throw invalid(FAILED);
        if (e.expiration_time && Date.parse(e.expiration_time) <= Date.now()) {
          await this.destroyByHmac(name, h);
          throw invalid(FAILED);
        }
        // Checked before the use is counted: a refused attempt spends nothing.
        if (e.cidr_list.length > 0 && !addressInCidrs(source, e.cidr_list)) {
          throw invalid(`source address "${source}" unauthorized by CIDR restrictions on the secret ID`);
        }
        if (role.secret_id_bound_cidrs.length > 0 && !addressInCidrs(source, role.secret_id_bound_cidrs)) {
          throw invalid(`source address "${source}" unauthorized by CIDR restrictions on the role`);
        }
        if (e.secret_id_num_uses === 1) await this.destroyByHmac(name, h);
        else if (e.secret_id_num_uses > 1) {
          const next = {
            ...e,
            secret_id_num_uses: e.secret_id_num_uses - 1,
            last_updated_time: new Date().toISOString(),
          };
          await this.store.put(`secret_id/${name}/${h}`, enc.encode(JSON.stringify(next)));
        }
        metadata = { ...e.metadata };
        if (e.token_bound_cidrs.length > 0) tokenCidrs = e.token_bound_cidrs;
      } else if (role.secret_id_bound_cidrs.length > 0 && !addressInCidrs(source, role.secret_id_bound_cidrs)) {
        throw invalid(`source address "${source}" unauthorized by CIDR restrictions on the role`);
      }
      metadata.role_name = name;
      return {
        login: loginSpec(role, { metadata, displayName: 'approle', boundCidrs: tokenCidrs, aliasName: roleId }),
      };
    });
  }
}

function secretIdView(e: SecretIdEntry) {
  return { ...e, expiration_time: e.expiration_time || '0001-01-01T00:00:00Z' };
}

/** Whether a CIDR block lies inside one of `outer`. */
function cidrWithin(block: string, outer: string[]): boolean {
  const b = parseCidr(block);
  return outer.some((o) => {
    const ob = parseCidr(o);
    return ob.family === b.family && b.prefix >= ob.prefix && addressInCidrs(b.address, [o]);
  });
}

function required(v: unknown, name: string): string {
  if (typeof v !== 'string' || v === '') throw invalid(`missing ${name}`);
  return v;
}

export const approleFactory: BackendFactory = ({ store }) => new AppRoleBackend(store);
