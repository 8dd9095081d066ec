import type { Command } from '@oclif/core';
import { Flags } from '@oclif/core';
import { StratumCommand } from '@stratumiops/shared/cli/command';
import { importPaths, type NickelSettings } from './core/nickel.js';
import { tool } from './tool.js';

/** The base of prov's commands: the tool's config, and the Nickel settings with import paths. */
export abstract class ProvCommand<T extends typeof Command = typeof Command> extends StratumCommand<T> {
  static override tool = tool;

  protected get nickel(): NickelSettings {
    return (this.settings.values as { nickel: NickelSettings }).nickel;
  }

  protected importPaths(flagDirs: string[] | undefined): string[] {
    return importPaths(this.nickel, flagDirs ?? []);
  }
}

export const importPathFlag = Flags.string({
  description: 'add a folder to the import search path (repeatable; schemas/ is always searched)',
  multiple: true,
  multipleNonGreedy: true,
  char: 'I',
  helpValue: '<dir>',
});
