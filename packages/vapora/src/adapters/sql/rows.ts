// Column values as read back from either driver (numbers may arrive as strings, NULL as null).
export const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
export const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
export const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));
export const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
export const parseJson = (v: unknown): unknown => (v === null || v === undefined ? null : JSON.parse(String(v)));
