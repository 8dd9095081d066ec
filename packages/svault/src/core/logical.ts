import type { z } from 'zod';
import type { LogicalStore } from './barrier.js';
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
  token_type: 'service';
  orphan: boolean;
  mfa_requirement: null;
  num_uses: number;
}

export interface LogicalResponse {
  data?: Record<string, unknown> | null;
  auth?: AuthInfo;
  warnings?: string[];
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
  summary: string;
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
}

export interface MountEntry {
  path: string;
  type: string;
  description: string;
  uuid: string;
  accessor: string;
  config: { default_lease_ttl: number; max_lease_ttl: number; force_no_cache: boolean };
  options: Record<string, string> | null;
  local: boolean;
  seal_wrap: boolean;
  external_entropy_access: boolean;
}

export type BackendFactory = (entry: MountEntry, store: LogicalStore) => Backend;

export type ZodAny = z.ZodType;
