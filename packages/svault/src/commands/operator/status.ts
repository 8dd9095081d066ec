import { ClientCommand, show } from '../../cli/base.js';

export default class OperatorStatus extends ClientCommand<typeof OperatorStatus> {
  static override summary = 'Show whether the vault is initialized and sealed, and the unseal progress';
  static override description =
    'Exit code 0 when unsealed, 5 when sealed or not initialized, 7 when the server is unreachable.';
  static override examples = ['<%= config.bin %> operator status', '<%= config.bin %> operator status --json'];

  async run() {
    const st = await this.client().sealStatus();
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
