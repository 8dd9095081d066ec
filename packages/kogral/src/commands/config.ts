import { ConfigCommand } from '@stratumiops/shared/cli/command';
import { graphSettings } from '../cli/base.js';
import { tool } from '../tool.js';

export default class Config extends ConfigCommand {
  static override tool = tool;

  override async init(): Promise<void> {
    await super.init();
    this.settings = graphSettings(this.settings, tool, this.flags);
  }
}
