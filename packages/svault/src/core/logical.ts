import type * as z from '@stratumiops/shared/zod';
import type { LogicalStore } from './barrier.js';
import type { DatabasePlugins } from './engines/database/plugin.js';
import type { FieldSchemas } from './fields.js';

/** What every transport (HTTP, CLI, daemon) turns a call into. */
export type Operation = 'read' | 'list' | 'create' | 'update' | 'patch' | 'delete';

export interface LogicalRequest {
  operation: Operation;
  /** Relative to /v1, no leading slash: 'secret/data/myapp'. */
  path: string;
  /** Body fields, plus query parameters for read and list. */
  data: Record<string, unknown>;
  token?: string;
  /** The client's address, for audit and policies. */
  remoteAddress?: string;
  /** Request id (the envelope's request_id and the audit log's); made up when missing. */
  id?: string;
  /** Seconds: the response is to be wrapped (X-Vault-Wrap-TTL) and handed back as a wrapping token. */
  wrapTtl?: number;
}

export interface AuthInfo {
  client_token: string;
  accessor: string;
  policies: string[];
  token_policies: string[];
  metadata: Record<string, string> | null;
  lease_duration: number;
  renewable: boolean;
  entity_id: string;
  token_type: 'service' | 'batch';
  orphan: boolean;
  mfa_requirement: null;
  num_uses: number;
}

export interface LogicalResponse {
  data?: Record<string, unknown> | null;
  auth?: AuthInfo;
  warnings?: string[];
  /**
   * A dynamic secret with a lease (database credentials): the core records it, revokes it when it
   * expires through the engine's `revokeLease`, and answers with lease_id/lease_duration/renewable.
   */
  secret?: LeaseSecret;
  /** Set by the core once a `secret` is leased; transports copy it to the envelope. */
  lease?: { id: string; duration: number; renewable: boolean };
  /**
   * A successful login of an auth method: the core issues the token (an orphan, with these
   * policies, TTLs and metadata, TTLs within the auth mount's) and answers with it in `auth`.
   */
  login?: LoginSpec;
  /** The response was wrapped: only this goes back to the client (Vault's wrap_info). */
  wrapInfo?: WrapInfo;
  /** An HTTP status other than 200 for a response with a body (Vault's RespondWithStatusCode: 202 Accepted). */
  status?: number;
}

export interface WrapInfo {
  token: string;
  accessor: string;
  ttl: number;
  creation_time: string;
  creation_path: string;
  wrapped_accessor: string;
}

/** The token a login issues, as the auth method's role or user says. Seconds; 0: the mount's or system's. */
export interface LoginSpec {
  policies: string[];
  metadata: Record<string, string>;
  /** Shown on the token as is ("userpass-alice", "approle"). */
  displayName: string;
  ttl: number;
  maxTtl: number;
  explicitMaxTtl: number;
  period: number;
  numUses: number;
  noDefaultPolicy: boolean;
  /** The token works only from these addresses. */
  boundCidrs: string[];
  /** Who logged in, by the method's own name (username, role_id, the JWT's user claim). */
  aliasName?: string;
  tokenType?: 'service' | 'batch';
}

/** What an engine hands the lease manager with a dynamic secret. */
export interface LeaseSecret {
  /** Seconds; clamped by the mount's and the system's max lease TTL. */
  ttl: number;
  /** Seconds from issue after which renewals stop; 0: the mount's / system's maximum. */
  maxTtl?: number;
  renewable: boolean;
  /** What the engine needs to revoke or renew it later (a role and username). Stored in the barrier. */
  internal: Record<string, unknown>;
}

/** A lease as the engine sees it when asked to revoke or renew. */
export interface LeaseInfo {
  id: string;
  /** The request path that created it: 'database/creds/app'. */
  path: string;
  internal: Record<string, unknown>;
  issueTime: Date;
  expireTime: Date;
}

/** What a handler knows about the caller, after authentication. */
export interface Caller {
  /** Hash of the token (never the token itself); '' for unauthenticated paths. */
  tokenHash: string;
  token: string;
  accessor: string;
  policies: string[];
  isRoot: boolean;
  displayName: string;
  metadata: Record<string, string> | null;
  /** The login that issued the token (auth mount accessor and name there), if any. */
  alias?: { mount_accessor: string; name: string };
}

export interface RoutedRequest extends LogicalRequest {
  /** 'secret/' */
  mountPoint: string;
  /** The path within the mount: 'data/myapp'. */
  remaining: string;
  /** Named groups of the matched pattern. */
  params: Record<string, string>;
  caller: Caller;
}

/** undefined: 204 No Content; null: 404 (read of nothing, empty list). */
export type HandlerResult = LogicalResponse | null | undefined;
export type Handler = (req: RoutedRequest, fields: Record<string, unknown>) => Promise<HandlerResult>;

/** One path an engine serves, as OpenBao's framework.Path: pattern, fields, operations, help. */
export interface PathDef {
  /** Anchored, matched against the path within the mount; named groups become params. */
  pattern: RegExp;
  fields?: FieldSchemas;
  operations: Partial<Record<Operation, Handler>>;
  /** One line on what the path is for: the first line of its help (`svault path-help`). */
  summary: string;
  /** More on the path, after its parameters in its help. */
  description?: string;
  /**
   * Vault's ExistenceCheck: when present, an 'update' of something that does not exist yet is
   * authorized as 'create', so a policy can allow creating without allowing overwriting.
   */
  existence?: (params: Record<string, string>) => Promise<boolean>;
  /** Root-protected path: a token needs the 'sudo' action on it as well. */
  sudo?: boolean;
}

export interface Backend {
  readonly type: string;
  readonly paths: PathDef[];
  /** Mount-relative paths (regexes) that need no token, e.g. none for KV. */
  readonly unauthenticated?: RegExp[];
  /** Undo a leased secret (drop a database role). Throwing keeps the lease; it is retried with backoff. */
  revokeLease?(lease: LeaseInfo): Promise<void>;
  /** Extend a leased secret to `expireTime` (e.g. ALTER ROLE ... VALID UNTIL). */
  renewLease?(lease: LeaseInfo, expireTime: Date): Promise<void>;
  /**
   * Starts the engine's background work (Vault's periodic functions: static-role rotation). Called
   * on the active node only, when it unseals or the mount is enabled; stop() on seal or standby.
   */
  start?(): void;
  stop?(): void;
  /** Releases connections and timers when the mount goes away or the vault seals. */
  close?(): Promise<void>;
}

export interface MountEntry {
  path: string;
  type: string;
  description: string;
  uuid: string;
  accessor: string;
  config: { default_lease_ttl: number; max_lease_ttl: number; force_no_cache: boolean; listing_visibility?: string };
  options: Record<string, string> | null;
  local: boolean;
  seal_wrap: boolean;
  external_entropy_access: boolean;
}

/** What an engine gets when it is mounted. */
export interface EngineContext {
  entry: MountEntry;
  /** The mount's own barrier view: everything it stores is encrypted. */
  store: LogicalStore;
  /** Problems worth an operator's attention that do not fail a request. */
  warn: (message: string) => void;
  /** The database plugins the server provides (the database engine's port to its drivers). */
  databasePlugins?: DatabasePlugins;
}

export type BackendFactory = (ctx: EngineContext) => Backend | Promise<Backend>;

export type ZodAny = z.ZodType;
