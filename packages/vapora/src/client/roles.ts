/** `@stratumiops/vapora/client/roles`: the twelve agent roles, a tiny entry for tools that only need the names. */
export { isRole, ROLES, type Role } from '../core/roles.js';
