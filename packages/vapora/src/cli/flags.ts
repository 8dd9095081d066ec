import * as Flags from '@oclif/core/flags';
import { ROLES } from '../core/roles.js';

/** `--role`, checked against the twelve roles. */
export const roleFlag = (description: string, required = false) =>
  Flags.string({ description, options: [...ROLES], ...(required ? { required } : {}) });
