/** Vapora's roles (its budgets are per role), from its small public entry (not the whole LLM layer). */
export { ROLES as AGENT_ROLES, type Role as AgentRole } from '@stratumiops/vapora/client/roles';
