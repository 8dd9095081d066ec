import { CHROMIUM, cmd, ETCD, PATRONI, PG, SSHD } from '../lib/harness.mjs';

export default {
  title: 'Zero-touch provisioning',
  needs: [cmd('prov', 'wizard', 'database'), SSHD, PG, PATRONI, ETCD, CHROMIUM],
};
