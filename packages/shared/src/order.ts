/**
 * Orders strings by UTF-16 code units (JavaScript's default sort order), for identifiers, addresses,
 * paths and ISO timestamps: a locale's collation adds nothing there, and its first use loads ICU's
 * collation data, several milliseconds of a command's start-up.
 */
export const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
