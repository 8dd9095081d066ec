import type { LogicalStore } from '../../barrier.js';
import { invalid } from '../../errors.js';
import { fString } from '../../fields.js';
import type { Backend, BackendFactory, HandlerResult, PathDef, RoutedRequest } from '../../logical.js';
import { hashPassword, verifyPassword } from '../../password.js';
import { KeyedMutex } from '../../storage.js';
import {
  applyTokenFields,
  defaultTokenParams,
  loginSpec,
  type TokenParams,
  tokenFields,
  tokenParamsView,
} from './tokenutil.js';

interface User extends TokenParams {
  /** scrypt hash (see password.ts); never returned. */
  password_hash: string;
}

const NAME = '(?<username>\\w(?:[\\w.@-]*\\w)?)';
const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * The userpass auth method, as Vault's: users with a password (scrypt-hashed) and token settings;
 * `login/<username>` issues a token. Usernames are case-insensitive (stored lowercased). A wrong
 * password and an unknown user fail alike: the same message and one scrypt computation each.
 */
export class UserpassBackend implements Backend {
  readonly type = 'userpass';
  readonly paths: PathDef[];
  readonly unauthenticated = [/^login\/[^/]+$/];
  private readonly locks = new KeyedMutex();

  constructor(private readonly store: LogicalStore) {
    const name = (r: RoutedRequest) => (r.params.username as string).toLowerCase();
    this.paths = [
      {
        pattern: /^users\/?$/,
        summary: 'List the users',
        operations: {
          list: async () => {
            const keys = (await this.store.list('user/')).filter((k) => !k.endsWith('/'));
            return keys.length ? { data: { keys } } : null;
          },
        },
      },
      {
        pattern: new RegExp(`^users/${NAME}$`),
        summary: 'Create, read, update or delete a user (password and token settings; the password is never shown)',
        fields: { password: fString(), ...tokenFields },
        existence: async (p) => (await this.user((p.username as string).toLowerCase())) !== undefined,
        operations: {
          read: async (r) => {
            const u = await this.user(name(r));
            if (!u) return null;
            const { password_hash: _, ...params } = u;
            return { data: tokenParamsView(params) };
          },
          create: (r, f) => this.writeUser(name(r), f),
          update: (r, f) => this.writeUser(name(r), f),
          delete: async (r) => {
            await this.store.delete(`user/${name(r)}`);
            return undefined;
          },
        },
      },
      {
        pattern: new RegExp(`^users/${NAME}/password$`),
        summary: "Change a user's password",
        fields: { password: fString() },
        operations: {
          update: (r, f) =>
            this.locks.run(name(r), async () => {
              const u = await this.user(name(r));
              if (!u) throw invalid('username does not exist');
              const password = requiredPassword(f.password);
              await this.put(name(r), { ...u, password_hash: await hashPassword(password) });
              return undefined;
            }),
        },
      },
      {
        pattern: new RegExp(`^users/${NAME}/policies$`),
        summary: "Change a user's token policies",
        fields: { token_policies: tokenFields.token_policies, policies: tokenFields.policies },
        operations: {
          update: (r, f) =>
            this.locks.run(name(r), async () => {
              const u = await this.user(name(r));
              if (!u) throw invalid('username does not exist');
              const next = applyTokenFields(u, { token_policies: f.token_policies ?? f.policies ?? [] });
              await this.put(name(r), { ...next, password_hash: u.password_hash });
              return undefined;
            }),
        },
      },
      {
        pattern: /^login\/(?<username>[^/]+)$/,
        summary: 'Log in with a username and password',
        fields: { password: fString() },
        operations: { update: (r, f) => this.login(name(r), f), create: (r, f) => this.login(name(r), f) },
      },
    ];
  }

  private async user(name: string): Promise<User | undefined> {
    const raw = await this.store.get(`user/${name}`);
    return raw ? (JSON.parse(dec.decode(raw)) as User) : undefined;
  }

  private async put(name: string, u: User): Promise<void> {
    await this.store.put(`user/${name}`, enc.encode(JSON.stringify(u)));
  }

  private writeUser(name: string, f: Record<string, unknown>): Promise<HandlerResult> {
    return this.locks.run(name, async () => {
      const cur = await this.user(name);
      if (!cur && f.password === undefined) throw invalid('missing password');
      // Everything is checked before the (slow) hash and the write: bad input changes nothing.
      const params = applyTokenFields(cur ?? defaultTokenParams(), f);
      const hash = f.password !== undefined ? await hashPassword(requiredPassword(f.password)) : cur?.password_hash;
      await this.put(name, { ...params, password_hash: hash as string });
      return undefined;
    });
  }

  private async login(name: string, f: Record<string, unknown>): Promise<HandlerResult> {
    const password = typeof f.password === 'string' ? f.password : '';
    if (password === '') throw invalid('missing password');
    const u = /^\w(?:[\w.@-]*\w)?$/.test(name) ? await this.user(name) : undefined;
    // One scrypt computation whether or not the user exists.
    const ok = await verifyPassword(password, u?.password_hash);
    if (!ok || !u) throw invalid('invalid credentials');
    return {
      login: loginSpec(u, { metadata: { username: name }, displayName: `userpass-${name}`, aliasName: name }),
    };
  }
}

function requiredPassword(v: unknown): string {
  if (typeof v !== 'string' || v === '') throw invalid('missing password');
  if (v.length > 4096) throw invalid('password longer than 4096 characters');
  return v;
}

export const userpassFactory: BackendFactory = ({ store }) => new UserpassBackend(store);
