import { ConfigCommand } from '@stratumiops/shared/cli/command';
import { tool } from '../tool.js';

export default class Config extends ConfigCommand {
  static override tool = tool;
}
