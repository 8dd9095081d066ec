/**
 * Sets one key in a TOML document by editing its lines, so comments, order and formatting stay as they
 * were (the TOML library rewrites the whole file without comments). `key` is dotted: `apply.retries` is
 * `retries` in the `[apply]` table.
 */
export function setTomlKey(text: string, key: string, value: unknown): string {
  const parts = key.split('.');
  const leaf = parts.pop() as string;
  const table = parts.join('.');
  const rendered = `${bareKey(leaf)} = ${tomlValue(value)}`;
  const lines = text.length > 0 ? text.replace(/\n$/, '').split('\n') : [];
  let current = '';
  let tableStart = table === '' ? 0 : -1;
  let tableEnd = table === '' ? firstHeader(lines) : -1;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const header = /^\s*\[([^[\]]+)\]\s*(#.*)?$/.exec(line);
    if (header) {
      if (current === table && tableStart >= 0 && tableEnd < 0) tableEnd = i;
      current = (header[1] as string).trim().replace(/\s*\.\s*/g, '.');
      if (current === table) tableStart = i + 1;
      continue;
    }
    if (/^\s*\[\[/.test(line)) {
      current = '\0array-of-tables';
      continue;
    }
    const m = /^(\s*)([A-Za-z0-9_.-]+|"[^"]*")\s*=/.exec(line);
    if (!m) continue;
    const k = (m[2] as string).replace(/^"|"$/g, '');
    if (current === table && k === leaf) {
      lines[i] = `${m[1]}${rendered}${trailingComment(line)}`;
      return `${lines.join('\n')}\n`;
    }
    // A dotted key at the top level (`apply.retries = 3`).
    if (current === '' && k === key) {
      lines[i] = `${m[1]}${bareKey(key)} = ${tomlValue(value)}${trailingComment(line)}`;
      return `${lines.join('\n')}\n`;
    }
  }
  if (tableStart >= 0) {
    let end = tableEnd >= 0 ? tableEnd : lines.length;
    while (end > tableStart && (lines[end - 1] as string).trim() === '') end--;
    lines.splice(end, 0, rendered);
    return `${lines.join('\n')}\n`;
  }
  const tail = lines.length > 0 && (lines.at(-1) as string).trim() !== '' ? [''] : [];
  return `${[...lines, ...tail, `[${table}]`, rendered].join('\n')}\n`;
}

/** The ` # comment` after a one-line value, kept when the value is replaced. */
function trailingComment(line: string): string {
  const m = /^\s*[^=]+=\s*("(?:[^"\\]|\\.)*"|'[^']*'|\[[^\]#]*\]|[^\s#]+)(\s*#.*)?$/.exec(line);
  return m?.[2] ?? '';
}

function firstHeader(lines: string[]): number {
  const i = lines.findIndex((l) => /^\s*\[/.test(l));
  return i < 0 ? lines.length : i;
}

const bareKey = (k: string) => (/^[A-Za-z0-9_.-]+$/.test(k) ? k : JSON.stringify(k));

export function tomlValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(tomlValue).join(', ')}]`;
  throw new Error(`cannot write ${typeof v} to TOML`);
}
