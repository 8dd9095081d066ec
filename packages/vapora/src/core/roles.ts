/** The twelve agent roles. */
export const ROLES = [
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
export type Role = (typeof ROLES)[number];

export const isRole = (s: string): s is Role => (ROLES as readonly string[]).includes(s);
