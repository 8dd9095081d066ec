import { validationError } from '@stratumiops/shared/errors';
import type * as z from '@stratumiops/shared/zod';
import { describeZodError } from './model.js';

/** Every input (flags, HTTP bodies, MCP arguments) through its zod schema: one line naming the first problem. */
export function parse<T extends z.ZodType>(schema: T, input: unknown, what: string): z.infer<T> {
  const r = schema.safeParse(input);
  if (!r.success)
    throw validationError(`invalid ${what}: ${describeZodError(r.error)}`, { details: { issues: r.error.issues } });
  return r.data;
}
