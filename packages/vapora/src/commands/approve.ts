import { DecisionCommand } from '../cli/decision.js';

export default class Approve extends DecisionCommand {
  static override summary = 'Approve work that waits for a decision (it runs now)';
  static override examples = [
    '<%= config.bin %> approve t-4k9x2m1p --reason "change window ok"',
    '<%= config.bin %> approve r-1a2b3c4d/deploy',
  ];
  protected readonly decision = 'approve';
}
