/** Vapora's roles (its budgets are per role). */
export const AGENT_ROLES = [
  'architect',
  'developer',
  'code-reviewer',
  'tester',
  'documenter',
  'marketer',
  'presenter',
  'devops',
  'monitor',
  'security',
  'project-manager',
  'decision-maker',
] as const;
export type AgentRole = (typeof AGENT_ROLES)[number];
