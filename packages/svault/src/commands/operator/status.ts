import { ClientCommand, show } from '../../cli/base.js';
import { localDaemonRunning, storagePath } from '../../cli/local.js';
import type { SealStatusBody } from '../../client/index.js';
import type { SvaultConfig } from '../../tool.js';

/** Local mode with no daemon: what storage says (nothing holds the keys, so sealed). */
async function offlineStatus(cfg: SvaultConfig): Promise<SealStatusBody> {
  const [{ FilesystemStorage }, { Vault }, { CryptoSuite }] = await Promise.all([
    import('../../adapters/filesystem.js'),
    import('../../core/vault.js'),
    import('../../core/crypto.js'),
  ]);
  const storage = new FilesystemStorage(storagePath(cfg.storage));
  const vault = new Vault({ storage, suite: await CryptoSuite.create(), tidyIntervalMs: 0 });
  try {
    return await vault.status();
  } finally {
    await storage.close();
  }
}

export default class OperatorStatus extends ClientCommand<typeof OperatorStatus> {
  static override summary = 'Show whether the vault is initialized and sealed, and the unseal progress';
  static override description =
    'Exit code 0 when unsealed, 5 when sealed or not initialized, 7 when the server is unreachable. ' +
    'In local mode (no SVAULT_ADDR) it reads the local vault without starting the daemon.';
  static override examples = ['<%= config.bin %> operator status', '<%= config.bin %> operator status --json'];

  async run() {
    const st =
      this.local && !(await localDaemonRunning()) ? await offlineStatus(this.cfg) : await this.client().sealStatus();
    if (this.jsonEnabled()) {
      if (st.sealed) {
        this.logJson(st);
        this.exit(5);
      }
    } else {
      this.table({
        'Seal Type': st.type,
        Initialized: st.initialized,
        Sealed: st.sealed,
        'Total Shares': st.n,
        Threshold: st.t,
        ...(st.sealed ? { 'Unseal Progress': `${st.progress}/${st.t}` } : {}),
        Version: st.version,
        'Storage Type': show(st.storage_type),
        ...(st.cluster_name ? { 'Cluster Name': st.cluster_name, 'Cluster ID': st.cluster_id } : {}),
      });
      if (st.sealed) this.exit(5);
    }
    return st;
  }
}
