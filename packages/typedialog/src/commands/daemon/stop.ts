import { DaemonStop } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default class Stop extends DaemonStop {
  static override tool = tool;
}
