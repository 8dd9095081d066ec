import { type CloudHosts, type CloudHostsOptions, startCloudHosts } from './cloud-hosts.js';
import { type FakeEc2, startFakeEc2 } from './ec2-server.js';
import { CREDENTIALS, type FakeUpcloud, startFakeUpcloud } from './upcloud-server.js';

/** The environment that points prov at the fakes: endpoints and the credentials they accept. */
export function fakeCloudEnv(ec2?: { url: string }, upcloud?: { url: string }): Record<string, string> {
  return {
    ...(ec2
      ? {
          PROV_AWS_ENDPOINT: ec2.url,
          AWS_ACCESS_KEY_ID: 'AKIDTEST',
          AWS_SECRET_ACCESS_KEY: 'secret-test',
          AWS_REGION: 'eu-west-1',
        }
      : {}),
    ...(upcloud
      ? {
          PROV_UPCLOUD_ENDPOINT: upcloud.url,
          UPCLOUD_USERNAME: CREDENTIALS.username,
          UPCLOUD_PASSWORD: CREDENTIALS.password,
        }
      : {}),
  };
}

export interface FakeClouds {
  ec2: FakeEc2;
  upcloud: FakeUpcloud;
  /** The sshd hosts each fake hands out, by server name. */
  awsHosts: CloudHosts;
  upcloudHosts: CloudHosts;
  /** Add to prov's environment. */
  env: Record<string, string>;
  /** known_hosts lines for every host of both clouds (write them to the workspace's .prov/known_hosts). */
  knownHosts(): string;
  stop(): Promise<void>;
}

/**
 * Both fake clouds, each with a throwaway sshd per server name it will be asked to create: what a migration test
 * or a scenario needs to run prov against "AWS" and "UpCloud" servers whose taskservs really run.
 */
export async function startFakeClouds(
  servers: { aws?: string[]; upcloud?: string[] } = {},
  opts: CloudHostsOptions = {},
): Promise<FakeClouds> {
  const started: { stop(): Promise<void> }[] = [];
  const stopAll = async () => {
    for (const s of started.reverse()) await s.stop().catch(() => {});
  };
  try {
    const awsHosts = await startCloudHosts(servers.aws ?? [], opts);
    started.push(awsHosts);
    const upcloudHosts = await startCloudHosts(servers.upcloud ?? [], opts);
    started.push(upcloudHosts);
    const ec2 = await startFakeEc2({ hosts: awsHosts });
    started.push({ stop: () => ec2.close() });
    const upcloud = await startFakeUpcloud({ hosts: upcloudHosts });
    started.push({ stop: () => upcloud.close() });
    return {
      ec2,
      upcloud,
      awsHosts,
      upcloudHosts,
      env: fakeCloudEnv(ec2, upcloud),
      knownHosts: () => awsHosts.knownHosts() + upcloudHosts.knownHosts(),
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}
