/**
 * Local stand-ins for the clouds prov drives, for tests and scenario scripts: servers speaking the EC2 Query API
 * and UpCloud's REST API (used with the real AWS SDK and UpCloud HTTP client), and throwaway sshd hosts they hand
 * out as the addresses of the servers they create. Not used by prov itself.
 */
export * from './cloud-hosts.js';
export * from './clouds.js';
export * from './db-cluster.js';
export * from './ec2-server.js';
export * from './upcloud-server.js';
