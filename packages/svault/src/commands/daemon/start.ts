import { DaemonStart } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default class Start extends DaemonStart {
  static override tool = tool;
}
