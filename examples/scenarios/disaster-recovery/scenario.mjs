import { cmd, ETCD, NATS, PG } from '../lib/harness.mjs';

// Multi-cloud disaster recovery: only its needs are checked until the run is written.
export default {
  title:
    'Multi-cloud disaster recovery: ProjectManager declares DR → prov migrate plan/apply aws → upcloud against local EC2/UpCloud wire servers with rollback → svault HA failover → new certs and creds → kogral incident with RTO/RPO',
  needs: [
    cmd('prov', 'migrate', 'plan'),
    cmd('prov', 'migrate', 'apply'),
    cmd('prov', 'cert', 'rotate'),
    cmd('svault', 'server'),
    cmd('vapora', 'pipeline', 'run'),
    cmd('kogral', 'add', 'execution'),
    PG,
    ETCD,
    NATS,
  ],
};
