import { DaemonStatus } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default class Status extends DaemonStatus {
  static override tool = tool;
}
