import { randomUUID } from 'node:crypto';
import { ACL_ACTIONS, type AclAction, type AclRequestExtras, PolicyStore } from './acl.js';
import { AuditBroker, type AuditRequest, type AuditSettings, type AuditTicket } from './audit.js';
import { Barrier } from './barrier.js';
import { checkRekeyConfig, encodeRootToken, KeyCeremony, newOtp, ROOT_TOKEN_LENGTH } from './ceremony.js';
import { addressInCidrs } from './cidr.js';
import { crashPoint } from './crash-points.js';
import type { CryptoSuite } from './crypto.js';
import { assertAuthType, authFactory, isAuthType } from './engines/auth/index.js';
import { CubbyholeBackend, Cubbyholes } from './engines/cubbyhole.js';
import type { DatabasePlugins } from './engines/database/plugin.js';
import { assertEngineType, engineFactory, isEngineType } from './engines/index.js';
import {
  checkLeaseTtls,
  type MountConfigIn,
  type MountTune,
  normalizeMountPath,
  SystemBackend,
} from './engines/system.js';
import { TokenBackend } from './engines/token.js';
import { denied, invalid, sealedError, VaultError } from './errors.js';
import { LeaseManager } from './leases.js';
import type { Caller, HandlerResult, LogicalRequest, LoginSpec, MountEntry } from './logical.js';
import { encryptFor, type PgpRecipient, readPgpKeys } from './pgp.js';
import { type Match, Router, validatePath } from './router.js';
import {
  generateShares,
  parseUnsealKey,
  readSealConfig,
  type SealConfig,
  sealConfigWrite,
  UnsealProgress,
  validateSealConfig,
  writeSealConfig,
} from './seal.js';
import { applyBatch, KeyedMutex, type Storage } from './storage.js';
import { authInfo, randomBase62, SYSTEM_MAX_TTL, type TokenEntry, TokenStore } from './tokens.js';
import { ResponseWrapper } from './wrapping.js';

export interface MountSpec {
  path: string;
  type: string;
  options?: Record<string, string>;
  description?: string;
  config?: MountConfigIn;
}

/** Checks the mounts init is to create: known types, no reserved or overlapping paths, sane TTLs. */
export function validateMountSpecs(specs: MountSpec[]): void {
  const seen: string[] = [];
  for (const m of specs) {
    assertEngineType(m.type);
    if (RESERVED.some((r) => m.path.startsWith(r))) throw invalid(`cannot mount at reserved path "${m.path}"`);
    const clash = seen.find((p) => p.startsWith(m.path) || m.path.startsWith(p));
    if (clash) throw invalid(`path "${m.path}" overlaps "${clash}"`);
    checkLeaseTtls(m.config?.default_lease_ttl ?? 0, m.config?.max_lease_ttl ?? 0);
    seen.push(m.path);
  }
}

export interface VaultOptions {
  storage: Storage;
  suite: CryptoSuite;
  /** Engines mounted at init (default: none, as Vault outside dev mode). */
  mounts?: MountSpec[];
  /** How often expired tokens are swept while unsealed; 0 disables. */
  tidyIntervalMs?: number;
  /** Audit device types and settings; without it no audit device can be enabled. */
  audit?: AuditSettings;
  /** Problems worth an operator's attention that do not fail a request (a failing audit device). */
  onWarning?: (message: string) => void;
  /** The database engine's plugins by plugin_name (its drivers live outside core). */
  databasePlugins?: DatabasePlugins;
}

export interface SealStatus {
  type: 'shamir';
  initialized: boolean;
  sealed: boolean;
  t: number;
  n: number;
  progress: number;
  nonce: string;
  version: string;
  build_date: string;
  migration: boolean;
  recovery_seal: boolean;
  storage_type: string;
  cluster_name?: string;
  cluster_id?: string;
}

export interface InitResult {
  keys: string[];
  keys_base64: string[];
  root_token: string;
}

export const VERSION = '0.1.0';
const BUILD_DATE = '2026-11-22T00:00:00Z';
const MOUNTS_PATH = 'core/mounts';
/** Auth method mounts: their own table, as in Vault; entries' paths start with 'auth/'. */
const AUTH_PATH = 'core/auth';
const tableOf = (path: string) => (path.startsWith('auth/') ? AUTH_PATH : MOUNTS_PATH);
const CLUSTER_PATH = 'core/cluster';
const RESERVED = ['sys/', 'auth/', 'cubbyhole/', 'identity/'];
const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * The vault: seal state, barrier, mount table, token store and router. Every transport
 * calls `handle` with a logical request; init/unseal/seal/status are methods because
 * they work while sealed.
 */
export class Vault {
  readonly barrier: Barrier;
  private readonly router = new Router();
  private readonly progress = new UnsealProgress();
  private rootKey: Uint8Array | undefined;
  private tokens: TokenStore | undefined;
  private policies: PolicyStore | undefined;
  private wrapper: ResponseWrapper | undefined;
  private audit: AuditBroker | undefined;
  private sealConfig: SealConfig | undefined;
  private cluster: { name: string; id: string } | undefined;
  private leases: LeaseManager | undefined;
  private tidyTimer: NodeJS.Timeout | undefined;
  /** Timers run (this node is active and unsealed): engines mounted now start their background work. */
  private timersRunning = false;
  /** HA standby: unsealed but not serving; the active node owns timers and writes. */
  private standbyMode = false;
  /** Between the last key share and a fully loaded vault. */
  private unsealing = false;
  private initLock: Promise<unknown> = Promise.resolve();
  /** Serializes changes of the mount table (read, change, write). */
  private readonly mountLock = new KeyedMutex();
  /** sys/generate-root: the attempt under way and its one-time password. */
  private rootGeneration: { ceremony: KeyCeremony; otp: string; pgp?: PgpRecipient } | undefined;
  /** sys/rekey: the attempt under way and the seal configuration it will install. */
  private rekeying: { ceremony: KeyCeremony; next: SealConfig; pgp: PgpRecipient[] } | undefined;
  /** Mount moves done since start: `sys/remount/status/<id>`. */
  private readonly migrations = new Map<string, { source_mount: string; target_mount: string; status: string }>();

  constructor(private readonly opts: VaultOptions) {
    validateMountSpecs(opts.mounts ?? []);
    this.barrier = new Barrier(opts.storage, opts.suite);
  }

  get sealed(): boolean {
    // Until the unseal has loaded mounts, tokens and policies, the node is still sealed: the HA loop
    // must not take the lock and reload underneath it, and no request meets a half-loaded vault.
    return this.barrier.sealed || this.unsealing;
  }

  async initialized(): Promise<boolean> {
    return this.barrier.initialized();
  }

  async status(): Promise<SealStatus> {
    const cfg = this.sealConfig ?? (await readSealConfig(this.opts.storage));
    const initialized = cfg !== undefined && (await this.barrier.initialized());
    return {
      type: 'shamir',
      initialized,
      sealed: this.sealed,
      t: initialized ? (cfg?.secret_threshold ?? 0) : 0,
      n: initialized ? (cfg?.secret_shares ?? 0) : 0,
      progress: this.progress.count,
      nonce: '',
      version: VERSION,
      build_date: BUILD_DATE,
      migration: false,
      recovery_seal: false,
      storage_type: this.opts.storage.type,
      ...(this.cluster && !this.sealed ? { cluster_name: this.cluster.name, cluster_id: this.cluster.id } : {}),
    };
  }

  /** Creates the root key, its unseal keys and the root token; leaves the vault sealed. */
  async init(
    shares: number,
    threshold: number,
    pgp: { keys?: unknown[]; rootKey?: unknown } = {},
  ): Promise<InitResult> {
    const run = this.initLock.then(() => this.initOnce(shares, threshold, pgp));
    this.initLock = run.catch(() => undefined);
    return run;
  }

  /**
   * With `pgp.keys` (one per share) each unseal key is handed out encrypted to its key, and with
   * `pgp.rootKey` the root token (base64 of the OpenPGP message), as Vault's pgp_keys and
   * root_token_pgp_key; the keys are checked before anything is stored.
   */
  private async initOnce(
    shares: number,
    threshold: number,
    pgp: { keys?: unknown[]; rootKey?: unknown },
  ): Promise<InitResult> {
    validateSealConfig(shares, threshold);
    const pgpKeys = pgp.keys ?? [];
    if (pgpKeys.length > 0 && pgpKeys.length !== shares) {
      throw invalid(
        'invalid seal configuration: count mismatch between number of provided PGP keys and number of shares',
      );
    }
    const recipients = pgpKeys.length ? await readPgpKeys(pgpKeys) : [];
    const rootRecipient = pgp.rootKey ? (await readPgpKeys([pgp.rootKey]))[0] : undefined;
    if (await this.barrier.initialized()) throw invalid('Vault is already initialized');
    const { rootKey, keys: plainKeys } = await generateShares(shares, threshold);
    const keys = recipients.length
      ? await Promise.all(
          plainKeys.map((k, i) =>
            encryptFor(recipients[i] as PgpRecipient, new TextEncoder().encode(Buffer.from(k).toString('hex'))),
          ),
        )
      : plainKeys;
    const cfg: SealConfig = { type: 'shamir', secret_shares: shares, secret_threshold: threshold };
    await writeSealConfig(this.opts.storage, cfg);
    await this.barrier.initialize(rootKey);
    try {
      const cluster = { name: `vault-cluster-${randomBase62(8).toLowerCase()}`, id: randomUUID() };
      await this.barrier.put(CLUSTER_PATH, enc.encode(JSON.stringify(cluster)));
      const mounts = (this.opts.mounts ?? []).map((m) =>
        newMountEntry(m.path, m.type, m.description ?? '', m.options ?? {}, m.config ?? {}),
      );
      await this.barrier.put(MOUNTS_PATH, enc.encode(JSON.stringify(mounts)));
      const store = new TokenStore(this.barrier.view('sys/token/'), this.barrier.derivedKey('token'));
      const { token } = await store.create({ policies: ['root'], parent: '', path: 'auth/token/root' });
      return {
        keys: keys.map((k) => Buffer.from(k).toString('hex')),
        keys_base64: keys.map((k) => Buffer.from(k).toString('base64')),
        root_token: rootRecipient
          ? Buffer.from(await encryptFor(rootRecipient, new TextEncoder().encode(token))).toString('base64')
          : token,
      };
    } finally {
      this.barrier.seal();
      rootKey.fill(0);
      this.sealConfig = cfg;
    }
  }

  /** Adds one unseal key (hex or base64); unseals when the threshold is reached. */
  async unseal(key: string | undefined, reset = false): Promise<SealStatus> {
    const cfg = this.sealConfig ?? (await readSealConfig(this.opts.storage));
    if (!cfg || !(await this.barrier.initialized())) throw invalid('Vault is not initialized');
    this.sealConfig = cfg;
    if (reset) {
      if (!this.sealed) throw invalid('vault is unsealed');
      this.progress.reset();
      return this.status();
    }
    if (!this.sealed) return this.status();
    if (!key) throw invalid("'key' must be specified in request body as JSON, or 'reset' set to true");
    const share = parseUnsealKey(key, cfg);
    const root = await this.progress.add(share, cfg);
    if (root) {
      this.unsealing = true;
      try {
        try {
          await this.barrier.unseal(root);
        } catch (e) {
          root.fill(0);
          throw e;
        }
        this.rootKey = root;
        await this.postUnseal();
      } finally {
        this.unsealing = false;
      }
    }
    return this.status();
  }

  /** Unseals with the root key itself (dev mode). */
  async unsealWithRootKey(rootKey: Uint8Array): Promise<void> {
    await this.barrier.unseal(rootKey);
    this.rootKey = new Uint8Array(rootKey);
    await this.postUnseal();
  }

  private async postUnseal(): Promise<void> {
    try {
      this.tokens = new TokenStore(this.barrier.view('sys/token/'), this.barrier.derivedKey('token'));
      const holes = new Cubbyholes(this.barrier.view('sys/cubbyhole/'));
      this.tokens.onRemove = (hash) => holes.destroy(hash);
      this.wrapper = new ResponseWrapper(this.tokens, holes);
      this.policies = await PolicyStore.open(this.barrier.view('sys/policy/'));
      this.audit = await AuditBroker.open(
        this.barrier.view('sys/audit/'),
        this.opts.audit ?? { sinks: {} },
        this.opts.onWarning,
      );
      const clusterRaw = await this.barrier.get(CLUSTER_PATH);
      this.cluster = clusterRaw ? JSON.parse(dec.decode(clusterRaw)) : undefined;
      this.router.clear();
      this.router.mount(builtinEntry('sys/', 'system'), new SystemBackend(this.systemOps()));
      const policies = this.policies;
      this.router.mount(
        builtinEntry('auth/token/', 'token'),
        new TokenBackend(this.tokens, (name) => policies.has(name), this.barrier.view('sys/token-roles/')),
      );
      this.router.mount(builtinEntry('cubbyhole/', 'cubbyhole'), new CubbyholeBackend(holes));
      for (const m of await this.loadMounts()) await this.mountBackend(m);
      for (const m of await this.loadMounts(AUTH_PATH)) await this.mountBackend(m);
      this.leases = await LeaseManager.open({
        store: this.barrier.view('sys/expire/'),
        mountByUuid: (uuid) => this.router.byUuid(uuid),
        warn: (m) => this.warn(m),
      });
    } catch (e) {
      this.seal();
      throw e;
    }
    if (!this.standbyMode) this.startTimers();
  }

  /** Token tidy, lease expiry and the engines' background work: only on the active node. */
  private startTimers(): void {
    this.timersRunning = true;
    this.leases?.start();
    for (const b of this.router.backends()) b.start?.();
    const every = this.opts.tidyIntervalMs ?? 60_000;
    if (every > 0 && !this.tidyTimer) {
      this.tidyTimer = setInterval(() => void this.tokens?.tidy().catch(() => {}), every);
      this.tidyTimer.unref();
    }
  }

  private stopTimers(): void {
    this.timersRunning = false;
    for (const b of this.router.backends()) b.stop?.();
    if (this.tidyTimer) clearInterval(this.tidyTimer);
    this.tidyTimer = undefined;
    this.leases?.stop();
  }

  private warn(message: string): void {
    this.opts.onWarning?.(message);
  }

  get standby(): boolean {
    return this.standbyMode;
  }

  /** Counts setStandby calls: an activation still loading knows whether it was called off. */
  private standbyCalls = 0;

  /**
   * HA: a standby answers every logical request 503 and runs no timers. Becoming active
   * reloads everything from storage (another node wrote it meanwhile); the caller must have
   * dropped any storage cache first. The node stays a standby until the reload is complete (no
   * request meets a half-mounted router), and stays one if setStandby(true) came meanwhile.
   */
  async setStandby(standby: boolean): Promise<void> {
    const call = ++this.standbyCalls;
    if (standby) {
      this.standbyMode = true;
      this.stopTimers();
      return;
    }
    if (!this.standbyMode) return;
    if (!this.sealed && this.rootKey) {
      const root = new Uint8Array(this.rootKey);
      this.seal();
      try {
        await this.unsealWithRootKey(root);
      } finally {
        root.fill(0);
      }
    }
    if (call !== this.standbyCalls) return;
    this.standbyMode = false;
    if (!this.sealed) this.startTimers();
  }

  seal(): void {
    this.stopTimers();
    this.leases = undefined;
    this.barrier.seal();
    for (const b of this.router.backends()) void b.close?.().catch((e) => this.warn(`closing ${b.type}: ${e}`));
    this.router.clear();
    this.progress.reset();
    this.rootKey?.fill(0);
    this.rootKey = undefined;
    this.generateRootCancel();
    this.rekeyCancel();
    this.tokens = undefined;
    this.wrapper = undefined;
    this.policies?.close();
    this.policies = undefined;
    void this.audit?.close();
    this.audit = undefined;
  }

  private unsealedRoot(): { root: Uint8Array; cfg: SealConfig } {
    if (this.sealed || !this.rootKey || !this.sealConfig) throw sealedError();
    if (this.standbyMode) throw new VaultError('sealed', 'this node is a standby: send requests to the active node');
    return { root: this.rootKey, cfg: this.sealConfig };
  }

  generateRootStatus(): Record<string, unknown> {
    const g = this.rootGeneration;
    return {
      started: g !== undefined,
      nonce: g?.ceremony.nonce ?? '',
      progress: g?.ceremony.count ?? 0,
      required: this.sealConfig?.secret_threshold ?? 0,
      encoded_token: '',
      encoded_root_token: '',
      pgp_fingerprint: g?.pgp?.fingerprint ?? '',
      otp_length: ROOT_TOKEN_LENGTH,
      complete: false,
    };
  }

  /**
   * Starts a root token generation: the new token is handed out XORed with a one-time password
   * (the caller's, or one made here), or encrypted to `pgp_key` (Vault's choice of the two).
   */
  async generateRootStart(body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const { cfg } = this.unsealedRoot();
    if (this.rootGeneration) throw invalid('root generation already in progress');
    const given = body.otp;
    if (given !== undefined && given !== '' && (typeof given !== 'string' || given.length !== ROOT_TOKEN_LENGTH)) {
      throw invalid(`OTP string is wrong length: ${ROOT_TOKEN_LENGTH} characters expected`);
    }
    const hasOtp = typeof given === 'string' && given !== '';
    const pgp = !hasOtp && body.pgp_key ? (await readPgpKeys([body.pgp_key]))[0] : undefined;
    if (this.rootGeneration) throw invalid('root generation already in progress');
    const otp = hasOtp ? given : pgp ? '' : newOtp();
    this.rootGeneration = { ceremony: new KeyCeremony(cfg), otp, ...(pgp ? { pgp } : {}) };
    return { ...this.generateRootStatus(), otp: otp === given ? '' : otp };
  }

  generateRootCancel(): void {
    this.rootGeneration?.ceremony.cancel();
    this.rootGeneration = undefined;
  }

  /** One unseal key towards the new root token; the last one returns it, XORed with the OTP. */
  async generateRootUpdate(key: unknown, nonce: unknown): Promise<Record<string, unknown>> {
    return this.mountLock.run('ceremony', async () => {
      const { root, cfg } = this.unsealedRoot();
      const g = this.rootGeneration;
      if (!g) throw invalid('no root generation in progress');
      if (!(await g.ceremony.add(key, nonce, root))) return this.generateRootStatus();
      this.rootGeneration = undefined;
      const tokens = this.tokens;
      if (!tokens) throw sealedError();
      const { token } = await tokens.create({ policies: ['root'], parent: '', path: 'auth/token/root' });
      let encoded: string;
      try {
        encoded = g.pgp
          ? Buffer.from(await encryptFor(g.pgp, new TextEncoder().encode(token))).toString('base64')
          : encodeRootToken(token, g.otp);
      } catch (e) {
        await tokens.revokeTree(tokens.hash(token)).catch(() => {});
        throw e;
      }
      return {
        ...this.generateRootStatus(),
        started: true,
        nonce: g.ceremony.nonce,
        progress: cfg.secret_threshold,
        encoded_token: encoded,
        encoded_root_token: encoded,
        pgp_fingerprint: g.pgp?.fingerprint ?? '',
        complete: true,
      };
    });
  }

  rekeyStatus(): Record<string, unknown> {
    const r = this.rekeying;
    return {
      started: r !== undefined,
      nonce: r?.ceremony.nonce ?? '',
      t: r?.next.secret_threshold ?? 0,
      n: r?.next.secret_shares ?? 0,
      progress: r?.ceremony.count ?? 0,
      required: this.sealConfig?.secret_threshold ?? 0,
      pgp_fingerprints: r?.pgp.length ? r.pgp.map((p) => p.fingerprint) : null,
      backup: false,
      verification_required: false,
    };
  }

  /** Starts a rekey; with `pgp_keys` (one per new share) each new unseal key is handed out encrypted to its key. */
  async rekeyStart(body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const { cfg } = this.unsealedRoot();
    if (this.rekeying) throw invalid('rekey already in progress');
    const pgpKeys = body.pgp_keys ?? [];
    if (!Array.isArray(pgpKeys)) throw invalid('pgp_keys must be a list of base64-encoded public keys');
    if (body.backup === true && pgpKeys.length === 0) {
      throw invalid('cannot request a backup of the new keys without providing PGP keys for encryption');
    }
    if (body.backup === true) throw invalid('backup of PGP-encrypted keys is not supported');
    if (body.require_verification === true) throw invalid('require_verification is not supported');
    const next = checkRekeyConfig(body.secret_shares, body.secret_threshold);
    if (pgpKeys.length > 0 && pgpKeys.length !== next.secret_shares) {
      throw invalid('incorrect number of PGP keys for rekey');
    }
    const pgp = pgpKeys.length ? await readPgpKeys(pgpKeys) : [];
    if (this.rekeying) throw invalid('rekey already in progress');
    this.rekeying = { ceremony: new KeyCeremony(cfg), next, pgp };
    return this.rekeyStatus();
  }

  rekeyCancel(): void {
    this.rekeying?.ceremony.cancel();
    this.rekeying = undefined;
  }

  /**
   * One current unseal key towards a rekey; the last one makes a new root key, stores the keyring
   * under it and returns the new unseal keys (once). The old keys no longer unseal.
   */
  async rekeyUpdate(key: unknown, nonce: unknown): Promise<Record<string, unknown>> {
    return this.mountLock.run('ceremony', async () => {
      const { root } = this.unsealedRoot();
      const r = this.rekeying;
      if (!r) throw invalid('no rekey in progress');
      if (!(await r.ceremony.add(key, nonce, root))) return this.rekeyStatus();
      this.rekeying = undefined;
      const { rootKey, keys: shares } = await generateShares(r.next.secret_shares, r.next.secret_threshold);
      // Encrypted before the switch: a key that cannot be encrypted leaves the old keys in force.
      const keys = r.pgp.length
        ? await Promise.all(
            shares.map((k, i) =>
              encryptFor(r.pgp[i] as PgpRecipient, new TextEncoder().encode(Buffer.from(k).toString('hex'))),
            ),
          )
        : shares;
      // The keyring under the new root key and the new seal configuration switch in one storage
      // batch (atomic in every durable backend): a crash leaves the old keys working or the new ones.
      crashPoint('rekey-before-commit');
      await applyBatch(this.barrier.storage, [this.barrier.rewrappedKeyring(rootKey), sealConfigWrite(r.next)]);
      crashPoint('rekey-after-commit');
      this.sealConfig = r.next;
      root.fill(0);
      this.rootKey = rootKey;
      return {
        nonce: r.ceremony.nonce,
        complete: true,
        keys: keys.map((k) => Buffer.from(k).toString('hex')),
        keys_base64: keys.map((k) => Buffer.from(k).toString('base64')),
        pgp_fingerprints: r.pgp.length ? r.pgp.map((p) => p.fingerprint) : null,
        backup: false,
        verification_required: false,
        verification_nonce: '',
      };
    });
  }

  /** Seal on request of a token: root, or update and sudo on sys/seal. */
  async sealWithToken(token: string | undefined, remoteAddress?: string): Promise<void> {
    const caller = await this.authenticate(token);
    const may = (a: AclAction) => this.allowed(caller, a, 'sys/seal', remoteAddress);
    if (!may('update') || !may('sudo')) throw denied();
    this.seal();
  }

  private async loadMounts(table = MOUNTS_PATH): Promise<MountEntry[]> {
    const raw = await this.barrier.get(table);
    return raw ? (JSON.parse(dec.decode(raw)) as MountEntry[]) : [];
  }

  private async mountBackend(m: MountEntry): Promise<void> {
    const auth = m.path.startsWith('auth/');
    if (!(auth ? isAuthType(m.type) : isEngineType(m.type))) {
      throw new VaultError('internal', `unknown ${auth ? 'auth method' : 'engine'} type ${m.type} at ${m.path}`);
    }
    const factory = await (auth ? authFactory(m.type) : engineFactory(m.type));
    const backend = await factory({
      entry: m,
      store: this.barrier.view(`${auth ? 'auth' : 'mounts'}/${m.uuid}/`),
      warn: (msg) => this.warn(`${m.path}: ${msg}`),
      ...(this.opts.databasePlugins ? { databasePlugins: this.opts.databasePlugins } : {}),
    });
    this.router.mount(m, backend);
    if (this.timersRunning) backend.start?.();
  }

  private systemOps() {
    return {
      mounts: () => this.router.entries().filter((m) => !m.path.startsWith('auth/')),
      authMounts: () => this.router.entries().filter((m) => m.path.startsWith('auth/')),
      enableAuth: (
        path: string,
        type: string,
        description: string,
        options: Record<string, string>,
        config: MountConfigIn,
      ) => this.mountLock.run('mounts', () => this.enableAuth(path, type, description, options, config)),
      disableAuth: (path: string) => this.mountLock.run('mounts', () => this.disableAuth(path)),
      enableMount: (
        path: string,
        type: string,
        description: string,
        options: Record<string, string>,
        config: MountConfigIn,
      ) => this.mountLock.run('mounts', () => this.enableMount(path, type, description, options, config)),
      disableMount: (path: string) => this.mountLock.run('mounts', () => this.disableMount(path)),
      tuneMount: (path: string, tune: MountTune) => this.mountLock.run('mounts', () => this.tuneMount(path, tune)),
      remount: (from: string, to: string) => this.mountLock.run('mounts', () => this.remount(from, to)),
      remountStatus: (id: string) => this.migrations.get(id),
      mountAccess: (caller: Caller, path: string) => this.mountAccess(caller, path),
      rotate: () => {
        if (!this.rootKey) throw sealedError();
        return this.barrier.rotate(this.rootKey);
      },
      keyStatus: () => this.barrier.keyStatus(),
      leases: () => this.requireLeases(),
      policies: () => this.requirePolicies(),
      wrapping: () => {
        if (!this.wrapper) throw sealedError();
        return this.wrapper;
      },
      audit: () => {
        if (!this.audit) throw sealedError();
        return this.audit;
      },
      capabilities: (who: { caller?: Caller; token?: string; accessor?: string }, paths: string[]) =>
        this.capabilities(who, paths),
    };
  }

  private async enableMount(
    path: string,
    type: string,
    description: string,
    options: Record<string, string>,
    config: MountConfigIn,
  ): Promise<void> {
    assertEngineType(type);
    if (RESERVED.some((r) => path.startsWith(r))) throw invalid(`cannot mount at reserved path "${path}"`);
    const existing = await this.loadMounts();
    const clash = [...existing.map((m) => m.path), ...RESERVED].find((p) => p.startsWith(path) || path.startsWith(p));
    if (clash) throw invalid(`path is already in use at ${clash}`);
    const entry = newMountEntry(path, type, description, options, config);
    // Build the engine before recording the mount: a bad option leaves no half-enabled mount.
    await this.mountBackend(entry);
    try {
      await this.barrier.put(MOUNTS_PATH, enc.encode(JSON.stringify([...existing, entry])));
    } catch (e) {
      this.router.unmount(path);
      throw e;
    }
  }

  private async enableAuth(
    path: string,
    type: string,
    description: string,
    options: Record<string, string>,
    config: MountConfigIn,
  ): Promise<void> {
    if (type === 'token') throw invalid('token credential backend cannot be instantiated');
    assertAuthType(type);
    const existing = await this.loadMounts(AUTH_PATH);
    const clash = [...existing.map((m) => m.path), 'auth/token/'].find((p) => p.startsWith(path) || path.startsWith(p));
    if (clash) throw invalid(`path is already in use at ${clash.slice('auth/'.length)}`);
    const entry = newMountEntry(path, type, description, options, config);
    entry.accessor = `auth_${type}_${randomBase62(8).toLowerCase()}`;
    await this.mountBackend(entry);
    try {
      await this.barrier.put(AUTH_PATH, enc.encode(JSON.stringify([...existing, entry])));
    } catch (e) {
      this.router.unmount(path);
      throw e;
    }
  }

  /** Disables an auth method: the tokens its logins issued are revoked, its data removed. */
  private async disableAuth(path: string): Promise<void> {
    if (path === 'auth/token/') throw invalid('token credential backend cannot be disabled');
    const existing = await this.loadMounts(AUTH_PATH);
    const m = existing.find((x) => x.path === path);
    if (!m) return;
    const backend = this.router.byUuid(m.uuid)?.backend;
    this.router.unmount(path);
    await this.tokens?.revokeByPathPrefix(path);
    await backend?.close?.();
    await this.barrier.put(AUTH_PATH, enc.encode(JSON.stringify(existing.filter((x) => x !== m))));
    await this.deleteTree(`auth/${m.uuid}/`);
  }

  /**
   * Changes a mount's TTLs, description, listing visibility or options. The live entry (which the
   * engine and the lease manager read) changes only once the new table is stored.
   */
  private async tuneMount(path: string, tune: MountTune): Promise<void> {
    if (path === 'sys/' || path.startsWith('auth/token/')) throw invalid(`cannot tune "${path}"`);
    const table = tableOf(path);
    const existing = await this.loadMounts(table);
    const stored = existing.find((x) => x.path === path);
    const live = this.router.entries().find((x) => x.path === path);
    if (!stored || !live) throw invalid(`tune of path "${path}" failed: no mount entry found`);
    const config = { ...stored.config };
    if (tune.default_lease_ttl !== undefined) config.default_lease_ttl = tune.default_lease_ttl;
    if (tune.max_lease_ttl !== undefined) config.max_lease_ttl = tune.max_lease_ttl;
    if (tune.listing_visibility !== undefined) config.listing_visibility = tune.listing_visibility;
    checkLeaseTtls(config.default_lease_ttl, config.max_lease_ttl);
    let options = stored.options;
    if (tune.options && Object.keys(tune.options).length > 0) {
      const version = tune.options.version;
      if (version !== undefined && stored.type === 'kv' && version !== (stored.options?.version ?? '1')) {
        throw invalid('changing the version of a KV mount is not supported: enable a new mount and copy the secrets');
      }
      options = { ...(stored.options ?? {}), ...tune.options };
    }
    const next: MountEntry = {
      ...stored,
      config,
      options,
      description: tune.description ?? stored.description,
    };
    await this.barrier.put(table, enc.encode(JSON.stringify(existing.map((x) => (x === stored ? next : x)))));
    live.config = config;
    live.options = options;
    live.description = next.description;
  }

  /**
   * Moves a mount: its data stays where it is (stored by uuid), the table and the router get the
   * new path, and its leases are revoked first (their ids name the old path), as in Vault.
   */
  private async remount(fromIn: string, toIn: string): Promise<string> {
    const norm = (p: string, what: string) => {
      if (p !== p.trim()) throw invalid(`'${what}' path cannot contain trailing whitespace`);
      return normalizeMountPath(p.replace(/^\/+/, ''));
    };
    const from = norm(fromIn, 'from');
    const to = norm(toIn, 'to');
    const protectedPaths = ['sys/', 'cubbyhole/', 'identity/', 'auth/token/'];
    if (from.startsWith('auth/') !== to.startsWith('auth/')) {
      throw invalid(
        from.startsWith('auth/')
          ? `cannot remount auth mount to non-auth mount "${to}"`
          : `cannot remount to destination "${to}"`,
      );
    }
    if (protectedPaths.some((p) => from.startsWith(p))) throw invalid(`cannot remount "${from}"`);
    if (protectedPaths.some((p) => to.startsWith(p))) throw invalid(`cannot remount to destination "${to}"`);
    const table = tableOf(from);
    const existing = await this.loadMounts(table);
    const stored = existing.find((x) => x.path === from);
    const mounted = this.router.entries().find((x) => x.path === from);
    if (!stored || !mounted) throw invalid(`no matching mount at "${from}"`);
    const inUse = table === AUTH_PATH ? ['auth/token/'] : RESERVED;
    const clash = [...existing.map((m) => m.path), ...inUse]
      .filter((p) => p !== from)
      .find((p) => p.startsWith(to) || to.startsWith(p));
    if (clash) throw invalid(`path already in use at "${clash}"`);
    await this.requireLeases().revokeMount(mounted);
    // An auth method's tokens name its old path: revoked, as Vault does on a move.
    if (table === AUTH_PATH) await this.tokens?.revokeByPathPrefix(from);
    const backend = this.router.byUuid(stored.uuid)?.backend;
    await this.barrier.put(
      table,
      enc.encode(JSON.stringify(existing.map((x) => (x === stored ? { ...stored, path: to } : x)))),
    );
    this.router.unmount(from);
    mounted.path = to;
    if (backend) this.router.mount(mounted, backend);
    const id = randomUUID();
    this.migrations.set(id, { source_mount: from, target_mount: to, status: 'success' });
    return id;
  }

  /** Vault's hasMountAccess: root, or a policy that may allow something at or under the mount. */
  private mountAccess(caller: Caller, path: string): boolean {
    if (caller.isRoot) return true;
    return this.policies?.mayAccessUnder(caller, path) ?? false;
  }

  private async disableMount(path: string): Promise<void> {
    const existing = await this.loadMounts();
    const m = existing.find((x) => x.path === path);
    if (!m) return;
    // Its leases go first (Vault refuses to disable a mount whose leases cannot be revoked).
    await this.requireLeases().revokeMount(m);
    const backend = this.router.byUuid(m.uuid)?.backend;
    // Unmount first, so no request writes while the data is being removed.
    this.router.unmount(path);
    await backend?.close?.();
    await this.barrier.put(MOUNTS_PATH, enc.encode(JSON.stringify(existing.filter((x) => x !== m))));
    await this.deleteTree(`mounts/${m.uuid}/`);
  }

  private async deleteTree(prefix: string): Promise<void> {
    for (const k of await this.barrier.list(prefix)) {
      if (k.endsWith('/')) await this.deleteTree(prefix + k);
      else await this.barrier.delete(prefix + k);
    }
  }

  private requireLeases(): LeaseManager {
    if (!this.leases) throw sealedError();
    return this.leases;
  }

  private requirePolicies(): PolicyStore {
    if (!this.policies) throw sealedError();
    return this.policies;
  }

  /** What a token may do on each path: Vault's capability names, 'root', or 'deny'. */
  private async capabilities(
    who: { caller?: Caller; token?: string; accessor?: string },
    paths: string[],
  ): Promise<Record<string, string[]>> {
    const tokens = this.tokens;
    if (!tokens) throw sealedError();
    let caller = who.caller;
    if (!caller) {
      const hash = who.token ? tokens.hash(who.token) : await tokens.hashByAccessor(who.accessor ?? '');
      const entry = hash ? await tokens.lookupByHash(hash) : undefined;
      if (!entry) throw invalid(who.token ? 'invalid token' : 'invalid accessor');
      caller = callerOf(entry, who.token ?? '');
    }
    const c = caller;
    const out: Record<string, string[]> = {};
    for (const p of paths) {
      if (c.isRoot) {
        out[p] = ['root'];
        continue;
      }
      const path = p.replace(/^\/+/, '');
      const caps = ACL_ACTIONS.filter((a) => this.allowed(c, a, path));
      out[p] = caps.length ? [...caps] : ['deny'];
    }
    return out;
  }

  /** Vault's help operation (`?help=1`): the path's declaration rendered; any valid token may ask. */
  async help(path: string, token: string | undefined, remoteAddress?: string): Promise<string> {
    if (this.sealed) throw sealedError();
    validatePath(path);
    if (!this.router.isUnauthenticated(path)) await this.authenticateEntry(token, remoteAddress);
    return this.router.help(path);
  }

  /** The caller behind a token, or 403. */
  async authenticate(token: string | undefined): Promise<Caller> {
    return (await this.authenticateEntry(token)).caller;
  }

  /** As Vault, an engine's unauthenticated paths (pki/ca, pki/crl...) answer anyone: no token is looked up. */
  private async callerFor(req: LogicalRequest): Promise<{ caller: Caller; entry?: TokenEntry }> {
    if (this.sealed || !this.tokens) throw sealedError();
    if (this.router.isUnauthenticated(req.path)) {
      // No token needed and no policy checked; a valid token still tells the handler who asks
      // (sys/internal/ui/mounts lists what that token may use).
      const entry = req.token ? await this.tokens.lookup(req.token) : undefined;
      const usable =
        entry &&
        !this.batchOfGoneMount(entry) &&
        (!entry.bound_cidrs || addressInCidrs(req.remoteAddress ?? '', entry.bound_cidrs));
      return { caller: entry && usable ? callerOf(entry, req.token as string) : ANONYMOUS };
    }
    return this.authenticateEntry(req.token, req.remoteAddress);
  }

  private async authenticateEntry(
    token: string | undefined,
    remoteAddress?: string,
  ): Promise<{ caller: Caller; entry: TokenEntry }> {
    if (this.sealed || !this.tokens) throw sealedError();
    if (!token) throw denied();
    const entry = await this.tokens.lookup(token);
    if (!entry) throw denied();
    // A token bound to addresses (token_bound_cidrs) is worth nothing elsewhere.
    if (entry.bound_cidrs && !addressInCidrs(remoteAddress ?? '', entry.bound_cidrs)) throw denied();
    if (this.batchOfGoneMount(entry)) throw denied();
    return { caller: callerOf(entry, token), entry };
  }

  /**
   * A batch token a login issued ends with its auth method: nothing was stored that disabling the
   * method could revoke, so the mount it names (by accessor) must still be there.
   */
  private batchOfGoneMount(e: TokenEntry): boolean {
    if (e.type !== 'batch' || !e.path.startsWith('auth/') || e.path.startsWith('auth/token/')) return false;
    const accessor = e.alias?.mount_accessor;
    return !this.router.entries().some((m) => m.accessor === accessor);
  }

  /** One decision over the token's policies (root may do anything). `path` keeps its trailing '/' for lists. */
  private allowed(
    caller: Caller,
    action: AclAction,
    path: string,
    remoteAddress = '',
    extras: AclRequestExtras = {},
  ): boolean {
    if (caller.isRoot) return true;
    const policies = this.policies;
    if (!policies) return false;
    const m = this.router.mountFor(path);
    return policies.isAllowed(
      caller,
      action,
      { path, mount: m?.entry.path ?? '', mountType: m?.entry.type ?? '' },
      remoteAddress,
      extras,
    );
  }

  /**
   * Deny unless a policy allows. An update of something that does not exist is a 'create'
   * (Vault's existence check); a PATCH is an 'update'; root-protected paths need 'sudo' too.
   */
  private async authorize(caller: Caller, req: LogicalRequest, match: Match | undefined): Promise<void> {
    if (caller.isRoot) return;
    const path = req.operation === 'list' ? req.path : req.path.replace(/\/$/, '');
    let action: AclAction = req.operation === 'patch' ? 'update' : req.operation;
    if (action === 'update' && match?.def.existence && !(await match.def.existence(match.params))) action = 'create';
    const extras = { data: req.data, patch: req.operation === 'patch', wrapTtl: req.wrapTtl ?? 0 };
    if (!this.allowed(caller, action, path, req.remoteAddress, extras)) throw denied();
    if (match?.def.sudo && !this.allowed(caller, 'sudo', path, req.remoteAddress)) throw denied();
  }

  /** The single entry point for logical requests: audited when audit devices are enabled. */
  async handle(req: LogicalRequest): Promise<HandlerResult> {
    if (this.sealed) throw sealedError();
    if (this.standbyMode) throw new VaultError('sealed', 'this node is a standby: send requests to the active node');
    const audit = this.audit;
    if (!audit?.enabled) {
      validatePath(req.path);
      return this.process(req, await this.callerFor(req));
    }
    let who: { caller: Caller; entry?: TokenEntry } | undefined;
    let early: unknown;
    try {
      validatePath(req.path);
      who = await this.callerFor(req);
    } catch (e) {
      early = e;
    }
    const mount = this.router.mountFor(req.path);
    const areq: AuditRequest = {
      id: req.id ?? randomUUID(),
      operation: req.operation,
      path: req.path,
      data: req.data,
      mountType: mount?.entry.type ?? '',
      mountPoint: mount?.entry.path ?? '',
      ...(req.remoteAddress ? { remoteAddress: req.remoteAddress } : {}),
      ...(req.token ? { token: req.token } : {}),
      ...(who ? { auth: who.caller } : {}),
    };
    let ticket: AuditTicket;
    try {
      ticket = await audit.logRequest(areq, early ? messageOf(early) : undefined);
    } catch (e) {
      // The way out of a hung or broken device: disabling it (authorized as usual) goes through.
      const disablingDevice = req.operation === 'delete' && /^sys\/audit\/[^/]+\/?$/.test(req.path);
      if (!(who && disablingDevice)) throw e;
      ticket = [];
    }
    if (!who) {
      await audit.logResponse(ticket, areq, { error: messageOf(early) });
      throw early;
    }
    let result: HandlerResult;
    try {
      result = await this.process(req, who);
    } catch (e) {
      await audit.logResponse(ticket, areq, { error: messageOf(e) });
      throw e;
    }
    await audit.logResponse(
      ticket,
      areq,
      result
        ? {
            data: result.data ?? null,
            ...(result.auth ? { auth: { ...result.auth } } : {}),
            ...(result.warnings ? { warnings: result.warnings } : {}),
          }
        : {},
    );
    return result;
  }

  /**
   * Runs the request; a request for wrapping gets its response (a secret, a login's token, a
   * list) only inside a wrapping token's cubbyhole. If wrapping fails, the response is not handed
   * out in the clear: the error is, and a token the login issued is revoked.
   */
  private async process(req: LogicalRequest, who: { caller: Caller; entry?: TokenEntry }): Promise<HandlerResult> {
    const result = await this.execute(req, who);
    if (!req.wrapTtl || !result || result.wrapInfo) return result;
    try {
      if (!this.wrapper) throw sealedError();
      return { wrapInfo: await this.wrapper.wrap(result, req.wrapTtl, req.path) };
    } catch (e) {
      const issued = result.auth?.client_token;
      if (issued && this.tokens) await this.tokens.revokeTree(this.tokens.hash(issued)).catch(() => {});
      throw e;
    }
  }

  private async execute(
    req: LogicalRequest,
    { caller, entry }: { caller: Caller; entry?: TokenEntry },
  ): Promise<HandlerResult> {
    const path = req.path;
    // Route first (the existence check needs the path's declaration), but answer a token
    // that may not use the path 403 before telling it whether the path exists.
    let match: Match | undefined;
    let routeError: unknown;
    try {
      match = this.router.match(path, req.operation);
    } catch (e) {
      routeError = e;
    }
    if (entry) await this.authorize(caller, req, match);
    if (!match) throw routeError;
    try {
      const result = await this.router.dispatch(req, match, caller);
      if (result?.login) {
        const { login, ...rest } = result;
        return { ...rest, auth: await this.issueLoginToken(req.path, match.mount.entry, login) };
      }
      if (result?.secret) {
        const { secret, ...rest } = result;
        try {
          return { ...rest, lease: await this.requireLeases().register(req.path, match.mount.entry, secret) };
        } catch (e) {
          // Never hand out a secret nobody will revoke.
          const now = new Date();
          await match.mount.backend
            .revokeLease?.({ id: '', path: req.path, internal: secret.internal, issueTime: now, expireTime: now })
            .catch((err) => this.warn(`revoking an unleased secret at ${req.path}: ${err}`));
          throw e;
        }
      }
      return result;
    } finally {
      // A limited-use token is spent by the attempt, as in Vault.
      if (entry && entry.num_uses > 0) await this.tokens?.use(entry);
    }
  }

  /**
   * The token of a login: an orphan with the role's or user's settings, its TTL within the auth
   * mount's (tuned) default and max, as Vault's core does with an auth method's response.
   */
  private async issueLoginToken(path: string, mount: MountEntry, spec: LoginSpec) {
    const tokens = this.tokens;
    if (!tokens) throw sealedError();
    const mountMax = mount.config.max_lease_ttl || SYSTEM_MAX_TTL;
    const max = spec.maxTtl > 0 ? Math.min(spec.maxTtl, mountMax) : mountMax;
    const ttl = Math.min(spec.ttl || mount.config.default_lease_ttl || max, max);
    // The max bounds renewals too: it becomes the token's explicit max unless a smaller one is set.
    const explicitMax = max < SYSTEM_MAX_TTL ? Math.min(spec.explicitMaxTtl || max, max) : spec.explicitMaxTtl;
    const { token, entry } = await tokens.create({
      policies: spec.policies,
      meta: spec.metadata,
      rawDisplayName: spec.displayName,
      ttl,
      explicitMaxTtl: explicitMax,
      period: spec.period,
      numUses: spec.numUses,
      noDefaultPolicy: spec.noDefaultPolicy,
      parent: '',
      path,
      ...(spec.boundCidrs.length ? { boundCidrs: spec.boundCidrs } : {}),
      ...(spec.aliasName ? { alias: { mount_accessor: mount.accessor, name: spec.aliasName } } : {}),
      ...(spec.tokenType === 'batch' ? { type: 'batch' as const } : {}),
    });
    return authInfo(token, entry);
  }

  mountTypeOf(path: string): string | undefined {
    return this.router.mountFor(path)?.entry.type;
  }

  /** Sweeps expired tokens now (tests, shutdown). */
  async tidyTokens(): Promise<number> {
    return this.tokens ? this.tokens.tidy() : 0;
  }
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The caller of an unauthenticated path: no token, no policies. */
const ANONYMOUS: Caller = {
  tokenHash: '',
  token: '',
  accessor: '',
  policies: [],
  isRoot: false,
  displayName: '',
  metadata: null,
};

function callerOf(entry: TokenEntry, token: string): Caller {
  return {
    tokenHash: entry.hash,
    token,
    accessor: entry.accessor,
    policies: entry.policies,
    isRoot: entry.policies.includes('root'),
    displayName: entry.display_name,
    metadata: entry.meta,
    ...(entry.alias ? { alias: entry.alias } : {}),
  };
}

function builtinEntry(path: string, type: string): MountEntry {
  return newMountEntry(path, type, '', {}, {});
}

function newMountEntry(
  path: string,
  type: string,
  description: string,
  options: Record<string, string>,
  config: MountConfigIn,
): MountEntry {
  return {
    path,
    type,
    description,
    uuid: randomUUID(),
    accessor: `${type}_${randomBase62(8).toLowerCase()}`,
    config: {
      default_lease_ttl: config.default_lease_ttl ?? 0,
      max_lease_ttl: config.max_lease_ttl ?? 0,
      force_no_cache: false,
      ...(config.listing_visibility ? { listing_visibility: config.listing_visibility } : {}),
    },
    options: Object.keys(options).length ? options : null,
    local: false,
    seal_wrap: false,
    external_entropy_access: false,
  };
}

export { SYSTEM_MAX_TTL };
