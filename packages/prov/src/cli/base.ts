import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from '@oclif/core/command';
import * as Flags from '@oclif/core/flags';
import { StratumCommand } from '@stratumiops/shared/cli/command';
import { StratumError, usageError } from '@stratumiops/shared/errors';
import type { CheckContext } from '../core/check.js';
import type { Desired, InfraConfig } from '../core/desired.js';
import {
  type ConfigReport,
  checkConfig,
  configFailure,
  engineFor,
  importPaths,
  type NickelSettings,
  nickelFailure,
} from '../core/nickel.js';
import type { StateStore } from '../core/state.js';
import { readProviders, sha256 } from '../core/workspace.js';
import type { RuntimeSettings } from '../runtime.js';
import { tool } from '../tool.js';

export interface LoadedInfra {
  path: string;
  sha256: string;
  infra: InfraConfig;
  desired: Desired;
}

/** The base of prov's commands: the tool's config, and the Nickel settings with import paths. */
export abstract class ProvCommand<T extends typeof Command = typeof Command> extends StratumCommand<T> {
  static override tool = tool;

  protected get nickel(): NickelSettings {
    return (this.settings.values as { nickel: NickelSettings }).nickel;
  }

  protected importPaths(flagDirs: string[] | undefined): string[] {
    return importPaths(this.nickel, flagDirs ?? []);
  }

  protected runtimeSettings(): RuntimeSettings {
    const v = this.settings.values as unknown as Omit<RuntimeSettings, 'cwd' | 'importPaths'>;
    const acceptNew = (this.flags as { 'accept-new-host-keys'?: boolean })['accept-new-host-keys'];
    const ssh =
      acceptNew && v.ssh.host_key_checking === 'strict'
        ? { ...v.ssh, host_key_checking: 'accept-new' as const }
        : v.ssh;
    return {
      cwd: process.cwd(),
      nickel: this.nickel,
      importPaths: this.importPaths([]),
      apply: v.apply,
      ssh,
      taskservs: v.taskservs,
      aws: v.aws,
      upcloud: v.upcloud,
    };
  }

  protected async openStore(): Promise<StateStore> {
    const { openStateStore } = await import('../adapters/state/index.js');
    return openStateStore((this.settings.values as { state: string }).state);
  }

  /** What the config checks need to know of the workspace: taskserv definitions, provider settings. */
  async checkContext(): Promise<CheckContext> {
    const { definitionDirs, listDefinitionFiles } = await import('../core/taskserv.js');
    const v = this.settings.values as { taskservs: { dirs: string[] } };
    const dirs = definitionDirs(v.taskservs.dirs.map((d) => resolve(d)));
    const zone = readProviders().upcloud?.zone;
    return { definitions: [...listDefinitionFiles(dirs).keys()], ...(zone ? { upcloudZone: zone } : {}) };
  }

  /** What prov's MCP tools and their CLI shortcuts stand on: validation, state and the configured model. */
  protected async assistBackend(): Promise<
    Omit<import('../server/mcp.js').ProvMcpBackend, 'allowExecute' | 'workflow'>
  > {
    const llm = (this.settings.values as { llm: import('../adapters/llm.js').LlmSettings }).llm;
    const { drafterFor } = await import('../adapters/llm.js');
    const { kogralSearch } = await import('../adapters/knowledge.js');
    return {
      validation: async () => ({
        engine: await engineFor(this.nickel),
        importPaths: this.importPaths([]),
        ctx: await this.checkContext(),
        workspace: process.cwd(),
      }),
      workspace: process.cwd(),
      openStore: () => this.openStore(),
      drafter: () => drafterFor(llm),
      maxRounds: llm.max_rounds,
      loadInfra: (file) => this.loadInfra(file),
      evaluate: async (file) => {
        const { evaluateConfig } = await import('../core/compliance.js');
        return evaluateConfig(await engineFor(this.nickel), file, this.importPaths([]));
      },
      priceTables: async () => (await import('../core/estimate.js')).loadPriceTables(['.prov/prices']),
      querySources: () => {
        const k = (this.settings.values as { knowledge: import('../adapters/knowledge.js').KnowledgeSettings })
          .knowledge;
        const config = existsSync('prov.ncl')
          ? { file: 'prov.ncl', text: readFileSync('prov.ncl', 'utf8') }
          : undefined;
        // A configured model answers from the facts (a misconfigured one is an error, as for generate).
        return { knowledge: kogralSearch(k), config, model: llm.provider ? drafterFor(llm) : undefined };
      },
    };
  }

  /**
   * Exports the config with its contracts and runs every check plan makes on it: any violation is exit 3,
   * with all the errors found, before any provider is touched.
   */
  protected async loadInfra(path: string): Promise<LoadedInfra> {
    const engine = await engineFor(this.nickel);
    let report: ConfigReport;
    try {
      report = await checkConfig(engine, path, this.importPaths([]), await this.checkContext());
    } catch (e) {
      throw nickelFailure(e);
    }
    if (!report.infra || report.json === undefined) throw configFailure(path, report);
    const text = report.json;
    const infra = report.infra;
    const { desiredResources } = await import('../core/desired.js');
    const keyFile = readProviders().aws?.ssh_keys[0];
    let awsLoginKey: string | undefined;
    try {
      awsLoginKey = keyFile ? readFileSync(resolve(keyFile), 'utf8').trim() : undefined;
    } catch (e) {
      throw usageError(`cannot read the aws login key ${keyFile}: ${(e as Error).message}`, {
        hint: 'fix the path with prov provider add aws --ssh-public-key FILE.pub',
      });
    }
    const desired = desiredResources(infra, awsLoginKey ? { awsLoginKey } : {});
    if (infra.clusters?.length) {
      const { declaredClusterResources, templateDirs } = await import('../core/cluster.js');
      const dirs = (this.settings.values as { clusters: { template_dirs: string[] } }).clusters.template_dirs;
      const c = await declaredClusterResources(infra, {
        openStore: () => this.openStore(),
        engine,
        templateDirs: templateDirs(dirs.map((d) => resolve(d))),
        importPaths: this.importPaths([]),
      });
      desired.resources.push(...c.resources);
      desired.warnings.push(...c.warnings);
    }
    return { path, sha256: sha256(text), infra, desired };
  }
}

export const importPathFlag = Flags.string({
  description: 'add a folder to the import search path (repeatable; schemas/ is always searched)',
  multiple: true,
  multipleNonGreedy: true,
  char: 'I',
  helpValue: '<dir>',
});

/** Trust on first use for this run: host keys seen for the first time are recorded (a changed key is still refused). */
export const acceptNewHostKeysFlag = Flags.boolean({
  description: 'record SSH host keys seen for the first time (trust on first use; a changed key is still refused)',
});

/** `-y/--auto-approve`: every command that changes state or hosts takes it (a TTY asks without it). */
export const autoApproveFlag = Flags.boolean({
  char: 'y',
  description: 'go ahead without asking (needed without a terminal)',
});

/** Asks on a TTY unless approved; without a TTY (or with --json) the flag is required: exit 2 naming it. */
export async function approve(question: string, approved: boolean, json: boolean): Promise<void> {
  if (approved) return;
  if (json) throw usageError('this needs approval and --json cannot ask', { hint: 'pass --auto-approve' });
  const { confirm } = await import('./flow.js');
  if (!(await confirm(question, '--auto-approve'))) throw new StratumError('failure', 'cancelled: nothing was changed');
}

export const targetFlag = Flags.string({
  description: 'only this resource and what it depends on (repeatable)',
  multiple: true,
  multipleNonGreedy: true,
  helpValue: '<address>',
});
