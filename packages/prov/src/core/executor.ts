import { StratumError } from '@stratumiops/shared/errors';

/** A host reached over SSH. */
export interface HostTarget {
  /** The name used in configs and output prefixes, e.g. web-01. */
  name: string;
  address: string;
  port: number;
  user: string;
  keyPath?: string;
  /** Run steps marked sudo through `sudo -n` (or `sudo -S` with a password). */
  sudo: boolean;
  /** A secret reference (svault://...#field or env://VAR) holding the sudo password. */
  sudoPassword?: string;
  labels: Record<string, string>;
  /** Install prefix of taskservs on this host (hosts.<name>.root); none or "/" installs into the real tree. */
  root?: string;
}

/**
 * Where taskservs install on a host, without a trailing slash: "" for the real `/`. The `root` field wins;
 * the label `root` is the older spelling of the same thing.
 */
export function installRoot(h: HostTarget): string {
  return (h.root ?? h.labels.root ?? '').replace(/\/+$/, '');
}

export interface Step {
  name: string;
  /** Shell script, run by `sh -c` (or bash) in a fresh child of the host's persistent shell. */
  script: string;
  sudo?: boolean;
  timeoutS?: number;
  env?: Record<string, string>;
  shell?: 'sh' | 'bash';
}

export interface StepResult {
  host: string;
  step: string;
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
}

export type OutputSink = (host: string, stream: 'stdout' | 'stderr', line: string) => void;

export interface Facts {
  os: string;
  os_family: string;
  os_version: string;
  arch: string;
  hostname: string;
  user: string;
}

/** Runs steps on hosts: one connection and one persistent shell per host, reused for the whole run. */
export interface Executor {
  run(host: HostTarget, step: Step, onOutput?: OutputSink): Promise<StepResult>;
  upload(host: HostTarget, content: Buffer | string, remotePath: string, mode?: number): Promise<void>;
  /** Copies a remote file to this machine (backups), readable by its owner only (0600). */
  download?(host: HostTarget, remotePath: string, localPath: string): Promise<void>;
  /** Copies a local file to a host, streamed (any size), replacing remotePath only once complete. */
  uploadFile?(host: HostTarget, localPath: string, remotePath: string, mode?: number): Promise<void>;
  facts(host: HostTarget): Promise<Facts>;
  /** Resolves a secret reference (svault://..., env://...); the value is redacted from all output from then on. */
  secret?(ref: string): Promise<string>;
  /** Values to redact from all output (secrets given in plain text). */
  redact?(values: string[]): void;
  close(): Promise<void>;
}

export type HostErrorKind =
  | 'unreachable'
  | 'refused'
  | 'timeout'
  | 'auth'
  | 'host-key-unknown'
  | 'host-key-mismatch'
  | 'command'
  | 'sudo'
  | 'protocol';

/** An error on one host, with what kind of failure it was; connection trouble is retryable. */
export class HostError extends StratumError {
  readonly retryable: boolean;
  constructor(
    readonly host: string,
    readonly kind: HostErrorKind,
    message: string,
    opts: { hint?: string; result?: StepResult; retryable?: boolean } = {},
  ) {
    const code =
      kind === 'auth' || kind === 'host-key-mismatch' || kind === 'sudo'
        ? 'denied'
        : kind === 'command'
          ? 'failure'
          : kind === 'host-key-unknown'
            ? 'denied'
            : 'unavailable';
    super(code, `${host}: ${message}`, {
      ...(opts.hint ? { hint: opts.hint } : {}),
      details: {
        host,
        kind,
        ...(opts.result
          ? { step: opts.result.step, exit_code: opts.result.exitCode, stderr: opts.result.stderr.slice(-2000) }
          : {}),
      },
    });
    this.retryable = opts.retryable ?? (kind === 'unreachable' || kind === 'refused' || kind === 'timeout');
  }
}

/** POSIX single-quoting. */
export function shq(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** Parses `[user@]host[:port]`. */
export function parseHostSpec(
  spec: string,
  defaults: { user: string; port: number },
): { user: string; address: string; port: number } {
  const m = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(spec);
  if (!m) throw new StratumError('usage', `not a host: ${spec} (expected user@host[:port])`);
  return {
    user: m[1] ?? defaults.user,
    address: m[2]!.replace(/^\[|\]$/g, ''),
    port: m[3] ? Number(m[3]) : defaults.port,
  };
}
