/** The twelve agent roles of the seed (SPEC.md VP1). */
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

/** The seed: DevOps and Security work needs an approval (their results wait in `review`). */
export const requiresApproval = (r: Role): boolean => r === 'devops' || r === 'security';
/** The seed: only Security can block a pipeline. */
export const canBlockPipeline = (r: Role): boolean => r === 'security';
export const isRole = (s: string): s is Role => (ROLES as readonly string[]).includes(s);
