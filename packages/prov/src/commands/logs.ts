import { randomBytes } from 'node:crypto';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { StratumError, usageError } from '@stratumiops/shared/errors';
import { FleetCommand, fleetFlags } from '../cli/fleet.js';
import { hostPrinter } from '../cli/render.js';
import { installRoot } from '../core/executor.js';
import { logScript, sinceSpec } from '../core/observe.js';

export default class Logs extends FleetCommand<typeof Logs> {
  static override summary = "Show a server's or a taskserv's logs, from every host it runs on";
  static override description =
    "A server (a host of the config): its journal, else /var/log/syslog or messages. A taskserv: its log file under the install root (<root>/var/log/<name>.log), else its journald unit, on every host the config places it. Read over prov's SSH connections, each line prefixed with its host; -f follows them all until Ctrl-C (with --json: one JSON object per line). --since filters the journal (a file is shown from its last --lines).";
  static override args = {
    target: Args.string({ description: 'server (host) name or taskserv name', required: true }),
  };
  static override flags = {
    follow: Flags.boolean({ description: 'keep printing new lines (Ctrl-C stops)', char: 'f' }),
    lines: Flags.integer({ description: 'lines from the end', char: 'n', default: 100, min: 1, max: 100_000 }),
    since: Flags.string({ description: 'only newer lines (journal), e.g. 30m, 1h, 2d', helpValue: '<duration>' }),
    ...fleetFlags,
  };
  static override examples = [
    '<%= config.bin %> logs web-01',
    '<%= config.bin %> logs etcd -f',
    '<%= config.bin %> logs postgresql --since 1h -n 500',
  ];

  async run() {
    if (this.flags.since) sinceSpec(this.flags.since);
    const { loaded, runtime } = await this.fleet(this.flags.file);
    try {
      const hostNames = this.hostNames(loaded, this.flags.cluster);
      const name = this.args.target;
      const placed = this.placementsOn(loaded, hostNames).filter((p) => p.service === name);
      const service = placed.length ? name : undefined;
      const where = service ? placed.map((p) => p.host) : hostNames.includes(name) ? [name] : [];
      if (where.length === 0)
        throw usageError(`${name} is neither a host nor a taskserv of the config`, {
          hint: `hosts: ${hostNames.join(', ') || 'none'}; taskservs: ${[...new Set(this.placementsOn(loaded, hostNames).map((p) => p.service))].join(', ') || 'none'}`,
        });
      const { targets: hosts, exec } = await this.reach(runtime, loaded, where);
      const containers = hosts.filter((h) => h.labels.transport === 'lxd').map((h) => h.name);
      if (this.flags.follow && containers.length)
        throw usageError(
          `-f cannot follow LXD containers yet (${containers.join(', ')}): LXD records exec output, it does not stream it`,
          {
            hint: 'read the last lines without -f',
          },
        );
      const json = this.jsonEnabled();
      const lines: { host: string; stream: string; line: string }[] = [];
      const print = hostPrinter(process.stdout);
      const tick = `prov-tick-${randomBytes(8).toString('hex')}`;
      const sink = (host: string, stream: 'stdout' | 'stderr', line: string) => {
        if (line === tick) return;
        if (json && this.flags.follow) process.stdout.write(`${JSON.stringify({ host, stream, line })}\n`);
        else if (json) lines.push({ host, stream, line });
        else print(host, stream, line);
      };
      const results = await Promise.all(
        hosts.map((h) =>
          exec
            .run(
              h,
              {
                name: `logs ${name}`,
                script: logScript({
                  root: installRoot(h),
                  ...(service ? { service } : {}),
                  lines: this.flags.lines,
                  ...(this.flags.since ? { since: this.flags.since } : {}),
                  follow: this.flags.follow,
                  tick,
                }),
              },
              sink,
            )
            .catch((e: Error) => ({ host: h.name, exitCode: -1, stderr: e.message })),
        ),
      );
      const failed = results.filter((r) => r.exitCode !== 0);
      if (failed.length === results.length)
        throw new StratumError(
          failed.every((f) => f.exitCode === 4) ? 'notFound' : 'failure',
          `no logs: ${failed.map((f) => `${f.host}: ${f.stderr.trim().split('\n').pop()}`).join('; ')}`,
        );
      return { target: name, lines };
    } finally {
      await runtime.close();
    }
  }
}
