import { validationError } from '@stratumiops/shared/errors';

/**
 * Calendar periods as keys (no reset job): a month is `2026-11`, an ISO week `2026-W47`, both taken in a
 * configurable IANA time zone (UTC by default). A new period is simply a new key.
 */
export interface PeriodKeys {
  month: string;
  week: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/**
 * Throws a RangeError for an unknown time zone (checked when the config is loaded). UTC, the default,
 * is answered without a formatter: making the first one loads ICU's zone data, about 15 ms of every command.
 */
export function checkTimeZone(tz: string): void {
  if (tz === 'UTC') return;
  new Intl.DateTimeFormat('en-US', { timeZone: tz });
}

function localDate(ms: number, tz: string): { y: number; m: number; d: number } {
  if (tz === 'UTC') {
    const t = new Date(ms);
    return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() };
  }
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, year: 'numeric', month: 'numeric', day: 'numeric' });
    formatters.set(tz, f);
  }
  const parts = f.formatToParts(new Date(ms));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return { y: get('year'), m: get('month'), d: get('day') };
}

/** ISO 8601 week-numbering year and week of a calendar date. */
export function isoWeek(y: number, m: number, d: number): { year: number; week: number } {
  const date = new Date(Date.UTC(y, m - 1, d));
  const dow = date.getUTCDay() || 7; // Monday = 1 … Sunday = 7
  date.setUTCDate(date.getUTCDate() + 4 - dow); // the Thursday of this week decides the year
  const year = date.getUTCFullYear();
  const jan1 = Date.UTC(year, 0, 1);
  const week = Math.ceil(((date.getTime() - jan1) / 86_400_000 + 1) / 7);
  return { year, week };
}

export function periodKeys(ms: number, tz = 'UTC'): PeriodKeys {
  const { y, m, d } = localDate(ms, tz);
  const w = isoWeek(y, m, d);
  return { month: `${y}-${String(m).padStart(2, '0')}`, week: `${w.year}-W${String(w.week).padStart(2, '0')}` };
}

/** The calendar day (YYYY-MM-DD) in the time zone, for `costs --by day`. */
export function dayKey(ms: number, tz = 'UTC'): string {
  const { y, m, d } = localDate(ms, tz);
  return `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

/** `2026-11-01`, or an age like `7d`, `12h` → epoch ms. */
export function parseSince(s: string | undefined, now = Date.now()): number | undefined {
  if (!s) return undefined;
  const m = /^(\d+)([dhm])$/.exec(s);
  if (m) return now - Number(m[1]) * { d: 86_400_000, h: 3_600_000, m: 60_000 }[m[2] as 'd' | 'h' | 'm'];
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw validationError(`--since '${s}' is neither a date (YYYY-MM-DD) nor an age (7d, 12h, 30m)`);
  return t;
}
