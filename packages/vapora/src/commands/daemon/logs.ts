import { DaemonLogs } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default class Logs extends DaemonLogs {
  static override tool = tool;
}
