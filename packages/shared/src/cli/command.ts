import * as Args from '@oclif/core/args';
import { Command } from '@oclif/core/command';
import * as Flags from '@oclif/core/flags';
import type * as Interfaces from '@oclif/core/interfaces';
import {
  type ConfigSpec,
  describeConfig,
  type FlagSetting,
  type LoadedConfig,
  loadConfig,
  logFormats,
  logLevels,
} from '../config.js';
import { notFoundError } from '../errors.js';
import { createLogger, type LogFormat, type Logger, type LogLevel } from '../log.js';
import { renderTable } from '../output.js';

export interface ToolSpec {
  /** The binary's name: svault, kogral, prov, typedialog, vapora. */
  name: string;
  config: ConfigSpec;
  /** The daemon's entry module (absolute path), for `daemon start` and on-demand starts; absent without a daemon. */
  daemonEntry?: string;
}

export type FlagsOf<T extends typeof Command> = Interfaces.InferredFlags<
  (typeof StratumCommand)['baseFlags'] & T['flags']
>;
export type ArgsOf<T extends typeof Command> = Interfaces.InferredArgs<T['args']>;

/**
 * The base of every command: `--json`, logging and config flags, config loaded with
 * provenance, a logger on stderr. Errors are rethrown to the one handler in entry.ts.
 */
export abstract class StratumCommand<T extends typeof Command = typeof Command> extends Command {
  static override enableJsonFlag = true;
  static override baseFlags = {
    'log-level': Flags.option({
      options: logLevels,
      description: 'log verbosity (logs go to stderr)',
      helpGroup: 'GLOBAL',
    })(),
    'log-format': Flags.option({ options: logFormats, description: 'log line format', helpGroup: 'GLOBAL' })(),
    config: Flags.string({
      description: 'project config file, instead of the nearest one found upwards',
      helpValue: '<file>',
      helpGroup: 'GLOBAL',
    }),
    debug: Flags.boolean({ description: 'print the stack trace with an error', helpGroup: 'GLOBAL' }),
  };
  /** Set by `defineTool`. */
  static tool: ToolSpec;

  protected flags!: FlagsOf<T>;
  protected args!: ArgsOf<T>;
  /** Every positional argument as given, in order (for commands that take any number: `strict = false`). */
  protected positionals: string[] = [];
  protected settings!: LoadedConfig;
  private logSettings: { level: LogLevel; format: LogFormat } = { level: 'warn', format: 'text' };
  private madeLogger?: Logger;

  /** Made on first use: most commands never log, and pino is a good part of a start-up. */
  protected get logger(): Logger {
    this.madeLogger ??= createLogger({
      name: (this.constructor as typeof StratumCommand).tool.name,
      level: this.logSettings.level,
      format: this.logSettings.format,
    });
    return this.madeLogger;
  }

  /** A debug line, when the level lets it through: otherwise not even the logger is made. */
  protected logDebug(fields: Record<string, unknown>, message: string): void {
    if (this.logSettings.level === 'debug' || this.logSettings.level === 'trace') this.logger.debug(fields, message);
  }

  protected get tool(): ToolSpec {
    return (this.constructor as typeof StratumCommand).tool;
  }

  /** Maps this command's flags to config keys (dotted), so `config` shows them as the source. */
  protected configFlags(): FlagSetting[] {
    return [];
  }

  override async init(): Promise<void> {
    await super.init();
    const ctor = this.constructor as typeof StratumCommand;
    // oclif copies only a class's own static properties when given the class itself; commands inherit
    // args and flags (e.g. from ConfigCommand), so pass them explicitly.
    // No argument is ever read from stdin: oclif would otherwise read a piped stdin's first line into
    // a missing optional argument (a git hook's ref list became `prov validate`'s file), waiting up to
    // 10 ms for it. Commands that take data on stdin read it themselves.
    const args = Object.fromEntries(Object.entries(ctor.args ?? {}).map(([k, a]) => [k, { ...a, ignoreStdin: true }]));
    const parsed = await this.parse({
      args,
      flags: ctor.flags,
      baseFlags: ctor.baseFlags,
      enableJsonFlag: ctor.enableJsonFlag,
      strict: ctor.strict,
    } as unknown as Parameters<Command['parse']>[0]);
    const { flags } = parsed;
    this.flags = flags as FlagsOf<T>;
    this.args = parsed.args as ArgsOf<T>;
    this.positionals = parsed.argv as string[];
    this.settings = loadConfig(ctor.tool.config, {
      ...(flags.config ? { file: flags.config } : {}),
      flags: [
        { key: 'log.level', flag: 'log-level', value: flags['log-level'] },
        { key: 'log.format', flag: 'log-format', value: flags['log-format'] },
        ...this.configFlags(),
      ],
    });
    const log = (this.settings.values as { log: { level: LogLevel; format: LogFormat } }).log;
    this.logSettings = log;
    this.logDebug({ command: this.id, files: this.settings.files }, 'config loaded');
  }

  /** Everything goes to the single handler in entry.ts (one line, exit code by kind). */
  /** A bare string result is one JSON string on stdout (oclif would parse it as JSON text and fail). */
  protected override toSuccessJson(result: unknown): unknown {
    return typeof result === 'string' ? JSON.stringify(result) : result;
  }

  override async catch(err: Error & { exitCode?: number }): Promise<never> {
    throw err;
  }
}

export abstract class ConfigCommand extends StratumCommand<typeof ConfigCommand> {
  static override summary = 'Show the effective configuration and where each value came from';
  static override description =
    'Values are merged in this order, later wins: defaults, the user file ($XDG_CONFIG_HOME/stratumiops/<tool>.toml), the project file (found from the working directory upwards, or --config), environment variables, flags. Secrets are masked.';
  static override examples = ['<%= config.bin %> config', '<%= config.bin %> config log.level --json'];
  static override args = { key: Args.string({ description: 'show only this key (dotted, e.g. log.level)' }) };

  async run() {
    let rows = describeConfig(this.settings);
    if (this.args.key) {
      const key = this.args.key;
      rows = rows.filter((r) => r.key === key || r.key.startsWith(`${key}.`));
      if (rows.length === 0)
        throw notFoundError(`no setting '${key}'`, { hint: `run '${this.tool.name} config' to list them` });
    }
    this.log(renderTable(rows, ['key', 'value', 'source']));
    const env = Object.entries({ ...this.tool.config.env }).map(([v, k]) => `${v} → ${k}`);
    if (!this.args.key && env.length > 0) this.log(`\nenvironment: ${env.join(', ')}`);
    return { settings: rows, files: this.settings.files };
  }
}

export abstract class DaemonStart extends StratumCommand<typeof DaemonStart> {
  static override summary = 'Start the daemon in the background';
  static override description =
    `Commands that need it start the daemon on demand; this starts it explicitly. It listens on a unix socket (mode 0600) in the data directory, and refuses to start twice.`;
  async run() {
    // The daemon module (child_process, http) only for the daemon commands: a start-up cost otherwise.
    const { startDaemon } = await import('../daemon.js');
    const { pid, socket } = await startDaemon({ tool: this.tool.name, entry: this.tool.daemonEntry });
    this.log(`${this.tool.name} daemon started (pid ${pid}, socket ${socket})`);
    return { pid, socket };
  }
}

export abstract class DaemonStatus extends StratumCommand<typeof DaemonStatus> {
  static override summary = 'Show whether the daemon is running';
  static override description = 'Exit code 0 when it runs and answers its health check, 7 when it does not.';
  async run() {
    const { daemonStatus } = await import('../daemon.js');
    const s = await daemonStatus(this.tool.name);
    if (!this.jsonEnabled()) {
      if (s.running) this.log(`running: pid ${s.pid}, socket ${s.socket}, up ${s.health?.uptime_s ?? '?'} s`);
      else this.log(`not running${s.stale ? ' (stale files from a previous run are cleaned on next start)' : ''}`);
    }
    if (!s.running) {
      if (this.jsonEnabled()) this.logJson(s);
      this.exit(7);
    }
    return s;
  }
}

export abstract class DaemonStop extends StratumCommand<typeof DaemonStop> {
  static override summary = 'Stop the daemon';
  static override flags = {
    timeout: Flags.integer({ description: 'seconds to wait before killing it', default: 10, min: 1 }),
  };
  async run() {
    const { stopDaemon } = await import('../daemon.js');
    const r = await stopDaemon(this.tool.name, process.env, this.flags.timeout * 1000);
    this.log(`${this.tool.name} daemon stopped (pid ${r.pid}${r.forced ? ', killed after timeout' : ''})`);
    return r;
  }
}

export abstract class DaemonLogs extends StratumCommand<typeof DaemonLogs> {
  static override summary = "Print the daemon's log";
  static override flags = {
    lines: Flags.integer({ char: 'n', description: 'how many lines from the end', default: 50, min: 1 }),
  };
  async run() {
    const { daemonPaths, lastLines } = await import('../daemon.js');
    const file = daemonPaths(this.tool.name).log;
    const lines = lastLines(file, this.flags.lines);
    if (lines.length === 0 && !this.jsonEnabled()) this.log(`no log yet at ${file}`);
    for (const l of lines) this.log(l);
    return { file, lines };
  }
}
