import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type * as CedarNs from '@cedar-policy/cedar-wasm/nodejs';
import * as z from '@stratumiops/shared/zod';
import { API_ROLES, type ApiRole, type ApiToken } from './store.js';

/**
 * Who may call the REST API, and what they may do.
 *
 * Tokens look like `vapora_<id>_<secret>`: the id finds the row, the secret is stored only as its SHA-256 and
 * compared in constant time. Each token has a role (admin, operator, viewer) and optionally a list of projects;
 * a project-scoped token sees nothing outside its projects (they answer 404, as if absent).
 *
 * What a role may do is decided by Cedar policies: the built-in set below, plus a team's own file
 * (`policies.cedar` beside vapora.toml, re-read when it changes, no restart). A file that does not parse denies
 * everything until it is fixed (fail closed).
 */
export { API_ROLES, type ApiRole, type ApiToken };

/** What a route does. */
export const ACTIONS = ['read', 'write', 'assign', 'approve', 'call', 'manage'] as const;
export type Action = (typeof ACTIONS)[number];
/** What a route works on. */
export const KINDS = ['project', 'task', 'agent', 'budget', 'llm', 'cost', 'swarm', 'token', 'metrics'] as const;
export type Kind = (typeof KINDS)[number];

export const BUILTIN_POLICY = `// Built in. Add your own statements in policies.cedar beside vapora.toml (read again when it changes);
// a forbid there wins over any permit here.
//   principal: Vapora::Token::"<id>" in Vapora::Role::"admin" | "operator" | "viewer",
//              attributes name, role, scoped (bool), projects (set of project ids)
//   action:    Vapora::Action::"read" | "write" | "assign" | "approve" | "call" | "manage"
//   resource:  Vapora::Kind::"project" | "task" | "agent" | "budget" | "llm" | "cost" | "swarm" | "token" | "metrics"

// admin: everything, including agents, budgets, routing and tokens.
permit (principal in Vapora::Role::"admin", action, resource);

// operator: reads everything, works with projects and tasks, and sends prompts through the router.
permit (principal in Vapora::Role::"operator", action == Vapora::Action::"read", resource);
permit (
  principal in Vapora::Role::"operator",
  action in [Vapora::Action::"write", Vapora::Action::"assign", Vapora::Action::"approve"],
  resource
) when { resource in [Vapora::Kind::"project", Vapora::Kind::"task", Vapora::Kind::"swarm"] };
permit (principal in Vapora::Role::"operator", action == Vapora::Action::"call", resource == Vapora::Kind::"llm");

// viewer: reads.
permit (principal in Vapora::Role::"viewer", action == Vapora::Action::"read", resource);

// Tokens are an admin's business only.
forbid (principal, action, resource == Vapora::Kind::"token") unless { principal in Vapora::Role::"admin" };
`;

const TOKEN_RE = /^vapora_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

export interface NewToken {
  /** The whole token: shown once, never stored. */
  token: string;
  id: string;
  secretHash: string;
}

export function generateToken(): NewToken {
  const id = randomBytes(12)
    .toString('base64url')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '0')
    .slice(0, 12);
  const secret = randomBytes(32).toString('base64url');
  return { token: `vapora_${id}_${secret}`, id, secretHash: hashSecret(secret) };
}

export const hashSecret = (secret: string): string => createHash('sha256').update(secret).digest('hex');

export function parseToken(token: string): { id: string; secret: string } | undefined {
  const m = TOKEN_RE.exec(token.trim());
  return m ? { id: m[1] as string, secret: m[2] as string } : undefined;
}

/** Constant time in the secret: both sides are 32-byte digests. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The authenticated caller of one request. */
export interface Caller {
  tokenId: string;
  name: string;
  role: ApiRole;
  /** null: every project (and tasks without one). */
  projects: string[] | null;
}

/** A caller may see a task or project only inside its scope. */
export function inScope(caller: Caller | undefined, projectId: string | null): boolean {
  if (!caller || caller.projects === null) return true;
  return projectId !== null && caller.projects.includes(projectId);
}

export const tokenInput = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/, 'token name: letters, digits, _ . @ - (up to 64)'),
  role: z.enum(API_ROLES, { error: (i) => `unknown role '${String(i.input)}' (one of ${API_ROLES.join(', ')})` }),
  /** Project ids or names; absent = every project. */
  projects: z.array(z.string().min(1)).min(1).optional(),
  /** Seconds; absent = no expiry. */
  ttl_s: z.number().int().positive().optional(),
});

type Cedar = typeof CedarNs;
let cedarModule: Cedar | undefined;
async function loadCedar(): Promise<Cedar> {
  cedarModule ??= (await import('@cedar-policy/cedar-wasm/nodejs')) as Cedar;
  return cedarModule;
}

export interface Decision {
  allowed: boolean;
  /** Why everything is denied (the team's file does not parse). */
  error?: string | undefined;
}

const formatErrors = (errors: { message: string }[]) => errors.map((e) => e.message).join('; ');

/** The built-in policies plus the team's file, parsed once per change of the file. */
export class PolicySet {
  private static seq = 0;
  private readonly setId = `vapora-${process.pid}-${PolicySet.seq++}`;
  private stamp = '';
  private broken: string | undefined;

  private constructor(
    private readonly cedar: Cedar,
    readonly file: string | undefined,
  ) {}

  static async open(file?: string): Promise<PolicySet> {
    const p = new PolicySet(await loadCedar(), file);
    await p.refresh();
    return p;
  }

  /** Parses the set again when the team's file changed (size, mtime or presence); cheap otherwise (one stat). */
  async refresh(): Promise<void> {
    let stamp = 'none';
    if (this.file) {
      try {
        const st = statSync(this.file);
        stamp = `${st.size}:${st.mtimeMs}:${st.ino}`;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') stamp = `error:${(e as Error).message}`;
      }
    }
    if (stamp === this.stamp) return;
    this.stamp = stamp;
    let extra = '';
    if (stamp !== 'none') {
      try {
        extra = await readFile(this.file as string, 'utf8');
      } catch (e) {
        this.broken = `cannot read ${this.file}: ${(e as Error).message}`;
        return;
      }
    }
    const r = this.cedar.preparsePolicySet(this.setId, { staticPolicies: `${BUILTIN_POLICY}\n${extra}` });
    this.broken =
      r.type === 'failure' ? `${this.file ?? 'the policies'} do not parse: ${formatErrors(r.errors)}` : undefined;
  }

  /** Checks a policy text before it is written (the same parse the server will do). */
  check(text: string): string | undefined {
    const r = this.cedar.checkParsePolicySet({ staticPolicies: `${BUILTIN_POLICY}\n${text}` });
    return r.type === 'failure' ? formatErrors(r.errors) : undefined;
  }

  async authorize(caller: Caller, action: Action, kind: Kind): Promise<Decision> {
    await this.refresh();
    if (this.broken) return { allowed: false, error: this.broken };
    const principal = { type: 'Vapora::Token', id: caller.tokenId };
    const ans = this.cedar.statefulIsAuthorized({
      principal,
      action: { type: 'Vapora::Action', id: action },
      resource: { type: 'Vapora::Kind', id: kind },
      context: {},
      entities: [
        {
          uid: principal,
          attrs: {
            name: caller.name,
            role: caller.role,
            scoped: caller.projects !== null,
            projects: caller.projects ?? [],
          },
          parents: [{ type: 'Vapora::Role', id: caller.role }],
        },
      ],
      preparsedPolicySetId: this.setId,
    });
    if (ans.type === 'failure') return { allowed: false, error: formatErrors(ans.errors) };
    return { allowed: ans.response.decision === 'allow' };
  }

  close(): void {
    this.cedar.preparsePolicySet(this.setId, { staticPolicies: {} });
  }
}
