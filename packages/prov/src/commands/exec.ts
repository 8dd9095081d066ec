import { existsSync, readFileSync } from 'node:fs';
import * as Flags from '@oclif/core/flags';
import { StratumError, usageError } from '@stratumiops/shared/errors';
import { renderTable } from '@stratumiops/shared/output';
import { ProvCommand } from '../cli/base.js';
import { hostPrinter } from '../cli/render.js';
import { runOnHosts, scriptSteps } from '../core/adhoc.js';
import { Runtime } from '../runtime.js';

export default class Exec extends ProvCommand<typeof Exec> {
  static override summary = 'Run a command (or a script, step by step) on hosts over SSH, like `ansible -a`';
  static override description =
    'One connection and one persistent shell per host; each step runs in its own process with its own exit code, output and timeout. Output lines are prefixed with the host. Exit 1 when a command fails on any host, 7 when a host cannot be reached; each host’s error is listed.';
  static override strict = false;
  static override flags = {
    hosts: Flags.string({
      description: 'host names (from the config or providers) or user@address:port, comma-separated',
      required: true,
      helpValue: '<a,b,...>',
    }),
    parallelism: Flags.integer({ description: 'hosts at the same time', default: 20, min: 1 }),
    script: Flags.string({
      description: 'run this file’s lines as steps (one connection per host, stops at the first failing line)',
      helpValue: '<file>',
    }),
    sudo: Flags.boolean({ description: 'run through sudo -n (the host must allow sudo)' }),
    timeout: Flags.integer({ description: 'seconds per step', min: 1 }),
    file: Flags.string({ char: 'f', description: 'Nickel config with the hosts (default: prov.ncl when present)' }),
    'accept-new-host-keys': Flags.boolean({ description: 'record host keys seen for the first time' }),
  };
  static override examples = [
    '<%= config.bin %> exec --hosts web-01,web-02 -- systemctl is-active nginx',
    '<%= config.bin %> exec --hosts web-01 --script upgrade.sh --sudo --timeout 600',
  ];

  async run() {
    const dash = this.argv.indexOf('--');
    const command = dash >= 0 ? this.argv.slice(dash + 1).join(' ') : '';
    if (!command && !this.flags.script)
      throw usageError('nothing to run', { hint: 'prov exec --hosts web-01 -- uptime, or --script FILE' });
    const base = {
      ...(this.flags.sudo ? { sudo: true } : {}),
      ...(this.flags.timeout ? { timeoutS: this.flags.timeout } : {}),
    };
    const steps = this.flags.script
      ? scriptSteps(readFileSync(this.flags.script, 'utf8'), base)
      : [{ ...base, name: command, script: command }];
    const cfg = this.flags.file ?? (existsSync('prov.ncl') ? 'prov.ncl' : undefined);
    const loaded = cfg ? await this.loadInfra(cfg) : undefined;
    const s = this.runtimeSettings();
    if (this.flags['accept-new-host-keys']) s.ssh.host_key_checking = 'accept-new';
    const runtime = new Runtime(s, loaded?.infra);
    try {
      const targets = await runtime.targets(
        this.flags.hosts
          .split(',')
          .map((h) => h.trim())
          .filter(Boolean),
      );
      if (this.flags.sudo) for (const t of targets) t.sudo = true;
      const exec = await runtime.executor();
      const results = await runOnHosts(exec, targets, steps, {
        parallelism: this.flags.parallelism,
        ...(this.jsonEnabled() ? {} : { onOutput: hostPrinter(process.stdout) }),
      });
      const rows = results.map((r) => {
        const last = r.steps[r.steps.length - 1];
        return {
          host: r.host,
          result: r.error ? 'ERROR' : r.ok ? 'ok' : 'FAILED',
          exit: last?.exitCode ?? '-',
          steps: `${r.steps.length}/${steps.length}`,
          ms: r.durationMs,
          error:
            r.error ?? (r.ok ? '' : `${last?.step}: exit ${last?.exitCode}${last?.timedOut ? ' (timed out)' : ''}`),
        };
      });
      if (!this.jsonEnabled()) this.log(`\n${renderTable(rows)}`);
      const doc = {
        hosts: results.map((r) => ({
          host: r.host,
          ok: r.ok,
          ...(r.error ? { error: r.error, kind: r.kind } : {}),
          duration_ms: r.durationMs,
          steps: r.steps.map((x) => ({
            step: x.step,
            exit_code: x.exitCode,
            stdout: x.stdout,
            stderr: x.stderr,
            duration_ms: x.durationMs,
            timed_out: x.timedOut,
          })),
        })),
      };
      const bad = results.filter((r) => !r.ok);
      if (bad.length) {
        // Exit 1 when a command failed somewhere; else 5 when every failure was a refusal (key, auth), 7 otherwise.
        const denied = ['auth', 'host-key-unknown', 'host-key-mismatch', 'sudo'];
        const code = !bad.every((r) => r.error)
          ? 'failure'
          : bad.every((r) => denied.includes(r.kind ?? ''))
            ? 'denied'
            : 'unavailable';
        throw new StratumError(
          code,
          `failed on ${bad.length} of ${results.length} host(s): ${bad.map((b) => `${b.host} (${b.error ?? 'exit ' + b.steps[b.steps.length - 1]?.exitCode})`).join('; ')}`,
          {
            details: doc,
            ...(this.jsonEnabled()
              ? {}
              : {
                  display: [
                    `prov: failed on ${bad.length} of ${results.length} host(s):`,
                    ...bad.map(
                      (b) =>
                        `  ${b.error ?? `${b.host}: ${b.steps[b.steps.length - 1]?.step}: exit ${b.steps[b.steps.length - 1]?.exitCode}`}${b.hint ? ` (${b.hint})` : ''}`,
                    ),
                  ].join('\n'),
                }),
          },
        );
      }
      return doc;
    } finally {
      await runtime.close();
    }
  }
}
