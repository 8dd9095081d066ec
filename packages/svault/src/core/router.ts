import { VaultError } from './errors.js';
import { describeFields, parseFields, unknownFields } from './fields.js';
import type {
  Backend,
  Caller,
  HandlerResult,
  LogicalRequest,
  MountEntry,
  Operation,
  PathDef,
  RoutedRequest,
} from './logical.js';

interface Mounted {
  entry: MountEntry;
  backend: Backend;
}

export interface Match {
  mount: Mounted;
  remaining: string;
  def: PathDef;
  params: Record<string, string>;
}

/**
 * Dispatches logical requests by longest mount prefix, then by the engine's path patterns.
 * It knows nothing of HTTP or tokens: the Vault core authenticates and authorizes first.
 */
export class Router {
  private mounts: Mounted[] = [];

  mount(entry: MountEntry, backend: Backend): void {
    this.mounts = [...this.mounts.filter((m) => m.entry.path !== entry.path), { entry, backend }].sort(
      (a, b) => b.entry.path.length - a.entry.path.length,
    );
  }

  unmount(path: string): void {
    this.mounts = this.mounts.filter((m) => m.entry.path !== path);
  }

  clear(): void {
    this.mounts = [];
  }

  backends(): Backend[] {
    return this.mounts.map((m) => m.backend);
  }

  byUuid(uuid: string): Mounted | undefined {
    return this.mounts.find((m) => m.entry.uuid === uuid);
  }

  entries(): MountEntry[] {
    return this.mounts.map((m) => m.entry);
  }

  mountFor(path: string): Mounted | undefined {
    return this.mounts.find((m) => path === m.entry.path.slice(0, -1) || path.startsWith(m.entry.path));
  }

  /** The declaration serving `path`, or a 404 / 405 as Vault answers them. */
  match(path: string, operation: Operation): Match {
    const mount = this.mountFor(path);
    if (!mount) throw new VaultError('notFound', `no handler for route "${path}". route entry not found.`);
    const remaining = path.slice(mount.entry.path.length);
    for (const def of mount.backend.paths) {
      const m = def.pattern.exec(remaining);
      if (!m) continue;
      if (!def.operations[operation]) throw new VaultError('unsupported', 'unsupported operation');
      const params: Record<string, string> = {};
      if (m.groups) for (const k in m.groups) params[k] = m.groups[k] as string;
      return { mount, remaining, def, params };
    }
    throw new VaultError('notFound', `unsupported path`);
  }

  /**
   * Vault's path help for `path`: the declaration's summary, its operations and its fields with
   * their types and meanings (what `svault path-help` and `GET /v1/<path>?help=1` show).
   */
  help(path: string): string {
    const mount = this.mountFor(path);
    if (!mount) throw new VaultError('notFound', `no handler for route "${path}". route entry not found.`);
    const remaining = path.slice(mount.entry.path.length);
    const def = mount.backend.paths.find((d) => d.pattern.test(remaining));
    if (!def) throw new VaultError('notFound', 'unsupported path');
    const ops = Object.keys(def.operations).join(', ');
    const out = [`Request:        ${remaining}`, `Matching Route: ${def.pattern.source}`, '', def.summary, ''];
    out.push('## OPERATIONS', '', `    ${ops}`, '');
    const fields = def.fields ? describeFields(def.fields) : [];
    if (fields.length) {
      out.push('## PARAMETERS', '');
      for (const f of fields) {
        out.push(`    ${f.name} (${f.type})`, '');
        if (f.description) out.push(`        ${f.description}`, '');
      }
    }
    if (def.description) out.push('## DESCRIPTION', '', def.description, '');
    return out.join('\n');
  }

  isUnauthenticated(path: string): boolean {
    const mount = this.mountFor(path);
    if (!mount?.backend.unauthenticated) return false;
    const rest = path.slice(mount.entry.path.length);
    return mount.backend.unauthenticated.some((re) => re.test(rest));
  }

  async dispatch(req: LogicalRequest, match: Match, caller: Caller): Promise<HandlerResult> {
    const handler = match.def.operations[req.operation];
    if (!handler) throw new VaultError('unsupported', 'unsupported operation');
    // Path parameters win over body fields of the same name (plain loops: this runs per request).
    let data = req.data;
    if (match.def.fields) {
      let merged = false;
      for (const k in match.params) {
        if (!merged) {
          data = { ...req.data };
          merged = true;
        }
        data[k] = match.params[k];
      }
    }
    const fields = match.def.fields ? parseFields(match.def.fields, data) : {};
    const routed: RoutedRequest = {
      operation: req.operation,
      path: req.path,
      data: req.data,
      mountPoint: match.mount.entry.path,
      remaining: match.remaining,
      params: match.params,
      caller,
    };
    if (req.token !== undefined) routed.token = req.token;
    if (req.remoteAddress !== undefined) routed.remoteAddress = req.remoteAddress;
    if (req.id !== undefined) routed.id = req.id;
    if (req.wrapTtl !== undefined) routed.wrapTtl = req.wrapTtl;
    const ignored =
      match.def.fields && req.operation !== 'read' && req.operation !== 'list' && req.operation !== 'delete'
        ? unknownFields(match.def.fields, req.data).filter((k) => !Object.hasOwn(match.params, k))
        : [];
    const result = await handler(routed, fields);
    if (ignored.length === 0 || result === null) return result;
    // As Vault's framework: what the path does not declare is ignored, and the answer says so.
    const warning = `Endpoint ignored these unrecognized parameters: [${ignored.join(' ')}]`;
    if (result === undefined) return { warnings: [warning] };
    return { ...result, warnings: [...(result.warnings ?? []), warning] };
  }
}

/** Longest logical request path (its encrypted storage name must fit the platform's PATH_MAX). */
export const MAX_PATH_LENGTH = 1024;

/**
 * Checks a logical path before anything else: no empty, '.' or '..' segments (path
 * traversal), no control characters. Vault's HTTP layer cleans such paths; refusing them
 * is clearer and never writes to a surprising place.
 */
export function validatePath(path: string): void {
  // First, before splitting anything: a path this long cannot name a storage entry anyway.
  if (path.length > MAX_PATH_LENGTH) {
    throw new VaultError('invalid', `invalid path: longer than ${MAX_PATH_LENGTH} characters (${path.length})`);
  }
  const body = path.endsWith('/') ? path.slice(0, -1) : path;
  if (body === '') throw new VaultError('notFound', 'missing path');
  for (const seg of body.split('/')) {
    if (seg === '' || seg === '.' || seg === '..') throw new VaultError('invalid', `invalid path "${path}"`);
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting them is the point
  if (/[\u0000-\u001f\u007f]/.test(path)) throw new VaultError('invalid', 'invalid path: control characters');
}
