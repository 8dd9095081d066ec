import * as Flags from '@oclif/core/flags';
import type { FlagSetting } from '@stratumiops/shared/config';
import { usageError, validationError } from '@stratumiops/shared/errors';
import { VaporaCommand } from '../cli/base.js';
import { roleFlag } from '../cli/flags.js';
import { Worker } from '../core/worker.js';

export default class WorkerCommand extends VaporaCommand<typeof WorkerCommand> {
  static override summary = 'Run an agent worker that takes its tasks from the JetStream queue and reports results';
  static override description =
    "Pulls the agent's assignments from its durable consumer, runs each through the LLM router (or the agent's command), publishes the result, then acks; sends heartbeats. A worker killed mid-task loses nothing: the task is redelivered after the ack deadline and completed once. Stop it with Ctrl-C or SIGTERM (in-flight tasks finish first).";
  static override flags = {
    role: roleFlag('role to work as', true),
    agent: Flags.string({ description: 'agent id (default: registers a new agent of the role)', helpValue: '<id>' }),
    concurrency: Flags.integer({ description: 'tasks at the same time', min: 1 }),
    nats: Flags.string({ description: 'NATS server URL (default: from config)', helpValue: '<url>' }),
  };
  static override examples = [
    '<%= config.bin %> worker --role developer',
    '<%= config.bin %> worker --role security --agent security-1 --nats nats://127.0.0.1:4222 --concurrency 2',
  ];

  protected override configFlags(): FlagSetting[] {
    return [{ key: 'nats.url', flag: 'nats', value: this.flags?.nats }];
  }

  async run() {
    if (!this.cfg.nats.url) {
      throw usageError('a worker needs NATS JetStream', {
        hint: 'pass --nats nats://host:4222 or set [nats] url; without NATS, vapora serve runs the work itself',
      });
    }
    const rt = await this.runtime({ bus: true });
    const role = this.flags.role as string;
    let agent = this.flags.agent ? await rt.service.getAgent(this.flags.agent) : undefined;
    if (agent && agent.role !== role)
      throw validationError(`agent '${agent.id}' is a ${agent.role} agent, not ${role}`);
    agent ??= await rt.service.addAgent({ role, capacity: this.flags.concurrency ?? 1 });
    const w = new Worker({
      bus: rt.bus!,
      router: rt.router,
      agent,
      concurrency: this.flags.concurrency ?? agent.capacity,
      nakDelayMs: this.cfg.nats.nak_delay_ms,
      heartbeatMs: Math.max(1000, (this.cfg.agents.heartbeat_timeout_s * 1000) / 3),
      workingMs: Math.max(500, this.cfg.nats.ack_wait_ms / 3),
      log: (level, msg, data) => this.logger[level]({ agent: agent.id, ...data }, msg),
    });
    await w.start();
    process.stderr.write(`worker ${agent.id} (${agent.role}) pulling from ${this.cfg.nats.url}\n`);
    if (this.jsonEnabled()) this.logJson({ agent: agent.id, role: agent.role, nats: this.cfg.nats.url });
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
    await w.stop();
    this.logger.info({ agent: agent.id, ...w.stats }, 'worker stopped');
  }
}
