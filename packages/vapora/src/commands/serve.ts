import * as Flags from '@oclif/core/flags';
import type { FlagSetting } from '@stratumiops/shared/config';
import { installGracefulShutdown } from '@stratumiops/shared/http';
import { VaporaCommand } from '../cli/base.js';
import { serve } from '../server/main.js';

export default class Serve extends VaporaCommand<typeof Serve> {
  static override summary = 'Run the REST API, Prometheus metrics and the coordinator';
  static override description =
    "Serves the REST API (projects, tasks, agents, /llm/route, /llm/budget/:role, /llm/costs, /swarm/*, /tokens) and /metrics on host:port, applies results and heartbeats from the bus, dispatches queued assignments and marks silent agents offline. With [nats] url it uses JetStream (run workers with vapora worker); without, tasks run inside this process, and what was running when it died runs again at the next start. Every request but /health needs 'Authorization: Bearer <token>' (vapora init wrote an admin token to .vapora/token; vapora token create makes more); /metrics is open on a loopback address only. Beyond loopback it needs TLS ([server] tls_cert, tls_key) or --insecure. Stop it with Ctrl-C or SIGTERM.";
  static override flags = {
    host: Flags.string({ description: 'address to listen on (default: 127.0.0.1)' }),
    port: Flags.integer({ description: 'port to listen on (default: 8001)', min: 0, max: 65535 }),
    insecure: Flags.boolean({
      description: 'listen beyond loopback without TLS (only behind a TLS-terminating proxy or on a trusted network)',
    }),
  };
  static override examples = [
    '<%= config.bin %> serve',
    '<%= config.bin %> serve --host 0.0.0.0 --port 8443   # with [server] tls_cert and tls_key',
  ];

  protected override configFlags(): FlagSetting[] {
    return [
      { key: 'server.host', flag: 'host', value: this.flags?.host },
      { key: 'server.port', flag: 'port', value: this.flags?.port },
    ];
  }

  async run() {
    const s = await serve({
      config: this.cfg,
      projectFile: this.settings.files.project,
      logger: this.logger,
      insecure: this.flags.insecure,
    });
    installGracefulShutdown(s.app, { logger: this.logger, onClose: () => s.close() });
    const info = { address: s.address, bus: s.runtime.bus?.kind, storage: this.cfg.storage.backend };
    if (this.jsonEnabled()) this.logJson(info);
    else process.stderr.write(`vapora serving on ${s.address} (bus: ${info.bus}, storage: ${info.storage})\n`);
    await new Promise(() => {});
  }
}
