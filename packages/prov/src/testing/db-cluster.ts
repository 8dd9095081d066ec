/**
 * `--set` values for the db-cluster template when its members share one machine (test and scenario hosts):
 * member i (0-based) takes ports base + 10·i + 0..3 (PostgreSQL, Patroni REST, etcd client, etcd peer), nothing
 * needs systemd or root, and Patroni's timings are short so that failover and rejoin happen in seconds.
 */
export function dbClusterOnOneMachine(base: number): string[] {
  return [
    'init=none',
    'port_stride=10',
    `pg_port=${base}`,
    `rest_port=${base + 1}`,
    `etcd_client_port=${base + 2}`,
    `etcd_peer_port=${base + 3}`,
    'ttl=20',
    'loop_wait=2',
    'retry_timeout=5',
    'data_dir=/var/lib/pg/data',
  ];
}
