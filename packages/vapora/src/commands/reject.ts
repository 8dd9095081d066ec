import { DecisionCommand } from '../cli/decision.js';

export default class Reject extends DecisionCommand {
  static override summary = 'Reject work that waits for a decision (the task fails; a pipeline rolls back)';
  static override examples = [
    '<%= config.bin %> reject t-4k9x2m1p --reason "no rollback plan"',
    '<%= config.bin %> reject r-1a2b3c4d/deploy --reason "freeze"',
  ];
  protected readonly decision = 'reject';
}
